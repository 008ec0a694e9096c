"""`UnionFind`: order-independent groups whose root is the smallest member."""

from __future__ import annotations

import itertools
import random

import numpy as np

from dedupe.match.unionfind import UnionFind

PAIRS = [(5, 3), (3, 9), (7, 1), (8, 8), (9, 6), (1, 4), (0, 2)]
EXPECTED = [0, 1, 0, 3, 1, 3, 3, 1, 8, 3, 10]  # n = 11: {0,2} {1,4,7} {3,5,6,9} {8} {10}


def test_singletons_are_their_own_roots():
    uf = UnionFind(4)
    assert uf.roots().tolist() == [0, 1, 2, 3]
    assert uf.roots().dtype == np.int64


def test_root_is_smallest_member():
    uf = UnionFind(11)
    for a, b in PAIRS:
        uf.union(a, b)
    assert uf.roots().tolist() == EXPECTED
    assert uf.find(9) == 3 and isinstance(uf.find(9), int)


def test_union_returns_new_root():
    uf = UnionFind(6)
    assert uf.union(5, 4) == 4
    assert uf.union(4, 2) == 2
    assert uf.union(5, 2) == 2  # already joined
    assert uf.union(0, 5) == 0


def test_any_union_order_gives_same_roots():
    rng = random.Random(7)
    for _ in range(50):
        pairs = [(b, a) if rng.random() < 0.5 else (a, b) for a, b in PAIRS]
        rng.shuffle(pairs)
        uf = UnionFind(11)
        for a, b in pairs:
            uf.union(a, b)
        assert uf.roots().tolist() == EXPECTED


def test_all_permutations_of_a_chain():
    chain = [(0, 1), (1, 2), (2, 3), (3, 4)]
    for order in itertools.permutations(chain):
        uf = UnionFind(5)
        for a, b in order:
            uf.union(b, a)
        assert uf.roots().tolist() == [0, 0, 0, 0, 0]


def test_union_pairs_matches_individual_unions():
    uf = UnionFind(11)
    uf.union_pairs(np.array(PAIRS[::-1], dtype=np.int64))
    assert uf.roots().tolist() == EXPECTED


def test_union_pairs_empty_and_large_random():
    uf = UnionFind(3)
    uf.union_pairs(np.empty((0, 2), dtype=np.int64))
    assert uf.roots().tolist() == [0, 1, 2]

    rng = np.random.default_rng(3)
    n = 500
    pairs = rng.integers(0, n, size=(400, 2))
    uf_a, uf_b = UnionFind(n), UnionFind(n)
    uf_a.union_pairs(pairs)
    uf_b.union_pairs(pairs[::-1][:, ::-1])
    roots = uf_a.roots()
    assert np.array_equal(roots, uf_b.roots())
    # every root is the minimum of its group
    for r in np.unique(roots):
        assert r == np.flatnonzero(roots == r).min()
    # every pair ended up together
    assert np.array_equal(roots[pairs[:, 0]], roots[pairs[:, 1]])
