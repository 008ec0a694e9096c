"""Finding duplicates: segment near-duplicate groups, containment links, document clusters.

Segment level, on distinct texts (uids):
1. shingle each text and sign it (batched MinHash, `signatures.py`);
2. candidate pairs from `MinHashLSH`, kept only if the exact Jaccard similarity of the shingle
   sets reaches `segment_threshold` -> union-find gives *near-duplicate groups*;
3. known boilerplate lines take part in step 2 as extra texts with no occurrence, so a group
   holding one is known boilerplate;
4. containment links (an inverted index over shingles, verified exactly): a passage of at least
   `min_containment_words` words whose shingles lie mostly inside a longer segment of another
   article joins that segment's *cluster* (a quote carried inside different paragraphs).
   Containment only links clusters for the cluster map; removals are decided on near-duplicate
   groups, so a quote repeated inside a longer paragraph of the same article is never dropped.

Document level: each article's normalised text is shingled as a whole (character 5-grams by
default, which survive OCR noise) and clustered the same way: Jaccard >= `doc_threshold`, or the
shorter article contained in the longer >= `doc_containment_threshold` (syndicated copies with
edits, cut endings and noise; exact duplicate files).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .candidates import containment, jaccard, lsh_pairs, overlap_pairs
from .config import Config
from .corpus import Corpus
from .normalize import words
from .shingles import TokenHasher, char_tokens, fold32, shingle_hashes
from .signatures import minhash_batch
from .unionfind import UnionFind


@dataclass
class SegmentMatches:
    keys: list[str]
    """Match key per uid: the corpus' distinct texts, then the known boilerplate lines."""
    n_texts: int
    """uids below this are corpus texts; the rest are known boilerplate lines."""
    shingles: list[np.ndarray]
    """Sorted unique 64-bit shingle hashes per uid."""
    group: np.ndarray
    """Near-duplicate group (its smallest uid) per uid."""
    cluster: np.ndarray
    """Cluster (its smallest uid) per uid: near-duplicate groups joined by containment links."""
    known_groups: frozenset[int]
    """Near-duplicate groups that hold a known boilerplate line."""

    def similarity(self, u: int, v: int) -> float:
        return 1.0 if u == v else jaccard(self.shingles[u], self.shingles[v])



@dataclass
class DocumentMatches:
    shingles: list[np.ndarray]
    """Sorted unique 64-bit shingle hashes per document."""
    cluster: np.ndarray
    """Cluster (its smallest document index) per document."""


