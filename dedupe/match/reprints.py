"""Reprints: the same article printed again after OCR and the copy desk.

An OCR'd reprint has 3-10 % of its characters wrong, its ending cut and inner paragraphs
dropped. Each character error breaks up to five character 5-grams, so the shingle measures of
`documents.doc_matches` fall below their thresholds while the copy is still plainly the same
text. Here the evidence is counted per paragraph instead, so one noisy paragraph costs one
paragraph, not five shingles per error:

1. Candidates: pairs where a low share of the shorter article's sampled shingles is found in
   the longer (`REPRINT_MIN_SHARE`, the containment index of `sketch.overlap`) and the MinHash
   estimate of that containment agrees (`REPRINT_MIN_ESTIMATE`).
2. Verification: the paragraphs of the shorter article are aligned with those of the longer
   by `rapidfuzz` (normalised Indel similarity of the match keys, bit-parallel C++); one is
   *found* when some paragraph of the longer reaches `PARAGRAPH_SIMILARITY`. The pair is a
   reprint when the found paragraphs hold at least `REPRINT_COVERAGE` of the shorter article's
   evidence text, and at least `MIN_FOUND_PARAGRAPHS` of them are found: two articles that
   share one quote are not reprints of each other. Evidence paragraphs have at least
   `MIN_PARAGRAPH_WORDS` words and are not site furniture (`documents._reprint_links`).

Abridged copies are thereby linked to the full version, which the policy keeps as the longest.
Folding OCR confusions (`rn`/`m`, `l`/`1`, `e`/`c`, ...) before aligning was measured and
changed nothing on the development split: the alignment already tolerates them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Sequence

import numpy as np

REPRINT_MIN_SHARE = 0.4
"""Candidate pairs: this share, minus `sketch.lsh.LSH_MARGIN`, of the shorter article's sampled
shingles found in the longer (0.2; a copy with 10 % noise keeps about half of them)."""
REPRINT_MIN_ESTIMATE = 0.45
"""...and a MinHash estimate of that containment (over the signed 1-in-8 sample) of at least
this: a second, independent estimate that drops most pairs of articles that share a few
passages before any text is read."""
PARAGRAPH_SIMILARITY = 75.0
"""rapidfuzz `ratio` (0-100) at which two paragraphs are the same paragraph: with 10 % of the
characters wrong a copy still scores about 85; two different paragraphs on one story rarely
reach 60."""
REPRINT_COVERAGE = 0.7
"""Share of the shorter article's evidence characters that must be found."""
MIN_FOUND_PARAGRAPHS = 2
MIN_PARAGRAPH_WORDS = 5
"""A headline counts; a credit, a dateline or "Advertisement" does not."""
NEAREST_FIRST = 16
"""Paragraphs of the longer article, nearest in length, that a paragraph is aligned with first."""
MAX_CHOICES = 512
"""Paragraphs of the longer article (nearest in length) that one paragraph is aligned with at
most: bounds a pair of articles of thousands of lines of one length."""

_LENGTH_RATIO = PARAGRAPH_SIMILARITY / (200.0 - PARAGRAPH_SIMILARITY)


class Paragraphs:
    """The evidence paragraphs of one article, in order: match-key uids, match keys and their
    lengths (the weights of the coverage)."""

    __slots__ = ("uids", "keys", "texts", "weights", "length")

    def __init__(self, uids: Sequence[int], texts: Sequence[str]) -> None:
        self.keys = list(uids)
        self.uids = frozenset(self.keys)
        self.texts = list(texts)
        self.weights = [len(t) for t in self.texts]
        self.length = sum(self.weights)


