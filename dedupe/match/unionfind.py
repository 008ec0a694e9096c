"""Union-find (disjoint sets) over integer ids 0..n-1."""

from __future__ import annotations

import numpy as np


class UnionFind:
    """Disjoint sets with path halving. The root of a set is always its smallest member, so
    the grouping and the choice of root do not depend on the order of `union` calls (or on
    whether pairs come one by one or as an array, `union_pairs`)."""

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return int(x)

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        lo, hi = (ra, rb) if ra < rb else (rb, ra)
        self.parent[hi] = lo
        return lo

    def union_pairs(self, pairs: np.ndarray) -> None:
        """`union` of every pair, as array operations: the same sets and roots, in rounds of
        O(pairs + n) however the pairs chain (a feed of 50,000 near-identical pages gives
        700,000 pairs; a Python call each took 1.7 s).

        Each round takes every pair whose two roots differ, points the larger root at the
        smallest root it is paired with (parents only ever point to smaller ids, so no cycle
        forms), and flattens the forest. Every such pair loses at least one root per round;
        a path of a million ids takes 13 rounds in random id order and 20 in bit-reversed order
        (0.4 s at most). Roots stay the smallest members."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if len(pairs) == 0:
            return
        label = self.roots()
        a, b = label[pairs[:, 0]], label[pairs[:, 1]]
        while True:
            apart = a != b
            if not apart.any():
                break
            lo, hi = np.minimum(a[apart], b[apart]), np.maximum(a[apart], b[apart])
            np.minimum.at(label, hi, lo)
            label = _flattened(label)
            a, b = label[lo], label[hi]
        self.parent = label

    def roots(self) -> np.ndarray:
        """The root of every id (int64 array of length n), by vectorised pointer jumping."""
        return _flattened(self.parent.copy())


def _flattened(parent: np.ndarray) -> np.ndarray:
    """Every id pointed straight at its root (pointer jumping until nothing changes)."""
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            return parent
        parent = grand
