"""Candidate pairs from MinHash signatures (datasketch LSH), verified exactly on shingle sets.

LSH only proposes pairs; every pair is then checked against the exact Jaccard similarity (or
containment) of the two shingle sets, so the banding's false positives never reach a cluster.
To keep recall high for pairs just above the threshold, the LSH index is built for a threshold
`LSH_MARGIN` below the one verified (the S-curve of b bands of r rows is not a step).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .signatures import lean_minhash

LSH_MARGIN = 0.1


def lsh_pairs(signatures: np.ndarray, ids: Sequence[int], threshold: float, seed: int) -> np.ndarray:
    """Pairs (i, j), i < j, of `ids` whose signatures share an LSH bucket.

    The index is datasketch's `MinHashLSH` with bands and rows chosen by datasketch for
    `threshold - LSH_MARGIN`. Returns a sorted (M, 2) int64 array.
    """
    from datasketch import MinHashLSH

    if len(ids) < 2:
        return np.empty((0, 2), dtype=np.int64)
    num_perm = signatures.shape[1]
    lsh = MinHashLSH(threshold=max(0.05, threshold - LSH_MARGIN), num_perm=num_perm)
    sketches = [lean_minhash(signatures[i], seed) for i in ids]
    for i, m in zip(ids, sketches):
        lsh.insert(int(i), m, check_duplication=False)
    pairs = set()
    for i, m in zip(ids, sketches):
        for j in lsh.query(m):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return _as_pairs(pairs)


def containment_pairs(signatures: np.ndarray, ids: Sequence[int], sizes: Sequence[int],
                      threshold: float, seed: int) -> np.ndarray:
    """Pairs (q, x) where the shingle set of q may be contained in that of x (q != x).

    Uses datasketch's `MinHashLSHEnsemble` (containment search over size partitions) at
    `threshold - LSH_MARGIN`. Returns a sorted (M, 2) int64 array; (q, x) is directed.
    """
    from datasketch import MinHashLSHEnsemble

    if len(ids) < 2:
        return np.empty((0, 2), dtype=np.int64)
    num_perm = signatures.shape[1]
    index = MinHashLSHEnsemble(threshold=max(0.05, threshold - LSH_MARGIN), num_perm=num_perm, num_part=8)
    entries = [(int(i), lean_minhash(signatures[i], seed), int(s)) for i, s in zip(ids, sizes)]
    index.index(entries)
    pairs = set()
    for key, m, size in entries:
        for other in index.query(m, size):
            if other != key:
                pairs.add((key, other))
    return _as_pairs(pairs)


def _as_pairs(pairs: Iterable[tuple[int, int]]) -> np.ndarray:
    arr = np.array(sorted(pairs), dtype=np.int64)
    return arr.reshape(-1, 2)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity |A ∩ B| / |A ∪ B| of two sorted unique arrays."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """Exact containment |A ∩ B| / |A| of sorted unique array `a` in `b`."""
    if len(a) == 0:
        return 0.0
    return len(np.intersect1d(a, b, assume_unique=True)) / len(a)
