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

from functools import lru_cache
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from . import kernels
from .signatures import lean_minhash

LSH_MARGIN = 0.2
DOC_LSH_MARGIN = 0.1  # whole articles; candidates are then screened by MinHash estimates


MIN_LSH_THRESHOLD = 0.05
NUMPY_LSH_FROM = 5_000  # texts; below this datasketch's MinHashLSH itself is used


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) that datasketch's `MinHashLSH` chooses for this threshold.

    Looked up in `lsh_table` (datasketch's own choices, precomputed) when it holds the exact
    threshold; datasketch computes it otherwise, which imports scipy (about a second).
    """
    from .lsh_table import TABLE

    if (num_perm, threshold) in TABLE:
        return TABLE[num_perm, threshold]
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def lsh_pairs(signatures: np.ndarray, ids: Sequence[int], threshold: float, seed: int,
              backend: str = "auto", margin: float = LSH_MARGIN,
              screen: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Pairs (i, j), i < j, of `ids` whose signatures share an LSH band.

    Bands and rows are datasketch's choice for `threshold - margin`. `backend`:
    `datasketch` inserts `LeanMinHash`es into a `MinHashLSH` and queries each; `numpy` groups
    equal band values with a sort (same pairs, about 2.8 KB less memory per text, see
    `band_pairs`); `auto` picks numpy from NUMPY_LSH_FROM texts on. `screen` (numpy backend
    only) filters each band's pairs as they are found, so candidates that a caller would discard
    anyway never accumulate. Returns a sorted (M, 2) int64 array.
    """
    ids = np.asarray(list(ids), dtype=np.int64)
    if len(ids) < 2:
        return np.empty((0, 2), dtype=np.int64)
    num_perm = signatures.shape[1]
    b, r = lsh_params(max(MIN_LSH_THRESHOLD, threshold - margin), num_perm)
    if screen is not None or backend == "numpy" or (backend == "auto" and len(ids) >= NUMPY_LSH_FROM):
        return band_pairs(signatures, ids, b, r, screen=screen)
    return datasketch_pairs(signatures, ids, b, r, seed)


def datasketch_pairs(signatures: np.ndarray, ids: np.ndarray, b: int, r: int, seed: int) -> np.ndarray:
    from datasketch import MinHashLSH

    lsh = MinHashLSH(num_perm=signatures.shape[1], params=(b, r))
    rows = np.asarray(signatures[ids])  # one read: indexing a memmap row by row is slow
    sketches = [lean_minhash(row, seed) for row in rows]
    for i, m in zip(ids.tolist(), sketches):
        lsh.insert(i, m, check_duplication=False)
    pairs = set()
    for i, m in zip(ids.tolist(), sketches):
        for j in lsh.query(m):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return _as_pairs(pairs)


def band_pairs(signatures: np.ndarray, ids: np.ndarray, b: int, r: int, chunk: int = 1 << 16,
               screen: Callable[[np.ndarray], np.ndarray] | None = None,
               pass_bytes: int = 64 << 20) -> np.ndarray:
    """The pairs `MinHashLSH` with `b` bands of `r` rows would return, computed with numpy.

    For each band, the r hash values of every signature are combined into one 64-bit value
    (a fixed odd-multiplier polynomial; distinct bands collide with probability ~2^-64, and any
    such false candidate is rejected by the exact verification that follows); sorting those
    values groups the texts that share the band, and every pair inside a group is a candidate.
    Signatures are read in chunks, so a memory-mapped signature file is never loaded whole.
    """
    mult = _BAND_MULT[:r]
    keys: list[np.ndarray] = []
    n = int(ids.max()) + 1
    # Bands are hashed a few at a time, reading the signature rows once per group of bands:
    # fewer passes over a file-backed matrix, and at most `pass_bytes` of band values at a time.
    per_pass = int(max(1, min(b, pass_bytes // (8 * len(ids)))))
    for first in range(0, b, per_pass):
        bands = range(first, min(b, first + per_pass))
        values = np.empty((len(bands), len(ids)), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for lo in range(0, len(ids), chunk):
                rows = np.asarray(signatures[ids[lo: lo + chunk], first * r: bands[-1] * r + r], dtype=np.uint64)
                for i in range(len(bands)):
                    values[i, lo: lo + chunk] = (rows[:, i * r: (i + 1) * r] * mult).sum(axis=1, dtype=np.uint64)
        for i in range(len(bands)):
            order = np.argsort(values[i], kind="stable")
            sorted_values, owners = values[i][order], ids[order]
            starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
            sizes = np.diff(np.r_[starts, len(sorted_values)])
            if screen is None:
                keys.extend(_pairs_in_groups(owners, starts, sizes, n))
                continue
            # Pairs near the threshold collide in many bands: keep one running set, and screen
            # the band's pairs in bounded chunks (a band value shared by thousands of long
            # articles would otherwise materialise millions of pairs at once).
            kept = []
            for band_keys in _pairs_in_groups(owners, starts, sizes, n):
                found = np.unique(band_keys)
                found = np.setdiff1d(found, keys[0], assume_unique=True) if keys else found
                kept.append(found[screen(np.stack([found // n, found % n], axis=1))])
            if kept:
                found = np.unique(np.concatenate(kept))
                keys = [np.union1d(keys[0], found)] if keys else [found]
    if not keys:
        return np.empty((0, 2), dtype=np.int64)
    pair_keys = np.unique(np.concatenate(keys))
    return np.stack([pair_keys // n, pair_keys % n], axis=1)


def _pairs_in_groups(owners: np.ndarray, starts: np.ndarray, sizes: np.ndarray, n: int,
                     max_size: int | None = None, limit: int = 1 << 22) -> Iterator[np.ndarray]:
    """Keys lo * n + hi (lo < hi) of every pair of owners inside each group of >= 2, in
    chunks of about `limit` pairs (a group with more pairs than that comes row by row)."""
    ok = sizes >= 2 if max_size is None else (sizes >= 2) & (sizes <= max_size)
    for k in np.unique(sizes[ok]).tolist():
        group_starts = starts[sizes == k]
        per_group = k * (k - 1) // 2
        if per_group <= limit:
            a, c = np.triu_indices(k, 1)
            step = max(1, limit // per_group)
            for g in range(0, len(group_starts), step):
                block = owners[group_starts[g: g + step, None] + np.arange(k)]
                lo, hi = np.minimum(block[:, a], block[:, c]).ravel(), np.maximum(block[:, a], block[:, c]).ravel()
                yield lo * n + hi
            continue
        rows = max(1, limit // k)
        for start in group_starts.tolist():
            members = owners[start: start + k]
            for i0 in range(0, k - 1, rows):
                first = np.arange(i0, min(k - 1, i0 + rows))  # pairs (i, j > i) of these rows
                counts = k - 1 - first
                i = np.repeat(first, counts)
                j = np.arange(len(i)) - np.repeat(np.cumsum(counts) - counts, counts) + i + 1
                lo, hi = np.minimum(members[i], members[j]), np.maximum(members[i], members[j])
                yield lo * n + hi


_BAND_MULT = (np.random.RandomState(977).randint(0, 1 << 62, size=1024, dtype=np.uint64)
              * np.uint64(2) + np.uint64(1))


def overlap_pairs(hashes: np.ndarray, owner: np.ndarray, min_share: float, max_df: int = 200) -> np.ndarray:
    """Pairs (q, x), q != x, where at least `min_share` (minus `LSH_MARGIN`) of q's shingles
    are found in x: candidates for containment of q in x.

    `hashes` and `owner` list every (shingle, text id), each shingle once per text; callers may
    pass a consistent sample (``hash % k == 0`` for all texts), which keeps shared/|q| an
    unbiased estimate of containment (Broder's mod-sampling). An inverted index in numpy: sort
    by shingle, let each shingle shared by 2..`max_df` texts emit its pairs, count the shingles
    each pair shares with `np.unique`. Shingles in more than `max_df` texts (stock phrases)
    carry no evidence and would emit quadratically many pairs; they are left out of both the
    shared counts and the text sizes. Returns a sorted (M, 2) int64 array.
    """
    if len(hashes) == 0:
        return np.empty((0, 2), dtype=np.int64)
    if kernels.use_for(len(hashes)):
        return _overlap_pairs_compiled(hashes, owner, min_share, max_df)
    order = np.lexsort((owner, hashes))
    hashes, owner = hashes[order], owner[order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    df = np.diff(np.r_[starts, len(hashes)])
    n = int(owner.max()) + 1
    keys = list(_pairs_in_groups(owner, starts, df, n, max_size=max_df))
    if not keys:
        return np.empty((0, 2), dtype=np.int64)
    pair_keys, shared = np.unique(np.concatenate(keys), return_counts=True)
    lo, hi = pair_keys // n, pair_keys % n
    size_of = np.bincount(owner[np.repeat(df <= max_df, df)], minlength=n)
    cut = max(0.0, min_share - LSH_MARGIN)
    out = []
    for q, x in ((lo, hi), (hi, lo)):
        ok = shared >= cut * np.maximum(size_of[q], 1)
        out.append(np.stack([q[ok], x[ok]], axis=1))
    pairs = np.concatenate(out)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _overlap_pairs_compiled(hashes: np.ndarray, owner: np.ndarray, min_share: float, max_df: int) -> np.ndarray:
    """`overlap_pairs` by one inverted-index query per text (`kernels.containment_queries`):
    the same pairs, without materialising every co-occurring pair. `owner` must list each
    text's entries contiguously, in ascending id order (as `flatten` does)."""
    # Positions and rows are int32 (fewer than 2**31 entries): at a million paragraphs these
    # arrays are most of the run's peak memory.
    change = np.empty(len(owner), dtype=bool)
    change[0] = True
    np.not_equal(owner[1:], owner[:-1], out=change[1:])  # owners are grouped: no sort needed
    ids, row = owner[change], np.cumsum(change, dtype=np.int32) - 1
    row_offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=len(ids)), out=row_offsets[1:])
    order = np.argsort(hashes, kind="stable").astype(np.int32)  # ties stay in ascending owner order
    sorted_pos = np.empty_like(order)
    sorted_pos[order] = np.arange(len(order), dtype=np.int32)
    sorted_hashes = hashes[order]
    new_group = np.empty(len(order), dtype=bool)
    new_group[0] = True
    np.not_equal(sorted_hashes[1:], sorted_hashes[:-1], out=new_group[1:])
    del sorted_hashes
    group_start = np.flatnonzero(new_group)
    group_size = np.diff(np.r_[group_start, len(order)])
    group_of = np.cumsum(new_group, dtype=np.int32) - 1
    del new_group
    owner_sorted = row[order]
    del order, row
    query_size = np.bincount(owner_sorted[np.repeat(group_size <= max_df, group_size)], minlength=len(ids))
    cut = max(0.0, min_share - LSH_MARGIN)
    q, x = kernels.containment_queries(row_offsets, sorted_pos, group_of, group_start, group_size,
                                       owner_sorted, query_size, cut, max_df)
    pairs = np.stack([ids[q], ids[x]], axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def flatten(sets, ids=None) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, owner id) of every entry of a `sketch.ShingleSets` (only the sets of `ids`,
    positions, when given), for `overlap_pairs`."""
    if ids is not None:
        ids = np.asarray(ids, dtype=np.int64)
        sets = sets.take(ids, ids)
    owners = sets.ids if sets.ids is not None else np.arange(len(sets), dtype=np.int64)
    return sets.values, np.repeat(owners, np.diff(sets.offsets))


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
