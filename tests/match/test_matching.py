"""Matching on small hand-made corpora: only verified edges join, chains are verified pairwise,
short segments, containment links, identical articles."""

from __future__ import annotations

import numpy as np

from dedupe.config import Config
from dedupe.match.documents import match_documents
from dedupe.match.segments import match_segments
from dedupe.model import Document
from dedupe.sketch.sets import word_shingle_sets
from tests.conftest import BASE, STORIES, build_corpus as _corpus, variant

def _docs(*texts: str) -> list[Document]:
    return [Document(f"d{i}.txt", f"d{i}.txt", t.split("\n")[0], t) for i, t in enumerate(texts)]


def _exact_jaccard(a: str, b: str, n: int = 5) -> float:
    sets, _ = word_shingle_sets([" ".join(a.lower().split()), " ".join(b.lower().split())], n, 128, 1, signatures=False)
    return float(sets.jaccard([0], [1])[0])


def _uids(corpus) -> dict[str, int]:
    return {k: u for u, k in enumerate(corpus.keys.get(range(corpus.n_texts)))}


def test_pairs_are_joined_only_by_verified_edges(tmp_path):
    config = Config(segment_threshold=0.7, shingle_size=5)  # _exact_jaccard uses 5-grams
    texts = [" ".join(BASE)] + [variant(BASE, c) for c in range(1, 6)]
    corpus = _corpus(tmp_path, _docs(*texts))
    matches = match_segments(corpus, config)
    sims = {(a, b): _exact_jaccard(texts[a], texts[b]) for a in range(6) for b in range(6)}
    # 0~1 (J=0.84) and 1~2 verified; 0-2 is only 0.67 but joins through 1 (a chain)
    assert sims[0, 1] >= 0.7 and sims[1, 2] >= 0.7 and sims[0, 2] < 0.7
    # the groups are exactly the components of the brute-force graph of verified pairs
    from dedupe.match.unionfind import UnionFind

    brute = UnionFind(6)
    for (a, b), sim in sims.items():
        if a < b and sim >= 0.7:
            brute.union(a, b)
    assert matches.group.tolist() == brute.roots().tolist()
    assert matches.group[0] == matches.group[2]


def test_chained_texts_are_verified_pairwise_not_by_minhash_estimate(tmp_path):
    # every accepted pair in a group really has exact Jaccard >= threshold with some member
    corpus = _corpus(tmp_path, _docs(*[variant(BASE, c) for c in range(0, 8)]))
    config = Config()
    m = match_segments(corpus, config)
    n = corpus.n_texts
    for u in range(n):
        peers = [v for v in range(n) if v != u and m.group[v] == m.group[u]]
        if peers:
            assert max(m.similarity(u, v) for v in peers) >= config.segment_threshold


def test_short_segments_neither_vanish_nor_collide(tmp_path):
    corpus = _corpus(tmp_path, _docs("Load video\nLoad more\nLearn more\nLoad video\nMore", "Learn more"))
    m = match_segments(corpus, Config())
    uid = _uids(corpus)
    sets, _ = word_shingle_sets(list(uid), 5, 128, 1, signatures=False)
    assert all(len(s) == 1 for s in sets)
    groups = {k: m.group[u] for k, u in uid.items()}
    assert len({groups["load video"], groups["load more"], groups["learn more"], groups["more"]}) == 4


def test_containment_links_passages_across_articles_only(tmp_path):
    quote = ("I have been called a surrogate at a time or two in that campaign and I did not "
             "have communications with the Russians")
    long = f"Mr Sessions responded: I am not aware of any of those activities. {quote}. And that is all."
    corpus = _corpus(tmp_path, _docs(f"A\n{quote}", f"B\n{long}", f"C\nOther\n{quote[:60]} x y z w"))
    m = match_segments(corpus, Config())
    uid = _uids(corpus)
    q = uid[" ".join(quote.lower().split())]
    long_uid = next(u for k, u in uid.items() if k.startswith("mr sessions"))
    assert m.cluster[q] == m.cluster[long_uid] and m.group[q] != m.group[long_uid]
    assert m.sets.containment([q], [long_uid])[0] == 1.0

    # inside one article a contained quote is not linked (and never removed)
    same = _corpus(tmp_path, _docs(f"A\n{quote}\n{long}"))
    m2 = match_segments(same, Config())
    assert len(set(m2.cluster.tolist())) == same.keys.count


def test_identical_articles_form_one_document_cluster_with_equal_shingles(tmp_path):
    body = " ".join(BASE)
    docs = _docs(f"One\n{body}", f"One\n{body}", f"Two\n{STORIES[0]}\n{STORIES[1]}")
    m = match_documents(_corpus(tmp_path, docs), Config())
    assert m.cluster.tolist() == [0, 0, 2]
    assert np.array_equal(m.sets[0], m.sets[1]) and m.similarity(0, 1) == 1.0


def test_passage_sets_are_the_exact_sets_matching_verifies_with(tmp_path):
    """Containment candidates are passages, and segment matching verifies them with the
    passages' own sets when they are exact (`passage_rate` 1) instead of shingling the texts
    again: those sets are the ones `segment_sets` computes from the stored keys."""
    from dedupe.match.segments import segment_sets

    texts = [f"{BASE[0]}\n" + variant(BASE, c) + "\nA short caption\n" + STORIES[c % len(STORIES)] for c in range(6)]
    config = Config()
    corpus = _corpus(tmp_path, _docs(*texts), config=config)
    assert corpus.passage_rate == 1 and len(corpus.passages) >= 6
    ids = corpus.passages.ids
    again = segment_sets(corpus, ids, config)
    assert np.array_equal(corpus.passages.offsets, again.offsets)
    assert np.array_equal(corpus.passages.values, again.values)
    assert np.array_equal(corpus.passages.ids, again.ids)


def test_document_similarities_match_the_definition_pair_by_pair():
    """`DocumentMatches.similarities` (one call for a whole cluster) gives, for each member,
    max(Jaccard, containment of the smaller set in the larger), and 1.0 for the member itself."""
    from dedupe.model import DocumentMatches
    from dedupe.sketch.sets import ShingleSets

    members = [{1, 2, 3, 4}, {1, 2, 3, 4, 5, 6, 7, 8}, {3, 4, 9}, set(), {20, 21}, {1, 2, 3, 4}]
    values = np.concatenate([np.array(sorted(s), dtype=np.uint64) for s in members])
    offsets = np.cumsum([0] + [len(s) for s in members]).astype(np.int64)
    docs = DocumentMatches(cluster=np.zeros(len(members), dtype=np.int64), sets=ShingleSets(values, offsets))
    rep = 1

    def expected(a: set, b: set) -> float:
        inter, union, smaller = len(a & b), len(a | b), min(len(a), len(b))
        return max(inter / union if union else 1.0, inter / smaller if smaller else 0.0)

    got = docs.similarities(np.arange(len(members)), rep)
    want = [1.0 if d == rep else expected(members[d], members[rep]) for d in range(len(members))]
    assert got.tolist() == want  # exact: the same float operations
    assert [docs.similarity(d, rep) for d in range(len(members))] == want
    assert got[0] == 1.0 and got[2] == 2 / 3 and got[3] == 0.0 and got[4] == 0.0  # subset; 2 of 3; empty; disjoint
