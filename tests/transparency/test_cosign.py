"""Witness cosignatures (C2SP tlog-cosignature v1): made, verified, kept by the log, required."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from sostenuto.api import create_app
from sostenuto.auth import issue_token
from sostenuto.errors import Forbidden, IntegrityFailure, InvalidInput
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import (
    Cosigner,
    CosignerKey,
    add_cosignatures,
    cosign,
    declare_batch,
    inclusion_bundle,
    mirror,
    require_cosignatures,
    verifier_key,
    verify_cosignature,
    verify_receipt,
    witness,
)
from sostenuto.transparency._cosign import signature_line
from tests.transparency.conftest import World, build_world, sha

NOTE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
# The cosignature line of the C2SP tlog-cosignature example; its text says "time 1679315147".
SPEC_LINE = (
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
    "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)


def test_the_line_layout_matches_the_specification_example() -> None:
    name, raw = signature_line(SPEC_LINE)
    assert name == "witness.example.com/w1" and len(raw) == 4 + 8 + 64
    assert struct.unpack(">Q", raw[4:12])[0] == 1679315147


def test_cosign_verify_and_refuse() -> None:
    one, two = Cosigner.generate("w1.example.org"), Cosigner.generate("w2.example.org")
    cosigned = cosign(NOTE, one, timestamp=1_700_000_000)
    assert cosigned.startswith(NOTE) and cosigned.count("\n\u2014 ") == 2
    key = CosignerKey.parse(str(one.public_key))
    assert verify_cosignature(cosigned, key) == 1_700_000_000
    assert Cosigner.parse(str(one)).public_key == one.public_key
    with pytest.raises(IntegrityFailure, match="no cosignature by witness w2"):
        verify_cosignature(cosigned, two.public_key)
    with pytest.raises(IntegrityFailure, match="not valid"):
        verify_cosignature(cosigned.replace("20852163", "20852164"), key)
    with pytest.raises(IntegrityFailure, match="future"):
        verify_cosignature(cosign(NOTE, one, timestamp=2_000_000_000), key, now=1_900_000_000)
    both = cosign(cosigned, two, timestamp=1_700_000_001)
    keys = [str(one.public_key), str(two.public_key), str(Cosigner.generate("w3").public_key)]
    assert require_cosignatures(both, keys, 2) == {
        "w1.example.org": 1_700_000_000,
        "w2.example.org": 1_700_000_001,
    }
    with pytest.raises(IntegrityFailure, match="2 of the required 3"):
        require_cosignatures(both, keys, 3)
    # A signed-note key (algorithm 0x01) is not a cosigner key.
    with pytest.raises(InvalidInput, match="0x04"):
        CosignerKey.parse(
            "sostenuto.local/log+" + "0" * 8 + "+" + base64.b64encode(b"\x01" * 33).decode()
        )


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_any_changed_byte_of_the_checkpoint_text_is_refused(position: int, flip: int) -> None:
    cosigner = Cosigner.generate("w.example.org")
    cosigned = cosign(NOTE, cosigner, timestamp=1_700_000_000)
    text_end = NOTE.index("\n\n") + 1
    at = position % text_end
    changed = chr(ord(cosigned[at]) ^ flip)
    tampered = cosigned[:at] + changed + cosigned[at + 1 :]
    with pytest.raises(IntegrityFailure):
        verify_cosignature(tampered, cosigner.public_key)


def _declare(world: World, database: Database, settings: Settings, start: int, count: int) -> None:
    entries = [
        (
            "output-declaration",
            {
                "licensee_id": world.licensee,
                "model_id": world.model,
                "output_sha256": sha(f"co{i}"),
                "generated_on": "2026-02-02",
            },
        )
        for i in range(start, start + count)
    ]
    declare_batch(database, settings, world.developer, entries)


def test_the_log_keeps_known_witness_cosignatures_and_clients_require_them(
    database: Database, tmp_path: Path
) -> None:
    w1, w2 = Cosigner.generate("w1.example.org"), Cosigner.generate("w2.example.org")
    stranger = Cosigner.generate("w9.example.org")
    settings = Settings(
        data_dir=tmp_path / "data", witness_keys=f"{w1.public_key}, {w2.public_key}"
    )
    world = build_world(database)
    _declare(world, database, settings, 0, 12)
    site = tmp_path / "site"
    mirror(database, site)
    key = verifier_key(settings)
    first = witness(str(site), key, tmp_path / "w1.json", w1)
    assert first.cosigned is not None
    assert add_cosignatures(database, settings, world.auditor, first.cosigned) == ["w1.example.org"]
    second = witness(str(site), key, tmp_path / "w2.json", w2)
    assert second.cosigned is not None
    add_cosignatures(database, settings, world.auditor, second.cosigned)

    receipt = inclusion_bundle(database, 3)
    assert verify_receipt(receipt, key).index == 3  # the log's signature still verifies
    keys = [str(w1.public_key), str(w2.public_key)]
    assert set(require_cosignatures(receipt["checkpoint"], keys, 2)) == {
        "w1.example.org",
        "w2.example.org",
    }
    # Cosigning the same checkpoint again replaces that witness's line, never piles up.
    again = witness(str(site), key, tmp_path / "w1.json", w1)
    assert again.status == "unchanged" and again.cosigned is not None
    add_cosignatures(database, settings, world.auditor, again.cosigned)
    assert inclusion_bundle(database, 3)["checkpoint"].count("w1.example.org") == 1

    foreign = witness(str(site), key, tmp_path / "w9.json", stranger)
    assert foreign.cosigned is not None
    with pytest.raises(IntegrityFailure, match="no valid cosignature of a witness this log"):
        add_cosignatures(database, settings, world.auditor, foreign.cosigned)
    forged = cosign(first.cosigned.replace("\n12\n", "\n13\n", 1), w1)
    with pytest.raises(IntegrityFailure):
        add_cosignatures(database, settings, world.auditor, forged)
    with pytest.raises(Forbidden):
        add_cosignatures(database, settings, world.developer, first.cosigned)
    with pytest.raises(InvalidInput, match="knows no witnesses"):
        add_cosignatures(database, Settings(data_dir=tmp_path / "x"), world.auditor, NOTE)

    # A newer checkpoint has no cosignatures until the witnesses catch up.
    _declare(world, database, settings, 100, 5)
    fresh = inclusion_bundle(database, 14)
    with pytest.raises(IntegrityFailure, match="0 of the required 1"):
        require_cosignatures(fresh["checkpoint"], keys[:1], 1)


def test_witnesses_hand_cosignatures_over_http(database: Database, tmp_path: Path) -> None:
    w1 = Cosigner.generate("w1.example.org")
    settings = Settings(data_dir=tmp_path / "data", witness_keys=str(w1.public_key))
    world = build_world(database)
    _declare(world, database, settings, 0, 3)
    site = tmp_path / "site"
    mirror(database, site)
    report = witness(str(site), verifier_key(settings), tmp_path / "w.json", w1)
    with database.transaction() as session:
        auditor = issue_token(session, role="auditor", label="witness one")
    client = TestClient(create_app(settings, database))
    anonymous = client.post("/api/v1/log/cosignatures", json={"note": report.cosigned})
    assert anonymous.status_code == 401
    answer = client.post(
        "/api/v1/log/cosignatures",
        json={"note": report.cosigned},
        headers={"Authorization": f"Bearer {auditor}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": ["w1.example.org"]}
    served = client.get("/log/checkpoint").text
    assert verify_cosignature(served, w1.public_key) > 0
