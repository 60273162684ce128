"""Screening: which enrolled voices a file contains, where, and whether consent covers them.

Each voiced range matched to a performer is checked with the consent service's performer
decision for ``voice-clone`` (licensee, territory, date): permitted ranges are authorised,
the rest unauthorised; voiced ranges that match nobody are an unknown voice. The report and
its matches are stored so the performer's CMO can see them; unauthorised matches can be
declared to the transparency log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal, allowed, authorize, authorize_role
from sostenuto.errors import DependencyMissing, Forbidden, InvalidInput, NotFound
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Licensee, Mandate, Performer
from sostenuto.storage.models.voice import VoiceMatch, VoiceScreening
from sostenuto.vocabulary import check_territory
from sostenuto.voice import _mfcc
from sostenuto.voice._calibration import Calibration, screening
from sostenuto.voice._embed import EMPHASES, Emphasis
from sostenuto.voice._enrol import Clip
from sostenuto.voice._match import TimeRange, screen_signal, searchable, unsearchable
from sostenuto.voice._model import SAMPLE_RATE, SpeakerModel, load_model
from sostenuto.voice._store import load_index, manages
from sostenuto.voice._types import RangeReport, ScreeningReport
from sostenuto.voice._vad import is_silent

MIN_SCREEN_SECONDS = 0.5
USE = "voice-clone"
# What screening reports as its model: the fused score, cohort-normalised, pitch-searched.
SCREENING_MODEL = "resemblyzer-ge2e+mfcc-stats+cohort+pitch"


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _terms(
    session: Session,
    principal: Principal,
    licensee_id: int | None,
    territory: str | None,
    on_date: dt.date | None,
) -> tuple[int | None, str | None, dt.date | None]:
    authorize_role(principal, "voice.screen")
    if principal.role == "licensee" and not principal.operator and licensee_id is None:
        licensee_id = principal.licensee_id
    if licensee_id is None:
        authorize(principal, "voice.screen")
        if territory is not None:
            raise InvalidInput("a territory is only meaningful with a licensee to check")
        return None, None, None
    authorize(principal, "voice.screen", licensee_id=licensee_id)
    # Naming a licensee takes consent decisions in its name: only that licensee may.
    authorize(principal, "decision.request", licensee_id=licensee_id)
    if session.get(Licensee, licensee_id) is None:
        raise NotFound(f"no licensee with id {licensee_id}", details={"licensee": licensee_id})
    if territory is None:
        raise InvalidInput("checking consent needs the territory of the use (e.g. 'ES')")
    return licensee_id, check_territory(territory, allow_worldwide=False), on_date or _today()


def _decide(
    session: Session,
    principal: Principal,
    performer_id: int,
    licensee_id: int | None,
    territory: str | None,
    on_date: dt.date | None,
) -> tuple[bool, str | None, str]:
    """(permitted, decision id, reason) for one performer's voice."""
    if licensee_id is None or territory is None:
        return False, None, "no licensee named, so no consent to use this voice can be shown"
    from sostenuto.consent import decide_performer

    result = decide_performer(
        session,
        principal,
        licensee_id=licensee_id,
        performer_id=performer_id,
        use=USE,
        territory=territory,
        on_date=on_date,
    )
    reason = result.reason
    if result.outcome != "permit" and "no CMO represents" in reason:
        reason = _registered_wording(session, performer_id, territory, reason)
    return result.outcome == "permit", result.id, reason


def _registered_wording(session: Session, performer_id: int, territory: str, reason: str) -> str:
    """Say "registered" apart from "represented for this use": a CMO may have registered the
    performer without holding a mandate that covers voice cloning in this territory."""
    performer = session.get(Performer, performer_id)
    if performer is None or performer.registered_by_cmo_id is None:
        return reason
    return (
        f"registered by CMO {performer.registered_by_cmo_id}, but no CMO represents this"
        f" performer for {USE} in {territory} (no mandate covers this use there), and there"
        " is no permission and no extended licence"
    )


def _ranges(
    session: Session,
    principal: Principal,
    merged: list[TimeRange],
    calibration: Calibration,
    terms: tuple[int | None, str | None, dt.date | None],
) -> list[RangeReport]:
    decisions: dict[int, tuple[bool, str | None, str]] = {}
    names: dict[int, str] = {}
    out = []
    for item in merged:
        start, end = round(item.start, 2), round(item.end, 2)
        evidence = {
            "score": round(item.score, 4),
            "margin": round(item.margin, 4) if item.margin is not None else None,
            "pitch_shift": item.pitch_shift,
        }
        if item.performer_id is None:
            out.append(RangeReport(start, end, "unknown-voice", **evidence))  # type: ignore[arg-type]
            continue
        pid = item.performer_id
        if pid not in decisions:
            decisions[pid] = _decide(session, principal, pid, *terms)
            performer = session.get(Performer, pid)
            names[pid] = performer.name if performer else f"performer {pid}"
        permitted, decision_id, reason = decisions[pid]
        out.append(
            RangeReport(
                start,
                end,
                "authorised" if permitted else "unauthorised",
                performer_id=pid,
                performer_name=names[pid],
                false_match_rate=calibration.false_match_rate(item.score),
                decision_id=decision_id,
                reason=reason,
                **evidence,  # type: ignore[arg-type]
            )
        )
    return out


