"""MinHash LSH: candidate pairs of texts whose signatures share a band.

Candidates only propose pairs: the `match` stage verifies every one on the exact shingle sets
(`sets.ShingleSets`), so a false candidate never reaches a cluster. To keep recall high for
pairs just above the threshold, the bands are chosen for a threshold `LSH_MARGIN` below the one
verified (the S-curve of b bands of r rows is not a step). Small runs use datasketch's
`MinHashLSH` itself; large ones group equal band values with a numpy sort (`band_pairs`, the
same pairs).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .hashing import BAND_MULT
from .minhash import lean_minhash

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
    mult = BAND_MULT[:r]
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
                keys.extend(pairs_in_groups(owners, starts, sizes, n))
                continue
            # Pairs near the threshold collide in many bands: keep one running set, and screen
            # the band's pairs in bounded chunks (a band value shared by thousands of long
            # articles would otherwise materialise millions of pairs at once).
            kept = []
            for band_keys in pairs_in_groups(owners, starts, sizes, n):
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


def pairs_in_groups(owners: np.ndarray, starts: np.ndarray, sizes: np.ndarray, n: int,
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


def _as_pairs(pairs: Iterable[tuple[int, int]]) -> np.ndarray:
    arr = np.array(sorted(pairs), dtype=np.int64)
    return arr.reshape(-1, 2)


def estimated_jaccard(signatures: np.ndarray, pairs: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """MinHash estimate of the Jaccard similarity of each pair: the share of equal positions."""
    out = np.empty(len(pairs))
    for lo in range(0, len(pairs), chunk):
        a, b = pairs[lo: lo + chunk, 0], pairs[lo: lo + chunk, 1]
        out[lo: lo + chunk] = (signatures[a] == signatures[b]).mean(axis=1)
    return out
