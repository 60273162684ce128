"""C2SP tlog-tiles gives every tile exactly one path; every other spelling names no tile.

``<L>`` and ``<W>`` are decimal without leading zeros, ``<N>`` the fewest 3-digit groups with
all but the last prefixed ``x``. Formatting then parsing gives back every index and width, and
a path that parses is the one :func:`tile_path` writes, so a client, a cache or a mirror never
sees one tile under two names.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sostenuto.api import create_app
from sostenuto.errors import NotFound
from sostenuto.settings import Settings
from sostenuto.storage import Database
from sostenuto.transparency import tile_path
from sostenuto.transparency._keys import log_signer
from sostenuto.transparency._store import LeafInput, append_leaves
from sostenuto.transparency._tiles import (
    MAX_LEVEL,
    MAX_TILE_INDEX,
    TILE_WIDTH,
    encode_index,
    parse_index_path,
    parse_level,
)

indices = st.one_of(
    st.integers(min_value=0, max_value=2000),
    st.integers(min_value=0, max_value=MAX_TILE_INDEX),
    st.sampled_from([999, 1000, 999_999, 1_000_000, MAX_TILE_INDEX]),
)
widths = st.integers(min_value=1, max_value=TILE_WIDTH)
levels = st.integers(min_value=0, max_value=MAX_LEVEL)


def _parse(path: str) -> tuple[int, int, int] | None:
    """``tile/<L>/<N>[.p/<W>]`` as (level, index, width), or None when refused (-1: entries)."""
    if not path.startswith("tile/"):
        return None
    level_text, _, rest = path.removeprefix("tile/").partition("/")
    try:
        level = -1 if level_text == "entries" else parse_level(level_text)
        index, width = parse_index_path(rest)
    except NotFound:
        return None
    return level, index, width


@given(level=levels, index=indices, width=widths)
@example(level=0, index=1234067, width=256)
@example(level=63, index=MAX_TILE_INDEX, width=255)
def test_formatting_then_parsing_gives_the_tile_back(level: int, index: int, width: int) -> None:
    assert _parse(tile_path(level, index, width)) == (level, index, width)
    assert _parse(tile_path("entries", index, width)) == (-1, index, width)


_ALPHABET = "0123456789x/.p"


@settings(max_examples=500)
@given(
    level=st.text(alphabet="0123456789", min_size=1, max_size=4),
    path=st.text(alphabet=_ALPHABET, max_size=30),
)
@example(level="00", path="000")
@example(level="0", path="000.p/007")
@example(level="0", path="x000/001")
@example(level="0", path="0001")
@example(level="0", path="1")
@example(level="01", path="x001/000.p/17")
@example(level="64", path="000")
@example(level="0", path="000.p/256")
@example(level="0", path="000.p/0")
def test_a_path_that_parses_is_the_canonical_one(level: str, path: str) -> None:
    found = _parse(f"tile/{level}/{path}")
    if found is not None:
        assert tile_path(*found) == f"tile/{level}/{path}"


_NON_CANONICAL = [
    lambda p: "0" + p,  # a leading zero in the first group
    lambda p: "x000/" + p,  # an empty leading group
    lambda p: p + "/",
    lambda p: p + "\n",
    lambda p: " " + p,
    lambda p: p.replace("x", "X"),
    lambda p: p.replace(".p/", ".p/0") if ".p/" in p else p + ".p/256",
    lambda p: p.replace(".p/", ".P/") if ".p/" in p else p + ".p/",
    lambda p: p.replace("0", "٠"),  # Arabic-Indic digits read as numbers by int()
    lambda p: p.lstrip("x0") or "0",
]


@given(index=indices, width=widths, spoil=st.sampled_from(_NON_CANONICAL))
def test_every_other_spelling_is_refused(index: int, width: int, spoil: object) -> None:
    canonical = tile_path(0, index, width).removeprefix("tile/0/")
    spoiled = spoil(canonical)  # type: ignore[operator]
    if spoiled == canonical:
        return
    with pytest.raises(NotFound):
        parse_index_path(spoiled)


@given(level=levels)
def test_levels_have_one_spelling(level: int) -> None:
    assert parse_level(str(level)) == level
    for other in (f"0{level}", f"{level} ", f"+{level}", f"{level}\n", str(level).zfill(3)):
        if other != str(level):
            with pytest.raises(NotFound):
                parse_level(other)


def test_encode_index_is_the_c2sp_example() -> None:
    assert encode_index(1234067) == "x001/x234/067"
    assert encode_index(0) == "000"
    assert encode_index(1000) == "x001/000"


@pytest.fixture
def client(settings: Settings, database: Database) -> TestClient:
    with database.transaction() as session:
        leaves = [LeafInput(f"entry {i}".encode(), "test") for i in range(300)]
        append_leaves(session, log_signer(settings), leaves)
    return TestClient(create_app(settings, database))


def test_the_tile_api_serves_only_canonical_paths(client: TestClient) -> None:
    # 300 entries: a full level-0 tile, one of width 44, and a level-1 tile of width 1.
    for path in ("tile/0/000", "tile/0/001.p/44", "tile/0/001.p/7", "tile/1/000.p/1"):
        assert client.get(f"/log/{path}").status_code == 200, path
    for path in ("tile/entries/000", "tile/entries/001.p/44"):
        assert client.get(f"/log/{path}").status_code == 200, path
    for path in (
        "tile/00/000",
        "tile/0/000.p/256",
        "tile/0/001.p/007",
        "tile/0/x000/001.p/44",
        "tile/01/000.p/1",
        "tile/1/000.p/01",
        "tile/+0/000",
        "tile/0/0000",
        "tile/entries/0000",
        "tile/entries/001.p/044",
        "tile/64/000",
        "tile/-1/000",
        "tile/18446744073709551623/000",
        "tile/0/x999/x999/x999/x999/x999/x999/999",
        "tile/entries/x036/x028/x797/x018/x963/967",
        "tile/0/",
    ):
        response = client.get(f"/log/{path}")
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path
        assert response.json()["code"] == "not-found", path