def screen_file(
    database: Database,
    principal: Principal,
    source: Clip,
    *,
    licensee_id: int | None = None,
    territory: str | None = None,
    on_date: dt.date | None = None,
    emphasis: Emphasis = "none",
    declare_to: Settings | None = None,
    model: SpeakerModel | None = None,
) -> ScreeningReport:
    """Screen one file against every enrolled voice and store the report.

    With ``declare_to`` (the settings of the transparency log), unauthorised voices are also
    declared to the log once the report is stored.
    """
    if emphasis not in EMPHASES:
        raise InvalidInput(f"unknown emphasis {emphasis!r}; use one of: {', '.join(EMPHASES)}")
    with database.reader() as session:
        terms = _terms(session, principal, licensee_id, territory, on_date)
    samples, digest = source.read()
    duration = samples.size / SAMPLE_RATE
    if duration < MIN_SCREEN_SECONDS:
        raise InvalidInput(
            f"{source.name!r} is too short to screen: {duration:.2f} s; at least "
            f"{MIN_SCREEN_SECONDS} s is needed"
        )
    if is_silent(samples):
        raise InvalidInput(f"{source.name!r} is silent: there is nothing to screen")
    model = model or load_model()
    decision = screening()
    calibration = decision.fusion.calibration
    with database.reader() as session:
        index = load_index(session, model.name, model.version, model.dim)
        mfcc_index = load_index(session, _mfcc.MODEL_NAME, _mfcc.model_version(), _mfcc.DIM)
    found, _judged, merged = screen_signal(model, samples, index, mfcc_index, decision)
    now = dt.datetime.now(dt.UTC)
    screening_id = f"vsc_{secrets.token_hex(12)}"
    with database.transaction() as session:
        ranges = _ranges(session, principal, merged, calibration, terms)
        report = ScreeningReport(
            id=screening_id,
            filename=source.name,
            audio_sha256=digest,
            duration_s=round(duration, 3),
            voiced_seconds=round(found.voiced_seconds, 3),
            model_name=SCREENING_MODEL,
            model_version=f"{model.version}|{_mfcc.model_version()}",
            emphasis=emphasis,
            threshold=calibration.threshold,
            voices_searched=len(searchable(index, mfcc_index)),
            voices_not_searched=len(unsearchable(index, mfcc_index)),
            licensee_id=terms[0],
            territory=terms[1],
            on_date=terms[2],
            screened_at=now,
            ranges=ranges,
        )
        session.add(
            VoiceScreening(
                id=screening_id,
                screened_at=now,
                screened_by=principal.name,
                audio_sha256=digest,
                filename=source.name[:500],
                duration_s=report.duration_s,
                licensee_id=terms[0],
                territory=terms[1],
                on_date=terms[2],
                model_name=SCREENING_MODEL,
                model_version=f"{model.version}|{_mfcc.model_version()}",
                threshold=calibration.threshold,
                report=report.as_json(),
            )
        )
        session.flush()
        for item in ranges:
            if item.performer_id is not None:
                session.add(
                    VoiceMatch(
                        screening_id=screening_id,
                        performer_id=item.performer_id,
                        start_s=item.start,
                        end_s=item.end,
                        score=item.score or 0.0,
                        status=item.status,
                    )
                )
    if declare_to is not None and report.unauthorised:
        declared = declare_unauthorised(database, declare_to, principal, screening_id)
        report = dataclasses.replace(report, declared=declared)
    return report


def _represents(session: Session, principal: Principal, row: VoiceScreening) -> bool:
    """A CMO admin's stake in a screening: it screened the file, or a voice found is one of
    the performers it represents."""
    if principal.role != "cmo-admin":
        return False
    if row.screened_by == principal.name:
        return True
    ids = session.scalars(
        select(VoiceMatch.performer_id).where(VoiceMatch.screening_id == row.id)
    ).all()
    for pid in sorted(set(ids)):
        performer = session.get(Performer, pid)
        if performer is not None and manages(session, principal, performer):
            return True
    return False


def _may_see(session: Session, principal: Principal, row: VoiceScreening) -> bool:
    return allowed(
        principal,
        "voice.screening.read",
        licensee_id=row.licensee_id,
        represents=_represents(session, principal, row),
    )


