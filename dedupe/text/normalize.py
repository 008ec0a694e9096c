"""Text normalisation for matching. The output always keeps the original characters.

`normalize` folds the variation that news text shows between copies of the same passage:
Unicode compatibility forms (NFKC: non-breaking spaces, ligatures, full-width forms), HTML
entities, curly vs straight quotes and apostrophes, the dash family, zero-width characters,
runs of whitespace, and case. `words` then keeps only the word tokens, so punctuation and
spacing differences never decide whether two segments match; a dotted abbreviation is one
token without its dots ("U.S." and "US." are both "us"), as copies print it either way.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Sequence

import numpy as np

from .ascii import ascii_words_only, spaced

_FOLDS = tuple(
    [(c, "'") for c in "\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4"]
    + [(c, '"') for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"]
    + [(c, "-") for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63"]
    + [(c, "") for c in "\u200b\u200c\u200d\u2060\ufeff\u00ad"]
)


def _fold(text: str) -> str:
    """Quotes, dashes and zero-width characters folded (see `_FOLDS`).

    A `replace` per character present: news text holds a few of them, and a scan for each is
    more than ten times faster than `str.translate` with a mapping, which looks up every
    character in a dict."""
    for char, replacement in _FOLDS:
        if char in text:
            text = text.replace(char, replacement)
    return text


# A dotted abbreviation (single letters joined by dots: "u.s.", "a.m.", "s.c.") is one token;
# otherwise a word is a run of word characters.
_TOKEN = re.compile(r"[^\W\d_](?:\.[^\W\d_])+(?!\w)|\w+")
_WORD = re.compile(r"\w+")
# Only a text with a dot right before a letter can hold one; checking first keeps the common
# case on the plain (twice as fast) pattern.
_DOT_LETTER_ASCII = re.compile(r"\.[a-z]")
_DOT_LETTER = re.compile(r"\.[^\W\d_]")


def normalize(text: str) -> str:
    """Return `text` folded for matching: NFKC, entities decoded, quotes/dashes folded,
    zero-width characters dropped, whitespace collapsed, case folded."""
    return _collapse(_fold_forms(text))


def _collapse(text: str) -> str:
    """Whitespace runs to one space, ends trimmed, case folded: `normalize`'s last steps."""
    return " ".join(text.split()).casefold()


def _fold_forms(text: str) -> str:
    """`normalize` up to the whitespace and case steps."""
    if "&" in text:
        text = html.unescape(text)
    if text.isascii():
        # NFKC and the table change nothing in ASCII but the backtick; most news text is ASCII.
        if "`" in text:
            text = text.replace("`", "'")
    else:
        # Fold before NFKC too: NFKC would otherwise decompose "\u00b4" to " \u0301" and "\u2033"
        # to two primes before the table sees them; fold after it for what NFKC produces ("\ufe58"),
        # which only a text NFKC changed can hold (folding twice changes nothing).
        folded = _fold(text)
        text = unicodedata.normalize("NFKC", folded)
        if text != folded:
            text = _fold(text)
    return text


def words(normalized: str) -> list[str]:
    """Word tokens of an already normalised text (punctuation and spacing dropped).

    Dotted abbreviations lose their dots: "u.s." -> "us", so "U.S. House" and "US. House"
    give the same words (otherwise "u", "s" vs "us").
    """
    dotted = (_DOT_LETTER_ASCII if normalized.isascii() else _DOT_LETTER).search(normalized)
    if dotted:
        return [t.replace(".", "") if "." in t else t for t in _TOKEN.findall(normalized)]
    return _WORD.findall(normalized)


def key_and_words(text: str) -> tuple[str, list[str]]:
    """The exact-duplicate key of a raw text, its words joined by single spaces, and the words.

    Texts with no word characters at all (a lone "|" or "***") fall back to their normalised
    form, so they only ever match themselves.
    """
    if text.isascii() and "&" not in text and "`" not in text:
        # normalize() would only collapse whitespace and lower-case: words are the same
        # without the collapse, which is most of normalize's cost on ASCII text.
        tokens = words(text.lower())
        return (" ".join(tokens) if tokens else normalize(text)), tokens
    return _key_of(normalize(text))


def _key_of(norm: str) -> tuple[str, list[str]]:
    """(key, words) of a normalised text: the words joined by spaces, or the text itself."""
    tokens = words(norm)
    return (" ".join(tokens) if tokens else norm), tokens


def match_keys(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """`key_and_words` of many texts at once: (keys, word counts); a key's words are
    key.split(" ") when its count is not 0.

    Texts that are ASCII once their forms are folded (most news text), or whose other
    characters only separate words ("£5", "\u00a9 2017": `ascii.ascii_words_only`, read with
    them as spaces), are tokenised in one compiled pass over the batch (`kernels.ascii_words`,
    the same words as `words`); the rest are tokenised by `words` from their folded form, and
    every text by `key_and_words` when the kernels are not in use.
    """
    from .. import kernels

    if not kernels.use_compiled(sum(map(len, texts))):
        pairs = [key_and_words(t) for t in texts]
        return [k for k, _ in pairs], [len(w) for _, w in pairs]
    keys: list[str] = [""] * len(texts)
    counts = [0] * len(texts)
    fast, ascii_texts = [], []  # the texts the compiled pass takes, as it reads them
    for i, t in enumerate(texts):
        if not (t.isascii() and "&" not in t and "`" not in t):
            t = _fold_forms(t)
            if not t.isascii():
                if not ascii_words_only(t):  # letters outside ASCII remain: the regex path
                    keys[i], tokens = _key_of(_collapse(t))
                    counts[i] = len(tokens)
                    continue
                t = spaced(t)  # what remains outside ASCII only separates words ("£5")
        fast.append(i)
        ascii_texts.append(t)
    if fast:
        offsets = np.zeros(len(fast) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in ascii_texts], out=offsets[1:])
        words_of, n_words = kernels.ascii_words(np.frombuffer("".join(ascii_texts).encode("ascii"), dtype=np.uint8),
                                                offsets)
        for i, key, n in zip(fast, words_of.split("\n"), n_words.tolist()):
            # a text of no words keys on its folded form (as `key_and_words`)
            keys[i], counts[i] = (key, n) if n else (_collapse(_fold_forms(texts[i])), 0)
    return keys, counts


def match_key(text: str) -> str:
    """The exact-duplicate key of a raw text (see `key_and_words`)."""
    return key_and_words(text)[0]
