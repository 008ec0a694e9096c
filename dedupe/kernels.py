"""Compiled inner loops (numba) for large batches; the numpy code paths stay the reference.

Each kernel computes exactly what the numpy function named in its docstring computes (tests
compare them bit for bit), fused into one pass without (n x num_perm) temporaries. numba is
imported only when a batch is large enough to pay for it (`available`), so a run on a handful
of files never loads the compiler; compiled code is cached next to this module.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from types import SimpleNamespace

import numpy as np

# Below this many shingles in a batch the numpy path is used (no compiler load for small runs).
MIN_SHINGLES = 200_000
MIN_LOADED = 1_000  # below this numpy's call overhead is no worse


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether the compiled kernels can be used (numba installed, not disabled by
    DEDUPE_NO_NUMBA=1)."""
    if os.environ.get("DEDUPE_NO_NUMBA") == "1":
        return False
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def use_for(n_items: int) -> bool:
    """Whether a batch of `n_items` goes to the kernels: from MIN_SHINGLES on, which pays for
    loading them; once loaded (a large run), from MIN_LOADED on."""
    if not available():
        return False
    return n_items >= (MIN_LOADED if _build_kernels.cache_info().currsize else MIN_SHINGLES)


_BUILD_LOCK = threading.Lock()  # document and segment matching run in two threads


def _kernels():
    with _BUILD_LOCK:
        return _build_kernels()


