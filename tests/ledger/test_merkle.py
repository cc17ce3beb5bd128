"""Merkle tree and inclusion proofs: any number of leaves, any position (RFC 9162 shape, SM3)."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.ledger import merkle


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(merkle.leaf_data(i + 1, i % 7 + 1, f"{i:064x}")) for i in range(n)]


def test_sm3_is_the_standard_one():
    # GB/T 32905-2016 example 1.
    assert hashlib.new("sm3", b"abc").hexdigest() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_small_trees_by_hand():
    a, b, c = _leaves(3)
    assert merkle.root([a]) == a
    assert merkle.root([a, b]) == merkle.node_hash(a, b)
    assert merkle.root([a, b, c]) == merkle.node_hash(merkle.node_hash(a, b), c)
    assert merkle.inclusion_proof(2, [a, b, c]) == [merkle.node_hash(a, b)]
    assert merkle.leaf_hash(b"x") != merkle.node_hash(b"", b"x")  # domain separation


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.data())
def test_every_leaf_proves_its_inclusion(n, data):
    leaves = _leaves(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    root, proofs = merkle.tree_with_proofs(leaves)
    assert root == merkle.root(leaves) == merkle.streaming_root(iter(leaves))[0]
    assert proofs[index] == merkle.inclusion_proof(index, leaves)
    assert merkle.verify_inclusion(leaves[index], index, n, proofs[index], root)
    assert len(proofs[index]) <= max(1, (n - 1).bit_length())


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2, max_value=200), st.data())
def test_a_proof_does_not_fit_another_leaf_or_position(n, data):
    leaves = _leaves(n)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    other = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda i: i != index))
    root, proofs = merkle.tree_with_proofs(leaves)
    proof = proofs[index]
    assert not merkle.verify_inclusion(leaves[other], index, n, proof, root)
    assert not merkle.verify_inclusion(leaves[index], other, n, proof, root)
    if proof:
        flipped = bytes([proof[0][0] ^ 1]) + proof[0][1:]
        assert not merkle.verify_inclusion(leaves[index], index, n, [flipped, *proof[1:]], root)
        assert not merkle.verify_inclusion(leaves[index], index, n, proof[:-1], root)


def test_leaf_count_is_bound_by_the_commit_root():
    """The tree size is not bound by a proof alone (RFC 9162), so the commit root includes it."""
    tree = "11" * 32
    assert merkle.commit_root(1, 33, "0" * 64, tree) != merkle.commit_root(1, 34, "0" * 64, tree)


def test_out_of_range_positions_are_refused():
    leaves = _leaves(4)
    _root, proofs = merkle.tree_with_proofs(leaves)
    assert merkle.root_from_proof(leaves[0], 4, 4, proofs[0]) is None
    assert merkle.root_from_proof(leaves[0], -1, 4, proofs[0]) is None
    assert merkle.streaming_root(iter([])) == (merkle.root([]), 0)