def get_screening(session: Session, principal: Principal, screening_id: str) -> ScreeningReport:
    """A stored report. Licensees see their own; a CMO admin those touching its performers."""
    authorize_role(principal, "voice.screening.read")
    row = session.get(VoiceScreening, screening_id)
    if row is None or not _may_see(session, principal, row):
        # Someone else's screening does not exist for this caller.
        raise NotFound(f"no voice screening {screening_id!r}")
    return ScreeningReport.from_json(row.report)


def list_screenings(
    session: Session, principal: Principal, *, limit: int = 50
) -> list[ScreeningReport]:
    """The newest screenings the caller may see."""
    authorize_role(principal, "voice.screening.read")
    query = select(VoiceScreening).order_by(VoiceScreening.screened_at.desc())
    if principal.role == "licensee" and not principal.operator:
        query = query.where(VoiceScreening.licensee_id == principal.licensee_id)
    out = []
    for row in session.scalars(query.limit(limit * 4)):
        if _may_see(session, principal, row):
            out.append(ScreeningReport.from_json(row.report))
        if len(out) >= limit:
            break
    return out


def _declaring_party(
    session: Session, principal: Principal, report: ScreeningReport, performer_id: int
) -> dict[str, int] | None:
    """Who declares the match of ``performer_id``: the screening's licensee, or the CMO of
    the caller for a performer it represents (None: not this caller's to declare)."""
    if principal.role == "licensee" and not principal.operator:
        authorize(principal, "voice.declare", licensee_id=report.licensee_id)
        return {"licensee_id": int(principal.licensee_id or 0)}
    if principal.role == "cmo-admin" and not principal.operator:
        performer = session.get(Performer, performer_id)
        represents = performer is not None and manages(session, principal, performer)
        if not allowed(principal, "voice.declare", represents=represents):
            return None
        return {"cmo_id": int(principal.cmo_id or 0)}
    if not principal.operator:
        raise Forbidden("auditors read screenings; a licensee or CMO admin declares matches")
    if report.licensee_id is not None:
        return {"licensee_id": report.licensee_id}
    performer = session.get(Performer, performer_id)
    cmo_id = performer.registered_by_cmo_id if performer else None
    if cmo_id is None:
        cmo_id = session.scalar(
            select(Mandate.cmo_id).where(Mandate.performer_id == performer_id).limit(1)
        )
    if cmo_id is None:
        raise InvalidInput(
            f"performer {performer_id} has no CMO to declare the match for",
            details={"performer": performer_id},
        )
    return {"cmo_id": int(cmo_id)}


def declare_unauthorised(
    database: Database, settings: Settings, principal: Principal, screening_id: str
) -> dict[int, int]:
    """Declare each unauthorised voice of a screening to the transparency log, once per voice.

    Returns performer id → log index. The log entry carries ids, the file's hash and the best
    score, never audio or embeddings. A CMO admin declares the voices of the performers it
    represents; the others are left to their own CMO.
    """
    try:
        from sostenuto.transparency import declare
    except ImportError as error:  # pragma: no cover - the log ships with Sostenuto
        raise DependencyMissing("the transparency log is not available") from error
    authorize_role(principal, "voice.declare")
    with database.reader() as session:
        report = get_screening(session, principal, screening_id)
        best: dict[int, float] = {}
        for item in report.unauthorised:
            assert item.performer_id is not None
            best[item.performer_id] = max(best.get(item.performer_id, 0.0), item.score or 0.0)
        found = {pid: _declaring_party(session, principal, report, pid) for pid in best}
        parties = {pid: party for pid, party in found.items() if party is not None}
        if best and not parties:
            raise Forbidden(
                "none of this screening's unauthorised voices is a performer this CMO"
                " represents (right 'voice.declare')",
                details={"action": "voice.declare", "token_cmo": principal.cmo_id},
            )
    declared: dict[int, int] = {}
    for pid, score in sorted(best.items()):
        if pid not in parties:
            continue
        payload: dict[str, Any] = {
            **parties[pid],
            "performer_id": pid,
            "output_sha256": report.audio_sha256,
            "score": min(max(score, 0.0), 1.0),
            "action": "flagged",
        }
        receipt = declare(database, settings, principal, "voice-match", payload)
        declared[pid] = receipt.index
    if declared:
        with database.transaction() as session:
            row = session.get(VoiceScreening, screening_id)
            assert row is not None
            data = dict(row.report)
            data["declared"] = {str(k): v for k, v in declared.items()}
            row.report = data
            for match in session.scalars(
                select(VoiceMatch).where(
                    VoiceMatch.screening_id == screening_id, VoiceMatch.status == "unauthorised"
                )
            ):
                match.log_index = declared.get(match.performer_id)
    return declared
