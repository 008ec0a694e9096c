"""MinHash LSH: candidate pairs of texts whose signatures share a band.

Candidates only propose pairs: the `match` stage verifies every one on the exact shingle sets
(`sets.ShingleSets`), so a false candidate never reaches a cluster. To keep recall high for
pairs just above the threshold, the bands are chosen for a threshold `LSH_MARGIN` below the one
verified (the S-curve of b bands of r rows is not a step). Small runs use datasketch's
`MinHashLSH` itself; large ones group equal band values with a numpy sort (`band_pairs`, the
same pairs).

A bucket (texts sharing one band value) of more than MAX_BUCKET texts is never expanded into
its pairs, which grow with the square of its size: it is returned whole (`Candidates.buckets`),
and the match stage links each member to one of a few verified leaders (`match.leaders`). A
pair split that way is still a candidate in every band where its bucket is small.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .. import kernels
from .arrays import distinct, ranges
from .hashing import BAND_MULT
from .minhash import lean_minhash

LSH_MARGIN = 0.2
DOC_LSH_MARGIN = 0.1  # whole articles; candidates are then screened by MinHash estimates


MIN_LSH_THRESHOLD = 0.05
SCREEN_FROM = 5_000  # texts; from this many, LSH screens each band's pairs by MinHash estimate
MAX_BUCKET = 32
"""Texts sharing one band value up to which all their pairs are candidates; a larger bucket
(template pages, furniture) is linked through a few leaders instead (`match.leaders`)."""


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


@dataclass(frozen=True)
class Buckets:
    """Groups of texts in CSR layout: bucket i is members[offsets[i]:offsets[i+1]], ascending."""

    members: np.ndarray
    offsets: np.ndarray

    @staticmethod
    def of(members: np.ndarray, sizes: np.ndarray) -> "Buckets":
        """Consecutive buckets of the given sizes."""
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return Buckets(np.asarray(members, dtype=np.int64), offsets)

    @staticmethod
    def empty() -> "Buckets":
        return Buckets.of(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def labels(self) -> np.ndarray:
        """The bucket index of each entry of `members`."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets))


@dataclass(frozen=True)
class Candidates:
    """What LSH proposes: every pair inside a band bucket of at most `max_bucket` texts, and
    the larger buckets whole, for the caller to link through a few leaders each
    (`match.leaders`) instead of all their pairs."""

    pairs: np.ndarray
    """Sorted (M, 2) int64 array of pairs (i, j), i < j."""
    buckets: Buckets
    """Band buckets of more than `max_bucket` texts (a bucket found in several bands repeats)."""


def lsh_candidates(signatures: np.ndarray, ids: Sequence[int], threshold: float, seed: int,
                   backend: str = "numpy", margin: float = LSH_MARGIN,
                   screen: Callable[[np.ndarray], np.ndarray] | None = None,
                   max_bucket: int = MAX_BUCKET) -> Candidates:
    """Candidates among `ids`: the pairs whose signatures share an LSH band in a bucket of at
    most `max_bucket` texts, and the larger buckets.

    Bands and rows are datasketch's choice for `threshold - margin`, so with b bands a text
    gets at most b * (max_bucket - 1) candidate pairs, however many texts share its band
    values. `backend`: `numpy` groups equal band values with a sort (`band_pairs`);
    `datasketch` queries a `MinHashLSH` instead, which gives the same pairs (tests check it)
    but every pair of a large bucket, so it is used only when no bucket is large. Runs use
    numpy at every size: importing datasketch's LSH imports scipy, 0.6 s, more than a small
    run's whole matching. `screen` (numpy only) filters each band's pairs as they are found,
    so candidates that a caller would discard anyway never accumulate.
    """
    ids = distinct(np.asarray(ids, dtype=np.int64))
    if len(ids) < 2:
        return Candidates(np.empty((0, 2), dtype=np.int64), Buckets.empty())
    b, r = lsh_params(max(MIN_LSH_THRESHOLD, threshold - margin), signatures.shape[1])
    found = band_pairs(signatures, ids, b, r, screen=screen, max_bucket=max_bucket)
    if backend == "datasketch" and screen is None and len(found.buckets) == 0:
        return replace(found, pairs=datasketch_pairs(signatures, ids, b, r, seed))
    return found


