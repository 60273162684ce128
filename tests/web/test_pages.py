"""The shell, the performer's page and the CMO office over HTTP: what each role sees, the
request journey, error pages by content negotiation, and keyset paging of the catalogue."""

from __future__ import annotations

import re

from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.web.conftest import World, app_client, sign_in

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _nav(page: str) -> list[str]:
    found = re.search(r'<nav aria-label="Main">(.*?)</nav>', page, re.S)
    return re.findall(r'href="([^"]+)"', found.group(1)) if found else []


def test_the_header_names_role_and_organisation_and_the_nav_follows_the_policy(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    anonymous = app_client(sqlite_database, settings)
    page = anonymous.get("/").text
    assert "/me" not in _nav(page) and "/office" not in _nav(page)
    assert "/label/inspect" in _nav(page)

    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    page = marta.get("/").text
    assert "Signed in as <strong>user:marta</strong> (cmo-admin)" in page
    assert world.aie_name in page
    assert {"/office", "/office/requests", "/office/catalogue"} <= set(_nav(page))
    assert "/me" not in _nav(page) and "/console" not in _nav(page)

    lucia = app_client(sqlite_database, settings)
    sign_in(lucia, "lucia")
    page = lucia.get("/").text
    assert "(performer)" in page and f"performer {world.lucia}" in page
    assert "/me" in _nav(page) and "/office" not in _nav(page)
    assert "/identify/screens" not in _nav(page)


def test_the_footer_shows_the_logs_checkpoint(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    page = app_client(sqlite_database, settings).get("/").text
    size = re.search(r'class="log-size">(\d+)<', page)
    root = re.search(r'class="log-root">([0-9a-f]{16})…<', page)
    assert size is not None and root is not None
    api = app_client(sqlite_database, settings).get("/api/v1/log/checkpoint").json()
    assert int(size.group(1)) == api["size"]


def test_errors_are_pages_for_browsers_and_problems_for_api_clients(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    client = app_client(sqlite_database, settings)
    page = client.get("/no-such-page", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "there is nothing at /no-such-page" in page.text and "What to do" in page.text
    assert client.get("/no-such-page").headers["content-type"] == "application/problem+json"
    api = client.get("/api/v1/no-such-thing", headers=HTML)
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    # Signed out, a role's page asks the browser to sign in.
    needs = client.get("/office", headers=HTML)
    assert needs.status_code == 401 and 'href="/sign-in"' in needs.text
    # Signed in with the wrong role: what happened and what to do.
    sign_in(client, "lucia")
    refused = client.get("/office", headers=HTML)
    assert refused.status_code == 403 and "may not use a CMO&#39;s office" in refused.text
    assert "Sign in with an account that has" in refused.text


def test_a_performer_asks_and_the_cmo_applies_then_declines(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    lucia = app_client(sqlite_database, settings)
    token = sign_in(lucia, "lucia")
    mine = lucia.get("/me")
    assert mine.status_code == 200 and "Voice cloning" in mine.text
    # Her recordings, by ISRC and title (the demo credits her on "Marea baja" and others).
    assert re.search(r'id="my-recordings".*ESA7Q1900101.*Marea baja', mine.text, re.S)
    sent = lucia.post(
        "/me/requests",
        data={"csrf_token": token, "action": "prohibit", "use": "voice-clone", "territory": "ES"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    request_id = int(sent.headers["location"].split("sent=")[1].split("#")[0])
    page = lucia.get(sent.headers["location"]).text
    assert f"Request {request_id} was sent" in page
    assert "Refuse voice cloning to any AI company in Spain" in page and "pending" in page

    marta = app_client(sqlite_database, settings)
    admin_token = sign_in(marta, "marta")
    assert re.search(r'id="pending">1<', marta.get("/office").text)
    listing = marta.get("/office/requests").text
    assert f'href="/office/requests/{request_id}"' in listing
    review = marta.get(f"/office/requests/{request_id}").text
    assert "What applying it does" in review and "will be denied" in review
    assert "declared in the public transparency log" in review
    applied = marta.post(
        f"/office/requests/{request_id}/apply",
        data={"csrf_token": admin_token},
        follow_redirects=False,
    )
    assert applied.status_code == 303, applied.text
    assert f"Request {request_id} was applied" in marta.get(applied.headers["location"]).text
    # Applying twice is a conflict, shown as a page.
    again = marta.post(
        f"/office/requests/{request_id}/apply", data={"csrf_token": admin_token}, headers=HTML
    )
    assert again.status_code == 409 and "already applied" in again.text

    page = lucia.get("/me").text
    row = re.search(rf'<tr data-request="{request_id}">(.*?)</tr>', page, re.S)
    assert row is not None and "applied" in row.group(1) and "user:marta" in row.group(1)
    per_use = re.search(r'<tr data-use="voice-clone">(.*?)</tr>', page, re.S)
    assert per_use is not None and "Refused" in per_use.group(1)

    # A second request is declined; the performer reads the reason.
    sent = lucia.post(
        "/me/requests",
        data={"csrf_token": token, "action": "permit", "use": "search-index", "territory": "WW"},
        follow_redirects=False,
    )
    second = int(sent.headers["location"].split("sent=")[1].split("#")[0])
    declined = marta.post(
        f"/office/requests/{second}/decline",
        data={"csrf_token": admin_token, "reason": "Our licences already cover search."},
        follow_redirects=False,
    )
    assert declined.status_code == 303
    assert "Declined: Our licences already cover search." in lucia.get("/me").text


def test_another_cmo_sees_nothing_of_the_request(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    lucia = app_client(sqlite_database, settings)
    token = sign_in(lucia, "lucia")
    sent = lucia.post(
        "/me/requests",
        data={"csrf_token": token, "action": "prohibit", "use": "voice-clone"},
        follow_redirects=False,
    )
    request_id = int(sent.headers["location"].split("sent=")[1].split("#")[0])
    greta = app_client(sqlite_database, settings)
    other = sign_in(greta, "greta")
    assert f"/office/requests/{request_id}" not in greta.get("/office/requests").text
    assert greta.get(f"/office/requests/{request_id}").status_code == 404
    assert (
        greta.post(f"/office/requests/{request_id}/apply", data={"csrf_token": other}).status_code
        == 404
    )


def test_bad_form_input_is_a_page_naming_the_field(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    lucia = app_client(sqlite_database, settings)
    token = sign_in(lucia, "lucia")
    bad = lucia.post(
        "/me/requests",
        data={"csrf_token": token, "action": "prohibit", "use": "singing-lessons"},
        headers=HTML,
    )
    assert bad.status_code == 422 and "singing-lessons" in bad.text
    assert "correct the form" in bad.text


def test_the_catalogue_pages_with_keyset_cursors(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    seen: list[str] = []
    url: str | None = "/office/catalogue?limit=3"
    while url is not None:
        page = marta.get(url)
        assert page.status_code == 200, page.text
        rows = re.findall(r"<tr><td><code>([^<]+)</code>", page.text)
        assert 0 < len(rows) <= 3
        seen.extend(rows)
        found = re.search(r'<a rel="next" href="([^"]+)"', page.text)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert len(seen) == len(set(seen)) and len(seen) > 3
    dashboard = marta.get("/office").text
    assert re.search(rf'id="recordings">{len(seen)}<', dashboard)
    # Title search narrows by prefix; a cursor from another query is refused.
    first = seen[0]
    found_isrc = marta.get("/office/catalogue", params={"isrc": first}).text
    assert first in found_isrc and len(re.findall(r"<tr><td><code>", found_isrc)) == 1
    assert marta.get("/office/catalogue?cursor=bm9wZQ", headers=HTML).status_code == 422


def test_a_licensee_looks_up_consent_by_isrc_at_a_shareable_address(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    aurora = app_client(sqlite_database, settings)
    token = sign_in(aurora, "aurora")
    assert "/console" in _nav(aurora.get("/").text)
    asked = aurora.post(
        "/console/decisions",
        data={
            "csrf_token": token,
            "isrc": "ES-A7Q-19-00101",
            "use": "voice-clone",
            "territory": "es",
        },
        follow_redirects=False,
    )
    assert asked.status_code == 303, asked.text
    address = asked.headers["location"]
    page = aurora.get(address).text
    assert "Denied" in page and "ESA7Q1900101" in page
    decision_id = address.rsplit("/", 1)[1]
    api = aurora.get(f"/api/v1/consent/decisions/{decision_id}").json()
    assert api["outcome"] == "deny" and api["isrc"] == "ESA7Q1900101"
    assert api["reason"] in page.replace("&#39;", "'")
    unknown = aurora.post(
        "/console/decisions",
        data={
            "csrf_token": token,
            "isrc": "ES-ZZZ-99-99999",
            "use": "voice-clone",
            "territory": "ES",
        },
        headers=HTML,
    )
    assert unknown.status_code in (404, 422) and "What to do" in unknown.text
