"""The hashing constants and mixing functions: one definition, the same values everywhere."""

from __future__ import annotations

import numpy as np

from dedupe.sketch import hashing

MASK64 = (1 << 64) - 1


def _fmix64_reference(h: int) -> int:
    """MurmurHash3's fmix64 on Python integers, from the published algorithm."""
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK64
    return h ^ (h >> 33)


def _fmix32_reference(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def _fnv1a_fmix64(word: str) -> int:
    h = 0xCBF29CE484222325
    for byte in word.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return _fmix64_reference(h)


def test_fmix_on_arrays_equals_the_published_algorithm():
    values = [0, 1, 2, 0xDEADBEEF, 0xFFFFFFFF, 1 << 40, MASK64]
    got64 = hashing.fmix64(np.array(values, dtype=np.uint64)).tolist()
    assert got64 == [_fmix64_reference(v) for v in values]
    small = [v & 0xFFFFFFFF for v in values]
    got32 = hashing.fmix32(np.array(small, dtype=np.uint32))
    assert got32.dtype == np.uint32 and got32.tolist() == [_fmix32_reference(v) for v in small]


def test_word_hashes_are_fnv1a_then_fmix64():
    words = ["the", "élysée", "us", "covid-19", "x"]
    hashes, offsets = hashing.hash_words([" ".join(words[:2]), " ".join(words[2:])])
    assert offsets.tolist() == [0, 2, 5]
    assert hashes.tolist() == [_fnv1a_fmix64(w) for w in words]
    assert hashing.word_hash("élysée") == _fnv1a_fmix64("élysée")


def test_the_random_tables_are_fixed():
    # Cluster ids and signatures derive from these draws: a change here changes every output.
    firsts = [int(hashing.SHINGLE_MULT[0]), int(hashing.SHORT_SALT[0]), int(hashing.BYTE_HASHES[0]),
              int(hashing.BAND_MULT[0])]
    assert firsts == [2255263075732722105, 988009476028208339, 7123057542241430197, 2157607942732694907]
    assert all(int(k) % 2 == 1 for k in hashing.SHINGLE_MULT) and all(int(k) % 2 == 1 for k in hashing.BAND_MULT)
