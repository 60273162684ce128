"""The public summary of training content of one model, filled from the log.

It follows the EU AI Office template (C(2025) 8311) section by section (``_template``): 1
general information, 2 list of data sources, 3 data processing aspects; and adds an annex for CMOs
(per performer and recording: declared uses, the consent decision each rests on, and whether
an opt-out was honoured). Everything comes from log entries up to one signed checkpoint,
which the summary cites so that a reader can check it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.errors import NotFound
from sostenuto.storage import Database
from sostenuto.storage.models.registry import (
    AiModel,
    Cmo,
    Contribution,
    Licensee,
    Mandate,
    Performer,
    Recording,
)
from sostenuto.storage.models.transparency import LogEntry
from sostenuto.transparency._store import latest_checkpoint_in
from sostenuto.transparency._template import (
    SOURCE_NUMBERS,
    TITLES,
    merge_facts,
    template_sections,
)

TEMPLATE = (
    "EU AI Office, Template for the Public Summary of Training Content for general-purpose "
    "AI models, C(2025) 8311"
)
SOURCE_SECTIONS = {key: f"{n} {TITLES[n]}" for key, n in SOURCE_NUMBERS.items()}
TRAINING_USES = {"train-ai", "train-genai", "fine-tune", "voice-clone"}


@dataclass(frozen=True)
class DecisionFacts:
    """What the annex shows of a cited consent decision: its use and outcome."""

    use: str | None
    outcome: str


# Given a session and decision ids, the facts of those that exist. The log knows nothing of
# consent: ``sostenuto.declarations.training_summary`` passes the consent service's lookup.
DecisionLookup = Callable[[Session, Collection[str]], Mapping[str, DecisionFacts]]
# Without a lookup: every decision a manifest cites was a permit when the log took it.
_AS_DECLARED = DecisionFacts(use=None, outcome="permit")


def audio_size_band(hours: float) -> str:
    """The template's size band for audio."""
    if hours < 10_000:
        return "Less than 10,000 hours"
    if hours <= 1_000_000:
        return "10,000 to 1 million hours"
    return "More than 1 million hours"


def _bodies(session: Session, where: Any) -> list[tuple[int, str, dict[str, Any]]]:
    rows = session.execute(
        select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.body).where(where).order_by(LogEntry.idx)
    )
    return [(int(i), bytes(h).hex(), orjson.loads(b)) for i, h, b in rows]


def _annex_filter(session: Session, principal: Principal, model: AiModel) -> set[int] | None:
    """Performers whose annex rows the caller may see (None: all of them)."""
    if principal.operator or principal.role == "auditor":
        return None
    if principal.role == "licensee" and principal.licensee_id == model.licensee_id:
        return None
    if principal.role == "cmo-admin" and principal.cmo_id is not None:
        return set(
            session.scalars(select(Mandate.performer_id).where(Mandate.cmo_id == principal.cmo_id))
        )
    return set()


