"""The revocation feed, as the service computes it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sostenuto.auth import OPERATOR, Principal
from sostenuto.consent import forget_snapshots, opt_out, permit, prohibit
from sostenuto.declarations import changes_since, publish_rule_change
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.declarations.revocations import (
    EFFECTIVE,
    LUCIA_ONLY,
    TERRITORY,
    USE,
    Corpus,
    declare_corpus,
)


@pytest.fixture
def corpus(database: Database, settings: Settings) -> Iterator[Corpus]:
    forget_snapshots()
    with database.transaction() as session:
        load_demo(session)
    yield declare_corpus(database, settings)
    forget_snapshots()


def _cmo(corpus: Corpus) -> Principal:
    return Principal("AIE admin", "cmo-admin", cmo_id=corpus.cmo_id)


def _licensee(licensee_id: int) -> Principal:
    return Principal(f"licensee {licensee_id}", "licensee", licensee_id=licensee_id)


def _prohibit_lucia(database: Database, settings: Settings, corpus: Corpus) -> int:
    """AIE prohibits Lucía Ferrer's train-genai use from EFFECTIVE on; the log index."""
    admin = _cmo(corpus)
    with database.transaction() as session:
        rule = prohibit(
            session,
            admin,
            scope="performer",
            scope_id=corpus.performer_id,
            uses=[USE],
            territories=["WW"],
            valid_from=EFFECTIVE,
        )
    receipt = publish_rule_change(database, settings, admin, rule)
    assert receipt is not None
    return receipt.index


def test_a_prohibition_lists_exactly_the_performers_file_from_its_date(
    database: Database, settings: Settings, corpus: Corpus
) -> None:
    index = _prohibit_lucia(database, settings, corpus)
    feed = changes_since(database, _licensee(corpus.licensee_id), since=0).as_json()
    assert [change["index"] for change in feed["changes"]] == [index]
    assert feed["changes"][0]["change"] == "opt-out"
    assert feed["checkpoint"] == index + 1 and feed["more"] is False
    [manifest] = feed["manifests"]
    assert manifest["index"] == corpus.manifest_index
    assert manifest["entry_id"] == corpus.manifest_entry
    assert manifest["name"] == "aurora-corpus-2026"
    [item] = manifest["revoked"]
    assert item["isrc"] == LUCIA_ONLY
    assert item["sha256"] == corpus.hashes[LUCIA_ONLY]
    assert item["from"] == EFFECTIVE.isoformat()
    assert item["change_index"] == index
    assert (item["use"], item["territory"]) == (USE, TERRITORY)
    assert item["rule_id"] == feed["changes"][0]["rule_id"]


def test_the_next_checkpoint_shows_nothing_new(
    database: Database, settings: Settings, corpus: Corpus
) -> None:
    _prohibit_lucia(database, settings, corpus)
    reader = _licensee(corpus.licensee_id)
    first = changes_since(database, reader, since=0)
    again = changes_since(database, reader, since=first.checkpoint)
    assert again.changes == [] and not again.touched
    assert again.checkpoint == first.checkpoint


def test_another_licensees_feed_is_empty(
    database: Database, settings: Settings, corpus: Corpus
) -> None:
    index = _prohibit_lucia(database, settings, corpus)
    feed = changes_since(database, _licensee(corpus.other_licensee_id), since=0).as_json()
    # The change is public; Aurora's manifest is not Cadenza's concern.
    assert [change["index"] for change in feed["changes"]] == [index]
    assert feed["manifests"] == []


def test_a_licensee_cannot_read_another_licensees_feed(
    database: Database, settings: Settings, corpus: Corpus
) -> None:
    with pytest.raises(Forbidden):
        changes_since(database, _licensee(corpus.other_licensee_id), licensee_id=corpus.licensee_id)
    auditor = Principal("auditor", "auditor")
    assert changes_since(database, auditor, licensee_id=corpus.licensee_id).licensee_id == (
        corpus.licensee_id
    )
    with pytest.raises(InvalidInput, match="licensee_id"):
        changes_since(database, auditor)


def test_a_grant_and_an_unrelated_opt_out_revoke_nothing(
    database: Database, settings: Settings, corpus: Corpus
) -> None:
    admin = _cmo(corpus)
    with database.transaction() as session:
        granted = permit(
            session,
            admin,
            scope="performer",
            scope_id=corpus.performer_id,
            uses=["search-index"],
            valid_from=EFFECTIVE,
        )
        # Another use than the one Aurora's decisions were taken for.
        other = opt_out(session, admin, performer_id=corpus.performer_id, uses=["voice-clone"])
    for rule in (granted, other):
        assert publish_rule_change(database, settings, admin, rule) is not None
    feed = changes_since(database, _licensee(corpus.licensee_id), since=0)
    assert len(feed.changes) == 2
    assert not feed.touched


def test_pages_are_bounded_and_chain(
    database: Database, settings: Settings, corpus: Corpus
) -> None:
    admin = _cmo(corpus)
    indexes = []
    for use in ("voice-clone", "style-imitation", "search-index"):
        with database.transaction() as session:
            rule = opt_out(session, admin, performer_id=corpus.performer_id, uses=[use])
        receipt = publish_rule_change(database, settings, admin, rule)
        assert receipt is not None
        indexes.append(receipt.index)
    reader = _licensee(corpus.licensee_id)
    seen, since, pages = [], 0, 0
    while True:
        feed = changes_since(database, reader, since=since, limit=2)
        seen += [change.index for change in feed.changes]
        since, pages = feed.checkpoint, pages + 1
        if not feed.more:
            break
    assert seen == indexes and pages == 2
    with pytest.raises(InvalidInput, match="beyond the log's size"):
        changes_since(database, reader, since=since + 1)
    with pytest.raises(InvalidInput, match="limit"):
        changes_since(database, reader, limit=0)


def test_the_operator_feed_needs_a_licensee(database: Database, corpus: Corpus) -> None:
    assert changes_since(database, OPERATOR, licensee_id=corpus.licensee_id).changes == []


def test_a_broader_repertoire_prohibition_reaches_every_file(
    database: Database, settings: Settings, corpus: Corpus
) -> None:
    admin = _cmo(corpus)
    with database.transaction() as session:
        rule = prohibit(
            session,
            admin,
            scope="cmo",
            scope_id=corpus.cmo_id,
            uses=["train-ai"],  # broader than train-genai: its prohibitions reach it
            territories=[TERRITORY],
            valid_from=EFFECTIVE,
        )
    receipt = publish_rule_change(database, settings, admin, rule)
    assert receipt is not None
    feed = changes_since(database, _licensee(corpus.licensee_id)).as_json()
    assert feed["changes"][0]["scope"] == "repertoire"
    [manifest] = feed["manifests"]
    assert sorted(item["isrc"] for item in manifest["revoked"]) == sorted(corpus.hashes)
    assert {item["from"] for item in manifest["revoked"]} == {EFFECTIVE.isoformat()}
