"""Look-ups of a list of ISRCs: a licensee's CSV, decided line by line and kept.

A licensee names up to :data:`MAX_LOOKUP_LINES` recordings by ISRC (a CSV with an ``isrc``
column, else its first column). Every line gets an answer of its own: permitted or denied
(decided by :func:`decide_batch`, in chunks, so each answer has a citable decision id), an
ISRC the registry does not hold, or a value that is not an ISRC at all. Nothing is dropped.
The look-up is kept as one JSON document under the data folder, readable by its licensee
only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select

from sostenuto.auth import Principal, authorize
from sostenuto.consent._decide import decide_batch
from sostenuto.errors import InvalidInput, NotFound, SostenutoError
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Recording

MAX_LOOKUP_LINES = 10_000
LOOKUP_CHUNK = 1_000  # ISRCs per batch decision: one batch row, one transaction each
_QUERY_CHUNK = 900  # below every driver's bound-parameter limit
_ID_LENGTH = 16

LineStatus = Literal["permitted", "denied", "unknown", "malformed"]
STATUSES: tuple[LineStatus, ...] = ("permitted", "denied", "unknown", "malformed")


@dataclass(frozen=True)
class LookupLine:
    """One line of the CSV and its answer."""

    line: int  # the line number in the uploaded file (the header is line 1)
    value: str  # as written
    status: LineStatus
    isrc: str | None = None  # normalised, when the value is an ISRC
    decision_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class IsrcLookup:
    """A stored look-up: who asked what, when, and the answer for every line."""

    lookup_id: str
    licensee_id: int
    use: str
    territory: str
    on_date: dt.date
    filename: str
    created_at: str
    lines: list[LookupLine] = field(default_factory=list)
    batch_ids: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for line in self.lines:
            counts[line.status] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k != "lines"},
            "on_date": self.on_date.isoformat(),
            "summary": self.summary,
            "lines": [asdict(line) for line in self.lines],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IsrcLookup:
        return cls(
            lookup_id=data["lookup_id"],
            licensee_id=int(data["licensee_id"]),
            use=data["use"],
            territory=data["territory"],
            on_date=dt.date.fromisoformat(data["on_date"]),
            filename=data["filename"],
            created_at=data["created_at"],
            lines=[LookupLine(**line) for line in data["lines"]],
            batch_ids=list(data["batch_ids"]),
        )


def parse_isrc_csv(content: bytes) -> list[tuple[int, str]]:
    """The ISRC values of a CSV with their line numbers: the ``isrc`` column when the first
    line names one (a header), else the first column of every line, so that no line goes
    unanswered. Blank lines are skipped."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"the CSV is not UTF-8 text (byte {error.start})") from error
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise InvalidInput(f"the CSV cannot be read: {error}") from error
    numbered = [(number, row) for number, row in enumerate(rows, 1) if any(c.strip() for c in row)]
    if not numbered:
        raise InvalidInput("the CSV holds no ISRC")
    column = 0
    first = [cell.strip().lower() for cell in numbered[0][1]]
    if "isrc" in first:
        column = first.index("isrc")
        numbered = numbered[1:]
    values = [
        (number, row[column].strip() if column < len(row) else "") for number, row in numbered
    ]
    if not values:
        raise InvalidInput("the CSV holds a header but no ISRC")
    if len(values) > MAX_LOOKUP_LINES:
        raise InvalidInput(
            f"a look-up holds at most {MAX_LOOKUP_LINES} ISRCs; this CSV has {len(values)}"
        )
    return values


def _normalised(value: str) -> str:
    # The registry imports identification, which imports consent: look it up when called.
    from sostenuto.registry._validate import normalise_isrc

    return normalise_isrc(value)


def _registered(session: Any, isrcs: Sequence[str]) -> set[str]:
    wanted = sorted(set(isrcs))
    found: set[str] = set()
    for start in range(0, len(wanted), _QUERY_CHUNK):
        chunk = wanted[start : start + _QUERY_CHUNK]
        found.update(session.scalars(select(Recording.isrc).where(Recording.isrc.in_(chunk))))
    return found


def lookups_dir(settings: Settings) -> Path:
    return settings.data_dir / "consent" / "lookups"


