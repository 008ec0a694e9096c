"""The policy end to end on small articles: boilerplate by frequency and by list, copies of one
article counting once, representatives, and configurable actions."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

import dedupe
from dedupe.config import Config
from dedupe.model import ROLES, Role
from tests.conftest import BASE, STORIES, variant, write_articles


def test_role_codes_are_positions_in_roles():
    assert [r.code for r in Role] == list(range(len(ROLES)))
    assert ROLES[Role.REPEAT.code] is Role.REPEAT


def _run(tmp_path, articles: dict[str, str], **config):
    out = tmp_path / "out"
    dedupe.run(write_articles(tmp_path / "in", articles), out, Config(**config))
    segs = pq.read_table(out / "segments.parquet").to_pylist()
    docs = {d["doc_id"]: d for d in pq.read_table(out / "documents.parquet").to_pylist()}
    return segs, docs


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


def test_a_chain_never_deletes_a_copy_that_is_not_close_to_the_kept_one(tmp_path):
    a, b, c = " ".join(BASE), variant(BASE, 1), variant(BASE, 2)
    segs, _ = _run(tmp_path, {"x.txt": f"Title\n{a}\n{c}\n{b}\n"}, shingle_size=5)
    role = {s["text"]: (s["role"], s["kept"]) for s in segs}
    assert role[a] == ("first", True)
    assert role[c] == ("first", True)   # J(a, c) = 0.67 < 0.7: kept although grouped through b
    assert role[b] == ("repeat", False)  # J(a, b) = 0.84


def _decisions(corpus_dir, tmp_path, config, monkeypatch=None):
    """(the decisions of a run on corpus_dir, the cluster records) through the pipeline's stages."""
    from dedupe.engines.local import InlineEngine
    from dedupe.history.run_only import RunOnlyHistory
    from dedupe.io.stores import DocumentStore
    from dedupe.corpus import build
    from dedupe.match import match
    from dedupe.pipeline import ingest
    from dedupe.policy import decide

    stage = tmp_path / f"stage{len(list(tmp_path.iterdir()))}"
    stage.mkdir()
    ingest(corpus_dir, stage, config)
    docs = DocumentStore(stage / "input.parquet")
    corpus = build(stage, docs, config, RunOnlyHistory(config).known_texts(), InlineEngine())
    doc_matches, seg_matches = match(corpus, config)
    doc_ids = [i for _, data in docs.iter_batches(("doc_id",)) for i in data["doc_id"]]
    return decide(corpus, seg_matches, doc_matches, config, doc_ids)


def test_plain_clusters_decided_as_arrays_equal_the_loop(tmp_path, monkeypatch):
    """Most clusters are plain (one copy per article in each group, no sign of boilerplate)
    and are decided as array operations; deciding every cluster in the loop gives the same
    roles, kept flags, representatives, similarities and cluster records, for both
    `shared_action`s, on articles with repeats, shared quotes, furniture and near copies."""
    from dedupe import policy
    from tests.conftest import synthetic_articles

    corpus = synthetic_articles(tmp_path / "in", articles=150, seed=3)
    for action in ("keep", "drop"):
        config = Config(shared_action=action, boilerplate_min_docs=3)
        fast = _decisions(corpus, tmp_path, config)
        with monkeypatch.context() as patch:
            plain = []
            original = policy._plain
            patch.setattr(policy, "_plain", lambda *a: plain.append(original(*a)) or ~plain[-1] & False)
            slow = _decisions(corpus, tmp_path, config)
        assert plain[0].sum() > 0.5 * len(plain[0]) and (~plain[0]).sum() > 0  # both paths taken
        assert fast.clusters == slow.clusters
        for field in ("role", "kept", "cluster", "kept_doc", "kept_seg", "similarity"):
            assert np.array_equal(getattr(fast, field), getattr(slow, field), equal_nan=True), field


def test_first_kept_copy_is_the_same_found_one_by_one_or_in_one_array_call(monkeypatch):
    """`_first_copy` scans a few kept copies one by one and many in one array call: the same
    first copy either way, with the same text (no set needed), Jaccard at the threshold, and
    extension pairs (a copy with words added at one end) all counting."""
    from dedupe import policy
    from dedupe.model import SegmentMatches
    from dedupe.sketch.sets import ShingleSets

    rng = np.random.default_rng(9)
    n = 60
    sets = [np.unique(rng.integers(0, 40, size=rng.integers(3, 12))).astype(np.uint64) for _ in range(n)]
    values = np.concatenate(sets)
    offsets = np.cumsum([0] + [len(x) for x in sets]).astype(np.int64)
    extensions = frozenset((int(a), int(b)) for a, b in np.sort(rng.integers(0, n, size=(25, 2)), axis=1) if a != b)
    seg = SegmentMatches(group=np.arange(n), cluster=np.arange(n), known_groups=frozenset(),
                         sets=ShingleSets(values, offsets), extensions=extensions)
    uid_list = rng.integers(0, n, size=400).tolist()  # occurrence -> uid, with repeats
    cases = [(rng.choice(400, size=rng.integers(1, 40), replace=False).tolist(), int(rng.integers(0, 400)))
             for _ in range(300)]
    found = {}
    for scan_up_to in (10**6, 0):  # every call one by one; every call as arrays
        monkeypatch.setattr(policy, "SCAN_KEPT_UP_TO", scan_up_to)
        found[scan_up_to] = [policy._first_copy(seg, kept, i, uid_list, 0.5) for kept, i in cases]
    assert [f and f[0] for f in found[0]] == [f and f[0] for f in found[10**6]]
    for (kept, i), f in zip(cases, found[10**6]):  # one by one, the similarity comes along
        assert f is None or f[1] == seg.similarity(uid_list[i], uid_list[f[0]])
    hits = sum(f is not None for f in found[0])
    assert 50 < hits < 250  # both answers are common

    # A text repeated verbatim has no shingle set when it took part in no candidate pair.
    named = SegmentMatches(group=np.arange(n), cluster=np.arange(n), known_groups=frozenset(),
                           sets=ShingleSets(values[:offsets[50]], offsets[:51], ids=np.arange(50)))
    uid_list[99] = uid_list[150] = uid_list[151] = 55  # no set
    for scan_up_to in (10**6, 0):
        monkeypatch.setattr(policy, "SCAN_KEPT_UP_TO", scan_up_to)
        assert policy._first_copy(named, [99, 150], 151, uid_list, 0.5)[0] == 99
