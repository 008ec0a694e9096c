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


def _one_by_one(n: int, pairs: np.ndarray) -> list[int]:
    uf = UnionFind(n)
    for a, b in pairs.tolist():
        uf.union(a, b)
    return uf.roots().tolist()


def test_union_pairs_equals_one_union_at_a_time_on_chains_stars_and_random_graphs():
    rng = np.random.default_rng(11)
    n = 2_000
    ids = rng.permutation(n)
    zigzag = np.stack([np.arange(n // 2), np.arange(n - 1, n // 2 - 1, -1)], axis=1).ravel()
    graphs = {
        "chain in random id order": np.stack([ids[:-1], ids[1:]], axis=1),
        "chain through 0, 1999, 1, 1998, ...": np.stack([zigzag[:-1], zigzag[1:]], axis=1),
        "star around the largest id": np.stack([np.full(n - 1, n - 1), np.arange(n - 1)], axis=1),
        "sparse random": rng.integers(0, n, size=(800, 2)),
        "dense random": rng.integers(0, n, size=(20_000, 2)),
        "self pairs and repeats": np.array([[5, 5], [7, 3], [3, 7], [7, 3], [1999, 0]]),
    }
    for name, pairs in graphs.items():
        uf = UnionFind(n)
        uf.union_pairs(pairs)
        assert uf.roots().tolist() == _one_by_one(n, pairs), name


def test_union_pairs_continues_from_earlier_unions_and_a_given_forest():
    rng = np.random.default_rng(5)
    n = 300
    first, second = rng.integers(0, n, size=(150, 2)), rng.integers(0, n, size=(150, 2))
    uf = UnionFind(n)
    uf.union(first[0, 0], first[0, 1])
    uf.union_pairs(first)
    uf.union_pairs(second)
    assert uf.roots().tolist() == _one_by_one(n, np.concatenate([first, second]))

    given = UnionFind(n)  # as `match.segments` seeds the clusters with the groups' roots
    given.parent[:] = uf.roots()
    more = rng.integers(0, n, size=(100, 2))
    given.union_pairs(more)
    assert given.roots().tolist() == _one_by_one(n, np.concatenate([first, second, more]))
