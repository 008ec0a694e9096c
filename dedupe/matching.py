"""Finding duplicates: segment near-duplicate groups, containment links, document clusters.

Segment level, on distinct texts (uids):
1. candidate pairs from LSH over the MinHash signatures (`candidates.lsh_pairs`), kept only if
   the exact Jaccard similarity of the shingle sets reaches `segment_threshold`; union-find
   over the kept pairs gives *near-duplicate groups*;
2. known boilerplate lines take part in step 1 as extra texts with no occurrence, so a group
   holding one is known boilerplate;
3. containment links: a passage of at least `min_containment_words` words whose shingles lie
   mostly inside a longer segment of another article joins that segment's *cluster* (a quote
   carried inside different paragraphs). Containment only links clusters for the cluster map;
   removals are decided on near-duplicate groups, so a quote repeated inside a longer paragraph
   of the same article is never dropped.

Document level: each article's normalised text is shingled as a whole (character 5-grams by
default, which survive OCR noise) and clustered the same way: Jaccard >= `doc_threshold`, or a
shorter article (at least half as long) contained in the longer >= `doc_containment_threshold`
(syndicated copies with edits, cut endings and noise); exact duplicate articles by hash.

Exact shingle sets are recomputed only for the texts that appear in some candidate pair, so
memory follows the number of duplicates, not the size of the corpus.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from .candidates import (DOC_LSH_MARGIN, LSH_MARGIN, NUMPY_LSH_FROM, containment, flatten, jaccard, lsh_pairs,
                         overlap_pairs)
from .config import Config
from .corpus import Corpus
from .prepare import DOC_SIGNATURE_SAMPLE, doc_match_texts
from .sketch import ShingleSets, char_shingle_sets, word_shingle_sets
from .unionfind import UnionFind

_CHUNK = 20_000
DOC_MAX_DF = 50  # sampled character shingles in more articles than this are stock phrases
SEGMENT_MAX_DF = 50  # word shingles in more distinct passages than this are stock phrases
MIN_CONTAINMENT_RATIO = 0.5


@dataclass
class SegmentMatches:
    group: np.ndarray
    """Near-duplicate group (its smallest uid) per uid."""
    cluster: np.ndarray
    """Cluster (its smallest uid) per uid: near-duplicate groups joined by containment links."""
    known_groups: frozenset[int]
    """Near-duplicate groups that hold a known boilerplate line."""
    sets: ShingleSets
    """Exact shingle sets of the uids that took part in a candidate pair (indexed by uid)."""
    extensions: frozenset[tuple[int, int]] = frozenset()
    """(smaller uid, larger uid): one extends or nearly repeats the other inside an article."""

    def similarity(self, u: int, v: int) -> float:
        return 1.0 if u == v else jaccard(self.sets[u], self.sets[v])

    def is_copy(self, u: int, v: int, threshold: float) -> bool:
        """Whether v may be removed as a copy of u: near-duplicate, or an extension of it."""
        return (min(u, v), max(u, v)) in self.extensions or self.similarity(u, v) >= threshold


@dataclass
class DocumentMatches:
    cluster: np.ndarray
    """Cluster (its smallest document index) per document."""
    sets: ShingleSets
    """Exact shingle sets of the documents that took part in a candidate pair (by index)."""

    def similarity(self, a: int, b: int) -> float:
        """max(Jaccard, containment of the smaller set in the larger)."""
        if a == b:
            return 1.0
        x, y = sorted((self.sets[a], self.sets[b]), key=len)
        return max(jaccard(x, y), containment(x, y))


def segment_sets(corpus: Corpus, uids: np.ndarray, config: Config) -> ShingleSets:
    """Exact word shingle sets of the given sorted uids, read and shingled in bounded chunks."""
    parts = []
    for lo in range(0, len(uids), _CHUNK):
        chunk = uids[lo: lo + _CHUNK]
        keys = corpus.keys.get(chunk)
        keys = [k if w else "" for k, w in zip(keys, corpus.key_words[chunk].tolist())]
        sets, _ = word_shingle_sets(keys, config.shingle_size, config.num_perm, config.seed, signatures=False)
        parts.append(sets)
    return ShingleSets.concat(parts, ids=np.asarray(uids, dtype=np.int64))


def match_segments(corpus: Corpus, config: Config, pool: Executor | None = None) -> SegmentMatches:
    """Near-duplicate groups and containment clusters of the corpus texts; the containment
    candidates are found in `pool` (a thread) while this thread runs LSH, when one is given."""
    links_future = pool.submit(_containment_candidates, corpus, config) if pool is not None else None
    n_uids = corpus.keys.count
    with_words = np.flatnonzero(corpus.key_words > 0)
    # Large runs screen each LSH band's pairs by their MinHash estimate before they accumulate
    # (small runs use MinHashLSH itself); every survivor is still verified exactly below.
    screen = None
    if len(with_words) >= NUMPY_LSH_FROM:
        def screen(p: np.ndarray) -> np.ndarray:
            return estimated_jaccard(corpus.key_sigs, p) >= config.segment_threshold - LSH_MARGIN
    pairs = lsh_pairs(corpus.key_sigs, with_words, config.segment_threshold, config.seed, screen=screen)
    links = links_future.result() if links_future is not None else _containment_candidates(corpus, config)

    involved = np.unique(np.concatenate([pairs.ravel(), links.ravel(), corpus.extensions.ravel()]))
    sets = segment_sets(corpus, involved, config)
    groups = UnionFind(n_uids)
    if len(pairs):
        for u, v in pairs[sets.jaccard(pairs[:, 0], pairs[:, 1]) >= config.segment_threshold].tolist():
            groups.union(u, v)
    for u, v in corpus.extensions.tolist():  # exact relation, found per article
        groups.union(u, v)
    group = groups.roots()

    clusters = UnionFind(n_uids)
    clusters.parent[:] = group  # every group root is its own root, so this is a valid forest
    if len(links):
        lo_doc, hi_doc = _doc_range_per_uid(corpus)
        q, x = links[:, 0], links[:, 1]
        one_article = (lo_doc[q] == hi_doc[q]) & (lo_doc[q] == lo_doc[x]) & (lo_doc[x] == hi_doc[x])
        ok = (group[q] != group[x]) & (sets.sizes(q) <= sets.sizes(x)) & ~one_article
        ok[ok] = sets.containment(q[ok], x[ok]) >= config.containment_threshold
        for u, v in links[ok].tolist():
            clusters.union(u, v)
    return SegmentMatches(group=group, cluster=clusters.roots(),
                          known_groups=frozenset(group[corpus.known_uids].tolist()), sets=sets,
                          extensions=frozenset(map(tuple, corpus.extensions.tolist())))


def doc_matches(sets: ShingleSets, pairs: np.ndarray, config: Config) -> np.ndarray:
    """Which document pairs are near-duplicate articles: Jaccard >= doc_threshold, or, for a
    shorter copy at least MIN_CONTAINMENT_RATIO the length of the longer (a syndicated copy
    with its end cut), containment >= doc_containment_threshold. A much shorter article
    "contained" in a long one on the same story shares its vocabulary, not its text, and is
    not a copy."""
    size_a, size_b = sets.sizes(pairs[:, 0]), sets.sizes(pairs[:, 1])
    small = np.where(size_a <= size_b, pairs[:, 0], pairs[:, 1])
    large = np.where(size_a <= size_b, pairs[:, 1], pairs[:, 0])
    n_small, n_large = np.minimum(size_a, size_b), np.maximum(size_a, size_b)
    inter = sets.intersections(small, large)
    union = n_small + n_large - inter
    jac = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    cont = np.where(n_small > 0, inter / np.maximum(n_small, 1), 0.0)
    return (jac >= config.doc_threshold) | ((n_small >= MIN_CONTAINMENT_RATIO * n_large)
                                            & (cont >= config.doc_containment_threshold))


def estimated_jaccard(signatures: np.ndarray, pairs: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """MinHash estimate of the Jaccard similarity of each pair: the share of equal positions."""
    out = np.empty(len(pairs))
    for lo in range(0, len(pairs), chunk):
        a, b = pairs[lo: lo + chunk, 0], pairs[lo: lo + chunk, 1]
        out[lo: lo + chunk] = (signatures[a] == signatures[b]).mean(axis=1)
    return out


def _containment_candidates(corpus: Corpus, config: Config) -> np.ndarray:
    if len(corpus.passages) < 2:
        return np.empty((0, 2), dtype=np.int64)
    hashes, owner = flatten(corpus.passages)
    return overlap_pairs(hashes, owner, config.containment_threshold, max_df=SEGMENT_MAX_DF)


def _doc_range_per_uid(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest document index each uid occurs in (-1 for no occurrence)."""
    n = corpus.keys.count
    lo = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lo, corpus.occ_uid, corpus.occ_doc)
    np.maximum.at(hi, corpus.occ_uid, corpus.occ_doc)
    lo[hi < 0] = -1
    return lo, hi