@lru_cache(maxsize=1)
def _build_kernels():
    import numba as nb

    jit = nb.njit(cache=True, nogil=True)

    @jit
    def minhash(h32, offsets, a, b, out):
        """`signatures.minhash_batch`: out[s, k] = min over set s of a_k * fmix32(h) + b_k."""
        num_perm = a.shape[0]
        for s in range(offsets.shape[0] - 1):
            row = out[s]
            for i in range(offsets[s], offsets[s + 1]):
                x = np.uint32(h32[i])
                x ^= x >> np.uint32(16)
                x = np.uint32(x * np.uint32(0x85EBCA6B))
                x ^= x >> np.uint32(13)
                x = np.uint32(x * np.uint32(0xC2B2AE35))
                x ^= x >> np.uint32(16)
                for k in range(num_perm):
                    row[k] = min(row[k], np.uint32(a[k] * x + b[k]))

    @jit
    def shingles(tokens, offsets, n, mult, salt, out_offsets, out):
        """`shingles.shingle_hashes`: position-weighted sums of n consecutive token hashes;
        a sequence shorter than n is one shingle salted with its length."""
        for s in range(offsets.shape[0] - 1):
            lo, hi = offsets[s], offsets[s + 1]
            length = hi - lo
            o = out_offsets[s]
            if length >= n:
                for i in range(lo, hi - n + 1):
                    acc = np.uint64(0)
                    for k in range(n):
                        acc += tokens[i + k] * mult[k]
                    out[o] = acc
                    o += 1
            elif length > 0:
                acc = salt[length]
                for k in range(length):
                    acc += tokens[lo + k] * mult[k]
                out[o] = acc

    @jit
    def char_shingles(buf, offsets, n, byte_hashes, mult, salt, rate, out, out_offsets):
        """`shingles.char_shingle_hashes`: `shingles` over the bytes' hashes, keeping only
        the consistent 1-in-`rate` sample (`shingles.sample_mask`), in one pass without the
        per-byte and full-shingle temporaries. Returns the number of shingles kept."""
        o = 0
        for s in range(offsets.shape[0] - 1):
            out_offsets[s] = o
            lo, hi = offsets[s], offsets[s + 1]
            length = hi - lo
            if length >= n:
                for i in range(lo, hi - n + 1):
                    acc = np.uint64(0)
                    for k in range(n):
                        acc += byte_hashes[buf[i + k]] * mult[k]
                    if (acc >> np.uint64(40)) % rate == 0:
                        out[o] = acc
                        o += 1
            elif length > 0:
                acc = salt[length]
                for k in range(length):
                    acc += byte_hashes[buf[lo + k]] * mult[k]
                if (acc >> np.uint64(40)) % rate == 0:
                    out[o] = acc
                    o += 1
        out_offsets[offsets.shape[0] - 1] = o
        return o

    @jit
    def ascii_words(buf, offsets, out, counts):
        """`normalize.words` of each lower-cased ASCII text buf[offsets[s]:offsets[s+1]]: runs
        of [a-z0-9_], and a dotted abbreviation (letter, then "." + letter at least once, not
        followed by a word character) as one word without its dots; written joined by single
        spaces, texts separated by newlines. counts[s] = words of text s. Returns the bytes
        written. (Character classes are spelled out: a jitted helper would be a closure
        variable, which numba's cache cannot key on.)"""
        word = np.zeros(256, dtype=np.bool_)
        letter = np.zeros(256, dtype=np.bool_)
        for ch in range(256):
            letter[ch] = (65 <= ch <= 90) or (97 <= ch <= 122)
            word[ch] = letter[ch] or (48 <= ch <= 57) or ch == 95
        o = 0
        for s in range(offsets.shape[0] - 1):
            if s > 0:
                out[o] = 10
                o += 1
            p, hi = offsets[s], offsets[s + 1]
            c = 0
            while p < hi:
                if not word[buf[p]]:
                    p += 1
                    continue
                if c > 0:
                    out[o] = 32
                    o += 1
                c += 1
                k = 0
                q = p + 1
                if letter[buf[p]]:
                    while q + 1 < hi and buf[q] == 46 and letter[buf[q + 1]]:
                        k += 1
                        q += 2
                    if k > 0 and q < hi and word[buf[q]]:
                        k -= 1  # the regex backtracks one repetition: a "." follows instead
                        q -= 2
                if k > 0:
                    for j in range(k + 1):
                        ch = buf[p + 2 * j]
                        out[o] = ch + 32 if ch <= 90 else ch
                        o += 1
                    p = q
                else:
                    while p < hi and word[buf[p]]:
                        ch = buf[p]
                        out[o] = ch + 32 if 65 <= ch <= 90 else ch
                        o += 1
                        p += 1
            counts[s] = c
        return o

    @jit
    def unique_rows(values, offsets, out, out_offsets):
        """`sketch.unique_per_set`: each row sorted and deduplicated, rows kept in place."""
        o = 0
        for s in range(offsets.shape[0] - 1):
            out_offsets[s] = o
            row = np.sort(values[offsets[s]: offsets[s + 1]])
            for i in range(row.shape[0]):
                if i == 0 or row[i] != row[i - 1]:
                    out[o] = row[i]
                    o += 1
        out_offsets[offsets.shape[0] - 1] = o
        return o

    @jit
    def intersections(values, offsets, rows_a, rows_b, out):
        """|A ∩ B| of sorted unique rows, by merging, for each pair (rows_a[i], rows_b[i])."""
        for p in range(rows_a.shape[0]):
            i, i_end = offsets[rows_a[p]], offsets[rows_a[p] + 1]
            j, j_end = offsets[rows_b[p]], offsets[rows_b[p] + 1]
            c = 0
            while i < i_end and j < j_end:
                x, y = values[i], values[j]
                if x == y:
                    c += 1
                    i += 1
                    j += 1
                elif x < y:
                    i += 1
                else:
                    j += 1
            out[p] = c

    @jit
    def hash_words(buf, counts, out):
        """`shingles.hash_words`: FNV-1a + fmix64 of each space-separated word of each
        newline-separated text; counts[t] = words of text t. Returns the number of words."""
        w = 0
        t = 0
        inside = False
        h = np.uint64(0)
        for i in range(buf.shape[0] + 1):
            c = buf[i] if i < buf.shape[0] else np.uint8(0x0A)
            if c == 0x20 or c == 0x0A:
                if inside:
                    h ^= h >> np.uint64(33)
                    h *= np.uint64(0xFF51AFD7ED558CCD)
                    h ^= h >> np.uint64(33)
                    h *= np.uint64(0xC4CEB9FE1A85EC53)
                    h ^= h >> np.uint64(33)
                    out[w] = h
                    w += 1
                    counts[t] += 1
                    inside = False
                if c == 0x0A:
                    t += 1
            else:
                if not inside:
                    h = np.uint64(0xCBF29CE484222325)
                    inside = True
                h = (h ^ np.uint64(c)) * np.uint64(0x100000001B3)
        return w

    @jit
    def containment_queries(row_offsets, sorted_pos, group_of, group_start, group_size, owner_sorted,
                            query_size, cut, max_df):
        """`candidates.overlap_pairs` as an inverted-index query per text: for each text q,
        count the shingles it shares with every other text x through the postings of its
        shingles that occur in 2..max_df texts, and keep (q, x) when the count reaches
        cut * query_size[q]. Memory: one counter per text plus the pairs kept."""
        n = row_offsets.shape[0] - 1
        counter = np.zeros(n, dtype=np.int64)
        touched = np.empty(n, dtype=np.int64)
        cap = 1024
        out_q = np.empty(cap, dtype=np.int64)
        out_x = np.empty(cap, dtype=np.int64)
        m = 0
        for q in range(n):
            t = 0
            for e in range(row_offsets[q], row_offsets[q + 1]):
                g = group_of[sorted_pos[e]]
                size = group_size[g]
                if size < 2 or size > max_df:
                    continue
                for p in range(group_start[g], group_start[g] + size):
                    x = owner_sorted[p]
                    if x != q:
                        if counter[x] == 0:
                            touched[t] = x
                            t += 1
                        counter[x] += 1
            need = cut * max(query_size[q], 1)
            for i in range(t):
                x = touched[i]
                if counter[x] >= need:
                    if m == cap:
                        cap *= 2
                        new_q = np.empty(cap, dtype=np.int64)
                        new_x = np.empty(cap, dtype=np.int64)
                        new_q[:m] = out_q[:m]
                        new_x[:m] = out_x[:m]
                        out_q, out_x = new_q, new_x
                    out_q[m] = q
                    out_x[m] = x
                    m += 1
                counter[x] = 0
        return out_q[:m], out_x[:m]

    return SimpleNamespace(minhash=minhash, shingles=shingles, unique_rows=unique_rows, intersections=intersections,
                           hash_words=hash_words, containment_queries=containment_queries,
                           char_shingles=char_shingles, ascii_words=ascii_words)


