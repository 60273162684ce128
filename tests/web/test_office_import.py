"""The office's catalogue import over HTTP: the report of bad rows with line, field and
problem, their CSV to fix and upload again, the CMO's tenancy, and refusals of every kind."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Recording
from tests.web.conftest import World, app_client, sign_in

HEADER = (
    "isrc,title,duration_ms,fixation_year,audio_sha256,performer_name,performer_isni,"
    "performer_ipn,featured,kind,instrument,weight"
)
GOOD = "ES-A7Q-26-00001,Mar de fondo,201000,2026,,Lucía Ferrer,,,true,voice,,1"
BAD = "ES-A7Q-26-00002,Tierra adentro,,20x6,,Lucía Ferrer,,,true,voice,,1"
FIXED = BAD.replace("20x6", "2026")
EVERYONE_ELSE = ("", "lucia", "greta", "aurora", "audra")


def _upload(client: TestClient, token: str, text: str, name: str = "catalogue.csv") -> str:
    answer = client.post(
        "/office/import",
        data={"csrf_token": token},
        files={"file": (name, text.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def _finished(client: TestClient, job: str) -> dict[str, object]:
    for _ in range(200):
        status: dict[str, object] = client.get(f"{job}/status").json()
        if status["state"] != "running":
            return status
        time.sleep(0.05)
    raise AssertionError(f"{job} still running")


def _recordings(database: Database) -> dict[str, str]:
    with database.reader() as session:
        return dict(session.execute(select(Recording.isrc, Recording.title)).all())


def test_a_bad_row_is_reported_the_good_rows_imported_and_the_fix_uploaded_again(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    marta = app_client(sqlite_database, settings)
    token = sign_in(marta, "marta")
    form = marta.get("/office/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    job = _upload(marta, token, f"{HEADER}\n{GOOD}\n{BAD}\n", "spring release.csv")
    status = _finished(marta, job)
    assert status == status | {"state": "done", "imported": 1, "bad_rows": 1}
    assert _recordings(sqlite_database)["ESA7Q2600001"] == "Mar de fondo"
    assert "ESA7Q2600002" not in _recordings(sqlite_database)

    page = marta.get(job).text
    assert '<tr data-line="3"><td class="num">3</td><td>fixation_year</td>' in page
    assert "invalid fixation_year &#39;20x6&#39;: not a whole number" in page
    download = marta.get(f"{job}/bad-rows.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert (
        download.headers["content-disposition"]
        == 'attachment; filename="spring_release-bad-rows.csv"'
    )
    assert download.text == f"{HEADER}\n{BAD}\n"

    again = _upload(marta, token, download.text.replace("20x6", "2026"))
    assert _finished(marta, again) | {"id": ""} == {
        "id": "",
        "state": "done",
        "percent": 100,
        "imported": 1,
        "updated": 0,
        "bad_rows": 0,
        "failure": None,
    }
    assert "Every row was imported" in marta.get(again).text
    found = marta.get("/office/catalogue", params={"isrc": "ES-A7Q-26-00002"}).text
    assert "Tierra adentro" in found
    assert "spring release.csv" in marta.get("/office/import").text


def test_a_file_that_is_not_a_catalogue_fails_whole_and_says_why(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    marta = app_client(sqlite_database, settings)
    token = sign_in(marta, "marta")
    before = _recordings(sqlite_database)
    job = _upload(marta, token, "name,colour\nMarea,blue\n")
    assert _finished(marta, job)["state"] == "failed"
    assert "the CSV header does not fit the catalogue format" in marta.get(job).text
    empty = marta.post(
        "/office/import",
        data={"csrf_token": token},
        files={"file": ("empty.csv", b"", "text/csv")},
        headers={"accept": "text/html"},
    )
    assert empty.status_code == 422 and "empty.csv is empty" in empty.text
    assert _recordings(sqlite_database) == before


def test_the_import_stays_within_the_admins_own_cmo(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    """Another CMO's admin cannot overwrite AIE's recording, nor see AIE's import."""
    marta = app_client(sqlite_database, settings)
    marta_job = _upload(marta, sign_in(marta, "marta"), f"{HEADER}\n{GOOD}\n")
    _finished(marta, marta_job)
    greta = app_client(sqlite_database, settings)
    token = sign_in(greta, "greta")
    taken = "ES-A7Q-19-00101,Stolen title,,2019,,Lucía Ferrer,,,true,voice,,1"
    job = _upload(greta, token, f"{HEADER}\n{taken}\n")
    status = _finished(greta, job)
    assert (status["imported"], status["bad_rows"]) == (0, 1)
    assert "belongs to the catalogue of" in greta.get(job).text
    assert _recordings(sqlite_database)["ESA7Q1900101"] == "Marea baja"
    for path in (marta_job, f"{marta_job}/status", f"{marta_job}/bad-rows.csv"):
        assert greta.get(path).status_code == 404, path
    assert marta_job.rsplit("/", 1)[1] not in greta.get("/office/import").text


def test_every_other_role_is_refused_and_nothing_is_stored(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    marta = app_client(sqlite_database, settings)
    job = _upload(marta, sign_in(marta, "marta"), f"{HEADER}\n{GOOD}\n{BAD}\n")
    _finished(marta, job)
    before = _recordings(sqlite_database)
    other = f"{HEADER}\nES-A7Q-26-00009,Intruso,,2026,,Lucía Ferrer,,,true,voice,,1\n"
    for username in EVERYONE_ELSE:
        client = app_client(sqlite_database, settings)
        token = sign_in(client, username) if username else ""
        expected = 401 if not username else 403
        for path in (job, f"{job}/status", f"{job}/bad-rows.csv"):
            want = 404 if username == "greta" else expected
            assert client.get(path).status_code == want, (username, path)
        if username == "greta":
            continue  # her own office: tested above, her imports go into GVL
        assert client.get("/office/import").status_code == expected, username
        answer = client.post(
            "/office/import",
            data={"csrf_token": token},
            files={"file": ("c.csv", other.encode(), "text/csv")},
            follow_redirects=False,
        )
        assert answer.status_code == expected, (username, answer.text)
    assert _recordings(sqlite_database) == before


def test_the_upload_needs_the_sessions_csrf_token(
    sqlite_database: Database, settings: Settings, world: World
) -> None:
    marta = app_client(sqlite_database, settings)
    sign_in(marta, "marta")
    lucia = app_client(sqlite_database, settings)
    someone_elses = sign_in(lucia, "lucia")
    before = _recordings(sqlite_database)
    for presented in (None, "", "forged", someone_elses):
        data = {} if presented is None else {"csrf_token": presented}
        answer = marta.post(
            "/office/import",
            data=data,
            files={"file": ("c.csv", f"{HEADER}\n{GOOD}\n".encode(), "text/csv")},
            follow_redirects=False,
        )
        assert answer.status_code == 403 and "CSRF" in answer.text, presented
    assert _recordings(sqlite_database) == before
    assert "Recent imports" not in marta.get("/office/import").text
