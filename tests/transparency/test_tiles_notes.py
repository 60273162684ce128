"""C2SP tile geometry and signed notes, against the published examples."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.errors import IntegrityFailure, InvalidInput, NotFound
from sostenuto.transparency import (
    Checkpoint,
    Signer,
    Verifier,
    leaf_hash,
    memory_nodes,
    open_note,
    sign_note,
    tile_path,
    tiles_for_size,
    verify_checkpoint,
)
from sostenuto.transparency._tiles import (
    decode_bundle,
    encode_bundle,
    grow_tiles,
    parse_index_path,
    tile_nodes,
)

# The example of golang.org/x/mod/sumdb/note (the C2SP signed-note reference implementation).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_signing_reproduces_the_published_note_byte_for_byte() -> None:
    signer = Signer.parse(GO_SIGNER)
    assert str(signer.verifier) == GO_VERIFIER
    assert str(signer) == GO_SIGNER
    assert sign_note(GO_TEXT, signer) == GO_NOTE
    assert open_note(GO_NOTE, Verifier.parse(GO_VERIFIER)) == GO_TEXT


def test_tampered_notes_and_keys_are_rejected() -> None:
    verifier = Verifier.parse(GO_VERIFIER)
    with pytest.raises(IntegrityFailure):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), verifier)
    other = Signer.generate("PeterNeumann").verifier
    with pytest.raises(IntegrityFailure):
        open_note(GO_NOTE, other)  # same name, other key: no signature by it
    for bad in (GO_VERIFIER[:-2] + "AA", "PeterNeumann+c74f20a4+" + GO_VERIFIER.split("+", 2)[2]):
        with pytest.raises(InvalidInput):
            Verifier.parse(bad)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 8 * 200 - 1))
def test_any_flipped_bit_in_a_signed_checkpoint_is_rejected(bit: int) -> None:
    signer = Signer.parse(GO_SIGNER)
    body = Checkpoint("PeterNeumann", 8, leaf_hash(b"root")).body()
    note = sign_note(body, signer).encode()
    assert verify_checkpoint(note.decode(), GO_VERIFIER).size == 8
    flipped = bytearray(note)
    flipped[bit % len(note)] ^= 1 << (bit // len(note) % 8)
    try:
        text = flipped.decode()
    except UnicodeDecodeError:
        return  # not even text: no verifier would read it
    with pytest.raises((IntegrityFailure, InvalidInput)):
        verify_checkpoint(text, GO_VERIFIER)


def test_checkpoint_of_another_origin_is_rejected() -> None:
    signer = Signer.generate("example.org/log")
    note = sign_note(Checkpoint("example.org/other", 1, leaf_hash(b"")).body(), signer)
    with pytest.raises(IntegrityFailure, match=r"not 'example\.org/log'"):
        verify_checkpoint(note, str(signer.verifier))


def test_tile_paths_follow_c2sp() -> None:
    assert tile_path(0, 0, 256) == "tile/0/000"
    assert tile_path(0, 1234067, 256) == "tile/0/x001/x234/067"
    assert tile_path(1, 1000, 17) == "tile/1/x001/000.p/17"
    assert tile_path("entries", 999, 1) == "tile/entries/999.p/1"
    assert parse_index_path("x001/x234/067") == (1234067, 256)
    assert parse_index_path("x001/000.p/17") == (1000, 17)
    for bad in ("1234", "x001/x234", "001/067", "000.p/256", "000.p/0"):
        with pytest.raises(NotFound):
            parse_index_path(bad)


def test_tiles_for_a_tree_of_70000() -> None:
    # c2sp.org/tlog-tiles example: 273 full level-0 tiles, a level-0 tile of width 112, a
    # full level-1 tile, a level-1 tile of width 17 and a level-2 tile of width 1.
    count = Counter((level, width) for level, _, width in tiles_for_size(70000))
    assert count == {(0, 256): 273, (0, 112): 1, (1, 256): 1, (1, 17): 1, (2, 1): 1}
    # A tree of 256 is one full level-0 tile and a level-1 tile of width 1.
    assert tiles_for_size(256) == [(0, 0, 256), (1, 0, 1)]


def test_entry_bundles_round_trip() -> None:
    entries = [b"", b"a", b"x" * 300]
    assert decode_bundle(encode_bundle(entries)) == entries
    with pytest.raises(IntegrityFailure):
        decode_bundle(encode_bundle(entries)[:-1])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=8))
def test_tiles_grown_in_any_batches_give_every_node(batches: list[int]) -> None:
    store: dict[tuple[int, int], tuple[int, bytes]] = {}
    leaves: list[bytes] = []
    for count in batches:
        new = [leaf_hash(len(leaves).to_bytes(4, "big") + bytes([i % 256])) for i in range(count)]
        store.update(grow_tiles(len(leaves), new, lambda lv, ix: store.get((lv, ix))))
        leaves.extend(new)
    from_tiles = tile_nodes(lambda lv, ix: store.get((lv, ix)))
    reference = memory_nodes(leaves)
    size = len(leaves)
    for level in range(size.bit_length()):
        for index in range(size >> level):
            assert from_tiles(level, index) == reference(level, index)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(1e-5, 1.0)
    | st.floats(1e14, 1e17),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet="abcdefghij_-0123456789", max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_fast_canonical_json_equals_rfc8785(value: object) -> None:
    import rfc8785

    from sostenuto.transparency._entries import canonical_json

    assert canonical_json(value) == rfc8785.dumps(value)
