"""The CLI as a client: a session against a real ``sostenuto serve`` (uvicorn on a loopback
port), as a licensee, a CMO admin and a performer would run it, with the exit codes of
``docs/cli.md``. Under ``--server`` the CLI never opens a local database: a command without a
remote form says so."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sostenuto.api import create_app
from sostenuto.consent import forget_snapshots
from sostenuto.registry.demo import load_demo
from sostenuto.settings import Settings
from sostenuto.storage import Database
from tests.serving import served_app


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@dataclass
class Session:
    url: str
    tokens: dict[str, str]
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str, token: str | None = None, server: str | None = None) -> Ran:
        """``sostenuto ARGS --server URL [--token T]`` through the real entry point."""
        from sostenuto.cli.main import main

        argv = ["sostenuto", *args, "--server", server or self.url]
        if token is not None:
            argv += ["--token", self.tokens.get(token, token)]
        self.monkeypatch.setattr(sys, "argv", argv)
        self.capsys.readouterr()
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = self.capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Ran(code, captured.out, captured.err)


@pytest.fixture
def remote(
    sqlite_database: Database,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Session]:
    forget_snapshots()
    with sqlite_database.transaction() as session:
        tokens = load_demo(session)
    # The CLI's own machine has no database of its own: nothing may fall back to one.
    monkeypatch.setenv("SOSTENUTO_DATA_DIR", str(tmp_path / "client-side"))
    monkeypatch.delenv("SOSTENUTO_TOKEN", raising=False)
    monkeypatch.delenv("SOSTENUTO_SERVER", raising=False)
    with served_app(create_app(settings, sqlite_database)) as url:
        yield Session(url, tokens, monkeypatch, capsys)
    assert not (tmp_path / "client-side").exists()


AURORA = "licensee:Aurora Audio Labs"
CADENZA = "licensee:Cadenza Stream"


def test_a_licensee_asks_by_isrc_and_declares(remote: Session, tmp_path: Path) -> None:
    found = remote("registry", "recording", "search", "--title-prefix", "Marea", "--json")
    assert found.code == 0, found.err
    (recording,) = found.json()["items"]  # type: ignore[index]
    isrc = recording["isrc"]
    asked = remote(
        "consent", "check", "--licensee", "1", "--isrc", isrc, "--use", "voice-clone",
        "--territory", "ES", "--json", token=AURORA,
    )  # fmt: skip
    assert asked.code == 0, asked.err
    answer = asked.json()
    assert answer["outcome"] == "deny" and answer["isrc"] == isrc  # type: ignore[index]
    # The same question with --fail-on-deny stops a script: exit 11, the reason on stderr.
    failing = remote(
        "consent", "check", "--licensee", "1", "--isrc", isrc, "--use", "voice-clone",
        "--territory", "ES", "--fail-on-deny", token=AURORA,
    )  # fmt: skip
    assert failing.code == 11 and "denied" in failing.err
    assert isrc in failing.out  # the human answer is still printed, as a table

    # A batch of ISRCs, read from a file; a permitted one is declared in a manifest.
    listing = tmp_path / "isrcs.txt"
    listing.write_text("# Swedish repertoire\nSE-K4L-21-00090\nSE-K4L-24-00001\n")
    batch = remote(
        "consent", "batch", "--licensee", "1", "--recordings", str(listing), "--use",
        "train-genai", "--territory", "SE", "--output", str(tmp_path / "batch.json"), "--json",
        token=AURORA,
    )  # fmt: skip
    assert batch.code == 0, batch.err
    summary = batch.json()
    assert summary["size"] == 2 and 0 < summary["permitted"] < 2  # type: ignore[index]
    permitted = remote(
        "consent", "check", "--licensee", "1", "--isrc", "SE-K4L-21-00090", "--use",
        "train-genai", "--territory", "SE", "--fail-on-deny", "--json", token=AURORA,
    )  # fmt: skip
    assert permitted.code == 0, permitted.err
    decision = permitted.json()["id"]  # type: ignore[index]
    audio = tmp_path / "track.flac"
    audio.write_bytes(b"not really audio, but a file with a content hash")
    import hashlib

    digest = hashlib.sha256(audio.read_bytes()).hexdigest()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "licensee_id": 1,
                "name": "Aurora corpus, part 1",
                "files": [{"sha256": digest, "isrc": "se-k4l-21-00090", "decision_id": decision}],
            }
        )
    )
    declared = remote("log", "declare", "dataset-manifest", str(manifest), "--json", token=AURORA)
    assert declared.code == 0, declared.err
    index = declared.json()["index"]  # type: ignore[index]
    # "Was this file declared?" — anyone may ask, by the file itself.
    asked_file = remote("log", "entries", "--file", str(audio), "--json")
    assert [e["index"] for e in asked_file.json()["items"]] == [index]  # type: ignore[index]
    key = remote("log", "key")
    receipt = remote("log", "prove", str(index))
    (tmp_path / "receipt.json").write_text(receipt.out)
    verified = remote("log", "verify", str(tmp_path / "receipt.json"), "--key", key.out.strip())
    assert verified.code == 0 and "verified" in verified.out


def test_a_cmo_admin_changes_consent_and_a_performer_reads_it(remote: Session) -> None:
    prohibited = remote(
        "consent", "prohibit", "--scope", "performer", "--id", "1", "--use", "train-genai",
        "--territory", "ES", "--json", token="cmo-admin:AIE",
    )  # fmt: skip
    assert prohibited.code == 0, prohibited.err
    rule = prohibited.json()
    assert rule["log_entry"]["index"] >= 0  # type: ignore[index]
    # Another CMO cannot: exit 6, the missing right named.
    rival = remote(
        "consent", "prohibit", "--scope", "performer", "--id", "1", "--use", "voice-clone",
        token="cmo-admin:GVL",
    )  # fmt: skip
    assert rival.code == 6 and "forbidden" in rival.err
    # The performer sees her reservation and the decisions on her recordings, and the audit
    # trail names the CMO that acted.
    mine = remote(
        "consent", "rules", "--scope", "performer", "--id", "1", "--json",
        token="performer:Lucía Ferrer",
    )  # fmt: skip
    assert rule["id"] in [r["id"] for r in mine.json()]  # type: ignore[index, union-attr]
    asked = remote(
        "consent", "check", "--licensee", "1", "--isrc", "ES-A7Q-19-00101", "--use",
        "train-genai", "--territory", "ES", token=AURORA,
    )  # fmt: skip
    assert asked.code == 0 and "deny" in asked.out
    decisions = remote("consent", "decision", "list", "--json", token="performer:Lucía Ferrer")
    assert decisions.code == 0, decisions.err
    assert [d["recording_id"] for d in decisions.json()["items"]] == [1]  # type: ignore[index]
    # She may end her own reservation; the licensee may not.
    refused = remote("consent", "revoke", str(rule["id"]), token=AURORA)  # type: ignore[index]
    assert refused.code == 6
    revoked = remote(
        "consent",
        "revoke",
        str(rule["id"]),
        "--json",
        token="performer:Lucía Ferrer",  # type: ignore[index]
    )
    assert revoked.code == 0, revoked.err
    # Lifting a public reservation is public too: the log holds it, declared for her CMO.
    assert revoked.json()["log_entry"]["index"] > rule["log_entry"]["index"]  # type: ignore[index]
    audit = remote("registry", "audit", "--entity-type", "consent_rule", token="auditor")
    assert audit.code == 0 and "consent_rule" in audit.out


def test_lists_registry_and_money_over_the_wire(remote: Session) -> None:
    cmos = remote("registry", "cmo", "list", "--json")
    assert {c["code"] for c in cmos.json()} == {"AIE", "SAMI", "GVL"}  # type: ignore[union-attr]
    licences = remote("registry", "licence", "list", "--cmo", "SAMI", token="cmo-admin:SAMI")
    assert licences.code == 0 and "Licences" in licences.out
    performers = remote("registry", "performer", "search", "--json", token="cmo-admin:AIE")
    assert {p["name"] for p in performers.json()["items"]} >= {"Lucía Ferrer"}  # type: ignore[index]
    tariffs = remote("remuneration", "tariff", "list", "--json")
    assert tariffs.code == 0 and isinstance(tariffs.json(), list)
    voiceprints = remote("voice", "list", "--json", token="cmo-admin:AIE")
    assert voiceprints.code == 0 and voiceprints.json() == []
    absent = remote("voice", "show", "vsc_nothing", token="cmo-admin:AIE")
    assert absent.code == 3
    jurisdictions = remote("consent", "jurisdiction", "list", "--json")
    assert "SE" in {j["territory"] for j in jurisdictions.json()}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "token", "code", "said"),
    [
        # 5: a token the server does not know.
        (("consent", "decision", "list"), "sos_not-a-token", 5, "unauthenticated"),
        # 6: a licensee asking for another licensee.
        (
            (
                "consent",
                "check",
                "--licensee",
                "1",
                "--recording",
                "1",
                "--use",
                "train-genai",
                "--territory",
                "ES",
            ),
            CADENZA,
            6,
            "forbidden",
        ),
        # 3: an ISRC the registry does not hold.
        (("registry", "recording", "show", "ZZ-ZZZ-99-99999"), None, 3, "not-found"),
        # 10: invalid input, named.
        (
            (
                "consent",
                "check",
                "--licensee",
                "1",
                "--recording",
                "1",
                "--use",
                "train-genai",
                "--territory",
                "XX",
            ),
            AURORA,
            10,
            "XX",
        ),
        # 10: a command that acts on the server's own machine has no remote form.
        (("db", "migrate"), None, 10, "runs only on the server's own machine"),
        (("registry", "demo"), None, 10, "runs only on the server's own machine"),
        # 2: a usage error stays a usage error.
        (("consent", "check", "--licensee", "seven"), None, 2, "Invalid value"),
    ],
)
def test_exit_codes(
    remote: Session, args: tuple[str, ...], token: str | None, code: int, said: str
) -> None:
    ran = remote(*args, token=token)
    assert ran.code == code, (ran.out, ran.err)
    assert said in ran.err


def test_an_unreachable_server_is_exit_12(remote: Session) -> None:
    ran = remote("registry", "cmo", "list", server="http://127.0.0.1:9")
    assert ran.code == 12 and "cannot reach the server" in ran.err


def test_a_performer_asks_and_her_cmo_applies(remote: Session) -> None:
    asked = remote(
        "consent", "request", "add", "prohibit", "--use", "fine-tune", "--note",
        "no fine-tuning on my voice", "--json", token="performer:Lucía Ferrer",
    )  # fmt: skip
    assert asked.code == 0, asked.err
    request = asked.json()
    assert request["status"] == "pending"  # type: ignore[index]
    pending = remote(
        "consent", "request", "list", "--status", "pending", "--json", token="cmo-admin:AIE"
    )
    assert [(r["action"], r["uses"]) for r in pending.json()] == [("prohibit", ["fine-tune"])]  # type: ignore[union-attr]
    rival = remote("consent", "request", "apply", str(request["id"]), token="cmo-admin:GVL")  # type: ignore[index]
    assert rival.code == 3  # another CMO's request does not exist for GVL
    applied = remote(
        "consent",
        "request",
        "apply",
        str(request["id"]),
        "--json",
        token="cmo-admin:AIE",  # type: ignore[index]
    )
    assert applied.code == 0, applied.err
    result = applied.json()
    assert result["request"]["status"] == "applied"  # type: ignore[index]
    assert result["rule"]["log_entry"] is not None  # type: ignore[index]
    mine = remote("consent", "request", "list", "--json", token="performer:Lucía Ferrer")
    assert [r["status"] for r in mine.json()] == ["applied"]  # type: ignore[union-attr]
