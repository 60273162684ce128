"""The office's remuneration page and the statement pages as finance reads them: amounts with
thousands separators and the currency, titles beside ISRCs, the party's name and kind, and the
CSV (major units) and PDF downloads under a browser session; the form on which a CMO's admin
runs an ended period's distribution from the transparency log."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io

import pytest
from sqlalchemy import func, select

from sostenuto import consent, declarations, remuneration
from sostenuto.auth import OPERATOR, Principal
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import AiModel, Licence, Recording
from sostenuto.storage.models.remuneration import DistributionRun
from tests.web.conftest import World, app_client, sign_in

PERIOD = "2026-Q1"
FEE = 123_456_789  # 1,234,567.89 EUR for AIE's licence to Aurora
TRAINED_ON = dt.date(2026, 2, 1)


def prepare(database: Database, settings: Settings, world: World) -> None:
    """AIE's admin sets a tariff on its licence to Aurora; Aurora declares to the log that its
    model trained on every AIE recording once, ending on 2026-02-01 (in 2026-Q1)."""
    marta = Principal("user:marta", "cmo-admin", cmo_id=world.aie)
    aurora = Principal("user:aurora", "licensee", licensee_id=world.aurora)
    with database.transaction() as session:
        licence = session.scalars(select(Licence).where(Licence.cmo_id == world.aie)).one()
        model = session.scalars(select(AiModel).where(AiModel.licensee_id == world.aurora)).first()
        assert model is not None
        recordings = session.scalars(
            select(Recording.id).where(Recording.registered_by_cmo_id == world.aie)
        ).all()
        remuneration.add_tariff(
            session,
            marta,
            remuneration.TariffSpec(
                licence_id=licence.id,
                currency="EUR",
                valid_from=dt.date(2026, 1, 1),
                training_fee_minor=FEE,
                per_output_minor=123_400,
            ),
        )
        decisions = {}
        for recording in recordings:
            decision = consent.decide(
                session,
                aurora,
                licensee_id=world.aurora,
                recording_id=recording,
                use="train-genai",
                territory="ES",
                on_date=TRAINED_ON,
            )
            assert decision.outcome == "permit", decision.reason
            decisions[recording] = decision.id
    files = [
        {
            "sha256": hashlib.sha256(f"aurora-corpus-{recording}".encode()).hexdigest(),
            "recording_id": recording,
            "decision_id": decision,
        }
        for recording, decision in decisions.items()
    ]
    manifest = declarations.declare(
        database,
        settings,
        aurora,
        "dataset-manifest",
        {"licensee_id": world.aurora, "model_id": model.id, "name": "spring", "files": files},
    )
    declarations.declare(
        database,
        settings,
        aurora,
        "training-run",
        {
            "licensee_id": world.aurora,
            "model_id": model.id,
            "model_version": model.version,
            "manifests": [manifest.entry_id],
            "started_on": "2026-01-20",
            "ended_on": TRAINED_ON.isoformat(),
        },
    )


def distribute(database: Database, settings: Settings, world: World) -> None:
    """:func:`prepare`, then AIE's admin runs 2026-Q1 from the log (as the page's form does)."""
    prepare(database, settings, world)
    marta = Principal("user:marta", "cmo-admin", cmo_id=world.aie)
    assert remuneration.run_period(database, settings, marta, PERIOD).created


@pytest.fixture
def distributed(sqlite_database: Database, settings: Settings, world: World) -> World:
    distribute(sqlite_database, settings, world)
    return world


def _runs(database: Database) -> int:
    with database.reader() as session:
        return int(session.scalar(select(func.count()).select_from(DistributionRun)) or 0)


def test_the_admin_runs_an_ended_period_from_the_form(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    prepare(sqlite_database, settings, world)
    marta = app_client(sqlite_database, settings)
    csrf = sign_in(marta, "marta")
    page = marta.get("/office/remuneration").text
    form = page.split('id="run-form"')[1].split("</form>")[0]
    assert 'method="post"' in page.split('id="run-form"')[0][-80:]
    assert 'action="/office/remuneration/runs"' in page.split('id="run-form"')[0][-80:]
    assert 'name="csrf_token"' in form and 'name="period"' in form and "required" in form
    # The consequence is said before the button: every CMO's money, from the log, the
    # correction the operator's.
    consequence = page.split('id="run-consequence"')[1].split("</p>")[0]
    assert "<strong>every CMO's</strong>" in consequence
    assert "transparency" in consequence and "operator" in consequence
    assert page.index('id="run-consequence"') < page.index('type="submit">Run the distribution')
    assert "No period has been distributed yet." in page

    # Without the box ticked nothing runs.
    unconfirmed = marta.post(
        "/office/remuneration/runs", data={"csrf_token": csrf, "period": PERIOD}
    )
    assert unconfirmed.status_code == 422 and 'id="run-error"' in unconfirmed.text
    assert _runs(sqlite_database) == 0

    ran = marta.post(
        "/office/remuneration/runs",
        data={"csrf_token": csrf, "period": PERIOD, "confirm": "yes"},
        follow_redirects=False,
    )
    assert ran.status_code == 303
    assert ran.headers["location"] == (
        f"/office/remuneration?ran={PERIOD}&outcome=created#run-{PERIOD}"
    )
    shown = marta.get(ran.headers["location"]).text
    assert f"The distribution for {PERIOD} was run" in shown.split('id="ran"')[1]
    run = shown.split(f'id="run-{PERIOD}"')[1].split("</section>")[0]
    assert "5 statements" in run and run.count('<td class="num">1,234,567.89 EUR</td>') == 2
    with sqlite_database.reader() as session:
        stored = session.scalars(select(DistributionRun)).one()
        assert stored.created_by == "user:marta"

    # Again: the same log and tariffs, nothing changes, and the page says so.
    again = marta.post(
        "/office/remuneration/runs",
        data={"csrf_token": csrf, "period": PERIOD, "confirm": "yes"},
    )
    assert again.status_code == 200 and "nothing changed" in again.text.split('id="ran"')[1]
    assert _runs(sqlite_database) == 1


def test_refusals_are_shown_beside_the_form(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    prepare(sqlite_database, settings, world)
    # The operator distributed 2026-Q1 from a usage file that left out the training run.
    remuneration.run_period(
        sqlite_database, settings, OPERATOR, PERIOD, usage=remuneration.Usage(), declare=False
    )
    marta = app_client(sqlite_database, settings)
    csrf = sign_in(marta, "marta")
    for period, status, said in (
        ("2099-Q1", 422, "period 2099-Q1 has not ended"),
        ("2026-Q5", 422, "not a period"),
        (PERIOD, 409, "a correction (replace) is the local operator&#39;s"),
    ):
        answer = marta.post(
            "/office/remuneration/runs",
            data={"csrf_token": csrf, "period": period, "confirm": "yes"},
        )
        assert answer.status_code == status, answer.text
        assert said in answer.text.split('id="run-error"')[1].split("</p>")[0]
        assert f'value="{period}"' in answer.text  # the form keeps what was typed
    with sqlite_database.reader() as session:
        assert session.scalars(select(DistributionRun.created_by)).all() == ["operator"]


def test_only_a_cmo_admin_sends_the_form_and_only_with_the_sessions_token(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    prepare(sqlite_database, settings, world)
    for username, expected in (("", 401), ("lucia", 403), ("aurora", 403), ("audra", 403)):
        client = app_client(sqlite_database, settings)
        data = {"period": PERIOD, "confirm": "yes"}
        if username:
            data["csrf_token"] = sign_in(client, username)
        answer = client.post(
            "/office/remuneration/runs", data=data, headers={"accept": "text/html"}
        )
        assert answer.status_code == expected, (username, answer.text[:200])
    # CSRF: the form without the session's token, or with another, is refused.
    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    for token in (None, "not-the-token"):
        data = {"period": PERIOD, "confirm": "yes"}
        if token:
            data["csrf_token"] = token
        assert marta.post("/office/remuneration/runs", data=data).status_code == 403
    assert _runs(sqlite_database) == 0
    # Another CMO's admin may run it too: a run covers every CMO's licences.
    greta = app_client(sqlite_database, settings)
    greta_csrf = sign_in(greta, "greta")
    answer = greta.post(
        "/office/remuneration/runs",
        data={"csrf_token": greta_csrf, "period": PERIOD, "confirm": "yes"},
    )
    assert answer.status_code == 200 and _runs(sqlite_database) == 1
    # Greta's office shows the run, with none of AIE's money.
    assert f'id="run-{PERIOD}"' in answer.text and "1,234,567.89" not in answer.text
    assert "1,234,567.89" in marta.get("/office/remuneration").text


def test_the_office_shows_the_cmos_tariffs_and_its_money_in_each_run(
    sqlite_database: Database, settings: Settings, distributed: World
) -> None:
    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    page = marta.get("/office/remuneration").text
    assert 'href="/office/remuneration"' in page  # in the navigation
    tariffs = page.split('id="tariffs"')[1].split("</table>")[0]
    assert "AIE-GENAI-2025" in tariffs and "Aurora Audio Labs" in tariffs
    assert (
        '<td class="num">1,234,567.89 EUR</td>' in tariffs
        and '<td class="num">1,234.00 EUR</td>' in tariffs
    )
    run = page.split(f'id="run-{PERIOD}"')[1].split("</section>")[0]
    assert f'href="/remuneration/{PERIOD}"' in run and "5 statements" in run
    assert run.count('<td class="num">1,234,567.89 EUR</td>') == 2  # collected, paid out
    assert 'id="run-form"' in page

    # Another CMO's admin has an office of its own: none of AIE's tariffs, no AIE money.
    greta = app_client(sqlite_database, settings)
    sign_in(greta, "greta")
    theirs = greta.get("/office/remuneration").text
    assert "AIE-GENAI-2025" not in theirs and "1,234,567.89" not in theirs


def test_every_other_role_is_refused_the_office_remuneration(
    sqlite_database: Database, settings: Settings, distributed: World
) -> None:
    for username, expected in (("", 401), ("lucia", 403), ("aurora", 403), ("audra", 403)):
        client = app_client(sqlite_database, settings)
        if username:
            sign_in(client, username)
        answer = client.get("/office/remuneration", headers={"accept": "text/html"})
        assert answer.status_code == expected, username
        assert "1,234,567.89" not in answer.text


def test_statements_name_their_party_and_show_amounts_for_finance(
    sqlite_database: Database, settings: Settings, distributed: World
) -> None:
    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    listed = marta.get(f"/remuneration/{PERIOD}").text
    lucias = f'href="/remuneration/{PERIOD}/performer/{distributed.lucia}">Lucía Ferrer (performer)'
    assert lucias in listed and "AIE (CMO)</a>" in listed
    assert "Aurora Audio Labs (licensee)</a>" in listed
    assert '<td class="num">1,234,567.89 EUR</td>' in listed

    lucia = app_client(sqlite_database, settings)
    sign_in(lucia, "lucia")
    page = lucia.get(f"/remuneration/{PERIOD}/performer/{distributed.lucia}").text
    assert "<h1>Performer statement: Lucía Ferrer (performer)</h1>" in page
    lines = page.split('id="lines"')[1].split("</table>")[0]
    assert '<th scope="col">title</th>' in lines and "Marea baja" in lines
    assert '<th scope="col" class="num">net</th>' in lines
    assert '<td class="num">117,577.90 EUR</td>' in lines
    assert 'href="/remuneration/2026-Q1/performer/' in page and "statement.csv" in page


def test_the_statement_downloads_as_csv_in_major_units_and_as_pdf(
    sqlite_database: Database, settings: Settings, distributed: World
) -> None:
    lucia = app_client(sqlite_database, settings)
    sign_in(lucia, "lucia")
    base = f"/remuneration/{PERIOD}/performer/{distributed.lucia}"
    download = lucia.get(f"{base}/statement.csv")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        f'attachment; filename="statement-{PERIOD}-performer-{distributed.lucia}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(download.text)))
    first = rows[0]
    assert (first["isrc"], first["title"], first["net"]) == (
        "ESA7Q1900101",
        "Marea baja",
        "117577.90",
    )
    assert "net_minor" not in first
    with sqlite_database.reader() as session:
        stored = remuneration.get_statement(
            session, OPERATOR, period=PERIOD, party_kind="performer", party_id=distributed.lucia
        )
    total = sum(round(float(row["net"]) * 100) for row in rows)
    assert total == stored.totals["EUR"]
    pdf = lucia.get(f"{base}/statement.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert (
        f"statement-{PERIOD}-performer-{distributed.lucia}.pdf"
        in pdf.headers["content-disposition"]
    )

    # Downloads follow the statement's readers: not another performer's, not the public's.
    for username, expected in (("", 403), ("aurora", 403), ("greta", 403)):
        client = app_client(sqlite_database, settings)
        if username:
            sign_in(client, username)
        for suffix in ("csv", "pdf"):
            answer = client.get(f"{base}/statement.{suffix}")
            assert answer.status_code == expected, (username, suffix)
            assert not answer.content.startswith(b"%PDF")


def test_the_office_lists_its_own_licences_and_agreements_only(
    sqlite_database: Database, settings: Settings, distributed: World
) -> None:
    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    licences = marta.get("/office/licences").text.split('id="licences"')[1]
    assert "AIE-GENAI-2025" in licences and "Aurora Audio Labs" in licences
    assert "2026-01-01 – open: training 1,234,567.89 EUR" in licences
    assert "SAMI-AI-2025" not in licences and "GVL-SEARCH-2025" not in licences
    agreements = marta.get("/office/agreements").text.split('id="agreements"')[1]
    assert agreements.count("<tr data-agreement=") == 2
    assert "we represent the partner&#39;s members" in agreements and "10 %" in agreements
    assert "the partner represents our members" in agreements and "8 %" in agreements

    greta = app_client(sqlite_database, settings)
    sign_in(greta, "greta")
    assert "AIE-GENAI-2025" not in greta.get("/office/licences").text
    assert "GVL-SEARCH-2025" in greta.get("/office/licences").text
    for username, expected in (("", 401), ("lucia", 403), ("aurora", 403), ("audra", 403)):
        client = app_client(sqlite_database, settings)
        if username:
            sign_in(client, username)
        for path in ("/office/licences", "/office/agreements"):
            answer = client.get(path)
            assert answer.status_code == expected, (username, path)
            assert "AIE-GENAI-2025" not in answer.text
