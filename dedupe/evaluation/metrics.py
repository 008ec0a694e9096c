"""Clustering metrics: pairwise precision/recall/F1 and the adjusted Rand index.

A clustering is given as a mapping item -> group id, where `None` means the item is in a group of
its own (a singleton). Pairs are never enumerated: everything is derived from the contingency table
of (true group, predicted group) counts, so a million items cost one pass and a `numpy.unique`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Mapping, Sequence, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)
GroupId = Hashable  # any hashable id; None = singleton


@dataclass(frozen=True)
class PairCounts:
    """Pair counts of two clusterings of the same `n_items` items.

    `true_pairs`: pairs in one true group; `pred_pairs`: pairs in one predicted group;
    `both`: pairs in one true group and in one predicted group.
    """

    n_items: int
    true_pairs: int
    pred_pairs: int
    both: int

    @property
    def total_pairs(self) -> int:
        """All unordered pairs of items, n choose 2."""
        return comb2(self.n_items)


@dataclass(frozen=True)
class PairScores:
    """Pairwise precision, recall and F1 of a predicted clustering against the true one.

    precision = both / pred_pairs, defined as 1.0 when there are no predicted pairs;
    recall = both / true_pairs, defined as 1.0 when there are no true pairs;
    f1 = harmonic mean of the two, 0.0 when both are 0.
    """

    precision: float
    recall: float
    f1: float
    true_pairs: int
    pred_pairs: int
    both: int


def comb2(n: int) -> int:
    """n choose 2."""
    return n * (n - 1) // 2


def _sum_comb2(counts: np.ndarray) -> int:
    """Sum of n choose 2 over an array of non-negative counts, as an exact Python int."""
    counts = counts.astype(np.int64, copy=False)
    # n <= number of items, so n*(n-1) stays far below 2**63 for any realistic input.
    return int((counts * (counts - 1) // 2).sum())


def encode_labels(labels: Sequence[GroupId | None]) -> np.ndarray:
    """Integer codes for `labels`: equal ids share a code, every `None` gets a fresh code."""
    codes: dict[GroupId, int] = {}
    out = np.empty(len(labels), dtype=np.int64)
    next_code = 0
    for i, label in enumerate(labels):
        if label is None:
            out[i] = next_code
            next_code += 1
            continue
        code = codes.get(label)
        if code is None:
            code = codes[label] = next_code
            next_code += 1
        out[i] = code
    return out


def pair_counts(
    true_labels: Sequence[GroupId | None], pred_labels: Sequence[GroupId | None]
) -> PairCounts:
    """Pair counts of two aligned label sequences (position i is the same item in both)."""
    if len(true_labels) != len(pred_labels):
        raise ValueError(
            "label sequences differ in length: "
            f"{len(true_labels)} true, {len(pred_labels)} predicted"
        )
    true_codes = encode_labels(true_labels)
    pred_codes = encode_labels(pred_labels)
    return pair_counts_from_codes(true_codes, pred_codes)


def pair_counts_from_codes(true_codes: np.ndarray, pred_codes: np.ndarray) -> PairCounts:
    """Pair counts of two aligned arrays of non-negative integer cluster codes."""
    n = len(true_codes)
    if n == 0:
        return PairCounts(0, 0, 0, 0)
    # Cells of the contingency table, one joint code per (true, pred) combination.
    joint = true_codes * (int(pred_codes.max()) + 1) + pred_codes
    _, cell_sizes = np.unique(joint, return_counts=True)
    return PairCounts(
        n_items=n,
        true_pairs=_sum_comb2(np.bincount(true_codes)),
        pred_pairs=_sum_comb2(np.bincount(pred_codes)),
        both=_sum_comb2(cell_sizes),
    )


def _aligned(
    true_groups: Mapping[K, GroupId | None], pred_groups: Mapping[K, GroupId | None]
) -> PairCounts:
    """Pair counts of two mappings over exactly the same items."""
    if true_groups.keys() != pred_groups.keys():
        only_true = len(true_groups.keys() - pred_groups.keys())
        only_pred = len(pred_groups.keys() - true_groups.keys())
        raise ValueError(
            "clusterings cover different items: "
            f"{only_true} only in the true one, {only_pred} only in the predicted one"
        )
    keys = list(true_groups)
    return pair_counts([true_groups[k] for k in keys], [pred_groups[k] for k in keys])


def scores_from_counts(counts: PairCounts) -> PairScores:
    """Pairwise precision/recall/F1 from pair counts (see `PairScores` for the edge cases)."""
    precision = counts.both / counts.pred_pairs if counts.pred_pairs else 1.0
    recall = counts.both / counts.true_pairs if counts.true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScores(
        precision=precision,
        recall=recall,
        f1=f1,
        true_pairs=counts.true_pairs,
        pred_pairs=counts.pred_pairs,
        both=counts.both,
    )


def pair_scores(
    true_groups: Mapping[K, GroupId | None], pred_groups: Mapping[K, GroupId | None]
) -> PairScores:
    """Pairwise precision, recall and F1 of `pred_groups` against `true_groups`.

    Both map the same items to a group id (`None` = singleton); a pair is two items in one group.
    Precision is 1.0 when nothing is predicted as a pair, recall 1.0 when there is no true pair.
    Raises ValueError when the two mappings do not have the same keys.
    """
    return scores_from_counts(_aligned(true_groups, pred_groups))


def ari_from_counts(counts: PairCounts) -> float:
    """Adjusted Rand index from pair counts; see `adjusted_rand_index`."""
    both, a, b, n = counts.both, counts.true_pairs, counts.pred_pairs, counts.total_pairs
    # The formula multiplied through by 2 * C(n, 2) so that it stays in exact integers.
    numerator = 2 * (both * n - a * b)
    denominator = (a + b) * n - 2 * a * b
    if denominator == 0:
        # Only when both clusterings are all singletons, both are one group, or n < 2:
        # then they are identical and the index is 1 by convention.
        return 1.0
    return numerator / denominator


def adjusted_rand_index(
    true_groups: Mapping[K, GroupId | None], pred_groups: Mapping[K, GroupId | None]
) -> float:
    """Adjusted Rand index (Hubert & Arabie, 1985) of two clusterings of the same items.

    With n_ij the contingency table, a_i its row sums, b_j its column sums and C(x, 2) = x(x-1)/2:

        index    = sum_ij C(n_ij, 2)
        expected = sum_i C(a_i, 2) * sum_j C(b_j, 2) / C(n, 2)
        maximum  = (sum_i C(a_i, 2) + sum_j C(b_j, 2)) / 2
        ARI      = (index - expected) / (maximum - expected)

    1.0 for identical clusterings (including the trivial ones where the denominator is 0: all
    singletons, one single group, fewer than two items), about 0.0 for chance agreement, and
    negative below chance. `None` = singleton. Raises ValueError when the keys differ.
    """
    return ari_from_counts(_aligned(true_groups, pred_groups))
