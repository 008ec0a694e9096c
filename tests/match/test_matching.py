"""Matching and policy on small hand-made corpora: verification, short segments, boilerplate by
frequency, near-duplicate articles, and the configurable actions."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

import dedupe
from dedupe.config import Config
from dedupe.corpus import assembly as corpus_module
from dedupe.corpus import build
from dedupe.engines.local import InlineEngine
from dedupe.history import KnownTexts
from dedupe.match.documents import match_documents
from dedupe.match.segments import match_segments, segment_sets
from dedupe.model import Document
from dedupe.sketch.sets import word_shingle_sets
from dedupe.io.stores import DocumentStore, DocumentWriter
from tests.conftest import RAW, write_articles

BASE = ("The finance minister said on Tuesday that the budget would include new spending on "
        "schools and hospitals across the country next year while opposition leaders argued the "
        "plan relied on optimistic growth forecasts and warned that borrowing costs could rise "
        "sharply if investors lost confidence in the government's fiscal rules").split()


def _docs(*texts: str) -> list[Document]:
    return [Document(f"d{i}.txt", f"d{i}.txt", t.split("\n")[0], t) for i, t in enumerate(texts)]


def _variant(words: list[str], changes: int) -> str:
    out = list(words)
    for k in range(changes):  # spread substitutions over the text
        i = (k * 7 + 3) % len(out)
        out[i] = f"x{k}"
    return " ".join(out)


def _exact_jaccard(a: str, b: str, n: int = 5) -> float:
    sets, _ = word_shingle_sets([" ".join(a.lower().split()), " ".join(b.lower().split())], n, 128, 1, signatures=False)
    return float(sets.jaccard([0], [1])[0])


def _corpus(tmp_path, docs: list[Document], known: list[str] = (), config: Config = Config()):
    stage = tmp_path / f"stage{len(list(tmp_path.glob('stage*')))}"
    stage.mkdir()
    writer = DocumentWriter(stage / "input.parquet", config.batch_docs)
    for doc in docs:
        writer.add(doc)
    writer.close()
    history = KnownTexts(tuple(known), (True,) * len(known))
    return build(stage, DocumentStore(stage / "input.parquet"), config, history, InlineEngine())


def _uids(corpus) -> dict[str, int]:
    return {k: u for u, k in enumerate(corpus.keys.get(range(corpus.n_texts)))}


def test_pairs_are_joined_only_by_verified_edges(tmp_path):
    config = Config(segment_threshold=0.7, shingle_size=5)  # _exact_jaccard uses 5-grams
    texts = [" ".join(BASE)] + [_variant(BASE, c) for c in range(1, 6)]
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


def test_a_chain_never_deletes_a_copy_that_is_not_close_to_the_kept_one(tmp_path):
    a, b, c = " ".join(BASE), _variant(BASE, 1), _variant(BASE, 2)
    segs, _ = _run(tmp_path, {"x.txt": f"Title\n{a}\n{c}\n{b}\n"}, shingle_size=5)
    role = {s["text"]: (s["role"], s["kept"]) for s in segs}
    assert role[a] == ("first", True)
    assert role[c] == ("first", True)   # J(a, c) = 0.67 < 0.7: kept although grouped through b
    assert role[b] == ("repeat", False)  # J(a, b) = 0.84


def test_chained_texts_are_verified_pairwise_not_by_minhash_estimate(tmp_path):
    # every accepted pair in a group really has exact Jaccard >= threshold with some member
    corpus = _corpus(tmp_path, _docs(*[_variant(BASE, c) for c in range(0, 8)]))
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


def _run(tmp_path, articles: dict[str, str], **config):
    out = tmp_path / "out"
    dedupe.run(write_articles(tmp_path / "in", articles), out, Config(**config))
    segs = pq.read_table(out / "segments.parquet").to_pylist()
    docs = {d["doc_id"]: d for d in pq.read_table(out / "documents.parquet").to_pylist()}
    return segs, docs


STORIES = [
    "Rail workers walked out at dawn after talks over pay collapsed late on Sunday.\n"
    "Commuters queued for replacement buses while unions promised further action in March.",
    "Farmers in the east reported the smallest wheat harvest in a decade.\n"
    "A dry spring and late frosts cut yields, and bread prices are expected to climb.",
    "Voters in the coastal district elected an independent candidate by 312 votes.\n"
    "Turnout reached a record high despite heavy rain across the constituency.",
    "Flood barriers were raised along the river as water levels rose overnight.\n"
    "Emergency crews evacuated two care homes and opened a shelter in the town hall.",
    "The city museum reopened its Egyptian gallery after a four-year restoration.\n"
    "Curators said a painted coffin had been cleaned of centuries of soot.",
    "The home side came from two goals down to win in stoppage time.\n"
    "Their captain scored twice, including a free kick that left the keeper rooted.",
    "The central bank held interest rates but signalled cuts later in the year.\n"
    "Economists said inflation had fallen faster than the bank had forecast.",
]


def _story(i: int) -> str:
    return STORIES[i % len(STORIES)]


FURNITURE = "Get the latest headlines delivered to your inbox every morning"


def test_furniture_in_many_unrelated_articles_is_boilerplate(tmp_path):
    articles = {f"a{i}.txt": f"Title {i}\n{_story(i)}\n{FURNITURE}\n" for i in range(6)}
    segs, docs = _run(tmp_path, articles)
    furniture = [s for s in segs if s["text"] == FURNITURE]
    assert len(furniture) == 6 and all(s["role"] == "boilerplate" and not s["kept"] for s in furniture)
    assert all(FURNITURE not in d["text"] for d in docs.values())
    assert all(s["kept"] for s in segs if s["text"] != FURNITURE)


def test_copies_of_one_article_do_not_make_its_paragraphs_boilerplate(tmp_path):
    body = f"{_story(1)}\n{FURNITURE}"
    articles = {f"copy{i}.txt": f"Headline {i}\n{body}\n" for i in range(6)}
    segs, docs = _run(tmp_path, articles)
    assert all(s["kept"] for s in segs)  # six copies of one article count as one, below 5
    kept = [d for d in docs.values() if d["kept"]]
    assert len(kept) == 1 and len({d["doc_cluster_id"] for d in docs.values()}) == 1
    for d in docs.values():
        if not d["kept"]:
            assert d["duplicate_of"] == kept[0]["doc_id"] and d["similarity"] >= 0.8


def test_near_duplicate_articles_keep_the_longest(tmp_path):
    story = _story(3)
    articles = {"a.txt": f"Headline\n{story}\n", "b.txt": f"Headline\n{story}\nA closing line added by the copy desk.\n",
                "c.txt": f"Other\n{_story(5)}\n"}
    segs, docs = _run(tmp_path, articles)
    assert docs["b.txt"]["kept"] and not docs["a.txt"]["kept"]
    assert docs["a.txt"]["duplicate_of"] == "b.txt"
    assert docs["c.txt"]["doc_cluster_id"] is None and docs["c.txt"]["kept"]
    _, docs_first = _run(tmp_path / "first", articles, doc_representative="first")
    assert docs_first["a.txt"]["kept"] and docs_first["b.txt"]["duplicate_of"] == "a.txt"


def test_actions_are_configurable(tmp_path):
    articles = {"a.txt": "T\nA caption printed twice by the site\nBody text here\nA caption printed twice by the site\nLoad video\n",
                "b.txt": "U\nAnother body entirely about something else\n"}
    segs, _ = _run(tmp_path, articles, repeat_action="keep", boilerplate_action="keep")
    roles = {(s["segment"], s["role"], s["kept"]) for s in segs if s["doc_id"] == "a.txt"}
    assert (3, "repeat", True) in roles and (4, "boilerplate", True) in roles
    segs, _ = _run(tmp_path / "2", articles, use_known_boilerplate=False)
    assert next(s for s in segs if s["text"] == "Load video")["role"] == "unique"
    segs, _ = _run(tmp_path / "3", articles, boilerplate_extra=("Body text here",))
    assert next(s for s in segs if s["text"] == "Body text here")["role"] == "boilerplate"


def test_shared_action_drop_keeps_only_the_first_article_copy(tmp_path):
    shared = "The committee will publish its findings in a report to parliament early next year"
    articles = {"a.txt": f"A\n{shared}\nOwn text of a.\n", "b.txt": f"B\nOwn text of b.\n{shared}\n"}
    segs, _ = _run(tmp_path, articles, shared_action="drop")
    copies = {s["doc_id"]: s for s in segs if s["text"] == shared}
    assert copies["a.txt"]["kept"] and not copies["b.txt"]["kept"]
    assert (copies["b.txt"]["kept_doc_id"], copies["b.txt"]["kept_segment"]) == ("a.txt", 1)


def test_identical_articles_form_one_document_cluster_with_equal_shingles(tmp_path):
    body = " ".join(BASE)
    docs = _docs(f"One\n{body}", f"One\n{body}", f"Two\n{STORIES[0]}\n{STORIES[1]}")
    m = match_documents(_corpus(tmp_path, docs), Config())
    assert m.cluster.tolist() == [0, 0, 2]
    assert np.array_equal(m.sets[0], m.sets[1]) and m.similarity(0, 1) == 1.0


def test_passage_sets_are_sampled_alike_whatever_the_batches(tmp_path, monkeypatch):
    # More passages than the limit: the switch to the sample happens after a different number
    # of batches, but the sets kept are the same, and equal the sampled exact sets.
    monkeypatch.setattr(corpus_module, "CONTAINMENT_SAMPLE_FROM", 40)
    docs = [Document(doc_id=p.name, source=p.name, title="", text=p.read_text("utf-8"))
            for p in sorted(RAW.glob("*.txt"))]
    one = _corpus(tmp_path, docs, config=Config(batch_docs=1))
    all_ = _corpus(tmp_path, docs, config=Config(batch_docs=1000))
    assert len(one.passages) > 40
    for field in ("values", "offsets", "ids"):
        assert np.array_equal(getattr(one.passages, field), getattr(all_.passages, field))
    uids = np.flatnonzero(one.key_words[: one.n_texts] >= Config().min_containment_words)
    assert np.array_equal(one.passages.ids, uids)
    full = segment_sets(one, uids, Config())
    exact = full.sample(corpus_module.CONTAINMENT_SAMPLE_RATE)
    assert len(exact.values) < len(full.values) / 2  # the sample, not the full sets
    assert np.array_equal(one.passages.values, exact.values)
    assert np.array_equal(one.passages.offsets, exact.offsets)
