"""The office's consent rules page: the CMO's rules, filtered by performer or recording; the
forms that permit, prohibit, record an opt-out and revoke, each explained before it is
confirmed, applied through the consent services and declared to the log when public; other
roles, other CMOs' admins and requests without the session's CSRF token refused."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from sostenuto import consent
from sostenuto.auth import Principal
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.web.conftest import World, app_client, sign_in

PERMIT = {"scope": "performer", "uses": "fine-tune", "territories": "ES FR"}


def _rules(database: Database, world: World) -> list[consent.RuleView]:
    """AIE's rules as the service lists them to AIE's admin."""
    marta = Principal("user:marta", "cmo-admin", cmo_id=world.aie)
    with database.reader() as session:
        return [r for r in consent.list_rules(session, marta) if r.cmo_id == world.aie]


def _signed_in(database: Database, settings: Settings, username: str) -> tuple[TestClient, str]:
    client = app_client(database, settings)
    return client, sign_in(client, username)


def test_a_permission_is_explained_then_applied_and_declared(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    marta, csrf = _signed_in(sqlite_database, settings, "marta")
    page = marta.get("/office/rules").text
    for form in ("permit-form", "prohibit-form", "opt-out-form"):
        assert 'name="csrf_token"' in page.split(f'id="{form}"')[1].split("</form>")[0]
    assert 'href="/office/rules"' in page  # in the navigation
    before = len(_rules(sqlite_database, world))
    data = PERMIT | {"scope_id": str(world.lucia), "csrf_token": csrf}

    # First the consequence, in words, and nothing stored.
    asked = marta.post("/office/rules/permit", data=data)
    assert asked.status_code == 200
    consequence = asked.text.split('id="consequence"')[1].split("</div>")[0]
    assert "every licensee&#39;s future consent decisions for fine-tune in ES, FR" in consequence
    assert f"performer {world.lucia}" in consequence
    assert "never changes the past" in consequence
    assert "declared to the public" in consequence
    confirm = asked.text.split('id="confirm-form"')[1].split("</form>")[0]
    assert 'name="confirm" value="yes"' in confirm and 'value="fine-tune"' in confirm
    assert len(_rules(sqlite_database, world)) == before

    done = marta.post(
        "/office/rules/permit", data=data | {"confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303
    made = _rules(sqlite_database, world)[0]
    assert (made.effect, made.scope, made.scope_id) == ("permit", "performer", world.lucia)
    assert made.uses == ["fine-tune"] and sorted(made.territories) == ["ES", "FR"]
    assert made.licensee_id is None and made.valid_from == dt.datetime.now(dt.UTC).date()
    assert done.headers["location"].startswith(f"/office/rules?done={made.id}&entry=")
    shown = marta.get(done.headers["location"]).text
    assert f"Rule {made.id} is recorded and declared" in shown
    entry = done.headers["location"].split("entry=")[1].split("#")[0]
    logged = marta.get(f"/log/entries/{entry}").text
    assert "consent-change" in logged

    # The filter by performer shows it; by another performer, not.
    assert f'id="rule-{made.id}"' in marta.get(f"/office/rules?performer={world.lucia}").text
    assert f'id="rule-{made.id}"' not in marta.get("/office/rules?performer=999999").text


def test_a_private_prohibition_and_an_opt_out(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    marta, csrf = _signed_in(sqlite_database, settings, "marta")
    private = PERMIT | {
        "scope_id": str(world.lucia),
        "licensee_id": str(world.aurora),
        "csrf_token": csrf,
    }
    asked = marta.post("/office/rules/prohibit", data=private).text
    assert "only Aurora Audio Labs&#39;s future consent decisions" in asked
    assert "not declared to the public log" in asked
    done = marta.post(
        "/office/rules/prohibit", data=private | {"confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and "entry=" not in done.headers["location"]
    made = _rules(sqlite_database, world)[0]
    assert (made.effect, made.licensee_id) == ("prohibit", world.aurora)

    opt_out = {"performer_id": str(world.lucia), "uses": "", "csrf_token": csrf}
    asked = marta.post("/office/rules/opt-out", data=opt_out).text
    assert "for train-ai (and every narrower use) in WW" in asked
    assert "extended collective licences" in asked
    done = marta.post(
        "/office/rules/opt-out", data=opt_out | {"confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and "entry=" in done.headers["location"]
    made = _rules(sqlite_database, world)[0]
    assert (made.source, made.effect, made.uses) == ("opt-out", "prohibit", ["train-ai"])


def test_a_revocation_says_it_never_reaches_back(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    marta, csrf = _signed_in(sqlite_database, settings, "marta")
    data = PERMIT | {"scope_id": str(world.lucia), "csrf_token": csrf, "confirm": "yes"}
    marta.post("/office/rules/permit", data=data)
    rule = _rules(sqlite_database, world)[0]
    later = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
    form = {"csrf_token": csrf, "effective_from": later.isoformat()}

    # Another CMO's admin may not revoke it: refused beside the list, nothing changed.
    greta, greta_csrf = _signed_in(sqlite_database, settings, "greta")
    refused = greta.post(f"/office/rules/{rule.id}/revoke", data=form | {"csrf_token": greta_csrf})
    assert refused.status_code == 403 and 'id="revoke-error"' in refused.text

    asked = marta.post(f"/office/rules/{rule.id}/revoke", data=form).text
    consequence = asked.split('id="consequence"')[1].split("</div>")[0]
    assert f"From {later}, rule {rule.id} no longer applies" in consequence
    assert "never retroactively" in consequence and "transparency log" in consequence
    assert _rules(sqlite_database, world)[0].revoked_from is None

    done = marta.post(
        f"/office/rules/{rule.id}/revoke", data=form | {"confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303 and "entry=" in done.headers["location"]
    assert _rules(sqlite_database, world)[0].revoked_from == later
    # A date in the past is the service's refusal, shown beside the list.
    again = marta.post(
        f"/office/rules/{rule.id}/revoke",
        data={"csrf_token": csrf, "effective_from": "2020-01-01", "confirm": "yes"},
    )
    assert again.status_code == 422 and "past" in again.text.split('id="revoke-error"')[1]


def test_the_mandate_bound_and_bad_input_are_shown_beside_the_form(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    # GVL holds no mandate of Lucía (an AIE member): the service refuses, nothing is stored.
    greta, csrf = _signed_in(sqlite_database, settings, "greta")
    data = PERMIT | {"scope_id": str(world.lucia), "csrf_token": csrf, "confirm": "yes"}
    refused = greta.post("/office/rules/permit", data=data)
    assert refused.status_code == 403
    error = refused.text.split('id="permit-error"')[1].split("</p>")[0]
    assert "holds no mandate" in error
    assert f'value="{world.lucia}"' in refused.text.split('id="permit-form"')[1]  # kept
    with sqlite_database.reader() as session:
        gvl = Principal("user:greta", "cmo-admin", cmo_id=world.gvl)
        assert not [r for r in consent.list_rules(session, gvl) if r.cmo_id == world.gvl]

    bad = greta.post("/office/rules/prohibit", data=data | {"valid_from": "tomorrow"})
    assert bad.status_code == 422
    assert "the start date must be a date" in bad.text.split('id="prohibit-error"')[1]


def test_other_roles_and_missing_csrf_are_refused(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    before = len(_rules(sqlite_database, world))
    data = PERMIT | {"scope_id": str(world.lucia), "confirm": "yes"}
    for username in ("lucia", "aurora", "audra", ""):
        client = app_client(sqlite_database, settings)
        token = sign_in(client, username) if username else ""
        expected = {403} if username else {401, 403}
        assert client.get("/office/rules").status_code in expected
        sent = data | {"csrf_token": token}
        assert client.post("/office/rules/permit", data=sent).status_code in expected
        assert client.post("/office/rules/opt-out", data=sent).status_code in expected
    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    assert marta.post("/office/rules/permit", data=data).status_code == 403
    assert marta.post("/office/rules/permit", data=data | {"csrf_token": "x"}).status_code == 403
    assert len(_rules(sqlite_database, world)) == before
