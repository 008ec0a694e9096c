"""The compiled loops (numba), one top-level function each; imported only through `kernels`.

Each computes exactly what the numpy function named in its docstring computes (tests compare
them bit for bit), fused into one pass without (n x num_perm) temporaries. The hash mixing is
the one definition in `sketch.hashing`, compiled here. Compiled code is cached next to this
file (numba's `cache=True`): the cache is keyed on this file, so a change to `sketch.hashing`
needs the cache cleared (its constants are fixed forever, as ids derive from them).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..sketch.hashing import FNV_OFFSET, FNV_PRIME, fmix32, fmix64

_jit = nb.njit(cache=True, nogil=True)
_fmix32 = nb.njit(inline="always")(fmix32)
_fmix64 = nb.njit(inline="always")(fmix64)


@_jit
def minhash(h32, offsets, a, b, out):
    """`sketch.minhash.minhash_batch`: out[s, k] = min over set s of a_k * fmix32(h) + b_k."""
    num_perm = a.shape[0]
    for s in range(offsets.shape[0] - 1):
        row = out[s]
        for i in range(offsets[s], offsets[s + 1]):
            x = _fmix32(np.uint32(h32[i]))
            for k in range(num_perm):
                row[k] = min(row[k], np.uint32(a[k] * x + b[k]))

@_jit
def char_shingles(buf, offsets, table, salt, rate, scratch, out, out_offsets):
    """`sketch.shingles.char_shingle_hashes`: `shingle_hashes` over the bytes' hashes, keeping only
    the consistent 1-in-`rate` sample (`sketch.shingles.sample_mask`), in one pass without the
    per-byte and full-shingle temporaries. Returns the number of shingles kept.

    table[k, c] is byte c's hash times the k-th shingle multiplier (wrapping), for k < n =
    table.shape[0]: an n-gram's hash is a sum of n table entries. They are added term by term
    over a block of positions at a time (`scratch`), so every loop is a plain add over
    consecutive positions: 40% faster than n multiply-adds per position."""
    n = table.shape[0]
    block = scratch.shape[0]
    mask = rate - np.uint64(1)
    power_of_two = (rate & mask) == 0  # then the sample test is a mask, not a division
    o = 0
    for s in range(offsets.shape[0] - 1):
        out_offsets[s] = o
        lo, hi = offsets[s], offsets[s + 1]
        length = hi - lo
        if length >= n:
            total = length - n + 1
            for start in range(0, total, block):
                m = min(block, total - start)
                first = lo + start
                row = table[0]
                for j in range(m):
                    scratch[j] = row[buf[first + j]]
                for k in range(1, n):
                    row = table[k]
                    for j in range(m):
                        scratch[j] += row[buf[first + k + j]]
                for j in range(m):
                    acc = scratch[j]
                    top = acc >> np.uint64(40)
                    if (top & mask == 0) if power_of_two else (top % rate == 0):
                        out[o] = acc
                        o += 1
        elif length > 0:
            acc = salt[length]
            for k in range(length):
                acc += table[k, buf[lo + k]]
            if (acc >> np.uint64(40)) % rate == 0:
                out[o] = acc
                o += 1
    out_offsets[offsets.shape[0] - 1] = o
    return o

@_jit
def ascii_words(buf, offsets, letter, word_lower, out, counts):
    """`text.normalize.words` of each lower-cased ASCII text buf[offsets[s]:offsets[s+1]]: runs
    of [a-z0-9_], and a dotted abbreviation (letter, then "." + letter at least once, not
    followed by a word character) as one word without its dots; written joined by single
    spaces, texts separated by newlines. counts[s] = words of text s. Returns the bytes
    written. `letter` ([A-Za-z]) is a byte class as 256 booleans, `word_lower` maps a byte of
    [A-Za-z0-9_] to its lower case and any other byte to 0: passed in, not built here, as
    building them costs most of the compile time."""
    o = 0
    for s in range(offsets.shape[0] - 1):
        if s > 0:
            out[o] = 10
            o += 1
        p, hi = offsets[s], offsets[s + 1]
        c = 0
        while p < hi:
            if word_lower[buf[p]] == 0:
                p += 1
                continue
            if c > 0:
                out[o] = 32
                o += 1
            c += 1
            if p + 2 < hi and buf[p + 1] == 46 and letter[buf[p]] and letter[buf[p + 2]]:
                k = 0
                q = p + 1
                while q + 1 < hi and buf[q] == 46 and letter[buf[q + 1]]:
                    k += 1
                    q += 2
                if q < hi and word_lower[buf[q]] != 0:
                    k -= 1  # the regex backtracks one repetition: a "." follows instead
                    q -= 2
                if k > 0:
                    for j in range(k + 1):
                        out[o] = word_lower[buf[p + 2 * j]]
                        o += 1
                    p = q
                    continue
            while p < hi:  # a plain word
                ch = word_lower[buf[p]]
                if ch == 0:
                    break
                out[o] = ch
                o += 1
                p += 1
        counts[s] = c
    return o

@_jit
def templates(buf, offsets, word, upper, digit, lower, out, spans, literals):
    """The array pass of `text.templates.template_keys` over the ASCII texts
    buf[offsets[s]:offsets[s+1]]: each text's template (its words lower-cased, a run of
    variable words, capitalised and not first or holding a digit, as one "#", joined by single
    spaces) written to out[spans[2s]:spans[2s+1]], and literals[s] = its literal words.
    `word`, `upper` and `digit` are byte classes as 256 booleans, `lower` the lower-case map.
    Returns the bytes written (at most one per byte and one per text)."""
    o = 0
    for s in range(offsets.shape[0] - 1):
        p, hi = offsets[s], offsets[s + 1]
        spans[2 * s] = o
        literal = 0
        count = 0
        previous = False  # the word before was variable
        while p < hi:
            if not word[buf[p]]:
                p += 1
                continue
            q = p
            has_digit = False
            while q < hi and word[buf[q]]:
                has_digit = has_digit or digit[buf[q]]
                q += 1
            variable = has_digit or (count > 0 and upper[buf[p]])
            if not variable:
                for j in range(p, q):
                    out[o] = lower[buf[j]]
                    o += 1
                out[o] = 32
                o += 1
                literal += 1
            elif count == 0 or not previous:
                out[o] = 35  # "#"
                out[o + 1] = 32
                o += 2
            previous = variable
            count += 1
            p = q
        spans[2 * s + 1] = o - 1 if o > spans[2 * s] else o  # without the last space
        literals[s] = literal
    return o


@_jit
def utf8_positions(data, starts, ascii, text, chars, out):
    """`io.utf8.byte_positions`: out[i] = the byte offset in `data` (UTF-8 texts, text t from
    byte starts[t]) of character chars[i] of text text[i]. An ASCII text's is starts + chars;
    another's is counted by walking its bytes (a character starts at each byte that is not a
    continuation byte, 10xxxxxx), once for a run of queries into one text with ascending
    characters."""
    current = -1
    byte = 0
    char = 0
    n = data.shape[0]
    for i in range(text.shape[0]):
        t = text[i]
        c = chars[i]
        if ascii[t]:
            out[i] = starts[t] + c
            continue
        if t != current or c < char:
            current = t
            byte = starts[t]
            char = 0
        while char < c:
            byte += 1
            if byte >= n or (data[byte] & 0xC0) != 0x80:
                char += 1
        out[i] = byte


@_jit
def copy_ranges(data, lo, hi, out):
    """`io.utf8.join_ranges`: out = data[lo[0]:hi[0]] + data[lo[1]:hi[1]] + ... (bytes)."""
    o = 0
    for i in range(lo.shape[0]):
        n = hi[i] - lo[i]
        source, target = data[lo[i]:hi[i]], out[o:o + n]
        for j in range(n):  # over two views: compiled as a block copy, 6x a loop of single bytes
            target[j] = source[j]  # (a slice assignment is as fast, but takes numba 3 s to compile)
        o += n


_inline = nb.njit(inline="always")


@_inline
def _insertion_sort(out, left, right):
    """Sort out[left..right] (bounds inclusive) in place; linear when nearly sorted."""
    for i in range(left + 1, right + 1):
        x = out[i]
        k = i - 1
        while k >= left and out[k] > x:
            out[k + 1] = out[k]
            k -= 1
        out[k + 1] = x


@_inline
def _bucket_sort(values, lo, hi, out, o, counts):
    """values[lo:hi] (n >= 2 hashes) sorted into out[o:o+n] by the 2**ceil(log2 n) buckets of
    their top bits, then an insertion sort over neighbours. Returns False, writing nothing to
    `out`, when a bucket holds more than 64 values (the insertion sort would be quadratic)."""
    n = hi - lo
    bits = 1
    while (1 << bits) < n:
        bits += 1
    buckets = 1 << bits
    shift = np.uint64(64 - bits)
    for b in range(buckets + 1):
        counts[b] = 0
    for i in range(lo, hi):
        counts[(values[i] >> shift) + np.uint64(1)] += 1
    for b in range(1, buckets + 1):
        if counts[b] > 64:
            return False
    for b in range(buckets):
        counts[b + 1] += counts[b]
    for i in range(lo, hi):
        g = values[i] >> shift  # (not `b`: a uint64 and an int in one name type as float)
        out[o + counts[g]] = values[i]
        counts[g] += 1
    _insertion_sort(out, o, o + n - 1)  # disorder is only inside a bucket
    return True


@_inline
def _quicksort(out, left, right, stack):
    """Sort out[left..right] in place: median of three, insertion sort below 16 values, the
    larger part deferred on `stack` (so it holds at most 2 * 64 bounds)."""
    top = 0
    while True:
        while right - left >= 16:
            mid = (left + right) >> 1
            if out[mid] < out[left]:
                out[mid], out[left] = out[left], out[mid]
            if out[right] < out[left]:
                out[right], out[left] = out[left], out[right]
            if out[right] < out[mid]:
                out[right], out[mid] = out[mid], out[right]
            pivot = out[mid]
            i, j = left - 1, right + 1
            while True:  # Hoare's partition: left..j <= pivot <= j+1..right, j < right
                i += 1
                while out[i] < pivot:
                    i += 1
                j -= 1
                while out[j] > pivot:
                    j -= 1
                if i >= j:
                    break
                out[i], out[j] = out[j], out[i]
            if j - left < right - j:
                stack[top], stack[top + 1] = j + 1, right
                right = j
            else:
                stack[top], stack[top + 1] = left, j
                left = j + 1
            top += 2
        _insertion_sort(out, left, right)
        if top == 0:
            return
        top -= 2
        left, right = stack[top], stack[top + 1]


@_jit
def unique_rows(values, offsets, out, out_offsets, stack, counts):
    """`sketch.sets.unique_per_set`: each row sorted and deduplicated, rows kept in place.

    The values are hashes, spread evenly over 64 bits, so a row of 48 or more is sorted by the
    buckets of its top bits (`_bucket_sort`, `counts` holding one more than the buckets):
    linear, 3-4x faster than the quicksort, which takes shorter rows and rows crowding one
    bucket (many copies of a few values, or crafted input). Both are written out: numba's
    `np.sort` costs more to compile than this whole module."""
    o = 0
    for s in range(offsets.shape[0] - 1):
        out_offsets[s] = o
        lo, hi = offsets[s], offsets[s + 1]
        n = hi - lo
        if n < 48 or not _bucket_sort(values, lo, hi, out, o, counts):
            for i in range(n):
                out[o + i] = values[lo + i]
            _quicksort(out, o, o + n - 1, stack)
        w = o
        for i in range(o, o + n):
            if i == o or out[i] != out[w - 1]:
                out[w] = out[i]
                w += 1
        o = w
    out_offsets[offsets.shape[0] - 1] = o
    return o

@_jit
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

@_jit
def hash_words(buf, counts, out):
    """`sketch.hashing.hash_words`: FNV-1a + fmix64 of each space-separated word of each
    newline-separated text; counts[t] = words of text t. Returns the number of words."""
    w = 0
    t = 0
    inside = False
    h = np.uint64(0)
    for i in range(buf.shape[0] + 1):
        c = buf[i] if i < buf.shape[0] else np.uint8(0x0A)
        if c == 0x20 or c == 0x0A:
            if inside:
                out[w] = _fmix64(h)
                w += 1
                counts[t] += 1
                inside = False
            if c == 0x0A:
                t += 1
        else:
            if not inside:
                h = FNV_OFFSET
                inside = True
            h = (h ^ np.uint64(c)) * FNV_PRIME
    return w

@_jit
def inverted_index(hashes, rows, max_df, table, group_hash, group_size, group_start, cursor, sorted_pos,
                   owner_sorted, group_of, query_size):
    """The postings of `sketch.overlap._overlap_counts_compiled`, by hashing instead of sorting:
    entry e (shingle hashes[e] of text rows[e]; rows ascending) gets its shingle's group, groups
    numbered as first seen; group g's postings are owner_sorted[group_start[g]:][:group_size[g]],
    its texts in ascending order, each entry at sorted_pos[e] there, and group_of[p] is the
    group of posting p; query_size[r] counts text r's entries in groups of at most `max_df`
    texts. `table` (a power of two, all -1) maps hash slots to groups by linear probing;
    `group_hash` and `cursor` are scratch space of one value per group (at most one per entry).
    Returns the number of groups."""
    mask = np.uint64(table.shape[0] - 1)
    n = hashes.shape[0]
    groups = 0
    for e in range(n):
        h = hashes[e]
        slot = h & mask
        g = table[slot]
        while g >= 0 and group_hash[g] != h:
            slot = (slot + np.uint64(1)) & mask
            g = table[slot]
        if g < 0:
            g = groups
            table[slot] = g
            group_hash[g] = h
            group_size[g] = 0
            groups += 1
        sorted_pos[e] = g  # the group, until the postings are laid out below
        group_size[g] += 1
    start = 0
    for g in range(groups):
        group_start[g] = start
        cursor[g] = start
        start += group_size[g]
    for e in range(n):
        g = sorted_pos[e]
        p = cursor[g]
        cursor[g] = p + 1
        sorted_pos[e] = p
        owner_sorted[p] = rows[e]
        group_of[p] = g
        if group_size[g] <= max_df:
            query_size[rows[e]] += 1
    return groups

@_jit
def containment_queries(row_offsets, sorted_pos, group_of, group_start, group_size, owner_sorted,
                        query_size, cut, max_df, first, counter, touched, out_q, out_x, out_c):
    """`sketch.overlap.overlap_pairs` as an inverted-index query per text: for each text q from
    `first` on, count the shingles it shares with every later text x (x > q) through the
    postings of its shingles that occur in 2..max_df texts, and keep each direction whose count
    reaches the share of its own text: (q, x) when count >= cut * query_size[q], (x, q) when
    count >= cut * query_size[x], as (out_q, out_x, out_c) = (text, other, shared count). A
    shingle's postings list its texts in ascending order, each once, so the later texts are
    those after q's own posting: each pair is counted once, not from both ends. Stops before a
    query whose pairs might not fit in the outputs; returns (next query, pairs written).
    `counter` (zeros) and `touched` hold one value per text. (Outputs are the caller's:
    allocating and returning arrays here triples the compile time.)"""
    n = row_offsets.shape[0] - 1
    cap = out_q.shape[0]
    m = 0
    for q in range(first, n):
        t = 0
        for e in range(row_offsets[q], row_offsets[q + 1]):
            pos = sorted_pos[e]
            g = group_of[pos]
            size = group_size[g]
            if size > max_df:
                continue
            for p in range(pos + 1, group_start[g] + size):
                x = owner_sorted[p]
                if counter[x] == 0:
                    touched[t] = x
                    t += 1
                counter[x] += 1
        if m + 2 * t > cap:
            for i in range(t):
                counter[touched[i]] = 0
            return q, m
        need = cut * max(query_size[q], 1)
        for i in range(t):
            x = touched[i]
            c = counter[x]
            if c >= need:
                out_q[m] = q
                out_x[m] = x
                out_c[m] = c
                m += 1
            if c >= cut * max(query_size[x], 1):
                out_q[m] = x
                out_x[m] = q
                out_c[m] = c
                m += 1
            counter[x] = 0
    return n, m
