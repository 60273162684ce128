"""Rows to recordings: the adjacent rows of one ISRC make one recording of an import."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sostenuto.registry._readers import Contributor, ParsedRow, RowError


@dataclass(slots=True)
class Group:
    """One recording of the file, gathered from its adjacent rows."""

    line: int
    isrc: str
    title: str
    duration_ms: int | None
    fixation_year: int | None
    audio_sha256: str | None
    contributors: list[tuple[int, Contributor]]
    identities: set[tuple[str, str]] = field(default_factory=set)
    audio_path: str | None = None  # fingerprinted with the recording (``_import_audio``)


def groups(rows: Iterable[ParsedRow | RowError], errors: list[RowError]) -> Iterator[Group]:
    """Adjacent rows of one ISRC make one recording; everything odd becomes a row error."""
    seen: set[str] = set()
    group: Group | None = None
    for row in rows:
        if isinstance(row, RowError):
            errors.append(row)
            continue
        if group is None or row.isrc != group.isrc or row.whole:
            if row.isrc in seen:
                errors.append(
                    RowError(
                        row.line,
                        f"ISRC {row.isrc} appeared earlier in the file; the rows of one "
                        "recording must be adjacent and a recording listed once",
                        row.record,
                    )
                )
                continue
            if group is not None:
                yield group
            seen.add(row.isrc)
            group = Group(
                row.line,
                row.isrc,
                row.title,
                row.duration_ms,
                row.fixation_year,
                row.audio_sha256,
                [],
                audio_path=row.audio_path,
            )
        else:
            clash = _field_clash(group, row)
            if clash:
                errors.append(RowError(row.line, clash, row.record))
                continue
        duplicate = _duplicate(group, row.contributors)
        if duplicate is not None:
            errors.append(
                RowError(
                    row.line,
                    f"performer {duplicate[0]} {duplicate[1]!r} is listed twice for {row.isrc}",
                    row.record,
                )
            )
            if not group.contributors and group.line == row.line:
                group = None  # a whole JSON record was refused: forget it
                seen.discard(row.isrc)
            continue
        line = row.line
        for contributor in row.contributors:
            group.identities.add(contributor.identity)
            group.contributors.append((line, contributor))
    if group is not None:
        yield group


def _duplicate(group: Group, contributors: tuple[Contributor, ...]) -> tuple[str, str] | None:
    """The identity of a contributor already in the group or listed twice, if any."""
    if len(contributors) == 1:  # a CSV row
        identity = contributors[0].identity
        return identity if identity in group.identities else None
    fresh: set[tuple[str, str]] = set()
    for contributor in contributors:
        identity = contributor.identity
        if identity in group.identities or identity in fresh:
            return identity
        fresh.add(identity)
    return None


def _field_clash(group: Group, row: ParsedRow) -> str | None:
    if (
        row.title == group.title
        and row.duration_ms == group.duration_ms
        and row.fixation_year == group.fixation_year
        and row.audio_sha256 == group.audio_sha256
        and row.audio_path == group.audio_path
    ):
        return None  # the usual case: the rows of a recording repeat its fields
    for name in ("title", "duration_ms", "fixation_year", "audio_sha256", "audio_path"):
        value = getattr(row, name)
        if value is not None and value != getattr(group, name):
            return (
                f"{name} {value!r} differs from {getattr(group, name)!r} given for "
                f"{row.isrc} on line {group.line}"
            )
    return None


def chunks(groups: Iterator[Group], size: int) -> Iterator[list[Group]]:
    chunk: list[Group] = []
    for group in groups:
        chunk.append(group)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
