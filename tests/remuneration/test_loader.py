"""Usage from the real transparency log: consent decisions, manifests, runs and outputs."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select

from sostenuto.auth import OPERATOR
from sostenuto.consent import decide, forget_snapshots, set_jurisdiction
from sostenuto.declarations import declare
from sostenuto.remuneration import load_usage, run_period
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.consent import ConsentRule
from sostenuto.storage.models.remuneration import RecordingShare, Statement
from sostenuto.storage.models.transparency import LogEntry
from tests.remuneration.conftest import IN_Q3, Example


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def declare_example(database: Database, settings: Settings, ex: Example) -> None:
    """The worked example's usage, declared the way a licensee declares it."""
    decisions: dict[int, str] = {}
    with database.transaction() as session:
        # Sweden allows extended collective licences for this use: Carla, a non-member, is
        # covered by SAMI's extended licence.
        set_jurisdiction(
            session, OPERATOR, territory="SE", extended_licensing=True, ecl_uses=["train-genai"]
        )
    forget_snapshots()
    with database.transaction() as session:
        for recording in (ex.r1, ex.r2, ex.r3):
            # A rule recorded back then (a new rule can no longer start in the past).
            session.add(
                ConsentRule(
                    effect="permit",
                    scope_kind="recording",
                    scope_id=recording,
                    uses=["train-genai"],
                    territories=["WW"],
                    valid_from=dt.date(2026, 1, 1),
                    conditions=[],
                    source="cmo",
                    created_by="operator",
                )
            )
            session.flush()
            forget_snapshots()
            decision = decide(
                session,
                OPERATOR,
                licensee_id=ex.licensee,
                recording_id=recording,
                use="train-genai",
                territory="SE",
                on_date=IN_Q3,
            )
            assert decision.outcome == "permit", decision.reason
            decisions[recording] = decision.id

    def files(recordings: list[int], tag: str) -> list[dict[str, object]]:
        return [
            {"sha256": _sha(f"{tag}-{r}"), "recording_id": r, "decision_id": decisions[r]}
            for r in recordings
        ]

    manifests = [
        declare(
            database,
            settings,
            OPERATOR,
            "dataset-manifest",
            {
                "licensee_id": ex.licensee,
                "model_id": ex.model,
                "name": name,
                "files": files(recordings, name),
            },
        ).entry_id
        for name, recordings in (("a", [ex.r1, ex.r2, ex.r3]), ("b", [ex.r1]))
    ]
    declare(
        database,
        settings,
        OPERATOR,
        "training-run",
        {
            "licensee_id": ex.licensee,
            "model_id": ex.model,
            "model_version": "1",
            "manifests": manifests,
            "started_on": "2026-07-20",
            "ended_on": "2026-08-14",
        },
    )
    for number in range(1, 5):
        resemblances = [{"recording_id": ex.r3, "score": 1.0}] if number == 1 else []
        declare(
            database,
            settings,
            OPERATOR,
            "output-declaration",
            {
                "licensee_id": ex.licensee,
                "model_id": ex.model,
                "output_sha256": _sha(f"output-{number}"),
                "generated_on": "2026-09-01",
                "resemblances": resemblances,
            },
        )


def test_log_entries_fill_the_usage_and_statements_go_back_to_the_log(
    database: Database, settings: Settings, example: Example
) -> None:
    declare_example(database, settings, example)
    with database.reader() as session:
        usage = load_usage(session)
    assert sorted((u.recording_id, len(u.evidence)) for u in usage.training) == [
        (example.r1, 3),
        (example.r1, 3),
        (example.r2, 3),
        (example.r3, 3),
    ]
    assert [len(o.resemblances) for o in usage.outputs] == [1, 0, 0, 0]

    result = run_period(database, settings, OPERATOR, "2026-Q3")
    assert result.summary["currencies"]["SEK"]["collected_minor"] == 1_617_384
    with database.reader() as session:
        amounts = {
            (s.source, s.recording_id): s.amount_minor
            for s in session.scalars(select(RecordingShare))
        }
        assert amounts[("revenue-share", example.r3)] == 270_062
        assert amounts[("output-fee", example.r3)] == 43
        evidence = session.scalars(
            select(RecordingShare.evidence).where(
                RecordingShare.recording_id == example.r3, RecordingShare.source == "revenue-share"
            )
        ).one()
        # The output that regurgitated R3 and the training run's manifest are both cited.
        cited = set(evidence)
        entries = {
            bytes(h).hex(): t
            for h, t in session.execute(select(LogEntry.leaf_hash, LogEntry.entry_type))
        }
        assert {entries[e] for e in cited if e in entries} == {
            "dataset-manifest",
            "training-run",
            "output-declaration",
        }
        statements = list(session.scalars(select(Statement)))
        assert result.declared == len(statements) == 7
        declared = {e["entry_id"] for s in statements for e in s.log_entries or []}
        kinds = {entries.get(e) for e in declared}
        assert kinds == {"remuneration-statement"}
