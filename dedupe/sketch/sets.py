"""Shingle sets of many texts in one flat array, the exact set measures, and the batched
shingle-and-sign pass.

Exact Jaccard and containment live here and only here (`jaccard_of` and `containment_of` over
`ShingleSets.measures`): every candidate pair is verified with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

from .. import kernels
from .arrays import ranges
from .hashing import hash_words
from .minhash import minhash_batch
from .shingles import char_shingle_hashes, fold32, offsets_after, sample_mask, shingle_hashes

_BATCH = 8192
_BATCH_CHARS = 4_000_000
_CHARS_PER_WORD = 6  # the size of a text given by its word hashes, for `_batches`


@dataclass
class ShingleSets:
    """Sorted unique 64-bit shingle hashes of many texts in one flat array (CSR layout): set i
    is values[offsets[i]:offsets[i+1]]. `ids`, when given, names the sets (sorted ascending),
    and indexing is by id; otherwise by position. No per-set Python objects, so a million sets
    cost their hashes plus 8 bytes each."""

    values: np.ndarray
    offsets: np.ndarray
    ids: np.ndarray | None = None

    @staticmethod
    def concat(parts: Sequence["ShingleSets"], ids: np.ndarray | None = None) -> "ShingleSets":
        """The sets of all parts in order; `ids` names them (by default the parts' own ids,
        when every part has some)."""
        if ids is None and parts and all(p.ids is not None for p in parts):
            ids = np.concatenate([p.ids for p in parts])
        if not parts:
            return ShingleSets(np.empty(0, np.uint64), np.zeros(1, np.int64), ids)
        values = np.concatenate([p.values for p in parts])
        sizes = np.concatenate([np.diff(p.offsets) for p in parts])
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return ShingleSets(values, offsets, ids)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def rows(self, keys) -> np.ndarray:
        """Positions of the given ids (or positions themselves when the sets have no ids)."""
        keys = np.asarray(keys, dtype=np.int64)
        if self.ids is None:
            return keys
        pos = np.searchsorted(self.ids, keys)
        if len(keys) and (pos.max() >= len(self.ids) or np.any(self.ids[np.minimum(pos, len(self.ids) - 1)] != keys)):
            raise KeyError("set id not present")
        return pos

    def __getitem__(self, key: int) -> np.ndarray:
        return self._row(int(self.rows([key])[0]) if self.ids is not None else int(key))

    def sizes(self, keys=None) -> np.ndarray:
        """|A| of the given ids (of every set when None)."""
        return np.diff(self.offsets) if keys is None else self._sizes_at(self.rows(keys))

    def _sizes_at(self, rows: np.ndarray) -> np.ndarray:
        return self.offsets[rows + 1] - self.offsets[rows]  # O(len(rows)), not O(len(self))

    def merge(self, other: "ShingleSets") -> "ShingleSets":
        """The sets of both, named by their ids (no id in both), in ascending id order."""
        both = ShingleSets.concat([self, other])
        order = np.argsort(both.ids, kind="stable")
        return ShingleSets(both.values, both.offsets).take(order, both.ids[order])

    def take(self, keys, ids: np.ndarray | None = None) -> "ShingleSets":
        """The sets of the given ids (positions when the sets have no ids), named `ids`."""
        rows = self.rows(keys)
        sizes = self._sizes_at(rows)
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return ShingleSets(self.values[ranges(self.offsets[rows], sizes)], offsets, ids)

    def sample(self, rate: int) -> "ShingleSets":
        """The consistent 1-in-`rate` sample of every set (`shingles.sample_mask`): Jaccard and
        containment of samples estimate those of the full sets without bias, and a MinHash of a
        sample is a MinHash of that sampled set."""
        if rate == 1:
            return self
        keep = sample_mask(self.values, rate)
        return ShingleSets(self.values[keep], offsets_after(keep, self.offsets), self.ids)

    def intersections(self, a, b) -> np.ndarray:
        """|A ∩ B| for each pair of ids (a[i], b[i])."""
        return self._intersections_at(self.rows(a), self.rows(b))

    def _intersections_at(self, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
        if kernels.use_compiled(len(ra) * 64):  # about 64 set elements merged per pair
            return kernels.intersections(self.values, self.offsets, ra, rb)
        rows = self._row
        return np.array([_intersection_size(rows(i), rows(j)) for i, j in zip(ra.tolist(), rb.tolist())],
                        dtype=np.int64)

    def _row(self, position: int) -> np.ndarray:
        return self.values[self.offsets[position]: self.offsets[position + 1]]

    def measures(self, a, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(|A ∩ B|, |A|, |B|) for each pair of ids (a[i], b[i])."""
        ra, rb = self.rows(a), self.rows(b)
        return self._intersections_at(ra, rb), self._sizes_at(ra), self._sizes_at(rb)

    def jaccard(self, a, b) -> np.ndarray:
        """Exact Jaccard similarity |A ∩ B| / |A ∪ B| of each pair of ids (1.0 for two empty sets)."""
        return jaccard_of(*self.measures(a, b))

    def containment(self, a, b) -> np.ndarray:
        """Exact containment |A ∩ B| / |A| of each pair of ids (0.0 when A is empty)."""
        inter, size_a, _ = self.measures(a, b)
        return containment_of(inter, size_a)

    def similarity(self, u: int, v: int) -> float:
        """Exact Jaccard similarity of two sets, 1.0 for the same id (`jaccard` of one pair,
        without the array set-up: the policy asks this pair by pair)."""
        if u == v:
            return 1.0
        a, b = self[u], self[v]
        return float(jaccard_of(_intersection_size(a, b), len(a), len(b)))


