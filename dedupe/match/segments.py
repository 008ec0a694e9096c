"""Segment matches: near-duplicate groups and containment clusters of the corpus texts.

1. Candidate pairs from LSH over the MinHash signatures (`sketch.lsh`), kept only if the exact
   Jaccard similarity of the word shingle sets reaches `segment_threshold`; a large LSH bucket
   gives, instead of all its pairs, links to a few of its members verified the same way
   (`leaders`). Union-find over the kept pairs and links, and over the in-article near copies
   found while preparing (`text.nearcopy`), gives *near-duplicate groups*.
2. Texts from history (known boilerplate lines) take part in step 1 as extra texts with no
   occurrence, so a group holding one is known boilerplate.
3. Containment links: a passage of at least `min_containment_words` words whose shingles lie
   mostly inside a longer segment of another article joins that segment's *cluster* (a quote
   carried inside different paragraphs). Containment only links clusters for the cluster map;
   removals are decided on near-duplicate groups, so a quote repeated inside a longer paragraph
   of the same article is never dropped.

Exact shingle sets are recomputed only for the texts that appear in some candidate pair, so
memory follows the number of duplicates, not the size of the corpus.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from pathlib import Path

import numpy as np

from ..config import Config
from ..engines import Engine
from ..engines.local import workers
from ..model import Corpus, SegmentMatches
from ..sketch.arrays import distinct
from ..sketch.lsh import LSH_MARGIN, SCREEN_FROM, estimated_jaccard, lsh_candidates
from ..sketch.overlap import flatten, overlap_pairs
from ..sketch.sets import ShingleSets, stored_word_sets
from .buckets import bucketed_links
from .leaders import leader_links
from .unionfind import UnionFind

log = logging.getLogger("dedupe")

SEGMENT_MAX_DF = 50  # word shingles in more distinct passages than this are stock phrases


def segment_sets(corpus: Corpus, uids: np.ndarray, config: Config) -> ShingleSets:
    """Exact word shingle sets of the given sorted uids, read and shingled in bounded chunks."""
    return stored_word_sets(corpus.keys, uids, config.shingle_size, config.num_perm, config.seed,
                            words=corpus.key_words)


def match_segments(corpus: Corpus, config: Config, pool: Executor | None = None,
                   engine: Engine | None = None) -> SegmentMatches:
    """Near-duplicate groups and containment clusters of the corpus texts; the containment
    candidates are found in `pool` (a thread) while this thread runs LSH, when one is given.
    With an engine that takes paths (a cluster), LSH and its verification run there as hash
    bucket tasks (`buckets.py`) and this process unites the verified links it gets back."""
    links_future = pool.submit(_containment_candidates, corpus, config) if pool is not None else None
    if engine is not None and getattr(engine, "by_path", False):
        verified_links = bucketed_links(corpus, config, engine, Path(corpus.keys.path).parent,
                                        min_buckets=2 * workers(config))
        log.info("segment LSH in hash buckets: %d verified links (%.1f MB) for union-find",
                 len(verified_links), verified_links.nbytes / 1e6)
        links = links_future.result() if links_future is not None else _containment_candidates(corpus, config)
        sets = segment_sets(corpus, distinct(np.concatenate([verified_links.ravel(), links.ravel(),
                                                               corpus.extensions.ravel()])), config)
        return _grouped(corpus, config, sets, verified_links, links)
    n_uids = corpus.keys.count
    with_words = np.flatnonzero(corpus.key_words > 0)
    # Large runs screen each LSH band's pairs by their MinHash estimate before they accumulate
    # (small runs keep every pair of a band bucket); every survivor is still verified exactly below, and
    # so is every link inside a bucket too large to expand (`leaders`).
    screen = None
    if len(with_words) >= SCREEN_FROM:
        def screen(p: np.ndarray) -> np.ndarray:
            return estimated_jaccard(corpus.key_sigs, p) >= config.segment_threshold - LSH_MARGIN
    found = lsh_candidates(corpus.key_sigs, with_words, config.segment_threshold, config.seed, screen=screen)
    involved = distinct(np.concatenate([found.pairs.ravel(), found.buckets.members, corpus.extensions.ravel()]))

    def verify(sets: ShingleSets) -> np.ndarray:
        """The LSH candidates and bucket links that verify, given (at least) their sets."""
        def verified(pairs: np.ndarray) -> np.ndarray:
            return sets.jaccard(pairs[:, 0], pairs[:, 1]) >= config.segment_threshold

        return np.concatenate([found.pairs[verified(found.pairs)], leader_links(found.buckets, verified)])

    if links_future is not None and corpus.passage_rate == 1:
        # The LSH candidates' sets, and their verification, while the containment candidates
        # are found; the passages among them, and the containment candidates (all passages),
        # have their exact sets at hand (the same sets: both are the word shingle sets of the key).
        held = involved[np.isin(involved, corpus.passages.ids, assume_unique=True)]
        sets = segment_sets(corpus, np.setdiff1d(involved, held, assume_unique=True), config)
        if len(held):
            sets = sets.merge(corpus.passages.take(held, ids=held))
        verified_links = verify(sets)
        links = links_future.result()
        more = np.setdiff1d(distinct(links.ravel()), involved, assume_unique=True)
        if len(more):
            sets = sets.merge(corpus.passages.take(more, ids=more))
    else:  # the sets of all candidates at once, after the containment temporaries are gone
        links = links_future.result() if links_future is not None else _containment_candidates(corpus, config)
        sets = segment_sets(corpus, distinct(np.concatenate([involved, links.ravel()])), config)
        verified_links = verify(sets)
    return _grouped(corpus, config, sets, verified_links, links)


def _grouped(corpus: Corpus, config: Config, sets: ShingleSets, verified_links: np.ndarray,
             links: np.ndarray) -> SegmentMatches:
    """Groups from the verified LSH links and the in-article near copies; clusters from the
    groups and the containment candidates that verify."""
    n_uids = corpus.keys.count
    groups = UnionFind(n_uids)
    groups.union_pairs(verified_links)
    groups.union_pairs(corpus.extensions)  # exact relation, found per article
    group = groups.roots()

    clusters = UnionFind(n_uids)
    clusters.parent[:] = group  # every group root is its own root, so this is a valid forest
    if len(links):
        lo_doc, hi_doc = _doc_range_per_uid(corpus)
        q, x = links[:, 0], links[:, 1]
        one_article = (lo_doc[q] == hi_doc[q]) & (lo_doc[q] == lo_doc[x]) & (lo_doc[x] == hi_doc[x])
        ok = (group[q] != group[x]) & (sets.sizes(q) <= sets.sizes(x)) & ~one_article
        ok[ok] = sets.containment(q[ok], x[ok]) >= config.containment_threshold
        clusters.union_pairs(links[ok])
    return SegmentMatches(group=group, cluster=clusters.roots(),
                          known_groups=frozenset(group[corpus.known_uids].tolist()), sets=sets,
                          extensions=frozenset(map(tuple, corpus.extensions.tolist())))


def _containment_candidates(corpus: Corpus, config: Config) -> np.ndarray:
    if len(corpus.passages) < 2:
        return np.empty((0, 2), dtype=np.int64)
    hashes, owner = flatten(corpus.passages)
    return overlap_pairs(hashes, owner, config.containment_threshold, max_df=SEGMENT_MAX_DF,
                         threads=workers(config))


def _doc_range_per_uid(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest document index each uid occurs in (-1 for no occurrence)."""
    n = corpus.keys.count
    lo = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lo, corpus.occ_uid, corpus.occ_doc)
    np.maximum.at(hi, corpus.occ_uid, corpus.occ_doc)
    lo[hi < 0] = -1
    return lo, hi
