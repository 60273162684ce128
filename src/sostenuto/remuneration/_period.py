"""Distribution periods: a year (``2026``), a quarter (``2026-Q3``) or a month (``2026-11``)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from sostenuto.errors import InvalidInput

_PATTERN = re.compile(r"(?P<year>[0-9]{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?")


@dataclass(frozen=True, order=True)
class Period:
    """A closed range of days with its label; statements and runs are keyed by the label."""

    start: dt.date
    end: dt.date
    label: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def overlaps(self, start: dt.date, end: dt.date | None) -> bool:
        return start <= self.end and (end is None or end >= self.start)


def parse_period(text: str) -> Period:
    """Parse a period label; anything else is :class:`InvalidInput`."""
    match = _PATTERN.fullmatch(text.strip())
    if not match or match["year"] == "0000":
        raise InvalidInput(
            f"not a period: {text!r}; use YYYY, YYYY-Qn or YYYY-MM (e.g. 2026-Q3)",
            details={"period": text},
        )
    year = int(match["year"])
    if match["quarter"]:
        first = 3 * (int(match["quarter"]) - 1) + 1
        last = first + 2
    elif match["month"]:
        first = last = int(match["month"])
    else:
        first, last = 1, 12
    end = dt.date(year, last, calendar.monthrange(year, last)[1])
    return Period(dt.date(year, first, 1), end, match.group(0))


def last_ended_quarter(today: dt.date) -> str:
    """The label of the latest quarter that has ended by ``today`` (``2026-Q3`` in November)."""
    ended = (today.month - 1) // 3  # quarters of this year that are over
    return f"{today.year - 1}-Q4" if ended == 0 else f"{today.year}-Q{ended}"
