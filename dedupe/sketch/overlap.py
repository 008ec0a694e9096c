"""Containment candidates: pairs of texts where most of one's shingles are found in the other.

An inverted index over the shingles (numpy, or one compiled query per text for large inputs);
like LSH it only proposes pairs, which the `match` stage verifies on the exact sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import kernels
from .lsh import LSH_MARGIN, pairs_in_groups



def overlap_pairs(hashes: np.ndarray, owner: np.ndarray, min_share: float, max_df: int = 200,
                  threads: int = 1) -> np.ndarray:
    """Pairs (q, x), q != x, where at least `min_share` (minus `LSH_MARGIN`) of q's shingles
    are found in x: candidates for containment of q in x.

    `hashes` and `owner` list every (shingle, text id), each shingle once per text; callers may
    pass a consistent sample (``hash % k == 0`` for all texts), which keeps shared/|q| an
    unbiased estimate of containment (Broder's mod-sampling). Shingles in more than `max_df`
    texts (stock phrases) carry no evidence and would emit quadratically many pairs; they are
    left out of both the shared counts and the text sizes. Returns a sorted (M, 2) int64 array.
    The compiled queries run in `threads` threads.
    """
    pairs = overlap_counts(hashes, owner, min_share, max_df, threads).pairs
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


@dataclass(frozen=True)
class Overlaps:
    """Containment candidates (q, x) with the shingles they share and q's size (both without
    the shingles in more than `max_df` texts), in no particular order."""

    pairs: np.ndarray
    shared: np.ndarray
    size: np.ndarray

    def at_least(self, min_share: float) -> np.ndarray:
        """The pairs `overlap_pairs` gives for a `min_share` at or above the one these were
        found with."""
        cut = max(0.0, min_share - LSH_MARGIN)
        return self.pairs[self.shared >= cut * np.maximum(self.size, 1)]


def overlap_counts(hashes: np.ndarray, owner: np.ndarray, min_share: float, max_df: int = 200,
                   threads: int = 1) -> Overlaps:
    """`overlap_pairs` with their shared counts and sizes: one index query that serves several
    shares (`Overlaps.at_least`). An inverted index in numpy (sort by shingle, let each shingle
    shared by 2..`max_df` texts emit its pairs, count them with `np.unique`), or one compiled
    query per text for large inputs."""
    if len(hashes) == 0:
        return _overlaps(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64),
                         np.empty(0, np.int64))
    if kernels.use_compiled(len(hashes)):
        return _overlap_counts_compiled(hashes, owner, min_share, max_df, threads)
    order = np.lexsort((owner, hashes))
    hashes, owner = hashes[order], owner[order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    df = np.diff(np.r_[starts, len(hashes)])
    n = int(owner.max()) + 1
    keys = list(pairs_in_groups(owner, starts, df, n, max_size=max_df))
    if not keys:
        return _overlaps(*(np.empty(0, np.int64),) * 4)
    pair_keys, shared = np.unique(np.concatenate(keys), return_counts=True)
    lo, hi = pair_keys // n, pair_keys % n
    size_of = np.bincount(owner[np.repeat(df <= max_df, df)], minlength=n)
    cut = max(0.0, min_share - LSH_MARGIN)
    q = np.concatenate([lo, hi])
    x = np.concatenate([hi, lo])
    shared = np.concatenate([shared, shared])
    ok = shared >= cut * np.maximum(size_of[q], 1)
    return _overlaps(q[ok], x[ok], shared[ok], size_of[q[ok]])


def _overlaps(q: np.ndarray, x: np.ndarray, shared: np.ndarray, size: np.ndarray) -> Overlaps:
    return Overlaps(np.stack([q, x], axis=1).astype(np.int64, copy=False),
                    shared.astype(np.int64, copy=False), size.astype(np.int64, copy=False))


def _overlap_counts_compiled(hashes: np.ndarray, owner: np.ndarray, min_share: float, max_df: int,
                             threads: int = 1) -> Overlaps:
    """`overlap_counts` by one inverted-index query per text (`kernels.containment_queries`) over
    postings laid out by hashing (`kernels.inverted_index`): the same pairs, without sorting
    the entries or materialising every co-occurring pair. `owner` must list each text's
    entries contiguously, in ascending id order (as `flatten` does)."""
    # Rows and positions are int32 (fewer than 2**31 entries): at a million paragraphs these
    # arrays are most of the run's peak memory.
    change = np.empty(len(owner), dtype=bool)
    change[0] = True
    np.not_equal(owner[1:], owner[:-1], out=change[1:])  # owners are grouped: no sort needed
    starts = np.flatnonzero(change)
    ids, row = owner[starts], np.cumsum(change, dtype=np.int32) - 1
    del change
    row_offsets = np.append(starts, len(owner)).astype(np.int64)
    sorted_pos, group_of, group_start, group_size, owner_sorted, query_size = kernels.inverted_index(
        hashes, row, len(ids), max_df)
    del row
    cut = max(0.0, min_share - LSH_MARGIN)
    q, x, shared = kernels.containment_queries(row_offsets, sorted_pos, group_of, group_start, group_size,
                                               owner_sorted, query_size, cut, max_df, threads=threads)
    return _overlaps(ids[q], ids[x], shared, query_size[q])


def flatten(sets, ids=None) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, owner id) of every entry of a `sets.ShingleSets` (only the sets of `ids`,
    positions, when given), for `overlap_pairs`."""
    if ids is not None:
        ids = np.asarray(ids, dtype=np.int64)
        sets = sets.take(ids, ids)
    owners = sets.ids if sets.ids is not None else np.arange(len(sets), dtype=np.int64)
    return sets.values, np.repeat(owners, np.diff(sets.offsets))
