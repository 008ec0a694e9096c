"""Template pages: thousands of near-identical texts fill LSH buckets far above `MAX_BUCKET`.
They must cluster as all their pairs would, with a number of exact checks linear in their count,
and the policy must still remove a copy only when it is itself close to the copy kept."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

import dedupe
from dedupe.config import Config
from dedupe.match.documents import match_documents
from dedupe.match.segments import match_segments
from dedupe.model import Document
from dedupe.sketch.sets import ShingleSets
from tests.conftest import STORIES, build_corpus, write_articles

# 65 words, the number at word 4: two bodies differ in 4 of 62 word 4-grams (Jaccard 58/66).
BODY = ("This is article number {} of the daily feed. It was made from the same template as every "
        "other page of this site, and only its number changes from one page to the next. Readers who "
        "reach the end of it will find a short list of related links, a form for comments and a "
        "button to share the page with friends on social media.")


def template(i: int) -> str:
    return f"Item {i}\nOpen Image Modal\n{BODY.format(i)}"


def _edit(text: str, start: list[str], at: int) -> str:
    """`text` with its first words replaced by `start` and word `at` by a new word."""
    words = text.split()
    words[:len(start)] = start
    words[at] = "changed"
    return " ".join(words)


# Each is at Jaccard 53/71 = 0.75 of every body (5 + 4 of 62 shingles replaced), but only 49/75 =
# 0.65 from the other: a group joins them, and neither may be removed as a copy of the other.
X = _edit(BODY.format(0), ["Note", "one", "two", "three", "four"], 30)
Y = _edit(BODY.format(0), ["Memo", "five", "six", "seven", "eight"], 50)


def _count_checks(monkeypatch) -> list[int]:
    """Record the number of pairs of every exact measure (all verification goes through it)."""
    asked: list[int] = []
    measures = ShingleSets.measures

    def counted(self, a, b):
        asked.append(len(a))
        return measures(self, a, b)

    monkeypatch.setattr(ShingleSets, "measures", counted)
    return asked


def test_template_articles_cluster_with_a_linear_number_of_checks(tmp_path, monkeypatch):
    n = 1_000
    docs = [Document(f"t{i}", f"t{i}", "", template(i)) for i in range(n)]
    docs += [Document(f"s{i}", f"s{i}", "", story) for i, story in enumerate(STORIES)]
    corpus = build_corpus(tmp_path, docs)
    keys = corpus.keys.get(range(corpus.n_texts))
    bodies = [u for u, k in enumerate(keys) if k.startswith("this is article number")]
    assert len(bodies) == n

    asked = _count_checks(monkeypatch)
    seg = match_segments(corpus, Config())
    assert len(set(seg.group[bodies].tolist())) == 1  # all n bodies in one group
    assert sum(asked) < 10 * n  # all pairs would be n (n - 1) / 2 = 499,500

    asked.clear()
    doc = match_documents(corpus, Config())
    assert len(set(doc.cluster[:n].tolist())) == 1
    assert len(set(doc.cluster[n:].tolist())) == len(STORIES)  # the stories match nothing
    assert sum(asked) < 10 * n


def _run(tmp_path, articles: dict[str, str]):
    out = tmp_path / "out"
    dedupe.run(write_articles(tmp_path / "in", articles), out, Config())
    segs = pq.read_table(out / "segments.parquet").to_pylist()
    docs = pq.read_table(out / "documents.parquet").to_pylist()
    return segs, docs


def test_policy_on_template_articles(tmp_path):
    n = 300
    articles = {f"feed/{i:03d}.txt": template(i) for i in range(n)}
    articles["both.txt"] = f"Two notes\n{X}\n{Y}"      # X and Y: grouped, but not copies
    articles["copy.txt"] = f"A copy\n{BODY.format(7)}\n{X}"  # X is close to the body kept
    segs, docs = _run(tmp_path, articles)
    by = {(s["doc_id"], s["segment"]): s for s in segs}

    # every template article is a near-duplicate of one kept representative
    feed = {d["doc_cluster_id"] for d in docs if d["doc_id"].startswith("feed/")}
    assert len(feed) == 1 and None not in feed
    assert sum(d["kept"] for d in docs if d["doc_cluster_id"] in feed) == 1
    # the furniture line is boilerplate everywhere; the bodies form one cluster and stay
    modal = [s for s in segs if s["text"] == "Open Image Modal"]
    assert len(modal) == n and all(s["role"] == "boilerplate" and not s["kept"] for s in modal)
    bodies = [by[f"feed/{i:03d}.txt", 2] for i in range(n)]
    assert len({s["cluster_id"] for s in bodies}) == 1 and all(s["kept"] for s in bodies)

    # chain control: X and Y share the bodies' cluster, yet Y is not a copy of X, so it stays
    x, y = by["both.txt", 1], by["both.txt", 2]
    assert x["cluster_id"] == y["cluster_id"] == bodies[0]["cluster_id"]
    assert x["kept"] and y["kept"] and y["role"] != "repeat"
    # ... while X after a body it is close to is removed as a repeat of that body
    removed = by["copy.txt", 2]
    assert removed["role"] == "repeat" and not removed["kept"] and removed["kept_segment"] == 1
    assert removed["similarity"] >= Config().segment_threshold


def test_the_edits_are_as_the_chain_test_needs():
    from dedupe.sketch.sets import word_shingle_sets
    from dedupe.text.normalize import match_keys

    keys, _ = match_keys([X, Y, BODY.format(3), BODY.format(4)])
    sets, _ = word_shingle_sets(keys, 4, 128, 1, signatures=False)
    sim = lambda a, b: float(sets.jaccard([a], [b])[0])  # noqa: E731
    assert np.allclose([sim(0, 2), sim(0, 3), sim(1, 2), sim(1, 3), sim(2, 3), sim(0, 1)],
                       [53 / 71] * 4 + [58 / 66, 49 / 75])


def test_document_buckets_reshingle_only_the_articles_a_screened_link_reaches(tmp_path):
    from dedupe.match.documents import _bucket_links, document_sets
    from dedupe.sketch.lsh import DOC_LSH_MARGIN, lsh_candidates

    config = Config()
    corpus = build_corpus(tmp_path, [Document(f"t{i}", f"t{i}", "", template(i)) for i in range(200)])
    found = lsh_candidates(corpus.doc_sigs, np.flatnonzero(corpus.doc_signed), config.doc_threshold,
                           config.seed, margin=DOC_LSH_MARGIN)
    assert len(found.buckets) > 0
    none = document_sets(corpus, np.empty(0, dtype=np.int64), config)

    links, sets = _bucket_links(corpus, config, found.buckets, none, lambda p: np.zeros(len(p), bool))
    assert len(links) == 0 and len(sets) == 0  # nothing passed the screen: no article re-read

    links, sets = _bucket_links(corpus, config, found.buckets, none, lambda p: np.ones(len(p), bool))
    assert set(sets.ids.tolist()) == set(links.ravel().tolist())  # every article checked was linked
    assert len(set(links[:, 1].tolist())) >= 100  # most members joined a leader