def datasketch_pairs(signatures: np.ndarray, ids: np.ndarray, b: int, r: int, seed: int) -> np.ndarray:
    """Every pair (i, j), i < j, of `ids` that datasketch's `MinHashLSH` with `b` bands of `r`
    rows returns (all pairs of every bucket), as a sorted (M, 2) int64 array."""
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
               pass_bytes: int = 64 << 20, max_bucket: int | None = None) -> Candidates:
    """The pairs `MinHashLSH` with `b` bands of `r` rows would return, computed with numpy,
    except those only found in buckets of more than `max_bucket` texts (None: no limit),
    which are returned as buckets. `ids` must be ascending.

    For each band, the r hash values of every signature are combined into one 64-bit value
    (a fixed odd-multiplier polynomial; distinct bands collide with probability ~2^-64, and any
    such false candidate is rejected by the exact verification that follows); sorting those
    values groups the texts that share the band, and every pair inside a group is a candidate.
    Signatures are read in chunks, so a memory-mapped signature file is never loaded whole.
    """
    keys: list[np.ndarray] = []
    large_members, large_sizes = [], []
    n = int(ids.max()) + 1
    for owners, starts, sizes in _band_groups(signatures, ids, b, r, chunk, pass_bytes):
        if max_bucket is not None:
            big = sizes > max_bucket
            large_members.append(owners[ranges(starts[big], sizes[big])])
            large_sizes.append(sizes[big])
        groups = pairs_in_groups(owners, starts, sizes, n, max_size=max_bucket)
        if screen is None:
            keys.extend(groups)
            continue
        # Pairs near the threshold collide in many bands: keep one running set, and screen
        # the band's pairs in bounded chunks (a band value shared by thousands of long
        # articles would otherwise materialise millions of pairs at once).
        kept = []
        for band_keys in groups:
            found = distinct(band_keys)
            found = found[_absent(found, keys[0])] if keys else found
            kept.append(found[screen(np.stack([found // n, found % n], axis=1))])
        if kept:
            keys = [distinct(np.concatenate(keys + kept))]
    pair_keys = distinct(np.concatenate(keys)) if keys else np.empty(0, dtype=np.int64)
    buckets = Buckets.of(np.concatenate(large_members), np.concatenate(large_sizes)) if large_members \
        else Buckets.empty()
    return Candidates(np.stack([pair_keys // n, pair_keys % n], axis=1), buckets)


def _band_groups(signatures: np.ndarray, ids: np.ndarray, b: int, r: int, chunk: int,
                 pass_bytes: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per band: (`ids` grouped by band value, each group's ids ascending; start and size of
    each group), the texts sharing each band value. Groups come in order of value (a sort), or
    of first appearance (a hash table, `kernels.inverted_index`, 3x faster); every caller
    treats them as a set."""
    # Bands are hashed a few at a time, reading the signature rows once per group of bands:
    # fewer passes over a file-backed matrix, and at most `pass_bytes` of band values at a time.
    per_pass = int(max(1, min(b, pass_bytes // (8 * len(ids)))))
    for first in range(0, b, per_pass):
        bands = range(first, min(b, first + per_pass))
        values = np.empty((len(bands), len(ids)), dtype=np.uint64)
        for lo in range(0, len(ids), chunk):
            values[:, lo: lo + chunk] = band_values(signatures[ids[lo: lo + chunk], first * r: bands[-1] * r + r], r)
        hashed = kernels.use_compiled(len(ids))
        rows = np.arange(len(ids), dtype=np.int32) if hashed else None
        for i in range(len(bands)):
            if hashed:
                _, _, starts, sizes, owners, _ = kernels.inverted_index(values[i], rows, len(ids), len(ids))
                yield ids[owners], starts.astype(np.int64), sizes.astype(np.int64)
                continue
            order = np.argsort(values[i], kind="stable")
            sorted_values = values[i][order]
            starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
            yield ids[order], starts, np.diff(np.r_[starts, len(sorted_values)])


def band_values(rows: np.ndarray, r: int) -> np.ndarray:
    """(bands, len(rows)) uint64: the value of each band of `r` consecutive signature columns,
    the r values combined with the odd multipliers `BAND_MULT` (wrapping)."""
    rows = np.asarray(rows)
    bands = rows.shape[1] // r
    by_row = rows[:, :bands * r].reshape(len(rows), bands, r)
    # Accumulated row-major (each step reads the rows in memory order), transposed once at the
    # end: 3x faster than accumulating into the (bands, rows) layout through a transposed view.
    out = np.zeros((len(rows), bands), dtype=np.uint64)
    term = np.empty_like(out)
    with np.errstate(over="ignore"):
        for k in range(r):  # one multiply-add per row of the bands, over every band at once (wrapping)
            np.multiply(by_row[:, :, k], BAND_MULT[k], out=term, dtype=np.uint64, casting="unsafe")
            out += term
    return np.ascontiguousarray(out.T)


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


def _absent(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Which of `values` are not in `known` (sorted, distinct): a binary search each, so a
    chunk costs O(len(values) log len(known)), not a sort of both."""
    if len(known) == 0:
        return np.ones(len(values), dtype=bool)
    return known[np.minimum(np.searchsorted(known, values), len(known) - 1)] != values


def _as_pairs(pairs: Iterable[tuple[int, int]]) -> np.ndarray:
    arr = np.array(sorted(pairs), dtype=np.int64)
    return arr.reshape(-1, 2)


def estimated_jaccard(signatures: np.ndarray, pairs: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """MinHash estimate of the Jaccard similarity of each pair: the share of equal positions."""
    out = np.empty(len(pairs))
    for lo in range(0, len(pairs), chunk):
        a, b = pairs[lo: lo + chunk, 0], pairs[lo: lo + chunk, 1]
        # count / width: the same float as .mean() of the booleans, without a float copy
        out[lo: lo + chunk] = np.count_nonzero(signatures[a] == signatures[b], axis=1) / signatures.shape[1]
    return out
