"""Sealed webhook secrets: what is stored opens to the secret, fits its column, and a
changed byte or another key is refused."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sostenuto.declarations import SecretBox, box_from_settings
from sostenuto.declarations._signing import SECRET_PREFIX, new_secret
from sostenuto.errors import IntegrityFailure
from sostenuto.settings import Settings

COLUMN = 100  # webhook_subscription.secret is String(100)


def _secret(raw: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(raw).decode()


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_a_sealed_secret_opens_with_its_key_and_fits_the_column(raw: bytes, key: bytes) -> None:
    box = SecretBox(key)
    sealed = box.seal(_secret(raw))
    assert len(sealed) <= COLUMN and _secret(raw) not in sealed
    assert box.open(sealed) == _secret(raw)
    assert box.seal(_secret(raw)) != sealed  # a fresh nonce each time


@given(st.integers(min_value=10, max_value=89), st.sampled_from("AQgw"))
def test_a_changed_character_is_refused(position: int, replacement: str) -> None:
    box = SecretBox(os.urandom(32))
    sealed = box.seal(new_secret())
    changed = sealed[:position] + replacement + sealed[position + 1 :]
    if changed != sealed:
        with pytest.raises(IntegrityFailure, match="does not open"):
            box.open(changed)


def test_the_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = box_from_settings(settings)
    assert box_from_settings(settings) == first
    key = settings.keys_dir / "webhook-secrets.key"
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o644)
    with pytest.raises(IntegrityFailure, match="readable by others"):
        box_from_settings(settings)


def test_a_plain_secret_is_read_as_it_is() -> None:
    secret = new_secret()
    assert SecretBox(os.urandom(32)).open(secret) == secret


def test_processes_starting_at_once_share_one_whole_key(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    settings = Settings(data_dir=tmp_path)
    with ProcessPoolExecutor(4) as pool:
        keys = list(pool.map(_key_of, [str(tmp_path)] * 8))
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    assert box_from_settings(settings).key == keys[0]
    assert [p.name for p in settings.keys_dir.iterdir()] == ["webhook-secrets.key"]


def _key_of(data_dir: str) -> bytes:
    return box_from_settings(Settings(data_dir=Path(data_dir))).key
