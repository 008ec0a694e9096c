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

from typing import Sequence

import numpy as np
from rapidfuzz import fuzz, process

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
    share a few passages costs a few alignments."""
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
    free = [(w, t) for k, w, t in zip(long.keys, long.weights, long.texts) if k not in short.uids]
    tries = []
    for i in rest:
        weight = short.weights[i]
        choices = [t for w, t in free if weight * _LENGTH_RATIO <= w <= weight / _LENGTH_RATIO]
        if choices:
            tries.append((weight, short.texts[i], choices))
    left = sum(w for w, _, _ in tries)
    tries.sort(key=lambda item: item[0], reverse=True)  # stable: ties stay in text order
    for weight, text, choices in tries:
        if have >= need and count >= MIN_FOUND_PARAGRAPHS:
            return True
        if have + left < need:
            return False
        left -= weight
        if process.extractOne(text, choices, scorer=fuzz.ratio, processor=None,
                              score_cutoff=PARAGRAPH_SIMILARITY) is not None:
            have += weight
            count += 1
    return have >= need and count >= MIN_FOUND_PARAGRAPHS


def reprint_matches(paragraphs: dict[int, Paragraphs], pairs: np.ndarray) -> np.ndarray:
    """Which candidate pairs are reprints: boolean mask over `pairs` (M, 2). `paragraphs` holds
    every document of `pairs`. The shorter article of each pair (by characters of evidence; the
    first on a tie) is looked for in the longer."""
    ok = np.zeros(len(pairs), dtype=bool)
    for i, (a, b) in enumerate(pairs.tolist()):
        if paragraphs[b].length < paragraphs[a].length:
            a, b = b, a
        ok[i] = found(paragraphs[a], paragraphs[b])
    return ok
