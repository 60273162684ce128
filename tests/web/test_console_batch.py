"""The console's look-up by list: a CSV of ISRCs decided line by line, kept at its own address
for its licensee only, shown a page at a time and downloaded as CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sostenuto import consent
from sostenuto.auth import Principal, add_user
from sostenuto.errors import Forbidden, InvalidInput, NotFound
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.storage.models.registry import Licensee
from tests.web.conftest import PASSWORD, World, app_client, sign_in

PERMITTED = "ES-A7Q-19-00101"  # AIE's, and AIE permits Aurora to train generative models
UNKNOWN = "ES-ZZZ-99-99999"  # well-formed, never registered
MIXED = (
    "isrc,title\n"
    f"{PERMITTED},Marea baja\n"
    "\n"
    "DE-GVL-0-00000,one digit short\n"
    f"{UNKNOWN},nobody's\n"
    "not an isrc,\n"
    "es-a7q-19-00102,lower case with dashes\n"
)


def _denied_isrc(database: Database, world: World) -> str:
    """A demo recording Aurora may not train on in Spain (a CMO that gave no licence)."""
    aurora = Principal("aurora", "licensee", licensee_id=world.aurora)
    from sostenuto.storage.models.registry import Recording

    with database.transaction() as session:
        for isrc in session.scalars(select(Recording.isrc).order_by(Recording.id)):
            found = consent.decide(
                session,
                aurora,
                licensee_id=world.aurora,
                isrc=isrc,
                use="train-genai",
                territory="ES",
            )
            if not found.permitted:
                return isrc
    raise AssertionError("every demo recording is permitted")


@pytest.fixture
def client(sqlite_database: Database, settings: Settings, world: World) -> TestClient:
    with sqlite_database.transaction() as session:
        cadenza = session.scalars(select(Licensee).where(Licensee.name == "Cadenza Stream")).one()
        add_user(
            session, username="cadenza", password=PASSWORD, role="licensee", licensee_id=cadenza.id
        )
    return app_client(sqlite_database, settings)


def _upload(client: TestClient, csrf: str, text: str, **form: str) -> tuple[int, str, str | None]:
    response = client.post(
        "/console/batch",
        data={"csrf_token": csrf, "use": "train-genai", "territory": "es", **form},
        files={"file": ("isrcs.csv", text.encode(), "text/csv")},
        follow_redirects=False,
    )
    return response.status_code, response.text, response.headers.get("location")


def test_a_mixed_csv_is_answered_line_by_line_and_downloads_as_csv(
    client: TestClient, sqlite_database: Database, world: World
) -> None:
    denied = _denied_isrc(sqlite_database, world)
    csrf = sign_in(client, "aurora")
    status, _, location = _upload(client, csrf, MIXED + f"{denied},denied one\n")
    assert status == 303 and location is not None
    assert re.fullmatch(r"/console/batch/[0-9a-f]{16}", location)

    page = client.get(location).text
    counts = {
        name: int(re.search(rf'id="count-{name}"><span class="count[^"]*">(\d+)<', page).group(1))  # type: ignore[union-attr]
        for name in ("permitted", "denied", "unknown", "malformed")
    }
    assert counts == {"permitted": 2, "denied": 1, "unknown": 1, "malformed": 2}
    # Line numbers are the file's own (the header is line 1, the blank line 3 is skipped).
    assert 'data-line="4" data-status="malformed"' in page
    assert 'data-line="5" data-status="unknown"' in page
    assert 'data-line="6" data-status="malformed"' in page
    assert 'data-line="8" data-status="denied"' in page

    download = client.get(location + "/results.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="consent-train-genai-ES-\d{4}-\d\d-\d\d-[0-9a-f]{16}\.csv"',
        download.headers["content-disposition"],
    )
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [row["line"] for row in rows] == ["2", "4", "5", "6", "7", "8"]
    by_line = {row["line"]: row for row in rows}
    assert by_line["2"]["isrc"] == "ESA7Q1900101" and by_line["2"]["decision"] == "permitted"
    assert by_line["7"]["isrc"] == "ESA7Q1900102" and by_line["7"]["decision"] == "permitted"
    assert by_line["8"]["decision"] == "denied" and by_line["8"]["reason"]
    assert by_line["5"]["decision"] == "unknown" and by_line["5"]["decision_id"] == ""
    assert by_line["4"]["decision"] == "malformed" and "DE-GVL-0-00000" in by_line["4"]["isrc"]
    assert by_line["6"]["decision"] == "malformed" and by_line["6"]["reason"]
    # Each decision id is a stored decision the licensee can open and cite.
    decision = client.get(f"/api/v1/consent/decisions/{by_line['8']['decision_id']}")
    assert decision.status_code == 200 and decision.json()["outcome"] == "deny"
    assert client.get(f"/console/decisions/{by_line['2']['decision_id']}").status_code == 200


def test_a_thousand_isrcs_are_decided_in_chunks_and_paged(
    client: TestClient, settings: Settings, world: World
) -> None:
    lines = [PERMITTED if n % 2 else f"ES-ZZZ-20-{n:05d}" for n in range(2_500)]
    csrf = sign_in(client, "aurora")
    status, _, location = _upload(client, csrf, "\n".join(lines))
    assert status == 303 and location is not None
    lookup = consent.get_isrc_lookup(
        settings, Principal("aurora", "licensee", licensee_id=world.aurora), location[-16:]
    )
    assert lookup.summary == {"permitted": 1_250, "denied": 0, "unknown": 1_250, "malformed": 0}
    assert len(lookup.batch_ids) == 2  # 1 250 decided, 1 000 at a time
    assert lookup.lines[0].line == 1  # no header: the first line is an ISRC too
    page = client.get(location + "?page=3&status=unknown").text
    assert "page 3 of 13" in page
    assert page.count('data-status="unknown"') == 100
    assert 'rel="prev"' in page and 'rel="next"' in page


def test_bad_uploads_are_refused_with_the_reason(client: TestClient) -> None:
    csrf = sign_in(client, "aurora")
    status, page, _ = _upload(client, csrf, "isrc\n")
    assert status == 422 and "a header but no ISRC" in page
    status, page, _ = _upload(client, csrf, "\n".join([PERMITTED] * 10_001))
    assert status == 422 and "at most 10000 ISRCs" in page
    status, page, _ = _upload(client, csrf, PERMITTED, use="levitate")
    assert status == 422 and "levitate" in page
    status, page, _ = _upload(client, csrf, PERMITTED, on_date="yesterday")
    assert status == 422 and "not a date" in page
    response = client.post(
        "/console/batch",
        data={"csrf_token": csrf, "use": "train-genai", "territory": "ES"},
        files={"file": ("isrcs.csv", b"\xff\xfe\x00", "text/csv")},
    )
    assert response.status_code == 422 and "not UTF-8" in response.text


def test_only_the_licensee_that_asked_reads_the_answers(
    client: TestClient, settings: Settings, world: World
) -> None:
    csrf = sign_in(client, "aurora")
    _, _, location = _upload(client, csrf, MIXED)
    assert location is not None
    client.post("/sign-out", data={"csrf_token": csrf})
    for username in ("cadenza", "marta", "lucia", "audra"):
        other_csrf = sign_in(client, username)
        for path in (location, location + "/results.csv"):
            response = client.get(path, headers={"accept": "text/html"})
            assert response.status_code == 403, (username, path)
        if username != "cadenza":  # another licensee has a console of its own; other roles none
            assert client.get("/console/batch").status_code == 403, username
            status, _, _ = _upload(client, other_csrf, MIXED)
            assert status == 403, username
        client.post("/sign-out", data={"csrf_token": other_csrf})
    anonymous = client.get(location, headers={"accept": "text/html"})
    assert anonymous.status_code == 401
    with pytest.raises(Forbidden):
        consent.get_isrc_lookup(
            settings, Principal("x", "licensee", licensee_id=999), location[-16:]
        )
    with pytest.raises(NotFound):
        consent.get_isrc_lookup(settings, Principal("x", "licensee", licensee_id=1), "0" * 16)


def test_the_form_post_needs_the_session_csrf_token(client: TestClient) -> None:
    sign_in(client, "aurora")
    status, _, _ = _upload(client, "forged", MIXED)
    assert status == 403
    response = client.post(
        "/console/batch",
        data={"use": "train-genai", "territory": "ES"},
        files={"file": ("isrcs.csv", MIXED.encode(), "text/csv")},
    )
    assert response.status_code == 403


def test_the_csv_parser_reads_the_isrc_column_or_the_first() -> None:
    assert consent.parse_isrc_csv(b"title,ISRC\nA,ES-A7Q-19-00101\n") == [(2, "ES-A7Q-19-00101")]
    assert consent.parse_isrc_csv(b"\xef\xbb\xbfESA7Q1900101;x\n\n ESA7Q1900102 \n") == [
        (1, "ESA7Q1900101;x"),
        (3, "ESA7Q1900102"),
    ]
    with pytest.raises(InvalidInput, match="holds no ISRC"):
        consent.parse_isrc_csv(b"\n \n")
