r"""Every hashing constant and mixing function, defined once.

Cluster ids and signatures derive from these values, so they are fixed forever. The mixing
functions are written with plain operators on numpy integer types so that one definition serves
numpy arrays (the reference code paths) and numba scalars (`kernels.compiled` compiles these
very functions).

- Words: FNV-1a over the UTF-8 bytes, then MurmurHash3's fmix64 (FNV alone mixes its high bits
  poorly): `word_hash`, and `hash_words` for a whole batch.
- n-gram shingles: position-weighted sums :math:`H_i = \sum_k K_k t_{i+k} \bmod 2^{64}` with
  the odd multipliers `SHINGLE_MULT`; a sequence shorter than n is one shingle salted with its
  length (`SHORT_SALT`); character shingles hash each byte with `BYTE_HASHES` first.
- MinHash (datasketch's ``affine32``): fmix32 of the 32-bit input hash (`fmix32`).
- LSH bands: r signature values combined with the odd multipliers `BAND_MULT`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import kernels

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)

_FMIX64_MULT_1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX64_MULT_2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT_33 = np.uint64(33)
_FMIX32_MULT_1 = np.uint32(0x85EBCA6B)
_FMIX32_MULT_2 = np.uint32(0xC2B2AE35)
_SHIFT_16 = np.uint32(16)
_SHIFT_13 = np.uint32(13)

_rng = np.random.RandomState(20240229)  # draw order matters: K, then salts, then byte hashes
SHINGLE_MULT = _rng.randint(0, 1 << 62, size=64, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
SHORT_SALT = _rng.randint(0, 1 << 62, size=64, dtype=np.uint64)
BYTE_HASHES = _rng.randint(0, 1 << 62, size=256, dtype=np.uint64) * np.uint64(4) + np.uint64(1)
BAND_MULT = (np.random.RandomState(977).randint(0, 1 << 62, size=1024, dtype=np.uint64)
             * np.uint64(2) + np.uint64(1))
del _rng


def fmix64(h):
    """MurmurHash3's 64-bit finalizer (wrapping uint64 arithmetic), of a uint64 array or scalar."""
    h = h ^ (h >> _SHIFT_33)
    h = h * _FMIX64_MULT_1
    h = h ^ (h >> _SHIFT_33)
    h = h * _FMIX64_MULT_2
    return h ^ (h >> _SHIFT_33)


def fmix32(h):
    """MurmurHash3's 32-bit finalizer (datasketch's pre-mix), of a uint32 array or scalar.

    The casts keep numba's scalar arithmetic (which widens) at 32 bits, as numpy's is."""
    h = h ^ (h >> _SHIFT_16)
    h = np.uint32(h * _FMIX32_MULT_1)
    h = h ^ (h >> _SHIFT_13)
    h = np.uint32(h * _FMIX32_MULT_2)
    return h ^ (h >> _SHIFT_16)


def word_hash(word: str) -> int:
    """64-bit hash of one word (FNV-1a, then fmix64); `hash_words` of a one-word text."""
    hashes, _ = hash_words([word])
    return int(hashes[0])


def hash_words(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(word hashes, offsets) of texts whose words are separated by single spaces (match keys):
    the words of text i hash to hashes[offsets[i]:offsets[i+1]].

    The texts are joined into one UTF-8 buffer and split and hashed there (numpy, or one
    compiled loop for large batches): no per-word Python objects.
    """
    return hash_joined_words("\n".join(texts).encode("utf-8"), len(texts))


def hash_joined_words(joined: bytes, n_texts: int) -> tuple[np.ndarray, np.ndarray]:
    """`hash_words` of `n_texts` texts given as their UTF-8 bytes joined by newlines (for a
    caller that has the bytes already)."""
    buf = np.frombuffer(joined, dtype=np.uint8)
    offsets = np.zeros(n_texts + 1, dtype=np.int64)
    if kernels.use_compiled(len(buf) // 6):  # about one word per six bytes
        counts = np.zeros(n_texts, dtype=np.int64)
        out = np.empty(len(buf) // 2 + 1, dtype=np.uint64)
        used = kernels.hash_words(buf, counts, out)
        np.cumsum(counts, out=offsets[1:])
        return out[:used].copy(), offsets
    sep = (buf == 0x20) | (buf == 0x0A)
    inside = ~sep
    starts = np.flatnonzero(inside & np.r_[True, sep[:-1]])
    ends = np.flatnonzero(inside & np.r_[sep[1:], True]) + 1
    lengths = ends - starts
    h = np.full(len(starts), FNV_OFFSET, dtype=np.uint64)
    for j in range(int(lengths.max()) if len(lengths) else 0):
        active = np.flatnonzero(lengths > j)
        h[active] = (h[active] ^ buf[starts[active] + j]) * FNV_PRIME
    h = fmix64(h)
    text_of = np.cumsum(buf == 0x0A)[starts] if len(starts) else starts
    np.cumsum(np.bincount(text_of, minlength=n_texts), out=offsets[1:])
    return h, offsets
