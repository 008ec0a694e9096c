"""From article texts to what matching works on: segments with their match keys, an article's
match text, and the shingle sets and signatures of whole articles.

The prepare pass (`prepare.py`) and the document match stage (`match.documents`, which
re-derives exact sets for candidate pairs) both call these, so both see the same texts.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import xxhash

from ..config import Config
from ..sketch.sets import ShingleSets, char_shingle_sets, word_shingle_sets
from ..text.normalize import match_keys
from ..text.segment import line_segments, spans

# Articles have thousands of character shingles: their signatures are taken over a consistent
# 1-in-8 sample (a few hundred per article), and 1 in 32 feed the containment index.
DOC_SIGNATURE_SAMPLE = 8
DOC_CONTAINMENT_SAMPLE = 32


def key_hash(key: str) -> int:
    """64-bit hash of a match key: texts with equal keys are exact duplicates."""
    return encoded_key_hash(key.encode("utf-8"))


def encoded_key_hash(key: bytes) -> int:
    """`key_hash` of a key's UTF-8 bytes."""
    return xxhash.xxh3_64_intdigest(key)


def segment_keys(texts: Sequence[str], mode: str) -> tuple[list[int], list[int], list[int], list[str], list[int]]:
    """Per segment of the given articles, in order: (document index, start, end, match key,
    word count); the keys of all of them come from one `match_keys` call."""
    if mode == "line":
        seg_doc, seg_start, seg_end, pieces = line_segments(texts)
    else:
        seg_doc, seg_start, seg_end = [], [], []
        for d, text in enumerate(texts):
            for start, end in spans(text, mode):
                seg_doc.append(d)
                seg_start.append(start)
                seg_end.append(end)
        pieces = [texts[d][a:b] for d, a, b in zip(seg_doc, seg_start, seg_end)]
    keys, counts = match_keys(pieces)
    return seg_doc, seg_start, seg_end, keys, counts


def joined_keys(n_docs: int, seg_doc: Sequence[int], keys: Sequence[str], counts: Sequence[int]) -> list[str]:
    """Each article's match text: the keys of its segments that have words, joined by spaces."""
    parts: list[list[str]] = [[] for _ in range(n_docs)]
    for d, key, n in zip(seg_doc, keys, counts):
        if n:
            parts[d].append(key)
    return [" ".join(p) for p in parts]


def article_match_texts(texts: Sequence[str], mode: str) -> list[str]:
    """The match text of each whole article: what document shingles are taken from."""
    seg_doc, _, _, keys, counts = segment_keys(texts, mode)
    return joined_keys(len(texts), seg_doc, keys, counts)


def document_shingle_sets(match_texts: Sequence[str], config: Config,
                          signatures: bool = True) -> tuple[ShingleSets, np.ndarray | None]:
    """(exact sets, signatures or None) of the articles' document shingles: `doc_shingles`
    n-grams of size `doc_shingle_size`; character shingles in their consistent
    1-in-DOC_SIGNATURE_SAMPLE sample (a few hundred per article, whose Jaccard and containment
    are within a few hundredths of the full sets'), word shingles in full."""
    if config.doc_shingles == "char":
        return char_shingle_sets(match_texts, config.doc_shingle_size, config.num_perm, config.seed,
                                 signatures=signatures, sets=True, rate=DOC_SIGNATURE_SAMPLE)
    return word_shingle_sets(match_texts, config.doc_shingle_size, config.num_perm, config.seed,
                             signatures=signatures, sets=True)