def _intersection_size(a: np.ndarray, b: np.ndarray) -> int:
    """|A ∩ B| of two sorted unique arrays (the numpy reference of `kernels.intersections`)."""
    return len(np.intersect1d(a, b, assume_unique=True))


def jaccard_of(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """Jaccard similarity from intersection and set sizes (1.0 for two empty sets)."""
    union = size_a + size_b - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def containment_of(inter: np.ndarray, size_a: np.ndarray) -> np.ndarray:
    """Containment of A in B from |A ∩ B| and |A| (0.0 when A is empty)."""
    return np.where(size_a > 0, inter / np.maximum(size_a, 1), 0.0)


def word_shingle_sets(texts: Sequence[str], n: int, num_perm: int, seed: int, signatures: bool = True,
                      sets: bool | None = None) -> tuple[ShingleSets, np.ndarray | None]:
    """(sets, signatures) of the word n-gram shingles of many texts whose words are separated
    by single spaces (match keys): the exact sets as sorted unique 64-bit hashes (by default
    only when `signatures` is False), and the MinHash signatures (None when `signatures` is
    False)."""
    return _sketch(_lengths(texts), lambda lo, hi: shingle_hashes(*hash_words(texts[lo:hi]), n), num_perm, seed,
                   signatures, not signatures if sets is None else sets)


def word_hash_shingle_sets(words: np.ndarray, offsets: np.ndarray, n: int, num_perm: int, seed: int,
                           signatures: bool = True, sets: bool | None = None) -> tuple[ShingleSets, np.ndarray | None]:
    """`word_shingle_sets` of texts given by their word hashes (`hashing.hash_words`: text i's
    are words[offsets[i]:offsets[i+1]]), for a caller that needs the word hashes too."""
    def shingle(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        return shingle_hashes(words[offsets[lo]: offsets[hi]], offsets[lo: hi + 1] - offsets[lo], n)

    return _sketch(np.diff(offsets) * _CHARS_PER_WORD, shingle, num_perm, seed, signatures,
                   not signatures if sets is None else sets)


def stored_word_sets(store, ids: np.ndarray, n: int, num_perm: int, seed: int,
                     words: np.ndarray | None = None, chunk: int = 20_000) -> ShingleSets:
    """Exact word shingle sets of the texts `ids` (sorted) of a key store (anything with
    `get(ids) -> list[str]`), read and shingled `chunk` at a time and named by their ids; a text
    whose `words` count is 0 gets the empty text's set."""
    parts = []
    for lo in range(0, len(ids), chunk):
        part = ids[lo: lo + chunk]
        texts = store.get(part)
        if words is not None:
            texts = [t if w else "" for t, w in zip(texts, words[part].tolist())]
        sets, _ = word_shingle_sets(texts, n, num_perm, seed, signatures=False)
        parts.append(sets)
    return ShingleSets.concat(parts, ids=np.asarray(ids, dtype=np.int64))


def char_shingle_sets(texts: Sequence[str], n: int, num_perm: int, seed: int, signatures: bool = True,
                      sets: bool | None = None, rate: int = 1) -> tuple[ShingleSets, np.ndarray | None]:
    """As `word_shingle_sets`, for character (UTF-8 byte) n-gram shingles of texts, optionally
    of the consistent 1-in-`rate` sample of them (see `sample`)."""
    return _sketch(_lengths(texts), lambda lo, hi: char_shingle_hashes(texts[lo:hi], n, rate), num_perm, seed,
                   signatures, not signatures if sets is None else sets)


def _lengths(texts: Sequence[str]) -> np.ndarray:
    return np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))