def found(short: Paragraphs, long: Paragraphs) -> bool:
    """Whether `short` is a reprint of `long`: paragraphs holding REPRINT_COVERAGE of its
    characters, and at least MIN_FOUND_PARAGRAPHS of them, are found in `long`.

    A paragraph with the same match key as one of `long` is found without alignment; the
    others are aligned longest first (`rapidfuzz.process.extractOne`, `PARAGRAPH_SIMILARITY`
    cutoff), stopping as soon as the answer is known either way, so a pair of articles that
    share a few passages costs a few alignments.

    Only whether a paragraph is found counts, not where, so each is first aligned with the
    NEAREST_FIRST paragraphs of `long` nearest to it in length and only then with the rest of
    those its length allows, at most MAX_CHOICES of them: an article of thousands of
    near-identical lines costs a few alignments per line, not one per pair of lines (no news
    article has MAX_CHOICES paragraphs of one length, so the cap never binds on one)."""
    if len(short.keys) < MIN_FOUND_PARAGRAPHS or not long.keys:
        return False
    need = REPRINT_COVERAGE * short.length
    have = count = 0
    rest = []
    for i, key in enumerate(short.keys):
        if key in long.uids:
            have += short.weights[i]
            count += 1
        else:
            rest.append(i)
    # Paragraphs of `long` with the key of one of `short` are taken; the others can still be
    # found, by a paragraph of `short` whose length allows the similarity: ratio >= s needs the
    # shorter of two strings to be at least s / (2 - s) of the longer.
    free = sorted((w, t) for k, w, t in zip(long.keys, long.weights, long.texts) if k not in short.uids)
    free_weights = [w for w, _ in free]
    free_texts = [t for _, t in free]
    tries = []
    for i in rest:
        weight = short.weights[i]
        lo = bisect_left(free_weights, weight * _LENGTH_RATIO)
        hi = bisect_right(free_weights, weight / _LENGTH_RATIO)
        if lo < hi:
            tries.append((weight, short.texts[i], lo, hi))
    left = sum(item[0] for item in tries)
    tries.sort(key=lambda item: item[0], reverse=True)  # stable: ties stay in text order
    for weight, text, lo, hi in tries:
        if have >= need and count >= MIN_FOUND_PARAGRAPHS:
            return True
        if have + left < need:
            return False
        left -= weight
        if _aligned(text, free_texts, bisect_left(free_weights, weight, lo, hi), lo, hi):
            have += weight
            count += 1
    return have >= need and count >= MIN_FOUND_PARAGRAPHS


def _aligned(text: str, choices: list[str], at: int, lo: int, hi: int) -> bool:
    """Whether `text` reaches PARAGRAPH_SIMILARITY with one of choices[lo:hi] (sorted by
    length; `at` is where `text`'s length falls): the NEAREST_FIRST around `at` first, then
    the others of the MAX_CHOICES around it."""
    if hi - lo > MAX_CHOICES:
        lo = max(lo, min(at - MAX_CHOICES // 2, hi - MAX_CHOICES))
        hi = lo + MAX_CHOICES
    from rapidfuzz import fuzz, process  # here: most runs align nothing, and it takes 7 ms to import

    near_lo, near_hi = max(lo, at - NEAREST_FIRST // 2), min(hi, at + NEAREST_FIRST // 2)
    for part in (choices[near_lo:near_hi], choices[lo:near_lo] + choices[near_hi:hi]):
        if part and process.extractOne(text, part, scorer=fuzz.ratio, processor=None,
                                       score_cutoff=PARAGRAPH_SIMILARITY) is not None:
            return True
    return False


def reprint_matches(paragraphs: dict[int, Paragraphs], pairs: np.ndarray) -> np.ndarray:
    """Which candidate pairs are reprints: boolean mask over `pairs` (M, 2). `paragraphs` holds
    every document of `pairs`. The shorter article of each pair (by characters of evidence; the
    first on a tie) is looked for in the longer.

    A pair whose two articles are already joined through reprints found earlier in `pairs` is
    not verified (and not marked): its link would join nothing new, and verifying every pair of
    a group of n reprints of one article would cost n^2 / 2 alignments of whole articles."""
    from .unionfind import UnionFind

    ok = np.zeros(len(pairs), dtype=bool)
    if not len(pairs):
        return ok
    joined = UnionFind(int(pairs.max()) + 1)
    for i, (a, b) in enumerate(pairs.tolist()):
        if joined.find(a) == joined.find(b):
            continue
        if paragraphs[b].length < paragraphs[a].length:
            a, b = b, a
        ok[i] = found(paragraphs[a], paragraphs[b])
        if ok[i]:
            joined.union(a, b)
    return ok
