"""Shingle sets and MinHash signatures of many sequences at once, in bounded batches."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .shingles import TokenHasher, char_tokens, fold32, shingle_hashes
from .signatures import minhash_batch

_BATCH = 8192


def word_shingle_sets(word_lists: Sequence[list[str]], n: int, num_perm: int, seed: int,
                      hasher: TokenHasher, signatures: bool = True, sets: bool | None = None
                      ) -> tuple[list[np.ndarray], np.ndarray | None]:
    """(sets, signatures) of many word sequences' n-gram shingles: the exact sets as sorted
    unique 64-bit hashes (by default only when `signatures` is False), and the MinHash
    signatures (None when `signatures` is False)."""
    def tokens(batch: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        offsets = np.zeros(len(batch) + 1, dtype=np.int64)
        np.cumsum([len(w) for w in batch], out=offsets[1:])
        return hasher.hash_words([w for words_ in batch for w in words_]), offsets

    return _sketch(word_lists, tokens, n, num_perm, seed, signatures, not signatures if sets is None else sets)


def char_shingle_sets(texts: Sequence[str], n: int, num_perm: int, seed: int, signatures: bool = True,
                      sets: bool | None = None, rate: int = 1) -> tuple[list[np.ndarray], np.ndarray | None]:
    """As `word_shingle_sets`, for character (UTF-8 byte) n-gram shingles of texts, optionally
    of the consistent 1-in-`rate` sample of them (see `sample`)."""
    return _sketch(texts, char_tokens, n, num_perm, seed, signatures,
                   not signatures if sets is None else sets, rate)


def _sketch(items: Sequence, tokenize: Callable, n: int, num_perm: int, seed: int,
            signatures: bool, want_sets: bool, rate: int = 1) -> tuple[list[np.ndarray], np.ndarray | None]:
    sets: list[np.ndarray] = []
    sigs = np.empty((len(items), num_perm), dtype=np.uint32) if signatures else None
    for lo in range(0, len(items), _BATCH):
        batch = items[lo: lo + _BATCH]
        token_hashes, offsets = tokenize(batch)
        hashes, sh_offsets = shingle_hashes(token_hashes, offsets, n)
        if rate > 1:
            keep = sample_mask(hashes, rate)
            owner = np.repeat(np.arange(len(batch), dtype=np.int64), np.diff(sh_offsets))
            hashes = hashes[keep]
            sh_offsets = np.zeros(len(batch) + 1, dtype=np.int64)
            np.cumsum(np.bincount(owner[keep], minlength=len(batch)), out=sh_offsets[1:])
        if sigs is not None:
            # A repeated shingle cannot change a minimum: no need to deduplicate for signing.
            sigs[lo: lo + len(batch)] = minhash_batch(fold32(hashes), sh_offsets, num_perm, seed)
        if want_sets:
            sets.extend(unique_per_set(hashes, sh_offsets))
    return sets, sigs


def unique_per_set(hashes: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    """Sorted unique values of each hashes[offsets[i]:offsets[i+1]]. (Sets are small: a loop of
    np.unique beats one global two-key sort here.)"""
    return [np.unique(hashes[offsets[i]: offsets[i + 1]]) for i in range(len(offsets) - 1)]


def sample_mask(hashes: np.ndarray, rate: int) -> np.ndarray:
    """Which shingles belong to the consistent 1-in-`rate` sample (Broder's mod-sampling).

    Decided on the high bits: the low bits of the position-weighted sums are not uniform (every
    character 5-gram hash is odd), the high bits are well mixed.
    """
    return (hashes >> np.uint64(40)) % np.uint64(rate) == 0


def sample(hashes: np.ndarray, rate: int) -> np.ndarray:
    """The 1-in-`rate` sample of a shingle set, consistent across all sets, so Jaccard and
    containment of samples estimate those of the full sets without bias, and a MinHash of the
    sample is a MinHash of that sampled set."""
    return hashes if rate == 1 else hashes[sample_mask(hashes, rate)]
