"""Shingle sets and MinHash signatures of many sequences at once, in bounded batches."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .shingles import TokenHasher, char_tokens, fold32, shingle_hashes
from .signatures import minhash_batch

_BATCH = 8192


def word_shingle_sets(word_lists: Sequence[list[str]], n: int, num_perm: int, seed: int,
                      hasher: TokenHasher, signatures: bool = True
                      ) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Sorted unique word n-gram hashes (and signatures) of many word sequences."""
    def tokens(batch: Sequence[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        offsets = np.zeros(len(batch) + 1, dtype=np.int64)
        np.cumsum([len(w) for w in batch], out=offsets[1:])
        return hasher.hash_words([w for words_ in batch for w in words_]), offsets

    return _sketch(word_lists, tokens, n, num_perm, seed, signatures)


def char_shingle_sets(texts: Sequence[str], n: int, num_perm: int, seed: int, signatures: bool = True
                      ) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Sorted unique character (UTF-8 byte) n-gram hashes (and signatures) of many texts."""
    return _sketch(texts, char_tokens, n, num_perm, seed, signatures)


def _sketch(items: Sequence, tokenize: Callable, n: int, num_perm: int, seed: int,
            signatures: bool) -> tuple[list[np.ndarray], np.ndarray | None]:
    sets: list[np.ndarray] = []
    sigs = np.empty((len(items), num_perm), dtype=np.uint32) if signatures else None
    for lo in range(0, len(items), _BATCH):
        batch = items[lo: lo + _BATCH]
        token_hashes, offsets = tokenize(batch)
        hashes, sh_offsets = shingle_hashes(token_hashes, offsets, n)
        uniq = [np.unique(hashes[sh_offsets[i]: sh_offsets[i + 1]]) for i in range(len(batch))]
        if sigs is not None:
            u_offsets = np.zeros(len(batch) + 1, dtype=np.int64)
            np.cumsum([len(u) for u in uniq], out=u_offsets[1:])
            flat = np.concatenate(uniq) if uniq else np.empty(0, dtype=np.uint64)
            sigs[lo: lo + len(batch)] = minhash_batch(fold32(flat), u_offsets, num_perm, seed)
        sets.extend(uniq)
    return sets, sigs


def sample(hashes: np.ndarray, rate: int) -> np.ndarray:
    """The shingles with hash % rate == 0: a consistent sample across all sets (Broder)."""
    return hashes if rate == 1 else hashes[hashes % np.uint64(rate) == 0]