def training_summary(
    database: Database,
    principal: Principal,
    model_id: int,
    decisions: DecisionLookup | None = None,
) -> dict[str, Any]:
    """The summary of ``model_id`` as a JSON-ready dict (the annex only for entitled callers).

    ``decisions`` looks up the cited consent decisions for the annex (their use); without it
    the annex shows each as the permit it was when declared, with no use.
    """
    with database.reader() as session:
        model = session.get(AiModel, model_id)
        if model is None:
            raise NotFound(f"model {model_id} does not exist")
        provider = session.get(Licensee, model.licensee_id)
        assert provider is not None
        signed = latest_checkpoint_in(session)
        upto = signed.size if signed else 0
        runs = _bodies(
            session,
            (LogEntry.entry_type == "training-run")
            & (LogEntry.model_id == model_id)
            & (LogEntry.idx < upto),
        )
        manifest_ids = sorted({m for _, _, run in runs for m in run["payload"]["manifests"]})
        manifests = {
            leaf: (index, body)
            for index, leaf, body in _bodies(
                session,
                LogEntry.leaf_hash.in_([bytes.fromhex(m) for m in manifest_ids])
                & (LogEntry.idx < upto),
            )
        }
        files: dict[str, dict[str, Any]] = {}
        file_runs: dict[str, list[dt.date]] = defaultdict(list)
        datasets: dict[str, dict[str, Any]] = {}
        for _, _, run in runs:
            started = dt.date.fromisoformat(run["payload"]["started_on"])
            for manifest_id in run["payload"]["manifests"]:
                _, body = manifests[manifest_id]
                payload = body["payload"]
                for item in payload["files"]:
                    files.setdefault(
                        item["sha256"],
                        {
                            **item,
                            "dataset": payload["name"],
                            "public_dataset": payload.get("public_dataset"),
                        },
                    )
                    file_runs[item["sha256"]].append(started)
                datasets[manifest_id] = payload
        recording_ids = sorted({f["recording_id"] for f in files.values() if "recording_id" in f})
        recordings = {
            r.id: r
            for r in session.scalars(select(Recording).where(Recording.id.in_(recording_ids)))
        }
        durations = {
            sha: item.get("duration_s")
            or (
                (recordings[item["recording_id"]].duration_ms or 0) / 1000
                if item.get("recording_id") in recordings
                else 0.0
            )
            for sha, item in files.items()
        }
        hours = sum(durations.values()) / 3600
        collected = [f["collected_on"] for f in files.values() if f.get("collected_on")]

        by_source: dict[str, dict[str, Any]] = {}
        for key, title in SOURCE_SECTIONS.items():
            chosen = [s for s, f in files.items() if f.get("source", "licensed") == key]
            by_source[key] = {
                "section": title,
                "files": len(chosen),
                "hours": round(sum(durations[s] for s in chosen) / 3600, 3),
                "identified_recordings": len(
                    {files[s]["recording_id"] for s in chosen if "recording_id" in files[s]}
                ),
                "datasets": sorted(
                    {(files[s].get("public_dataset") or files[s]["dataset"]) for s in chosen}
                ),
            }
        cmo_ids = {r.registered_by_cmo_id for r in recordings.values() if r.registered_by_cmo_id}
        contributions = session.execute(
            select(Contribution.recording_id, Performer.id, Performer.name)
            .join(Performer, Performer.id == Contribution.performer_id)
            .where(Contribution.recording_id.in_(recording_ids))
        ).all()
        performer_ids = {p for _, p, _ in contributions}
        mandates = session.execute(
            select(Mandate.performer_id, Mandate.cmo_id).where(
                Mandate.performer_id.in_(performer_ids)
            )
        ).all()
        cmos_of: dict[int, set[int]] = defaultdict(set)
        for performer_id, cmo_id in mandates:
            cmos_of[performer_id].add(cmo_id)
        cmo_ids |= {cmo_id for _, cmo_id in mandates}
        cmo_names = sorted(
            session.scalars(select(Cmo.name).where(Cmo.id.in_(cmo_ids))) if cmo_ids else []
        )
        by_source["licensed"]["rightsholder_representatives"] = cmo_names

        opt_outs = [
            body["payload"]
            for _, _, body in _bodies(
                session, (LogEntry.entry_type == "consent-change") & (LogEntry.idx < upto)
            )
            if body["payload"]["change"] in ("opt-out", "revoke")
            and TRAINING_USES & set(body["payload"]["uses"])
        ]
        performers_of: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for recording_id, performer_id, name in contributions:
            performers_of[recording_id].append((performer_id, name))

        def opt_out_for(recording_id: int, performer_id: int) -> dict[str, Any] | None:
            for change in opt_outs:
                if (
                    change.get("recording_id") == recording_id
                    or change.get("performer_id") == performer_id
                    or (
                        change.get("scope") == "repertoire"
                        and change["cmo_id"] in cmos_of[performer_id]
                    )
                ):
                    return dict(change)
            return None

        visible = _annex_filter(session, principal, model)
        cited = sorted({f["decision_id"] for f in files.values() if f.get("decision_id")})
        facts = decisions(session, cited) if decisions is not None and cited else {}
        annex: list[dict[str, Any]] = []
        honoured = not_honoured = 0
        for sha, item in sorted(files.items(), key=lambda kv: kv[1].get("recording_id", 0)):
            if item.get("recording_id") is None:
                continue
            recording_id = int(item["recording_id"])
            if decisions is None:
                decision: DecisionFacts | None = _AS_DECLARED
            else:
                decision = facts.get(item["decision_id"])
            for performer_id, name in performers_of.get(recording_id, []):
                change = opt_out_for(recording_id, performer_id)
                status = None
                if change is not None:
                    effective = dt.date.fromisoformat(change["effective_on"])
                    # Honoured when no run that started once the opt-out applied used the file.
                    ok = all(started < effective for started in file_runs[sha])
                    honoured += ok
                    not_honoured += not ok
                    status = {"effective_on": change["effective_on"], "honoured": ok}
                if visible is not None and performer_id not in visible:
                    continue
                recording = recordings[recording_id]
                annex.append(
                    {
                        "performer_id": performer_id,
                        "performer": name,
                        "recording_id": recording_id,
                        "isrc": recording.isrc,
                        "title": recording.title,
                        "file_sha256": sha,
                        "use": decision.use if decision else None,
                        "decision_id": item["decision_id"],
                        "decision_outcome": decision.outcome if decision else "unknown",
                        "opt_out": status,
                    }
                )
        protocols = sorted(
            {
                p
                for _, _, run in runs
                for p in run["payload"].get("rights_reservation_protocols", [])
            }
        )
        summary: dict[str, Any] = {
            "template": TEMPLATE,
            "log": {
                "checkpoint": signed.note if signed else None,
                "tree_size": upto,
                "training_runs": [
                    {
                        "index": index,
                        "entry_id": leaf,
                        "version": run["payload"]["model_version"],
                        "started_on": run["payload"]["started_on"],
                        "ended_on": run["payload"].get("ended_on"),
                        "manifests": run["payload"]["manifests"],
                    }
                    for index, leaf, run in runs
                ],
            },
            "general_information": {
                "provider": {"name": provider.name, "country": provider.country},
                "model": {
                    "id": model.id,
                    "name": model.name,
                    "versions": sorted({run["payload"]["model_version"] for _, _, run in runs}),
                    "base_models": sorted(
                        {
                            run["payload"]["base_model"]
                            for _, _, run in runs
                            if run["payload"].get("base_model")
                        }
                    ),
                    "purpose": model.purpose,
                },
                "modalities": [
                    {
                        "modality": "audio",
                        "files": len(files),
                        "hours": round(hours, 3),
                        "size_band": audio_size_band(hours),
                    }
                ],
                "latest_collection_date": max(collected) if collected else None,
                "training_period": {
                    "from": min((r["payload"]["started_on"] for _, _, r in runs), default=None),
                    "to": max(
                        (
                            r["payload"].get("ended_on") or r["payload"]["started_on"]
                            for _, _, r in runs
                        ),
                        default=None,
                    ),
                },
            },
            "data_sources": by_source,
            "data_processing": {
                "rights_reservation_protocols": protocols,
                "consent_decisions_cited": len(
                    {f["decision_id"] for f in files.values() if f.get("decision_id")}
                ),
                "identified_recordings": len(recording_ids),
                "opt_outs_applicable": honoured + not_honoured,
                "opt_outs_honoured": honoured,
                "opt_outs_not_honoured": not_honoured,
            },
        }
        declared = merge_facts(run["payload"].get("template", {}) for _, _, run in runs)
        summary["template_facts"] = declared
        summary["template_sections"] = template_sections(summary, declared)
        if visible is None or visible:
            summary["annex_cmo"] = annex
        return summary


def models_with_runs(database: Database) -> list[dict[str, Any]]:
    """Models that have at least one declared training run, with their provider."""
    with database.reader() as session:
        model_ids = set(
            session.scalars(
                select(LogEntry.model_id).where(LogEntry.entry_type == "training-run").distinct()
            )
        )
        rows = session.execute(
            select(AiModel.id, AiModel.name, AiModel.version, Licensee.name)
            .join(Licensee, Licensee.id == AiModel.licensee_id)
            .where(AiModel.id.in_(model_ids))
            .order_by(AiModel.name)
        ).all()
    return [{"id": i, "name": n, "version": v, "provider": p} for i, n, v, p in rows]
