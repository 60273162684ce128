"""Who may run a period: the operator any period, from the log or a usage file, and corrects a
stored run; a CMO's admin a period that has ended, from the log's usage only, never replacing
a run; every other role none."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from sostenuto.auth import OPERATOR, PUBLIC, Principal
from sostenuto.errors import Conflict, Forbidden, InvalidInput
from sostenuto.remuneration import check_run, last_ended_quarter, run_period
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.remuneration import DistributionRun, Statement
from sostenuto.storage.models.transparency import LogEntry
from tests.remuneration.conftest import Example, example_usage
from tests.remuneration.test_loader import declare_example

PERIOD = "2026-Q3"


def _admin(cmo_id: int, name: str = "user:sara") -> Principal:
    return Principal(name, "cmo-admin", cmo_id=cmo_id)


def _runs(database: Database) -> list[tuple[int, str, str]]:
    with database.reader() as session:
        return [
            (run.id, run.result_sha256, run.created_by)
            for run in session.scalars(select(DistributionRun).order_by(DistributionRun.id))
        ]


def test_a_cmo_admin_runs_an_ended_period_from_the_log(
    database: Database, settings: Settings, example: Example
) -> None:
    declare_example(database, settings, example)
    # AIE's admin: not even the licensing CMO. The run is the same for every caller.
    result = run_period(database, settings, _admin(example.aie), PERIOD)
    assert result.created and result.statements == 7 and result.declared == 7
    assert result.summary["currencies"]["SEK"]["collected_minor"] == 1_617_384
    assert [created_by for _, _, created_by in _runs(database)] == ["user:sara"]
    with database.reader() as session:
        bodies = [
            json.loads(body)
            for body in session.scalars(
                select(LogEntry.body).where(LogEntry.entry_type == "remuneration-statement")
            )
        ]
        undeclared = session.scalar(
            select(func.count()).select_from(Statement).where(Statement.log_entries.is_(None))
        )
    # Statements are declared in each paying CMO's name, as the operator's run declares them
    # (an admin may not declare in another CMO's name).
    assert len(bodies) == 7 and undeclared == 0
    assert {b["submitter"]["role"] for b in bodies} == {"operator"}
    assert {b["payload"]["cmo_id"] for b in bodies} == {example.sami, example.aie}

    # Started again, by another CMO's admin or by the operator from the log: nothing changes.
    again = run_period(database, settings, _admin(example.sami, "user:sven"), PERIOD)
    assert (again.created, again.run_id, again.declared) == (False, result.run_id, 0)
    by_operator = run_period(database, settings, OPERATOR, PERIOD)
    assert not by_operator.created and by_operator.result_sha256 == result.result_sha256
    assert _runs(database) == [(result.run_id, result.result_sha256, "user:sara")]


def test_a_cmo_admin_brings_no_usage_file_and_never_replaces_a_run(
    database: Database, settings: Settings, example: Example
) -> None:
    declare_example(database, settings, example)
    # The operator distributed the period from a file that left out R3's training use.
    usage = example_usage(example)
    partial = dataclasses.replace(usage, training=usage.training[:3])
    stored = run_period(database, settings, OPERATOR, PERIOD, usage=partial, declare=False)
    admin = _admin(example.sami)
    with pytest.raises(Forbidden, match="only the local operator may replace a stored run"):
        run_period(database, settings, admin, PERIOD, replace=True)
    with pytest.raises(Forbidden, match=r"only the local operator may run .* from a usage file"):
        run_period(database, settings, admin, PERIOD, usage=usage)
    # The log's usage differs from the file's: refused, and the correction named as the
    # operator's.
    with pytest.raises(Conflict, match=r"correction \(replace\) is the local operator's") as info:
        run_period(database, settings, admin, PERIOD)
    assert info.value.details == {"run": stored.run_id}
    assert _runs(database) == [(stored.run_id, stored.result_sha256, OPERATOR.name)]
    # The operator keeps every option: the correction from the log replaces the run.
    corrected = run_period(database, settings, OPERATOR, PERIOD, replace=True, declare=False)
    assert corrected.created and corrected.result_sha256 != stored.result_sha256


def test_a_period_that_has_not_ended_is_refused_to_a_cmo_admin(
    database: Database, settings: Settings, example: Example
) -> None:
    admin = _admin(example.sami)
    with pytest.raises(InvalidInput, match="period 2099-Q1 has not ended") as info:
        run_period(database, settings, admin, "2099-Q1")
    assert info.value.details == {"period": "2099-Q1", "ends_on": "2099-03-31"}
    # On its last day a period is still open; from the next day on it may be run.
    with pytest.raises(InvalidInput, match="can be run from 2026-10-01 on"):
        check_run(admin, PERIOD, today=dt.date(2026, 9, 30))
    assert check_run(admin, PERIOD, today=dt.date(2026, 10, 1)).label == PERIOD
    # The operator may run an open period (a provisional run it corrects later).
    assert check_run(OPERATOR, PERIOD, today=dt.date(2026, 9, 30)).label == PERIOD
    with pytest.raises(InvalidInput, match="not a period"):
        check_run(admin, "2026-Q5")
    assert _runs(database) == []


@pytest.mark.parametrize(
    "who",
    [
        Principal("melodia", "licensee", licensee_id=1),
        Principal("audit", "auditor"),
        Principal("anna", "performer", performer_id=1),
        PUBLIC,
    ],
    ids=lambda p: p.role,
)
def test_no_other_role_runs_a_period_even_from_the_log(
    database: Database, settings: Settings, example: Example, who: Principal
) -> None:
    with pytest.raises(Forbidden, match="may not run a distribution of an ended period"):
        run_period(database, settings, who, PERIOD)
    assert _runs(database) == []


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (dt.date(2026, 1, 1), "2025-Q4"),
        (dt.date(2026, 3, 31), "2025-Q4"),
        (dt.date(2026, 4, 1), "2026-Q1"),
        (dt.date(2026, 12, 3), "2026-Q3"),
        (dt.date(2026, 12, 31), "2026-Q3"),
    ],
)
def test_the_last_ended_quarter(today: dt.date, quarter: str) -> None:
    assert last_ended_quarter(today) == quarter