def _sketch(lengths: np.ndarray, shingle: Callable[[int, int], tuple[np.ndarray, np.ndarray]], num_perm: int,
            seed: int, signatures: bool, want_sets: bool) -> tuple[ShingleSets, np.ndarray | None]:
    """`shingle(lo, hi)` gives (hashes, offsets) of the shingles of each of the items lo..hi-1,
    whose sizes in characters are `lengths`."""
    parts: list[ShingleSets] = []
    sigs = np.empty((len(lengths), num_perm), dtype=np.uint32) if signatures else None
    for lo, hi in _batches(lengths):
        hashes, sh_offsets = shingle(lo, hi)
        if sigs is not None:
            # A repeated shingle cannot change a minimum: no need to deduplicate for signing.
            sigs[lo:hi] = minhash_batch(fold32(hashes), sh_offsets, num_perm, seed)
        if want_sets:
            parts.append(ShingleSets(*unique_per_set(hashes, sh_offsets)))
    return ShingleSets.concat(parts), sigs  # no parts (empty sets) unless want_sets


def _batches(lengths: np.ndarray) -> Iterator[tuple[int, int]]:
    """(lo, hi) ranges of about _BATCH items or _BATCH_CHARS characters at most, for items of
    `lengths` characters (whole articles are character-shingled 8 bytes per character, so a
    batch is cut by size too).

    The ranges are of equal weight, not full ones and a remainder: a small remainder would fall
    below `kernels.MIN_WORK` and run on the numpy path, at several times the cost per item."""
    n = len(lengths)
    if n == 0:
        return
    weight = np.cumsum(np.maximum(lengths / _BATCH_CHARS, 1 / _BATCH))  # a full batch weighs 1
    parts = int(np.ceil(weight[-1]))
    cuts = np.searchsorted(weight, weight[-1] * np.arange(1, parts) / parts) + 1
    bounds = np.unique(np.concatenate([[0], cuts[cuts < n], [n]])).tolist()
    yield from zip(bounds[:-1], bounds[1:])


def unique_per_set(hashes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, offsets) with each hashes[offsets[i]:offsets[i+1]] sorted and deduplicated."""
    if kernels.use_compiled(len(hashes)):
        return kernels.unique_rows(hashes, offsets)
    owner = np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))
    order = np.lexsort((hashes, owner))
    values, owner = hashes[order], owner[order]
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = (values[1:] != values[:-1]) | (owner[1:] != owner[:-1])
    return values[keep], offsets_after(keep, offsets)
