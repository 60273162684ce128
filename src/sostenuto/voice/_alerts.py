"""Screenings that found, without consent, the voice of a performer the caller's CMO
represents: the office dashboard's voice alert."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from sostenuto.auth import Principal
from sostenuto.voice._screen import list_screenings
from sostenuto.voice._store import manages, performer_or_404


@dataclass(frozen=True)
class UnauthorisedVoice:
    """One screening with at least one unauthorised range of a represented performer."""

    screening_id: str
    filename: str
    performer_names: tuple[str, ...]
    ranges: int


def unauthorised_voices(
    session: Session, principal: Principal, *, limit: int = 50
) -> list[UnauthorisedVoice]:
    """Among the newest ``limit`` screenings the caller may read, those with ranges of a
    represented performer's voice that no consent allows, newest first."""
    found = []
    for report in list_screenings(session, principal, limit=limit):
        ours = [
            item
            for item in report.ranges
            if item.status == "unauthorised"
            and item.performer_id is not None
            and manages(session, principal, performer_or_404(session, item.performer_id))
        ]
        if ours:
            names = sorted(
                {item.performer_name or f"performer {item.performer_id}" for item in ours}
            )
            found.append(UnauthorisedVoice(report.id, report.filename, tuple(names), len(ours)))
    return found