def shingle_sets(word_lists: list[list[str]], n: int, config: Config,
                 hasher: TokenHasher) -> tuple[list[np.ndarray], np.ndarray]:
    """Sorted unique word n-gram hashes and MinHash signatures of many word sequences."""
    def tokens(batch: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        offsets = np.zeros(len(batch) + 1, dtype=np.int64)
        np.cumsum([len(w) for w in batch], out=offsets[1:])
        return hasher.hash_words([w for words_ in batch for w in words_]), offsets

    return _sign_batches(word_lists, tokens, n, config)


def char_shingle_sets(texts: list[str], n: int, config: Config) -> tuple[list[np.ndarray], np.ndarray]:
    """Sorted unique character n-gram hashes and MinHash signatures of many texts."""
    return _sign_batches(texts, char_tokens, n, config)


def _sign_batches(items: list, tokenize, n: int, config: Config) -> tuple[list[np.ndarray], np.ndarray]:
    sets: list[np.ndarray] = []
    sigs = np.empty((len(items), config.num_perm), dtype=np.uint32)
    for lo in range(0, len(items), config.batch_size):
        batch = items[lo: lo + config.batch_size]
        token_hashes, offsets = tokenize(batch)
        hashes, sh_offsets = shingle_hashes(token_hashes, offsets, n)
        uniq = [np.unique(hashes[sh_offsets[i]: sh_offsets[i + 1]]) for i in range(len(batch))]
        u_offsets = np.zeros(len(batch) + 1, dtype=np.int64)
        np.cumsum([len(u) for u in uniq], out=u_offsets[1:])
        flat = np.concatenate(uniq) if uniq else np.empty(0, dtype=np.uint64)
        sigs[lo: lo + len(batch)] = minhash_batch(fold32(flat), u_offsets, config.num_perm, config.seed)
        sets.extend(uniq)
    return sets, sigs


def match_segments(corpus: Corpus, known: list[str], config: Config,
                   hasher: TokenHasher | None = None) -> SegmentMatches:
    hasher = hasher or TokenHasher()
    uid_of = {k: u for u, k in enumerate(corpus.keys)}
    extra = [k for k in known if k not in uid_of]
    keys = corpus.keys + extra
    word_lists = [words(k) for k in keys]
    sets, sigs = shingle_sets(word_lists, config.shingle_size, config, hasher)

    ids = [u for u in range(len(keys)) if len(sets[u])]
    groups = UnionFind(len(keys))
    for u, v in lsh_pairs(sigs, ids, config.segment_threshold, config.seed):
        if jaccard(sets[u], sets[v]) >= config.segment_threshold:
            groups.union(int(u), int(v))
    group = groups.roots()
    known_uids = np.array([uid_of.get(k, -1) for k in known], dtype=np.int64)
    known_uids[known_uids < 0] = np.arange(len(corpus.keys), len(keys))

    clusters = UnionFind(len(keys))
    for u in range(len(keys)):
        clusters.union(u, int(group[u]))
    for q, x in _containment_links(corpus, word_lists, sets, group, config):
        clusters.union(q, x)
    return SegmentMatches(keys=keys, n_texts=len(corpus.keys), shingles=sets, group=group,
                          cluster=clusters.roots(), known_groups=frozenset(group[known_uids].tolist()))


def _containment_links(corpus: Corpus, word_lists: list[list[str]], sets: list[np.ndarray],
                       group: np.ndarray, config: Config) -> list[tuple[int, int]]:
    """Verified (passage, container) uid pairs occurring in different documents."""
    n_texts = len(corpus.keys)
    ids = [u for u in range(n_texts) if len(word_lists[u]) >= config.min_containment_words]
    if len(ids) < 2:
        return []
    docs_of = _docs_per_uid(corpus)
    links = []
    for q, x in overlap_pairs(sets, ids, config.containment_threshold).tolist():
        if group[q] == group[x] or len(sets[q]) > len(sets[x]):
            continue
        if len(docs_of[q] | docs_of[x]) < 2:
            continue
        if containment(sets[q], sets[x]) >= config.containment_threshold:
            links.append((q, x))
    return links


def match_documents(corpus: Corpus, config: Config, hasher: TokenHasher | None = None) -> DocumentMatches:
    """Cluster whole articles: Jaccard >= doc_threshold, or the shorter one's shingles
    contained in the longer one >= doc_containment_threshold (cut syndicated copies)."""
    word_lists = []
    for d in range(len(corpus.documents)):
        doc_words: list[str] = []
        for u in corpus.doc_uids(d):
            doc_words.extend(words(corpus.keys[u]))
        word_lists.append(doc_words)
    if config.doc_shingles == "char":
        sets, sigs = char_shingle_sets([" ".join(w) for w in word_lists], config.doc_shingle_size, config)
    else:
        sets, sigs = shingle_sets(word_lists, config.doc_shingle_size, config, hasher or TokenHasher())
    ids = [d for d in range(len(sets)) if len(sets[d])]
    candidates = {tuple(p) for p in lsh_pairs(sigs, ids, config.doc_threshold, config.seed).tolist()}
    # Documents have thousands of character shingles: a 1-in-8 hash sample keeps the index small.
    for q, x in overlap_pairs(sets, ids, config.doc_containment_threshold, sample=8).tolist():
        candidates.add((min(q, x), max(q, x)))
    uf = UnionFind(len(sets))
    for a, b in sorted(candidates):
        if doc_similarity(sets[a], sets[b], config) is not None:
            uf.union(a, b)
    return DocumentMatches(shingles=sets, cluster=uf.roots())


def doc_similarity(a: np.ndarray, b: np.ndarray, config: Config) -> float | None:
    """max(Jaccard, containment of the smaller set) if it passes its threshold, else None."""
    jac = jaccard(a, b)
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    con = containment(small, large)
    if jac >= config.doc_threshold or con >= config.doc_containment_threshold:
        return max(jac, con)
    return None


def _docs_per_uid(corpus: Corpus) -> list[set[int]]:
    docs: list[set[int]] = [set() for _ in corpus.keys]
    for d, u in zip(corpus.occ_doc.tolist(), corpus.occ_uid.tolist()):
        docs[u].add(d)
    return docs