def document_sets(corpus: Corpus, docs: np.ndarray, config: Config) -> ShingleSets:
    """Shingle sets of the given sorted documents (texts read back from the staged store):
    character shingles in the same consistent 1-in-DOC_SIGNATURE_SAMPLE sample that was signed
    (a few hundred per article, whose Jaccard and containment are within a few hundredths of
    the full sets'), word shingles in full."""
    parts = []
    for lo in range(0, len(docs), _CHUNK):
        chunk = docs[lo: lo + _CHUNK].tolist()
        texts = corpus.docs.texts(chunk)
        match_texts = doc_match_texts([texts[d] for d in chunk], config.segmentation)
        if config.doc_shingles == "char":
            sets, _ = char_shingle_sets(match_texts, config.doc_shingle_size, config.num_perm,
                                        config.seed, signatures=False, rate=DOC_SIGNATURE_SAMPLE)
        else:
            sets, _ = word_shingle_sets(match_texts, config.doc_shingle_size, config.num_perm,
                                        config.seed, signatures=False)
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

    pairs = lsh_pairs(corpus.doc_sigs, signed, config.doc_threshold, config.seed,
                      margin=DOC_LSH_MARGIN, screen=screen)
    hashes, owner = flatten(corpus.doc_sample, signed)
    links = overlap_pairs(hashes, owner, config.doc_containment_threshold, max_df=DOC_MAX_DF)
    links = np.unique(np.sort(links, axis=1), axis=0) if len(links) else links
    candidates = np.unique(np.concatenate([pairs, links[screen(links)] if len(links) else links]), axis=0) \
        if len(pairs) + len(links) else np.empty((0, 2), dtype=np.int64)

    uf = UnionFind(corpus.n_docs)
    # Exact duplicate articles (same words), however short: grouped without any shingles.
    with_text = np.flatnonzero(corpus.doc_words > 0)
    order = with_text[np.argsort(corpus.doc_key[with_text], kind="stable")]
    same = np.flatnonzero(corpus.doc_key[order][1:] == corpus.doc_key[order][:-1])
    for i in same.tolist():
        uf.union(int(order[i]), int(order[i + 1]))
    involved = np.unique(np.concatenate([candidates.ravel(), order[same], order[same + 1]]))
    sets = document_sets(corpus, involved, config)
    if len(candidates):
        for a, b in candidates[doc_matches(sets, candidates, config)].tolist():
            uf.union(a, b)
    return DocumentMatches(cluster=uf.roots(), sets=sets)
