"""Merkle tree over chain heads: RFC 9162 (Certificate Transparency v2) tree shape with SM3.

``leaf = SM3(0x00 || data)``, ``node = SM3(0x01 || left || right)``; the tree over n leaves splits
at the largest power of two below n. Inclusion proofs are the RFC's audit paths, deepest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tongban.ledger.hashing import sm3

LEAF = b"\x00"
NODE = b"\x01"
COMMIT = b"\x02"


def leaf_data(application_id: int, seq: int, head_hash: str) -> bytes:
    return f"{application_id}:{seq}:{head_hash}".encode("ascii")


def leaf_hash(data: bytes) -> bytes:
    return sm3(LEAF + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sm3(NODE + left + right)


def commit_root(number: int, leaf_count: int, prev_root: str, tree_root: str) -> str:
    """The commit's root binds the previous commit's root, so commits form a chain."""
    return sm3(
        COMMIT
        + number.to_bytes(8, "big")
        + leaf_count.to_bytes(8, "big")
        + bytes.fromhex(prev_root)
        + bytes.fromhex(tree_root)
    ).hex()


def _split(n: int) -> int:
    """The largest power of two strictly below n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """Tree hash of leaf hashes (recursive definition; the reference for the other functions)."""
    if not leaves:
        return sm3(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def streaming_root(leaves: Iterable[bytes]) -> tuple[bytes, int]:
    """Same tree hash, one leaf at a time in O(log n) memory (for verifying big commits)."""
    stack: list[tuple[int, bytes]] = []
    count = 0
    for value in leaves:
        count += 1
        size = 1
        while stack and stack[-1][0] == size:
            _, left = stack.pop()
            value = node_hash(left, value)
            size *= 2
        stack.append((size, value))
    if not stack:
        return sm3(b""), 0
    _, value = stack.pop()
    while stack:
        _, left = stack.pop()
        value = node_hash(left, value)
    return value, count


def tree_with_proofs(leaves: Sequence[bytes]) -> tuple[bytes, list[list[bytes]]]:
    """The root and every leaf's inclusion proof, in O(n log n)."""
    proofs: list[list[bytes]] = [[] for _ in leaves]

    def build(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaves[lo]
        mid = lo + _split(hi - lo)
        left, right = build(lo, mid), build(mid, hi)
        for i in range(lo, mid):
            proofs[i].append(right)
        for i in range(mid, hi):
            proofs[i].append(left)
        return node_hash(left, right)

    if not leaves:
        return sm3(b""), []
    return build(0, len(leaves)), proofs


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    n = len(leaves)
    if not 0 <= index < n:
        raise IndexError(index)
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root(leaves[:k])]


def root_from_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or None if the proof is malformed."""
    if not 0 <= index < size:
        return None
    fn, sn, value = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            value = node_hash(sibling, value)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            value = node_hash(value, sibling)
        fn >>= 1
        sn >>= 1
    return value if sn == 0 else None


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected: bytes) -> bool:
    return root_from_proof(leaf, index, size, proof) == expected