def minhash(h32: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    _kernels().minhash(h32, offsets, a, b, out)


def shingles(tokens, offsets, n, mult, salt, out_offsets, out) -> None:
    _kernels().shingles(tokens, offsets, n, mult, salt, out_offsets, out)


def char_shingles(buf: np.ndarray, offsets: np.ndarray, n: int, byte_hashes: np.ndarray, mult: np.ndarray,
                  salt: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    out = np.empty(max(len(buf), 1), dtype=np.uint64)  # at most one shingle per byte
    out_offsets = np.empty_like(offsets)
    used = _kernels().char_shingles(buf, offsets, n, byte_hashes, mult, salt, np.uint64(rate), out, out_offsets)
    return out[:used].copy(), out_offsets


def ascii_words(buf: np.ndarray, offsets: np.ndarray) -> tuple[str, np.ndarray]:
    """(the words of each text joined by spaces, texts joined by newlines; words per text)."""
    n = len(offsets) - 1
    out = np.empty(len(buf) + n, dtype=np.uint8)  # no text grows: one separator per text
    counts = np.zeros(n, dtype=np.int64)
    used = _kernels().ascii_words(buf, offsets, out, counts)
    return out[:used].tobytes().decode("ascii"), counts


def hash_words(buf: np.ndarray, counts: np.ndarray, out: np.ndarray) -> int:
    return _kernels().hash_words(buf, counts, out)


def containment_queries(*args) -> tuple[np.ndarray, np.ndarray]:
    return _kernels().containment_queries(*args)


def unique_rows(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.empty_like(values)
    out_offsets = np.empty_like(offsets)
    used = _kernels().unique_rows(values, offsets, out, out_offsets)
    return out[:used].copy(), out_offsets


def intersections(values: np.ndarray, offsets: np.ndarray, rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
    out = np.empty(len(rows_a), dtype=np.int64)
    _kernels().intersections(values, offsets, rows_a, rows_b, out)
    return out
