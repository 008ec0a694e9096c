"""Candidate pairs, verified exactly on shingle sets.

Near-duplicates (Jaccard) come from datasketch's `MinHashLSH` over MinHash signatures;
containment candidates (a passage inside a longer text) from a numpy inverted index over the
shingles (`overlap_pairs`). Candidates only propose pairs: every pair is then checked against
the exact Jaccard similarity or containment of the two shingle sets, so false positives never
reach a cluster.
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


def overlap_pairs(sets: Sequence[np.ndarray], ids: Sequence[int], min_share: float,
                  sample: int = 1, max_df: int = 200) -> np.ndarray:
    """Pairs (q, x), q != x, where the sampled shingles of q are at least `min_share`
    (minus `LSH_MARGIN`) found in x: candidates for containment of q in x.

    An inverted index in numpy: every (shingle, id) pair is sorted by shingle, each shingle
    shared by 2..`max_df` ids emits its id pairs, and `np.unique` counts the shingles each pair
    shares. Keeping only shingles with ``hash % sample == 0`` samples both sets consistently, so
    shared/|q| stays an unbiased estimate of containment (Broder's mod-sampling). Shingles
    found in more than `max_df` texts (stock phrases) carry no evidence and are skipped, which
    bounds the pairs a single shingle can emit. Returns a sorted (M, 2) int64 array.
    """
    ids = np.asarray(list(ids), dtype=np.int64)
    if len(ids) < 2:
        return np.empty((0, 2), dtype=np.int64)
    picked = [sets[i] if sample == 1 else sets[i][sets[i] % np.uint64(sample) == 0] for i in ids]
    sizes = np.array([len(p) for p in picked], dtype=np.int64)
    hashes = np.concatenate(picked) if picked else np.empty(0, dtype=np.uint64)
    owner = np.repeat(ids, sizes)
    order = np.lexsort((owner, hashes))
    hashes, owner = hashes[order], owner[order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    df = np.diff(np.r_[starts, len(hashes)])
    n = int(ids.max()) + 1
    keys = []
    for k in np.unique(df[(df >= 2) & (df <= max_df)]):
        block = owner[starts[df == k][:, None] + np.arange(k)]  # (groups, k) ids sharing a shingle
        a, b = np.triu_indices(int(k), 1)
        lo, hi = block[:, a].ravel(), block[:, b].ravel()
        keys.append(lo * n + hi)
    if not keys:
        return np.empty((0, 2), dtype=np.int64)
    pair_keys, shared = np.unique(np.concatenate(keys), return_counts=True)
    lo, hi = pair_keys // n, pair_keys % n
    # Measure each text over the shingles that could count (df <= max_df), or the estimate
    # shared/|q| would be biased low by the skipped stock phrases.
    eligible = np.repeat(df <= max_df, df)
    size_of = np.bincount(owner[eligible], minlength=n)
    cut = max(0.0, min_share - LSH_MARGIN)
    out = []
    for q, x in ((lo, hi), (hi, lo)):
        ok = shared >= cut * np.maximum(size_of[q], 1)
        out.append(np.stack([q[ok], x[ok]], axis=1))
    pairs = np.concatenate(out)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


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
