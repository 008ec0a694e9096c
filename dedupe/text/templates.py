"""Templates: a segment with names and numbers masked, computed while it is segmented.

Site furniture repeats with the site name or year changed ("Copyright © 2017 The Evening Post.
All rights reserved." / "... Channel 7 News ..."); as a template it is one string, so its
frequency across articles shows.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import xxhash

from .ascii import DIGIT, LOWER, UPPER, WORD, ascii_words_only, spaced
from .normalize import _DOT_LETTER, _DOT_LETTER_ASCII, words

MIN_TEMPLATE_LITERALS = 4  # fewer literal words ("Photo: Getty Images") is not a template


def template_key(text: str) -> int:
    """Hash of the text with every run of capitalised (not text-initial) or digit-bearing words
    replaced by one placeholder; 0 when fewer than MIN_TEMPLATE_LITERALS literal words remain."""
    out: list[str] = []
    literal = 0
    for i, token in enumerate(words(text)):
        # isalpha() first: most words have no digit, and it is one C call
        variable = (i > 0 and token[0].isupper()) or (not token.isalpha() and any(map(str.isdigit, token)))
        if variable:
            if not out or out[-1] != "#":
                out.append("#")
        else:
            out.append(token.casefold())
            literal += 1
    if literal < MIN_TEMPLATE_LITERALS:
        return 0
    return xxhash.xxh3_64_intdigest(" ".join(out).encode("utf-8")) or 1


def template_keys(texts: Sequence[str]) -> list[int]:
    """`template_key` of each text, computed for the whole batch at once.

    Texts whose words are plain runs of [A-Za-z0-9_] (no newline, no dotted abbreviation, no
    letter or digit outside ASCII: curly quotes and dashes are only separators, like a space)
    are joined into one byte array: word boundaries, each word's text, whether it is
    capitalised or holds a digit, the runs of masked words and the template bytes are computed
    over all of them at once, in one compiled pass (`kernels.templates`) or in array
    operations; only the hashing is per text. The others (rare) go through `template_key`."""
    out = [0] * len(texts)
    fast, plain = [], []
    for i, text in enumerate(texts):
        if "\n" in text:
            out[i] = template_key(text)
        elif text.isascii():
            if _DOT_LETTER_ASCII.search(text):
                out[i] = template_key(text)
            else:
                fast.append(i)
                plain.append(text)
        elif _DOT_LETTER.search(text) or not ascii_words_only(text):
            out[i] = template_key(text)
        else:
            fast.append(i)
            plain.append(spaced(text))
    if not fast:
        return out
    hash64 = xxhash.xxh3_64_intdigest
    from .. import kernels

    if kernels.use_compiled(sum(map(len, plain))):  # the same bytes from one compiled pass
        offsets = np.zeros(len(plain) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in plain], out=offsets[1:])
        joined, spans, literals = kernels.templates(np.frombuffer("".join(plain).encode("ascii"), dtype=np.uint8),
                                                    offsets)
        for t in np.flatnonzero(literals >= MIN_TEMPLATE_LITERALS).tolist():
            a, b = spans[t]
            out[fast[t]] = hash64(joined[a:b]) or 1
        return out
    buf = np.frombuffer("\n".join(plain).encode("ascii"), dtype=np.uint8)
    word = WORD[buf]
    edges = np.diff(np.concatenate(([False], word, [False])).astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(starts) == 0:
        return out
    text_of = np.searchsorted(np.flatnonzero(buf == 10), starts)  # newlines before the word
    first = np.concatenate(([True], text_of[1:] != text_of[:-1]))
    digits = np.concatenate(([0], np.cumsum(DIGIT[buf])))
    variable = (~first & UPPER[buf[starts]]) | (digits[ends] > digits[starts])
    kept = ~variable | first | ~np.concatenate(([False], variable[:-1]))  # one "#" per run
    literals = np.bincount(text_of[~variable], minlength=len(fast))
    # Template bytes: each kept word (lower-cased) or "#", followed by a space.
    k_start, k_var, k_text = starts[kept], variable[kept], text_of[kept]
    length = np.where(k_var, 1, ends[kept] - k_start) + 1
    at = np.concatenate(([0], np.cumsum(length)))
    source = np.repeat(k_start - at[:-1], length) + np.arange(at[-1])
    template = LOWER[buf[np.minimum(source, len(buf) - 1)]]
    template[at[:-1][k_var]] = ord("#")
    template[at[1:] - 1] = ord(" ")
    joined = template.tobytes()
    last = np.concatenate((k_text[1:] != k_text[:-1], [True]))
    lo = at[:-1][np.concatenate(([True], last[:-1]))]
    for t, a, b in zip(k_text[last].tolist(), lo.tolist(), (at[1:][last] - 1).tolist()):
        if literals[t] >= MIN_TEMPLATE_LITERALS:
            out[fast[t]] = hash64(joined[a:b]) or 1
    return out
