"""RFC 9162 Merkle tree hashing, proof generation over a node source, and pure verification.

Leaves hash as ``SHA-256(0x00 || entry)`` and interior nodes as ``SHA-256(0x01 || left ||
right)``. Proofs are generated from *complete* subtree hashes (``node(level, index)``), which
the tile store keeps, so a proof costs O(log n) node reads whatever the tree size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from sostenuto.errors import IntegrityFailure, InvalidInput

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# node(level, index): the hash of the complete subtree over leaves
# [index * 2**level, (index + 1) * 2**level).
NodeReader = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    """The RFC 9162 hash of one leaf (entry bytes as appended)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def subtree_hash(node: NodeReader, start: int, end: int) -> bytes:
    """MTH of leaves [start, end), built from complete subtrees (start is suitably aligned)."""
    size = end - start
    if size <= 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return node(level, start >> level)
    k = _split(size)
    return node_hash(
        node((k.bit_length() - 1), start >> (k.bit_length() - 1)),
        subtree_hash(node, start + k, end),
    )


def root_hash(node: NodeReader, size: int) -> bytes:
    """The root hash of the tree of ``size`` leaves."""
    return subtree_hash(node, 0, size)


def inclusion_proof(node: NodeReader, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[size]), leaf side first."""
    if not 0 <= index < size:
        raise InvalidInput(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    # Walk down from the root, remembering siblings; the proof lists them bottom-up.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(subtree_hash(node, lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree_hash(node, lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_proof(node: NodeReader, first: int, second: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(first, D[second])."""
    if not 0 < first <= second:
        raise InvalidInput(
            f"a consistency proof needs 0 < first <= second; got {first} and {second}"
        )
    path: list[bytes] = []
    lo, hi, m, complete = 0, second, first, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                path.append(subtree_hash(node, lo, hi))
            break
        k = _split(n)
        if m <= k:
            path.append(subtree_hash(node, lo + k, hi))
            hi = lo + k
        else:
            path.append(subtree_hash(node, lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    path.reverse()
    return path


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise IntegrityFailure(f"{what} is {len(value)} bytes long, not {HASH_SIZE}")


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` implies for ``leaf`` at ``index`` (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise IntegrityFailure(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf, "the leaf hash")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p, "a proof hash")
        if sn == 0:
            raise IntegrityFailure("the inclusion proof is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise IntegrityFailure("the inclusion proof is shorter than the tree needs")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`IntegrityFailure` unless ``proof`` puts ``leaf`` at ``index``."""
    _check_hash(root, "the root hash")
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise IntegrityFailure(
            f"the inclusion proof for leaf {index} does not lead to the root of size {size}"
        )


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`IntegrityFailure` unless the tree of ``second`` extends that of ``first``.

    RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots; size 0 is consistent
    with anything (the empty tree is a prefix of every tree).
    """
    _check_hash(first_root, "the first root")
    _check_hash(second_root, "the second root")
    for p in proof:
        _check_hash(p, "a proof hash")
    if first < 0 or second < first:
        raise IntegrityFailure(f"tree size went from {first} to {second}: logs only grow")
    if first == 0:
        if proof:
            raise IntegrityFailure("a consistency proof from the empty tree must be empty")
        if first_root != EMPTY_ROOT:
            raise IntegrityFailure("the root of the empty tree is wrong")
        return
    if first == second:
        if proof:
            raise IntegrityFailure("a consistency proof between equal sizes must be empty")
        if first_root != second_root:
            raise IntegrityFailure(f"two different roots for the same tree size {first}")
        return
    if not proof:
        raise IntegrityFailure("the consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise IntegrityFailure("the consistency proof is longer than the trees allow")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise IntegrityFailure("the consistency proof is shorter than the trees need")
    if fr != first_root or sr != second_root:
        raise IntegrityFailure(
            f"the tree of size {second} does not extend the tree of size {first}: split view"
        )


def memory_nodes(leaves: Sequence[bytes]) -> NodeReader:
    """A node reader over leaf hashes held in memory (tests, small trees, witnesses)."""
    levels: list[list[bytes]] = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    def node(level: int, index: int) -> bytes:
        try:
            return levels[level][index]
        except IndexError:
            raise IntegrityFailure(f"node {level}/{index} is not in the tree") from None

    return node
