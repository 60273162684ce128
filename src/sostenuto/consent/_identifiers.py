"""Public identifiers in consent questions: ISRCs for recordings, ISNI or IPN for performers.

AI developers know ISRCs (or audio), never the registry's row ids, so every question may
name a recording by ISRC; answers carry both.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from sostenuto.errors import InvalidInput, NotFound
from sostenuto.storage.models.registry import Performer, Recording

_CHUNK = 900  # below every driver's bound-parameter limit


def normalised_isrcs(isrcs: Sequence[str]) -> list[str]:
    # The registry imports identification, which imports consent: look it up when called.
    from sostenuto.registry._validate import normalise_isrc

    return [normalise_isrc(isrc) for isrc in isrcs]


def recording_ids_for(session: Session, isrcs: Sequence[str]) -> list[int]:
    """The recording id of each ISRC, in order; unknown ISRCs are named in one error."""
    normalised = normalised_isrcs(isrcs)
    found: dict[str, int] = {}
    wanted = sorted(set(normalised))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(
            (isrc, recording_id)
            for isrc, recording_id in session.execute(
                select(Recording.isrc, Recording.id).where(Recording.isrc.in_(chunk))
            )
        )
    missing = [isrc for isrc in wanted if isrc not in found]
    if missing:
        raise NotFound(
            f"{len(missing)} ISRC(s) are not registered, e.g. {missing[:10]}",
            details={"unknown_isrcs": missing[:100]},
        )
    return [found[isrc] for isrc in normalised]


def isrcs_of(session: Session, recording_ids: Sequence[int]) -> list[str]:
    """The ISRC of each recording id, in order (ids already known to exist)."""
    found: dict[int, str] = {}
    wanted = sorted(set(recording_ids))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(
            (recording_id, isrc)
            for recording_id, isrc in session.execute(
                select(Recording.id, Recording.isrc).where(Recording.id.in_(chunk))
            )
        )
    return [found[recording_id] for recording_id in recording_ids]


def one_recording(session: Session, recording_id: int | None, isrc: str | None) -> int:
    """The recording a question names, by id or by ISRC (exactly one of them)."""
    if (recording_id is None) == (isrc is None):
        raise InvalidInput("name the recording by recording_id or by isrc, not both or neither")
    if isrc is not None:
        return recording_ids_for(session, [isrc])[0]
    assert recording_id is not None
    return recording_id


def one_performer(
    session: Session, performer_id: int | None, isni: str | None, ipn: str | None
) -> int:
    """The performer a question names, by id, ISNI or IPN (exactly one of them)."""
    named = [value for value in (performer_id, isni, ipn) if value is not None]
    if len(named) != 1:
        raise InvalidInput("name the performer by exactly one of performer_id, isni or ipn")
    if performer_id is not None:
        return performer_id
    from sostenuto.registry._validate import normalise_ipn, normalise_isni

    column, value = (
        (Performer.isni, normalise_isni(isni)) if isni is not None else (Performer.ipn, None)
    )
    if isni is None:
        assert ipn is not None
        value = normalise_ipn(ipn)
    found = session.scalar(select(Performer.id).where(column == value))
    if found is None:
        kind = "ISNI" if isni is not None else "IPN"
        raise NotFound(f"no performer has {kind} {value}", details={kind.lower(): value})
    return found
