"""Document matches: near-duplicate articles.

Each article's match text (its segments' words, see `corpus.keys`) is shingled as a whole
(character 5-grams by default, which survive OCR noise). Candidates come from LSH over the
signatures (a large LSH bucket through a few verified leaders, `leaders`) and from a
containment index over a sample of the shingles; a pair is a match when
the exact Jaccard of the (sampled) sets reaches `doc_threshold`, or a shorter article (at least
half as long) is contained in the longer at `doc_containment_threshold` or more (syndicated
copies with edits, cut endings and noise). Exact duplicate articles are grouped by hash.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..config import Config
from ..corpus.keys import article_match_texts, document_shingle_sets
from ..model import Corpus, DocumentMatches
from ..sketch.arrays import distinct
from ..sketch.lsh import DOC_LSH_MARGIN, Buckets, estimated_jaccard, lsh_candidates
from ..sketch.overlap import flatten, overlap_pairs
from ..sketch.sets import ShingleSets, containment_of, jaccard_of
from .leaders import leader_links
from .unionfind import UnionFind

_CHUNK = 20_000
DOC_MAX_DF = 50  # sampled character shingles in more articles than this are stock phrases
MIN_CONTAINMENT_RATIO = 0.5


def doc_matches(sets: ShingleSets, pairs: np.ndarray, config: Config) -> np.ndarray:
    """Which document pairs are near-duplicate articles: Jaccard >= doc_threshold, or, for a
    shorter copy at least MIN_CONTAINMENT_RATIO the length of the longer (a syndicated copy
    with its end cut), containment >= doc_containment_threshold. A much shorter article
    "contained" in a long one on the same story shares its vocabulary, not its text, and is
    not a copy."""
    inter, size_a, size_b = sets.measures(pairs[:, 0], pairs[:, 1])
    n_small, n_large = np.minimum(size_a, size_b), np.maximum(size_a, size_b)
    return (jaccard_of(inter, size_a, size_b) >= config.doc_threshold) | (
        (n_small >= MIN_CONTAINMENT_RATIO * n_large)
        & (containment_of(inter, n_small) >= config.doc_containment_threshold))


def document_sets(corpus: Corpus, docs: np.ndarray, config: Config) -> ShingleSets:
    """Exact shingle sets of the given sorted documents (texts read back from the staged
    store), the same sets their signatures were taken over (`corpus.keys.document_shingle_sets`)."""
    parts = []
    for lo in range(0, len(docs), _CHUNK):
        chunk = docs[lo: lo + _CHUNK].tolist()
        texts = corpus.docs.texts(chunk)
        match_texts = article_match_texts([texts[d] for d in chunk], config.segmentation)
        sets, _ = document_shingle_sets(match_texts, config, signatures=False)
        parts.append(sets)
    return ShingleSets.concat(parts, ids=np.asarray(docs, dtype=np.int64))


def match_documents(corpus: Corpus, config: Config) -> DocumentMatches:
    """Cluster whole articles: Jaccard >= doc_threshold, or the shorter one's shingles
    contained in the longer one >= doc_containment_threshold (cut syndicated copies)."""
    signed = np.flatnonzero(corpus.doc_signed)

    def screen(pairs: np.ndarray) -> np.ndarray:
        """Keep pairs whose MinHash estimates could pass: long texts that share some passages
        collide often. Containment follows from Jaccard and the set sizes:
        |A ∩ B| = J (|A| + |B|) / (1 + J)."""
        est = estimated_jaccard(corpus.doc_sigs, pairs)
        size_a, size_b = corpus.doc_size[pairs[:, 0]], corpus.doc_size[pairs[:, 1]]
        small, large = np.minimum(size_a, size_b), np.maximum(size_a, size_b)
        est_containment = est * (size_a + size_b) / ((1 + est) * np.maximum(small, 1))
        return ((est >= config.doc_threshold - DOC_LSH_MARGIN)
                | ((small >= MIN_CONTAINMENT_RATIO * large)
                   & (est_containment >= config.doc_containment_threshold - DOC_LSH_MARGIN)))

    found = lsh_candidates(corpus.doc_sigs, signed, config.doc_threshold, config.seed,
                           margin=DOC_LSH_MARGIN, screen=screen)
    hashes, owner = flatten(corpus.doc_sample, signed)
    links = overlap_pairs(hashes, owner, config.doc_containment_threshold, max_df=DOC_MAX_DF)
    links = np.unique(np.sort(links, axis=1), axis=0) if len(links) else links
    candidates = np.unique(np.concatenate([found.pairs, links[screen(links)] if len(links) else links]), axis=0) \
        if len(found.pairs) + len(links) else np.empty((0, 2), dtype=np.int64)

    uf = UnionFind(corpus.n_docs)
    # Exact duplicate articles (same words), however short: grouped without any shingles.
    with_text = np.flatnonzero(corpus.doc_words > 0)
    order = with_text[np.argsort(corpus.doc_key[with_text], kind="stable")]
    same = np.flatnonzero(corpus.doc_key[order][1:] == corpus.doc_key[order][:-1])
    uf.union_pairs(np.stack([order[same], order[same + 1]], axis=1))
    involved = distinct(np.concatenate([candidates.ravel(), order[same], order[same + 1]]))
    sets = document_sets(corpus, involved, config)
    uf.union_pairs(candidates[doc_matches(sets, candidates, config)])
    links, sets = _bucket_links(corpus, config, found.buckets, sets, screen)
    uf.union_pairs(links)
    return DocumentMatches(cluster=uf.roots(), sets=sets)


def _bucket_links(corpus: Corpus, config: Config, buckets: Buckets, sets: ShingleSets,
                  screen: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, ShingleSets]:
    """Verified leader links of the large LSH buckets (`leaders`), and `sets` grown by the
    documents they reach. Like a pair of a small bucket, a link must pass the MinHash `screen`
    before it is verified exactly, and exact sets are computed only for the documents that
    a screened link reaches: a bucket of unrelated articles that share a band value (short
    pages of the same furniture) costs signature reads, not re-shingled articles."""
    def verified(pairs: np.ndarray) -> np.ndarray:
        nonlocal sets
        ok = screen(pairs)
        ends = distinct(pairs[ok].ravel())
        missing = ends[~np.isin(ends, sets.ids)]
        if len(missing):
            sets = sets.merge(document_sets(corpus, missing, config))
        ok[ok] = doc_matches(sets, pairs[ok], config)
        return ok

    return leader_links(buckets, verified), sets
