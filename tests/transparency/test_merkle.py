"""RFC 9162 hashing and proofs against the published RFC 6962 / CT reference vectors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sostenuto.errors import IntegrityFailure, InvalidInput
from sostenuto.transparency import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    memory_nodes,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# The eight leaves of the Certificate Transparency reference tests (RFC 6962 era), used by
# transparency-dev/merkle and Go's sumdb/tlog tests.
VECTOR_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
# Published roots of the prefixes D[0:n], n = 0..8.
VECTOR_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
VECTOR_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
VECTOR_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

HASHES = [leaf_hash(v) for v in VECTOR_LEAVES]
NODES = memory_nodes(HASHES)


def test_empty_root_and_prefixes_match_published_roots() -> None:
    assert EMPTY_ROOT.hex() == VECTOR_ROOTS[0]
    for size, expected in enumerate(VECTOR_ROOTS):
        assert root_hash(memory_nodes(HASHES[:size]), size).hex() == expected


@pytest.mark.parametrize(("index", "size", "proof"), VECTOR_INCLUSION)
def test_inclusion_vectors(index: int, size: int, proof: list[str]) -> None:
    expected = [bytes.fromhex(p) for p in proof]
    assert inclusion_proof(NODES, index, size) == expected
    root = bytes.fromhex(VECTOR_ROOTS[size])
    verify_inclusion(index, size, HASHES[index], expected, root)
    with pytest.raises(IntegrityFailure):
        verify_inclusion(
            index, size, HASHES[index], expected, bytes.fromhex(VECTOR_ROOTS[size - 1])
        )


@pytest.mark.parametrize(("first", "second", "proof"), VECTOR_CONSISTENCY)
def test_consistency_vectors(first: int, second: int, proof: list[str]) -> None:
    expected = [bytes.fromhex(p) for p in proof]
    assert consistency_proof(NODES, first, second) == expected
    old, new = bytes.fromhex(VECTOR_ROOTS[first]), bytes.fromhex(VECTOR_ROOTS[second])
    verify_consistency(first, second, old, new, expected)
    if first != second:
        with pytest.raises(IntegrityFailure):
            verify_consistency(first, second, new, old, expected)  # swapped roots


def test_malformed_parameters_are_refused() -> None:
    h = hashlib.sha256(b"x").digest()
    for call in (
        lambda: verify_inclusion(3, 3, h, [], h),
        lambda: verify_inclusion(0, 0, h, [], h),
        lambda: verify_consistency(4, 3, h, h, [h]),
        lambda: verify_consistency(3, 3, h, h, [h]),
        lambda: verify_consistency(3, 3, h, node_hash(h, h), []),
        lambda: verify_consistency(2, 3, h, h, []),
        lambda: verify_inclusion(0, 2, h[:31], [h], h),
    ):
        with pytest.raises(IntegrityFailure):
            call()
    with pytest.raises(InvalidInput):
        inclusion_proof(NODES, 8, 8)
    with pytest.raises(InvalidInput):
        consistency_proof(NODES, 0, 8)


LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(300)]
BIG = memory_nodes(LEAVES)
ROOTS = [root_hash(memory_nodes(LEAVES[:n]), n) for n in range(len(LEAVES) + 1)]


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_inclusion_proof_verifies_and_any_flipped_bit_fails(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, len(LEAVES)))
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(BIG, index, size)
    verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(IntegrityFailure):
        verify_inclusion(index, size, _flip(LEAVES[index], bit), proof, ROOTS[size])
    with pytest.raises(IntegrityFailure):
        verify_inclusion(index, size, LEAVES[index], proof, _flip(ROOTS[size], bit))
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        tampered = [*proof]
        tampered[which] = _flip(tampered[which], bit)
        with pytest.raises(IntegrityFailure):
            verify_inclusion(index, size, LEAVES[index], tampered, ROOTS[size])
        with pytest.raises(IntegrityFailure):
            verify_inclusion(index, size, LEAVES[index], proof[:-1], ROOTS[size])
    with pytest.raises(IntegrityFailure):
        verify_inclusion(index, size, LEAVES[index], [*proof, ROOTS[size]], ROOTS[size])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_consistency_proof_verifies_and_any_flipped_bit_fails(data: st.DataObject) -> None:
    second = data.draw(st.integers(1, len(LEAVES)))
    first = data.draw(st.integers(1, second))
    proof = consistency_proof(BIG, first, second)
    verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)
    if first == second:
        return
    bit = data.draw(st.integers(0, 255))
    which = data.draw(st.integers(0, len(proof) - 1))
    tampered = [*proof]
    tampered[which] = _flip(tampered[which], bit)
    for args in (
        (ROOTS[first], ROOTS[second], tampered),
        (_flip(ROOTS[first], bit), ROOTS[second], proof),
        (ROOTS[first], _flip(ROOTS[second], bit), proof),
        (ROOTS[first], ROOTS[second], proof[:-1]),
    ):
        with pytest.raises(IntegrityFailure):
            verify_consistency(first, second, *args)
