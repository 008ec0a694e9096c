"""Union-find (disjoint sets) over integer ids 0..n-1."""

from __future__ import annotations

import numpy as np


class UnionFind:
    """Disjoint sets with path halving. The root of a set is always its smallest member, so
    the grouping and the choice of root do not depend on the order of `union` calls."""

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
        for a, b in np.asarray(pairs).tolist():
            self.union(a, b)

    def roots(self) -> np.ndarray:
        """The root of every id (int64 array of length n), by vectorised pointer jumping."""
        parent = self.parent.copy()
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                return parent
            parent = grand