def look_up_isrcs(
    database: Database,
    settings: Settings,
    principal: Principal,
    *,
    values: Sequence[tuple[int, str]],
    use: str,
    territory: str,
    on_date: dt.date | None = None,
    filename: str = "isrcs.csv",
) -> IsrcLookup:
    """Decide every line of a list of ISRCs for the caller's licensee and keep the answers.

    Malformed values and ISRCs the registry does not hold are answered per line; the rest
    are decided :data:`LOOKUP_CHUNK` at a time by :func:`decide_batch`, each chunk stored as
    a batch whose decision ids the answers cite.
    """
    licensee_id = principal.licensee_id
    if licensee_id is None:
        raise InvalidInput("a look-up is asked in a licensee's name; this token has none")
    authorize(principal, "decision.request", licensee_id=licensee_id)
    if not values:
        raise InvalidInput("the look-up names no ISRC")
    if len(values) > MAX_LOOKUP_LINES:
        raise InvalidInput(f"a look-up holds at most {MAX_LOOKUP_LINES} ISRCs; got {len(values)}")
    normalised: dict[int, str] = {}
    problems: dict[int, str] = {}
    for position, (_, value) in enumerate(values):
        try:
            normalised[position] = _normalised(value)
        except SostenutoError as error:
            problems[position] = error.message if value else "empty value: no ISRC on this line"
    answers: dict[int, LookupLine] = {}
    batch_ids: list[str] = []
    when = on_date
    with database.transaction() as session:
        known = _registered(session, list(normalised.values()))
        decided = [p for p, isrc in normalised.items() if isrc in known]
        for start in range(0, len(decided), LOOKUP_CHUNK):
            chunk = decided[start : start + LOOKUP_CHUNK]
            batch = decide_batch(
                session,
                principal,
                licensee_id=licensee_id,
                isrcs=[normalised[p] for p in chunk],
                use=use,
                territory=territory,
                on_date=on_date,
            )
            batch_ids.append(batch.batch_id)
            territory, when = batch.territory, batch.on_date
            for index, position in enumerate(chunk):
                basis = batch.bases[batch.basis_index[index]]
                answers[position] = LookupLine(
                    line=values[position][0],
                    value=values[position][1],
                    status="permitted" if basis.outcome == "permit" else "denied",
                    isrc=normalised[position],
                    decision_id=f"{batch.batch_id}.{index}",
                    reason=basis.reason,
                )
    if not batch_ids:
        # Nothing to decide: the use and territory are still checked, as a decision would.
        from sostenuto.vocabulary import check_territories, check_uses

        (use,) = check_uses([use])
        (territory,) = check_territories([territory])
    lines: list[LookupLine] = []
    for position, (number, value) in enumerate(values):
        if position in answers:
            lines.append(answers[position])
        elif position in problems:
            lines.append(LookupLine(number, value, "malformed", reason=problems[position]))
        else:
            lines.append(
                LookupLine(
                    number,
                    value,
                    "unknown",
                    isrc=normalised[position],
                    reason="no recording with this ISRC is registered",
                )
            )
    lookup = IsrcLookup(
        lookup_id=secrets.token_hex(_ID_LENGTH // 2),
        licensee_id=licensee_id,
        use=use,
        territory=territory.upper(),
        on_date=when or dt.datetime.now(dt.UTC).date(),
        filename=filename[:200],
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        lines=lines,
        batch_ids=batch_ids,
    )
    folder = lookups_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{lookup.lookup_id}.json").write_text(json.dumps(lookup.as_json()), encoding="utf-8")
    return lookup


def get_isrc_lookup(settings: Settings, principal: Principal, lookup_id: str) -> IsrcLookup:
    """A stored look-up, for the licensee that asked it only."""
    if len(lookup_id) != _ID_LENGTH or any(c not in "0123456789abcdef" for c in lookup_id):
        raise NotFound(f"no look-up {lookup_id!r}")
    path = lookups_dir(settings) / f"{lookup_id}.json"
    if not path.is_file():
        raise NotFound(f"no look-up {lookup_id!r}")
    lookup = IsrcLookup.from_json(json.loads(path.read_text(encoding="utf-8")))
    authorize(principal, "decision.request", licensee_id=lookup.licensee_id)
    return lookup
