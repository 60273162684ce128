"""A performer's usage on /me: the log entries naming her recordings (with their receipt
addresses), her voiceprint status and her money chart; the counts behind the decisions
charts; each seen by its own party only."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from sostenuto import consent, declarations, voice
from sostenuto.auth import Principal, add_user
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.remuneration import money_by_source
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Performer
from sostenuto.storage.models.voice import Voiceprint
from tests.declarations.revocations import ISRCS, LUCIA_ONLY, declare_corpus
from tests.web.conftest import PASSWORD, World, app_client, sign_in
from tests.web.test_office_remuneration import distribute

AUDITOR = Principal("auditor", "auditor")
SVG = "{http://www.w3.org/2000/svg}"
OTHER = "Jonas Weber"  # a GVL member on none of the corpus's recordings


def _svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg .*?</svg>", page, re.S)]


def _add_jonas(database: Database) -> int:
    with database.transaction() as session:
        jonas = session.scalars(select(Performer.id).where(Performer.name == OTHER)).one()
        add_user(session, username="jonas", password=PASSWORD, role="performer", performer_id=jonas)
    return int(jonas)


def test_my_page_lists_the_declarations_that_name_my_recordings(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    corpus = declare_corpus(sqlite_database, settings)
    lucia = app_client(sqlite_database, settings)
    sign_in(lucia, "lucia")
    page = lucia.get("/me").text
    row = re.search(rf'<tr data-entry="{corpus.manifest_index}">(.*?)</tr>', page, re.S)
    assert row is not None, page
    assert f'href="/api/v1/log/entries/{corpus.manifest_index}"' in row.group(1)
    assert f'href="/api/v1/log/proofs/inclusion/{corpus.manifest_index}"' in row.group(1)
    assert "training data" in row.group(1) and f"licensee {corpus.licensee_id}" in row.group(1)
    # Hers, not the manifest's other two recordings (no performer of hers on them).
    assert LUCIA_ONLY in row.group(1)
    assert all(isrc not in row.group(1) for isrc in ISRCS[1:])
    # The addresses it links to answer: the entry and its inclusion proof.
    assert lucia.get(f"/api/v1/log/entries/{corpus.manifest_index}").status_code == 200
    assert lucia.get(f"/api/v1/log/proofs/inclusion/{corpus.manifest_index}").status_code == 200


def test_another_performer_sees_only_her_own_usage(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    corpus = declare_corpus(sqlite_database, settings)
    jonas_id = _add_jonas(sqlite_database)
    jonas = app_client(sqlite_database, settings)
    sign_in(jonas, "jonas")
    page = jonas.get("/me").text
    assert 'id="no-usage"' in page and "data-entry=" not in page
    assert all(isrc not in page for isrc in ISRCS)
    # The service refuses a performer asking about another: usage and voiceprints alike.
    her = Principal("user:jonas", "performer", performer_id=jonas_id)
    with sqlite_database.reader() as session:
        with pytest.raises(Forbidden, match=r"performer\.usage"):
            declarations.uses_of_performer(session, her, corpus.performer_id)
        with pytest.raises(Forbidden, match=r"voiceprint\.read-own"):
            voice.voiceprint_status(session, her, corpus.performer_id)
        # An auditor may ask about anyone; a CMO admin may not.
        assert declarations.uses_of_performer(session, AUDITOR, corpus.performer_id)
        admin = Principal("cmo", "cmo-admin", cmo_id=world.aie)
        with pytest.raises(Forbidden):
            declarations.uses_of_performer(session, admin, corpus.performer_id)
        with pytest.raises(InvalidInput, match="limit"):
            declarations.uses_of_performer(session, AUDITOR, corpus.performer_id, limit=0)


def test_my_voiceprint_status_says_whether_and_since_when_i_am_enrolled(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    lucia = app_client(sqlite_database, settings)
    sign_in(lucia, "lucia")
    assert 'id="not-enrolled"' in lucia.get("/me").text
    enrolled = dt.datetime(2026, 2, 14, 10, 30, tzinfo=dt.UTC)
    with sqlite_database.transaction() as session:
        session.add(
            Voiceprint(
                performer_id=world.lucia,
                model_name="ge2e",
                model_version="1",
                dim=4,
                embedding=b"\0" * 16,
                clip_sha256=["a" * 64, "b" * 64],
                voiced_seconds=42.25,
                is_current=True,
                created_by="user:marta",
                created_at=enrolled,
            )
        )
    page = lucia.get("/me").text
    found = re.search(r'<ul id="my-voiceprints">(.*?)</ul>', page, re.S)
    assert found is not None and 'id="not-enrolled"' not in page
    assert "Enrolled on 2026-02-14 by user:marta" in found.group(1)
    assert "2 clips" in found.group(1) and "42.2 seconds of voice" in found.group(1)


def test_my_page_draws_an_empty_money_chart_without_statements(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    lucia = app_client(sqlite_database, settings)
    sign_in(lucia, "lucia")
    page = lucia.get("/me").text
    (chart,) = _svgs(page)
    assert chart.get("role") == "img"
    assert "No money yet." in "".join(chart.itertext())


def test_money_by_source_sums_a_performers_lines_by_licensee() -> None:
    def line(licensee: str, currency: str, net: int) -> dict[str, object]:
        return {"licensee": licensee, "currency": currency, "net_minor": net}

    documents = [
        {
            "party": {"kind": "performer", "id": 1},
            "lines": [line("Aurora", "EUR", 120), line("Cadenza", "EUR", 300)],
        },
        {
            "party": {"kind": "performer", "id": 1},
            "lines": [line("Aurora", "EUR", 200), line("Aurora", "SEK", 0)],
        },
        {
            "party": {"kind": "cmo", "id": 2},
            "sources": [{"label": "licence 7", "currency": "SEK", "amount_minor": 999}],
        },
    ]
    assert money_by_source(documents) == {
        "EUR": [("Aurora", 320), ("Cadenza", 300)],
        "SEK": [("licence 7", 999)],
    }
    assert money_by_source([]) == {}


def test_decision_counts_follow_each_callers_visibility(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    corpus = declare_corpus(sqlite_database, settings)
    today = dt.datetime.now(dt.UTC).date()
    week = today - dt.timedelta(days=6)
    callers = {
        "aurora": Principal("a", "licensee", licensee_id=corpus.licensee_id),
        "cadenza": Principal("c", "licensee", licensee_id=corpus.other_licensee_id),
        "lucia": Principal("l", "performer", performer_id=corpus.performer_id),
        "auditor": AUDITOR,
    }
    with sqlite_database.reader() as session:
        seen = {
            name: consent.decision_counts(session, caller, first=week, last=today)
            for name, caller in callers.items()
        }
        assert seen["aurora"] == {today: (3, 0)}
        assert seen["cadenza"] == {}
        assert seen["lucia"] == {today: (1, 0)}  # the one recording of hers
        assert seen["auditor"] == {today: (3, 0)}
        # Days outside the period are not counted.
        assert consent.decision_counts(session, AUDITOR, first=week, last=week) == {}
        with pytest.raises(Forbidden, match="its own decisions"):
            consent.decision_counts(
                session,
                callers["aurora"],
                first=week,
                last=today,
                licensee_id=corpus.other_licensee_id,
            )
        with pytest.raises(InvalidInput, match="before it begins"):
            consent.decision_counts(session, AUDITOR, first=today, last=week)
        with pytest.raises(InvalidInput, match="at most 366 days"):
            consent.decision_counts(
                session, AUDITOR, first=today - dt.timedelta(days=400), last=today
            )


def test_the_dashboard_and_the_console_chart_the_callers_decisions(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    declare_corpus(sqlite_database, settings)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    aurora = app_client(sqlite_database, settings)
    sign_in(aurora, "aurora")
    (chart,) = _svgs(aurora.get("/console").text)
    column = next(
        g for g in chart.iter("{http://www.w3.org/2000/svg}g") if g.get("data-day") == today
    )
    permitted, denied = column
    assert (permitted.get("data-value"), denied.get("data-value")) == ("3", "0")
    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    (chart,) = _svgs(marta.get("/office").text)
    assert "permitted" in (chart.findtext("{http://www.w3.org/2000/svg}desc") or "")
    greta = app_client(sqlite_database, settings)  # GVL: none of the corpus is its repertoire
    sign_in(greta, "greta")
    (chart,) = _svgs(greta.get("/office").text)
    assert "No consent decisions" in "".join(chart.itertext())


def test_my_money_chart_sums_my_statement_by_licensee(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    distribute(sqlite_database, settings, world)  # AIE's licence to Aurora pays a fee
    lucia = app_client(sqlite_database, settings)
    sign_in(lucia, "lucia")
    page = lucia.get("/me").text
    total = re.search(r'<td class="num">([^<]+)</td></tr></tbody></table>', page)
    assert total is not None
    (chart,) = _svgs(page)
    assert chart.findtext(f"{SVG}title") == "Where my money came from (EUR)"
    bars = list(chart.iter(f"{SVG}g"))
    assert len(bars) == 1  # one licensee paid her
    label, rect, figure = bars[0]
    assert label.text == "Aurora Audio Labs"
    assert float(rect.get("data-value", "0")) > 0
    # The bar's figure is her statement's total: one source, one period.
    assert figure.text == total.group(1)
