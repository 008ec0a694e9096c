"""Document matches: near-duplicate articles.

Each article's match text (its segments' words, see `corpus.keys`) is shingled as a whole
(character 5-grams by default, which survive OCR noise). Candidates come from LSH over the
signatures (a large LSH bucket through a few verified leaders, `leaders`) and from a
containment index over a sample of the shingles; a pair is a match when
the exact Jaccard of the (sampled) sets reaches `doc_threshold`, or a shorter article (at least
half as long) is contained in the longer at `doc_containment_threshold` or more (syndicated
copies with edits, cut endings and noise). Exact duplicate articles are grouped by hash. Last,
with `doc_reprints`, pairs still apart whose shingles overlap at a lower share are checked
paragraph by paragraph (`reprints`): OCR'd and abridged reprints.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..config import Config
from ..corpus.keys import article_match_texts, document_shingle_sets
from ..model import Corpus, DocumentMatches
from ..sketch.arrays import distinct, ranges
from ..sketch.lsh import DOC_LSH_MARGIN, Buckets, estimated_jaccard, lsh_candidates
from ..sketch.overlap import flatten, overlap_counts
from ..sketch.sets import ShingleSets, containment_of, jaccard_of
from .leaders import leader_links
from .reprints import (MIN_PARAGRAPH_WORDS, REPRINT_MIN_ESTIMATE, REPRINT_MIN_SHARE, Paragraphs,
                       reprint_matches)
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


def _estimated_containment(corpus: Corpus, pairs: np.ndarray, est: np.ndarray | None = None) -> np.ndarray:
    """MinHash estimate of the shorter article's containment in the longer, per pair (from the
    Jaccard estimate `est` when the caller has it): |A ∩ B| = J (|A| + |B|) / (1 + J), over the
    smaller set's size."""
    if est is None:
        est = estimated_jaccard(corpus.doc_sigs, pairs)
    size_a, size_b = corpus.doc_size[pairs[:, 0]], corpus.doc_size[pairs[:, 1]]
    return est * (size_a + size_b) / ((1 + est) * np.maximum(np.minimum(size_a, size_b), 1))


def match_documents(corpus: Corpus, config: Config) -> DocumentMatches:
    """Cluster whole articles: Jaccard >= doc_threshold, or the shorter one's shingles
    contained in the longer one >= doc_containment_threshold (cut syndicated copies), or (with
    `doc_reprints`) most of the shorter one's paragraphs found in the longer (`reprints`)."""
    signed = np.flatnonzero(corpus.doc_signed)

    def screen(pairs: np.ndarray) -> np.ndarray:
        """Keep pairs whose MinHash estimates could pass: long texts that share some passages
        collide often. Containment follows from Jaccard and the set sizes:
        |A ∩ B| = J (|A| + |B|) / (1 + J)."""
        est = estimated_jaccard(corpus.doc_sigs, pairs)
        size_a, size_b = corpus.doc_size[pairs[:, 0]], corpus.doc_size[pairs[:, 1]]
        small, large = np.minimum(size_a, size_b), np.maximum(size_a, size_b)
        est_containment = _estimated_containment(corpus, pairs, est)
        return ((est >= config.doc_threshold - DOC_LSH_MARGIN)
                | ((small >= MIN_CONTAINMENT_RATIO * large)
                   & (est_containment >= config.doc_containment_threshold - DOC_LSH_MARGIN)))

    found = lsh_candidates(corpus.doc_sigs, signed, config.doc_threshold, config.seed,
                           margin=DOC_LSH_MARGIN, screen=screen)
    hashes, owner = flatten(corpus.doc_sample, signed)
    # One index query serves both the containment rule and the reprint candidates (a lower share).
    overlaps = overlap_counts(hashes, owner, min(config.doc_containment_threshold, REPRINT_MIN_SHARE)
                              if config.doc_reprints else config.doc_containment_threshold, DOC_MAX_DF)
    links = overlaps.at_least(config.doc_containment_threshold)
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
    reprints = _reprint_links(corpus, config, overlaps.at_least(REPRINT_MIN_SHARE), uf) \
        if config.doc_reprints else links[:0]
    if len(reprints):
        uf.union_pairs(reprints)
        ends = distinct(reprints.ravel())
        missing = ends[~np.isin(ends, sets.ids)]
        if len(missing):  # the policy reports each member's similarity to its representative
            sets = sets.merge(document_sets(corpus, missing, config))
    return DocumentMatches(cluster=uf.roots(), sets=sets)


def _reprint_links(corpus: Corpus, config: Config, pairs: np.ndarray, uf: UnionFind) -> np.ndarray:
    """Verified reprint links (`reprints`) among the containment candidates at the low
    REPRINT_MIN_SHARE whose MinHash containment estimate reaches REPRINT_MIN_ESTIMATE, skipping
    pairs already in one group. Evidence paragraphs have at least MIN_PARAGRAPH_WORDS words; a
    paragraph found in `boilerplate_min_docs` or more document groups, or known as boilerplate,
    is no evidence: two pages of one site share it."""
    if not len(pairs):
        return pairs
    n = corpus.n_docs
    keys = distinct(pairs.min(axis=1) * n + pairs.max(axis=1))  # (q, x) and (x, q) are one pair
    pairs = np.stack([keys // n, keys % n], axis=1)
    roots = uf.roots()
    pairs = pairs[roots[pairs[:, 0]] != roots[pairs[:, 1]]]
    pairs = pairs[_estimated_containment(corpus, pairs) >= REPRINT_MIN_ESTIMATE]
    if not len(pairs):
        return pairs
    docs = distinct(pairs.ravel())
    sizes = np.diff(corpus.doc_offsets)[docs]
    uid = corpus.occ_uid[ranges(corpus.doc_offsets[docs], sizes)]
    owner_doc = np.repeat(docs, sizes)
    useful = (corpus.key_words[uid] >= MIN_PARAGRAPH_WORDS) & ~np.isin(uid, corpus.known_uids)
    useful[useful] = _groups_with(corpus, uid[useful], roots) < config.boilerplate_min_docs
    uid, owner_doc = uid[useful], owner_doc[useful]
    wanted = distinct(uid)
    text_of = dict(zip(wanted.tolist(), corpus.keys.get(wanted)))
    bounds = np.searchsorted(owner_doc, docs, side="left").tolist() + [len(owner_doc)]
    paragraphs = {}
    for k, d in enumerate(docs.tolist()):
        uids = uid[bounds[k]:bounds[k + 1]].tolist()
        paragraphs[d] = Paragraphs(uids, [text_of[u] for u in uids])
    return pairs[reprint_matches(paragraphs, pairs)]


def _groups_with(corpus: Corpus, uids: np.ndarray, roots: np.ndarray) -> np.ndarray:
    """For each of `uids`, in how many document groups (`roots` of the articles) its text
    occurs: copies of one article count once, as in the policy's boilerplate rule."""
    wanted = distinct(uids)
    occ = np.flatnonzero(np.isin(corpus.occ_uid, wanted))
    n = len(roots)
    places = distinct(corpus.occ_uid[occ] * n + roots[corpus.occ_doc[occ]])
    counts = np.bincount(np.searchsorted(wanted, places // n), minlength=len(wanted))
    return counts[np.searchsorted(wanted, uids)]


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
