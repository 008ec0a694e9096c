r"""Word n-gram shingles as 64-bit hashes, computed in numpy without building n-gram strings.

Each word is hashed (`word_hash`: FNV-1a + fmix64) straight from the UTF-8 bytes of the batch. The hash of the n-gram starting at word i is a
position-weighted sum modulo 2^64,

.. math::  H_i = \sum_{k=0}^{n-1} K_k \cdot t_{i+k} \bmod 2^{64},

with fixed odd multipliers :math:`K_k`, so one vectorised pass per position k hashes every
n-gram of a batch. A segment with fewer than n words (a caption such as "Load video") becomes a
single shingle of all its words, salted with its length, so short texts neither vanish nor
collide with the n-grams of longer ones. `shingle_hash` computes the same value for one shingle
given as a string, which makes our signatures reproducible with plain datasketch (see
`signatures.py`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import kernels

_MASK64 = (1 << 64) - 1
_rng = np.random.RandomState(20240229)
# Odd multipliers per position, and a salt per short length; fixed forever (ids depend on them).
_K = (_rng.randint(0, 1 << 62, size=64, dtype=np.uint64) * np.uint64(2) + np.uint64(1))
_SHORT_SALT = _rng.randint(0, 1 << 62, size=64, dtype=np.uint64)
MAX_SHINGLE_SIZE = 32


_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3


def word_hash(word: str) -> int:
    """64-bit hash of one word: FNV-1a over its UTF-8 bytes, then MurmurHash3's fmix64
    finalizer (FNV alone mixes its high bits poorly). `hash_words` computes the same for
    every word of a batch at once."""
    h = _FNV_OFFSET
    for byte in word.encode("utf-8"):
        h = ((h ^ byte) * _FNV_PRIME) & _MASK64
    return _fmix64(h)


def _fmix64(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


def hash_words(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(word hashes, offsets) of texts whose words are separated by single spaces (match keys):
    the words of text i hash to hashes[offsets[i]:offsets[i+1]] (`word_hash` of each).

    The texts are joined into one UTF-8 buffer and split and hashed there, in numpy or in one
    compiled loop for large batches: no per-word Python objects.
    """
    buf = np.frombuffer("\n".join(texts).encode("utf-8"), dtype=np.uint8)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    if kernels.use_for(len(buf) // 6):
        counts = np.zeros(len(texts), dtype=np.int64)
        out = np.empty(len(buf) // 2 + 1, dtype=np.uint64)
        used = kernels.hash_words(buf, counts, out)
        np.cumsum(counts, out=offsets[1:])
        return out[:used].copy(), offsets
    sep = (buf == 0x20) | (buf == 0x0A)
    inside = ~sep
    starts = np.flatnonzero(inside & np.r_[True, sep[:-1]])
    ends = np.flatnonzero(inside & np.r_[sep[1:], True]) + 1
    lengths = ends - starts
    h = np.full(len(starts), _FNV_OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(int(lengths.max()) if len(lengths) else 0):
            active = np.flatnonzero(lengths > j)
            h[active] = (h[active] ^ buf[starts[active] + j]) * np.uint64(_FNV_PRIME)
        h = fmix64(h)
    text_of = np.cumsum(buf == 0x0A)[starts] if len(starts) else starts
    np.cumsum(np.bincount(text_of, minlength=len(texts)), out=offsets[1:])
    return h, offsets


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, element-wise (wrapping uint64 arithmetic)."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xFF51AFD7ED558CCD)
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xC4CEB9FE1A85EC53)
        return h ^ (h >> np.uint64(33))


def shingle_hashes(token_hashes: np.ndarray, offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of many token sequences at once.

    Args:
        token_hashes: uint64 hashes of all tokens, sequences concatenated.
        offsets: int64 array of length S+1; sequence s is tokens[offsets[s]:offsets[s+1]].
        n: shingle size in words.

    Returns:
        (hashes, shingle_offsets): uint64 shingle hashes of all sequences concatenated, and the
        int64 offsets of each sequence's shingles (sequences with no tokens have none).
        Duplicates within a sequence are kept; callers dedupe where it matters.
    """
    if not 1 <= n <= MAX_SHINGLE_SIZE:
        raise ValueError(f"shingle size must be in 1..{MAX_SHINGLE_SIZE}")
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    counts = np.where(lengths >= n, lengths - n + 1, np.minimum(lengths, 1))
    shingle_offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(counts, out=shingle_offsets[1:])
    out = np.empty(int(shingle_offsets[-1]), dtype=np.uint64)
    if kernels.use_for(len(out)):
        kernels.shingles(np.asarray(token_hashes, dtype=np.uint64), offsets, n, _K, _SHORT_SALT,
                         shingle_offsets, out)
        return out, shingle_offsets

    with np.errstate(over="ignore"):
        total = len(token_hashes)
        long_seq = lengths >= n
        if total >= n and long_seq.any():
            windows = np.zeros(total - n + 1, dtype=np.uint64)
            for k in range(n):
                windows += token_hashes[k: total - n + 1 + k] * _K[k]
            # Window i is a shingle iff it starts in a long sequence and ends inside it:
            # the j-th shingle of sequence s is window offsets[s] + j.
            long_counts = counts[long_seq]
            block = np.zeros(len(long_counts), dtype=np.int64)
            np.cumsum(long_counts[:-1], out=block[1:])
            j = np.arange(int(long_counts.sum()), dtype=np.int64) - np.repeat(block, long_counts)
            out[np.repeat(shingle_offsets[:-1][long_seq], long_counts) + j] = \
                windows[np.repeat(offsets[:-1][long_seq], long_counts) + j]
        short = (lengths > 0) & (lengths < n)
        if short.any():
            s_start = offsets[:-1][short]
            s_len = lengths[short]
            acc = _SHORT_SALT[s_len].copy()
            for k in range(n - 1):
                has_k = s_len > k
                acc[has_k] += token_hashes[s_start[has_k] + k] * _K[k]
            out[shingle_offsets[:-1][short]] = acc
    return out, shingle_offsets


_BYTE_HASHES = _rng.randint(0, 1 << 62, size=256, dtype=np.uint64) * np.uint64(4) + np.uint64(1)


def char_tokens(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-byte token hashes and offsets of UTF-8 texts, for character n-gram shingles.

    Character shingles survive OCR-like noise far better than word shingles (one wrong letter
    breaks n word n-grams but only n character n-grams of a much larger set), which is what
    matching whole syndicated articles needs. Bytes stand in for characters: identical for ASCII,
    and still a consistent shingling for other scripts.
    """
    flat, offsets = _utf8(texts)
    return _BYTE_HASHES[flat], offsets


def char_shingle_hashes(texts: Sequence[str], n: int, rate: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """`shingle_hashes` of `char_tokens`, only the consistent 1-in-`rate` sample of each
    text's shingles (`sample_mask`); (hashes, offsets) as `shingle_hashes` returns them."""
    if not 1 <= n <= MAX_SHINGLE_SIZE:
        raise ValueError(f"shingle size must be in 1..{MAX_SHINGLE_SIZE}")
    flat, offsets = _utf8(texts)
    if kernels.use_for(len(flat)):
        return kernels.char_shingles(flat, offsets, n, _BYTE_HASHES, _K, _SHORT_SALT, rate)
    hashes, sh_offsets = shingle_hashes(_BYTE_HASHES[flat], offsets, n)
    if rate == 1:
        return hashes, sh_offsets
    keep = sample_mask(hashes, rate)
    return hashes[keep], offsets_after(keep, sh_offsets)


def sample_mask(hashes: np.ndarray, rate: int) -> np.ndarray:
    """Which shingles belong to the consistent 1-in-`rate` sample (Broder's mod-sampling).

    Decided on the high bits: the low bits of the position-weighted sums are not uniform (every
    character 5-gram hash is odd), the high bits are well mixed.
    """
    return (hashes >> np.uint64(40)) % np.uint64(rate) == 0


def offsets_after(keep: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Offsets of the same sets after dropping the entries where `keep` is False."""
    kept_before = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(keep, out=kept_before[1:])
    return kept_before[offsets]


def _utf8(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of all texts concatenated, and each text's byte offsets."""
    data = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return np.frombuffer(b"".join(data), dtype=np.uint8), offsets


def fold32(hashes: np.ndarray) -> np.ndarray:
    """Fold 64-bit shingle hashes to the 32-bit values MinHash's affine32 scheme takes."""
    return ((hashes >> np.uint64(32)) ^ hashes).astype(np.uint32)


def shingle_hash(shingle: bytes | str, n: int) -> int:
    """The 32-bit hash of one shingle given as its words joined by spaces.

    `functools.partial(shingle_hash, n=5)` is a datasketch `hashfunc`: a `MinHash` updated with
    every shingle string of a segment has exactly the hash values `signatures.minhash_batch`
    computes for it.
    """
    if isinstance(shingle, bytes):
        shingle = shingle.decode("utf-8")
    words = shingle.split(" ")
    acc = 0 if len(words) >= n else int(_SHORT_SALT[len(words)])
    for k, word in enumerate(words):
        acc = (acc + int(_K[k]) * word_hash(word)) & _MASK64
    return ((acc >> 32) ^ acc) & 0xFFFFFFFF


def shingle_strings(words: list[str], n: int) -> list[str]:
    """The shingles of one word sequence as strings (for tests and the naive baseline)."""
    if len(words) >= n:
        return [" ".join(words[i: i + n]) for i in range(len(words) - n + 1)]
    return [" ".join(words)] if words else []
