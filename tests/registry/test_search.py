"""Searching recordings and performers: keyset pages, opaque cursors, who may filter by what."""

from __future__ import annotations

import itertools

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from sostenuto.api import create_app
from sostenuto.auth import OPERATOR
from sostenuto.errors import Forbidden, InvalidInput
from sostenuto.registry import (
    add_cmo,
    add_mandate,
    add_performer,
    search_performers,
    search_recordings,
)
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Contribution, Recording
from sostenuto.storage.paging import Page

from .conftest import START, Registry

_counter = itertools.count(1)


def _isrc(n: int) -> str:
    return f"ESA7Q{n:07d}"


def _insert(database: Database, cmo: int, titles: list[str], performer: int | None = None) -> None:
    start = next(_counter) * 10_000
    with database.transaction() as session:
        rows = [
            {
                "isrc": _isrc(start + i),
                "title": title,
                "fixation_year": 2020,
                "registered_by_cmo_id": cmo,
            }
            for i, title in enumerate(titles)
        ]
        if not rows:
            return
        session.execute(insert(Recording), rows)
        if performer is not None:
            ids = session.scalars(
                Recording.__table__.select()
                .with_only_columns(Recording.id)
                .where(Recording.isrc.in_([row["isrc"] for row in rows]))
            ).all()
            session.execute(
                insert(Contribution),
                [
                    {
                        "recording_id": rid,
                        "performer_id": performer,
                        "featured": True,
                        "kind": "voice",
                        "weight": 1,
                    }
                    for rid in ids
                ],
            )


def _all(database: Database, call, limit: int):  # type: ignore[no-untyped-def]
    seen = []
    cursor = None
    pages = 0
    with database.reader() as session:
        while True:
            page: Page = call(session, cursor=cursor, limit=limit)  # type: ignore[type-arg]
            assert len(page.items) <= limit
            seen.extend(page.items)
            pages += 1
            assert pages < 10_000
            if page.next_cursor is None:
                return seen
            cursor = page.next_cursor


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    titles=st.lists(st.text(alphabet="abAB é-", min_size=0, max_size=4), min_size=0, max_size=40),
    limit=st.integers(1, 12),
)
def test_paging_by_title_prefix_returns_every_row_once_in_order(
    reg: Registry, titles: list[str], limit: int
) -> None:
    marker = f"q{next(_counter)}"
    cmo = reg.aie
    _insert(reg.database, cmo, [f"{marker} {t}" for t in titles] + ["other"])
    found = _all(
        reg.database,
        lambda session, **kw: search_recordings(
            session, reg.public, title_prefix=marker.upper() + " ", **kw
        ),
        limit,
    )
    assert sorted(r.title for r in found) == sorted(f"{marker} {t}" for t in titles)
    assert len({r.isrc for r in found}) == len(found)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(count=st.integers(0, 30), limit=st.integers(1, 8))
def test_paging_a_cmos_catalogue_returns_every_row_once_in_id_order(
    reg: Registry, count: int, limit: int
) -> None:
    with reg.database.transaction() as session:
        n = next(_counter)
        cmo = add_cmo(session, OPERATOR, code=f"C{n}", name=f"C{n}", country="ES").id
    _insert(reg.database, cmo, [f"t{i}" for i in range(count)])
    found = _all(
        reg.database,
        lambda session, **kw: search_recordings(session, OPERATOR, cmo_id=cmo, **kw),
        limit,
    )
    assert [r.title for r in found] == [f"t{i}" for i in range(count)]


def test_search_by_isrc_in_any_written_form(reg: Registry) -> None:
    _insert(reg.database, reg.aie, ["Calima", "Siroco"])
    with reg.database.reader() as session:
        page = search_recordings(session, reg.public, isrc="es-a7q-" + _isrc(0)[5:7] + "-00000")
        assert page.items == [] and page.next_cursor is None
        everything = search_recordings(session, reg.public, title_prefix="calima")
        isrc = everything.items[0].isrc
        page = search_recordings(session, reg.public, isrc=isrc.lower())
    assert [r.title for r in page.items] == ["Calima"]
    assert page.total == 1


