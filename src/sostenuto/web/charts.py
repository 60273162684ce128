"""The charts pages share, read through the services with the caller's own visibility."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sostenuto import consent
from sostenuto.auth import Principal
from sostenuto.web import plots

# The dashboard's and console's window: a month of days stays legible at 390 px.
RECENT_DAYS = 30


def recent_decisions(session: Any, caller: Principal, title: str) -> plots.Chart:
    """Permitted and denied per day over the last :data:`RECENT_DAYS` days (UTC)."""
    last = dt.datetime.now(dt.UTC).date()
    first = last - dt.timedelta(days=RECENT_DAYS - 1)
    counts = consent.decision_counts(session, caller, first=first, last=last)
    return plots.decisions_chart(title, plots.days_between(first, last, counts))