def test_a_cursor_is_refused_on_another_query_and_when_forged(reg: Registry) -> None:
    _insert(reg.database, reg.aie, ["Calima 1", "Calima 2", "Calima 3"])
    with reg.database.reader() as session:
        page = search_recordings(session, reg.public, title_prefix="calima", limit=1)
        assert page.next_cursor is not None
        with pytest.raises(InvalidInput, match="another listing or other filters"):
            search_recordings(
                session, reg.public, title_prefix="cal", cursor=page.next_cursor, limit=1
            )
        with pytest.raises(InvalidInput, match="another listing"):
            search_performers(session, reg.auditor, cursor=page.next_cursor)
        for bad in ("not a cursor!", "eyJxIjoxfQ", "e30", "x" * 3000):
            with pytest.raises(InvalidInput, match="invalid cursor"):
                search_recordings(session, reg.public, title_prefix="calima", cursor=bad)
        with pytest.raises(InvalidInput, match="limit"):
            search_recordings(session, reg.public, limit=1001)


def test_who_may_filter_by_cmo_or_performer(reg: Registry) -> None:
    _insert(reg.database, reg.aie, ["Calima"], performer=reg.performer)
    with reg.database.reader() as session:
        for caller in (reg.public, reg.licensee_caller, reg.sami_admin):
            with pytest.raises(Forbidden):
                search_recordings(session, caller, cmo_id=reg.aie)
            with pytest.raises(Forbidden):
                search_recordings(session, caller, performer_id=reg.performer)
        for caller in (reg.aie_admin, reg.auditor):
            assert [r.title for r in search_recordings(session, caller, cmo_id=reg.aie).items] == [
                "Calima"
            ]
            assert [
                r.title
                for r in search_recordings(session, caller, performer_id=reg.performer).items
            ] == ["Calima"]


def test_performers_visible_to_their_cmo_and_auditors(reg: Registry) -> None:
    with reg.database.transaction() as session:
        sami_member = add_performer(session, OPERATOR, name="Lars Berg", cmo_id=reg.sami).id
        add_performer(session, OPERATOR, name="Lara Nobody")
        add_mandate(
            session,
            OPERATOR,
            performer_id=sami_member,
            cmo_id=reg.aie,
            territories=["ES"],
            uses=["train-genai"],
            valid_from=START,
        )
    with reg.database.reader() as session:
        aie = search_performers(session, reg.aie_admin)
        assert sorted(p.name for p in aie.items) == ["Lars Berg", "Lucía Ferrer"]
        sami = search_performers(session, reg.sami_admin, name_prefix="la")
        assert [p.name for p in sami.items] == ["Lars Berg"]
        everyone = search_performers(session, reg.auditor, name_prefix="LA")
        assert [p.name for p in everyone.items] == ["Lara Nobody", "Lars Berg"]
        with pytest.raises(Forbidden):
            search_performers(session, reg.sami_admin, cmo_id=reg.aie)
        for caller in (reg.public, reg.licensee_caller):
            with pytest.raises(Forbidden):
                search_performers(session, caller)


def test_over_http_one_page_shape_and_problem_documents(
    database: Database, settings: Settings, history_clock: object
) -> None:
    with database.transaction() as session:
        tokens = load_demo(session)
    client = TestClient(create_app(settings, database))
    auditor = {"Authorization": f"Bearer {tokens['auditor']}"}
    first = client.get("/api/v1/registry/recordings", params={"limit": 1})
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"items", "next_cursor", "total"} and len(body["items"]) == 1
    second = client.get(
        "/api/v1/registry/recordings", params={"limit": 1, "cursor": body["next_cursor"]}
    ).json()
    assert second["items"] != body["items"]
    wrong = client.get(
        "/api/v1/registry/recordings",
        params={"title_prefix": "m", "cursor": body["next_cursor"]},
    )
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert "another listing" in wrong.json()["detail"]
    assert client.get("/api/v1/registry/recordings", params={"cursor": "@@"}).status_code == 422
    assert client.get("/api/v1/registry/recordings", params={"limit": 0}).status_code == 422
    audit = client.get("/api/v1/registry/audit", params={"limit": 2}, headers=auditor).json()
    assert len(audit["items"]) == 2 and audit["next_cursor"]
    more = client.get(
        "/api/v1/registry/audit",
        params={"limit": 2, "cursor": audit["next_cursor"]},
        headers=auditor,
    ).json()
    assert more["items"][0]["id"] < audit["items"][-1]["id"]
    assert client.get("/api/v1/log/entries").json()["items"] == []
    assert client.get("/api/v1/consent/decisions").status_code == 401
