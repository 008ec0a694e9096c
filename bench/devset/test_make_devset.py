"""Tests for bench/devset/make_devset.py (needs the research corpora in ../shared/corpora)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import importlib.util

import pytest

SCRIPT = Path(__file__).resolve().parent / "make_devset.py"
REPO_ROOT = SCRIPT.parents[2]
CORPORA = Path(os.environ.get("DEDUPE_CORPORA", REPO_ROOT.parent / "shared" / "corpora"))
SMALL = ["--limit-stories", "20", "--bbc-sample", "40", "--syndicate", "6", "--quiet"]
KINDS = {None, "repeat", "boilerplate", "shared"}


def build(out: Path, *extra: str, hashseed: str = "0", corpora: Path = CORPORA):
    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--corpora", str(corpora), *extra],
        capture_output=True, text=True, env=env, timeout=120,
    )


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


needs_corpora = pytest.mark.skipif(
    not (CORPORA / "multinews-dev").is_dir() or not (CORPORA / "bbc").is_dir(),
    reason=f"research corpora not available at {CORPORA}",
)


def test_missing_corpora_is_a_clear_error(tmp_path):
    res = build(tmp_path / "out", *SMALL, corpora=tmp_path / "nowhere")
    assert res.returncode != 0
    assert "corpora not found" in res.stderr
    assert not (tmp_path / "out" / "labels.jsonl").exists()


@pytest.fixture(scope="module")
def small_build(tmp_path_factory):
    if not (CORPORA / "multinews-dev").is_dir() or not (CORPORA / "bbc").is_dir():
        pytest.skip(f"research corpora not available at {CORPORA}")
    base = tmp_path_factory.mktemp("devset")
    a, b = base / "a", base / "b"
    # different hash seeds: nothing may depend on set/dict order of strings
    for out, seed in ((a, "1"), (b, "2")):
        res = build(out, *SMALL, hashseed=seed)
        assert res.returncode == 0, res.stderr
    return a, b


@needs_corpora
def test_deterministic(small_build):
    a, b = small_build
    ta, tb = tree(a), tree(b)
    assert ta.keys() == tb.keys()
    assert [k for k in ta if ta[k] != tb[k]] == []


@needs_corpora
def test_other_seed_differs(small_build, tmp_path):
    res = build(tmp_path / "c", *SMALL, "--seed", "8")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "c" / "labels.jsonl").read_bytes() != \
        (small_build[0] / "labels.jsonl").read_bytes()


@needs_corpora
def test_syn_noise(small_build, tmp_path):
    # the default rates spelled out give the default build; one rate puts every copy at it
    res = build(tmp_path / "mix", *SMALL, "--syn-noise", "0,0.01,0.03,0.05", hashseed="1")
    assert res.returncode == 0, res.stderr
    assert tree(tmp_path / "mix") == tree(small_build[0])
    res = build(tmp_path / "n3", *SMALL[:-1], "--syn-noise", "0.03")
    assert res.returncode == 0, res.stderr
    levels = {line.split(" at ")[1].split(":")[0] for line in res.stdout.splitlines()
              if "copy vs original at" in line}
    assert levels == {"3% noise"}
    assert build(tmp_path / "bad", *SMALL, "--syn-noise", "1.5").returncode == 2


@needs_corpora
def test_reprints_are_abridged_and_noised_at_3_to_10_percent(tmp_path):
    res = build(tmp_path / "r", *SMALL[:-1], "--reprints")
    assert res.returncode == 0, res.stderr
    levels = {int(line.split(" at ")[1].split("%")[0]) for line in res.stdout.splitlines()
              if "copy vs original at" in line}
    assert levels and levels <= set(range(3, 11))
    assert "abridged: ending cut" in res.stdout
    articles = tmp_path / "r" / "articles"
    copies = sorted((articles / "syndicated").rglob("*.txt"))
    assert copies
    shorter = 0
    for copy in copies:
        topic, name = copy.parent.name, copy.name.rsplit("-", 1)[0] + ".txt"
        original = (articles / "bbc" / topic / name).read_text(encoding="utf-8").split("\n\n")
        body = copy.read_text(encoding="utf-8").split("\n\n")
        assert len(body) <= len(original) + 1  # + an inserted paragraph at most
        shorter += len(body) < len(original)
    assert shorter >= len(copies) // 2
    # the same options give the same bytes
    again = build(tmp_path / "r2", *SMALL[:-1], "--reprints", hashseed="5")
    assert again.returncode == 0 and tree(tmp_path / "r") == tree(tmp_path / "r2")


def load(out: Path):
    segs, docs = [], []
    for line in (out / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        (segs if rec["type"] == "segment" else docs).append(rec)
    return segs, docs


@needs_corpora
def test_offsets_cover_every_paragraph(small_build):
    out = small_build[0]
    segs, docs = load(out)
    articles = sorted(p.relative_to(out / "articles").as_posix()
                      for p in (out / "articles").rglob("*.txt"))
    assert sorted(d["source"] for d in docs) == articles
    assert {a.split("/")[0] for a in articles} == {"multinews", "bbc", "syndicated"}
    by_source = defaultdict(list)
    for s in segs:
        by_source[s["source"]].append(s)
    assert sorted(by_source) == articles
    for source, labels in by_source.items():
        raw = (out / "articles" / source).read_bytes()
        assert b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8")
        # one label per non-empty line, in order, offsets slicing the stripped line
        expected, pos = [], 0
        for line in text.split("\n"):
            if line.strip():
                lead = len(line) - len(line.lstrip())
                expected.append((pos + lead, pos + lead + len(line.strip())))
            pos += len(line) + 1
        got = [(s["start"], s["end"]) for s in labels]
        assert got == expected, source
        for s in labels:
            para = text[s["start"]:s["end"]]
            assert para and para == para.strip() and "\n" not in para


@needs_corpora
def test_groups_kinds_and_expected_consistent(small_build):
    segs, docs = load(small_build[0])
    groups = defaultdict(list)
    for s in segs:
        assert s["kind"] in KINDS and s["expected"] in ("keep", "drop")
        if s["group"] is None:
            # no duplicate; or a lone site-furniture line (boilerplate without a group)
            assert (s["kind"], s["expected"]) in ((None, "keep"), ("boilerplate", "drop"))
        else:
            assert s["kind"] is not None
            groups[s["group"]].append(s)
    assert groups
    seen_kinds = set()
    for g, members in groups.items():
        assert len(members) >= 2, g
        kinds = {m["kind"] for m in members}
        seen_kinds |= kinds
        if "boilerplate" in kinds:
            assert kinds == {"boilerplate"}, g
            assert all(m["expected"] == "drop" for m in members), g
            continue
        # repeat / shared: in each article the first copy is kept, later copies are repeats
        per_source = defaultdict(list)
        for m in members:
            per_source[m["source"]].append(m)
        for ms in per_source.values():
            ms.sort(key=lambda m: m["start"])
            assert ms[0]["expected"] == "keep", g
            assert all(m["kind"] == "repeat" and m["expected"] == "drop" for m in ms[1:]), g
        if len(per_source) == 1:
            assert kinds == {"repeat"}, g
        else:
            assert all(ms[0]["kind"] == "shared" for ms in per_source.values()), g
    assert seen_kinds == {"repeat", "boilerplate", "shared"}
    doc_groups = defaultdict(list)
    for d in docs:
        if d["group"] is not None:
            doc_groups[d["group"]].append(d["source"])
    assert doc_groups and all(len(v) >= 2 for v in doc_groups.values())
    # every syndicated copy is in a document group with its bbc original
    group_of = {d["source"]: d["group"] for d in docs}
    for source, group in group_of.items():
        if source.startswith("syndicated/"):
            topic, name = source.split("/")[1:]
            assert group is not None and group_of[f"bbc/{topic}/{name.split('-')[0]}.txt"] == group


@needs_corpora
def test_labels_load_with_project_loader(small_build):
    labels = pytest.importorskip("dedupe.evaluation.labels")
    loaded = labels.load_labels(small_build[0])
    assert loaded.segments and loaded.documents


# ------------------------------------------------------------------------------------------------
# The near-duplicate / furniture labelling rules on small made-up texts (no corpora needed)
# ------------------------------------------------------------------------------------------------
def _module():
    spec = importlib.util.spec_from_file_location("make_devset_under_test", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up while it is executing
    spec.loader.exec_module(mod)
    return mod


M = _module()


def near(earlier: str, later: str):
    return M.near_repeat(M.near_norm(earlier), M.words(earlier), M.near_norm(later),
                         M.words(later))


CAPTION = ("A woman waves the Egyptian flag during a protest supporting ousted president "
           "Mohamed Morsi in Cairo's Nasr City area. European Union foreign policy chief "
           "Catherine Ashton said Tuesday that she had met with the deposed president, the "
           "first contact he has had with an independent official in almost a month.")
QUOTE = ("\u201cThe pushback I\u2019m getting reminds me of the early days of the clergy sex "
         "abuse scandal,\u201d Herman added.")


@pytest.mark.parametrize("earlier, later", [
    (CAPTION, "July 31, 2013 " + CAPTION + " Mohammed Saber/EPA"),          # date + credit
    ("Fairfax County police are searching for a woman suspected of stealing iPhones.",
     "WASHINGTON \u2014 Fairfax County police are searching for a woman suspected of "
     "stealing iPhones."),                                                 # dateline
    ("President Donald Trump speaks during a news conference in the East Room of the White "
     "House in Washington, Thursday, Feb. 16, 2017. (AP Photo/Pablo Martinez Monsivais)",
     "President Donald Trump speaks during a news conference in the East Room of the White "
     "House in Washington, Thursday, Feb. 16, 2017. (AP Photo/Evan Vucci)"),  # credit swapped
    ("Gosh it's so *interesting how men with all these opinions about women's "
     "differentiation between sexual misconduct, assault and rape reveal themselves to be "
     "utterly tone deaf and as a result, systemically part of the problem( *profoundly "
     "unsurprising) \u2014 Minnie Driver (@driverminnie) December 15, 2017",
     '"Gosh it\u2019s so *interesting how men with all these opinions about women\u2019s '
     "differentiation between sexual misconduct, assault and rape reveal themselves to be "
     "utterly tone deaf and as a result, systemically part of the problem( *profoundly "
     'unsurprising)," she wrote.'),                                         # tweet quoted
    ("Scanning electron micrograph of methicillin-resistant Staphylococcus aureus and a dead "
     "human neutrophil. \u2014 NIAID Share Photo",
     "\u2709 Scanning electron micrograph of methicillin-resistant Staphylococcus aureus and "
     "a dead human neutrophil. / NIAID"),                                  # widget text
    (QUOTE + " \u201cThere was complete denial.\u201d", QUOTE),               # later is shorter
    ("PROPERTY OF THE U.S. HOUSE OF REPRESENTATIVES",
     "PROPERTY OF THE US. HOUSE OF REPRESENTATIVES"),                      # "U.S." / "US."
])
def test_near_repeat_accepts_genuine_repeats(earlier, later):
    assert near(earlier, later)


@pytest.mark.parametrize("earlier, later", [
    # same template, different facts: a word swapped inside
    ("Click to share on Twitter (Opens in new window)",
     "Click to share on Facebook (Opens in new window)"),
    ("Bahraini protesters hold up flowers near the Pearl roundabout in Manama, Bahrain.",
     "Bahraini protesters remove barbed wire near the Pearl roundabout in Manama, Bahrain."),
    # different start: charge sheets, live-blog timestamps, critics' lists
    ("John Austin Huggins, 17, of Fairmont, is charged with two counts of felony arson.",
     "Jordan Scott, 19, of Fairmont, is charged with two counts of felony arson."),
    ("9:31 P.M. Rocket sirens sound in Ashkelon, Gaza-bordering regions (Haaretz)",
     "3:33 P.M. Rocket sirens sound in Ashkelon, Gaza-bordering regions (Haaretz)"),
    # a different last item after only a few equal words
    ("AC Milan, Bayer Leverkusen, Internazionale, Juventus, Lyon.",
     "AC Milan, Bayer Leverkusen, Internazionale, Juventus, Monaco."),
    # the later copy adds a sentence (dropping it would lose content)
    (QUOTE, QUOTE + " \u201cThere was complete denial.\u201d"),
    # a truncated caption, then the full one (the later copy adds the cut-off words)
    ("FILE - In this Aug. 15, 2014 file photo, Robert Durst leaves a Houston courtroom. "
     "A judge on Wednesday approved a plea... (Associated Press)",
     "FILE - In this Aug. 15, 2014 file photo, Robert Durst leaves a Houston courtroom. "
     "A judge on Wednesday approved a plea agreement for Durst to serve 7 years in prison on "
     "a weapons charge. (Associated Press)"),
    # too short (< 5 words) and unrelated text
    ("Read the full story", "Read the full story here"),
    (CAPTION, "The European Union said on Tuesday that it had met the deposed president."),
])
def test_near_repeat_rejects_non_repeats(earlier, later):
    assert near(earlier, later) is None


def _article(source, texts, corpus="multinews", story="story-900"):
    return M.Article(source, corpus, story, [M.Para(t, natural=True) for t in texts])


def test_near_repeat_edges_pairs_and_doubled_paragraphs():
    other = "Officials said the inquiry would take several months to complete, at the least."
    short = ("FILE - Robert Durst leaves a Houston courtroom. A judge on Wednesday approved a "
             "plea... (Associated Press)")
    long_ = ("FILE - Robert Durst leaves a Houston courtroom. A judge on Wednesday approved a "
             "plea agreement for Durst to serve 7 years. (Associated Press)")
    art = _article("multinews/story-900/article-1.txt",
                   [CAPTION, other, short, long_, long_ + " " + short,
                    "WASHINGTON \u2014 " + CAPTION])
    edges, rejected = M.near_repeat_edges([art])
    got = {(i, j): why.split()[0] for _, i, j, why in edges}
    assert got == {(0, 5): "contained", (3, 4): "doubled"}
    # the truncated/full pair passes the similarity gate but not the shape gate
    assert [(i, j) for _, i, j, _, _ in rejected] == [(2, 3)]


def test_is_furniture():
    for text in ("Story continues below", "ADVERTISEMENT ADVERTISEMENT", "Comments",
                 "Share this article:", "Continue reading the main story \u203a"):
        assert M.is_furniture(text), text
    for text in ("Comments on the plan were mixed.", "Share prices fell.", "Story",
                 "Advertisement for the new film"):
        assert not M.is_furniture(text), text


def test_label_segments_near_repeats_and_lone_furniture():
    source_para = QUOTE + " \u201cThere was complete denial.\u201d"
    a1 = _article("multinews/story-900/article-1.txt",
                  [CAPTION, "Story continues below", "July 31, 2013 " + CAPTION + " (AP Photo)",
                   "Some unrelated paragraph of the article body, long enough to count."])
    # a planted caption invented from a sentence, printed before its longer source paragraph:
    # the source paragraph (with its extra sentence) must not become a dropped repeat
    a2 = _article("multinews/story-900/article-2.txt", ["Title of the second article here",
                                                        source_para])
    a2.paras[1:1] = [M.Para(QUOTE, plant=("rep-1", "repeat")),
                     M.Para(QUOTE + " Photo: AAP", plant=("rep-1", "repeat"))]
    a2.paras.append(M.Para(QUOTE, plant=("rep-1", "repeat")))
    arts = [a1, a2]
    doc_story = {a.source: "mn:" + a.story for a in arts}
    edges, rejected = M.near_repeat_edges(arts)
    summary = {}
    labels = dict(M.label_segments(arts, doc_story, summary, edges, rejected))
    g0, k0, e0 = labels[(0, 0)]
    assert (k0, e0) == ("repeat", "keep") and g0 is not None
    assert labels[(0, 2)] == (g0, "repeat", "drop")
    assert labels[(0, 1)] == (None, "boilerplate", "drop")       # lone furniture line
    assert labels[(0, 3)] == (None, None, "keep")
    # article 2: planted caption group keeps its first copy; the source paragraph stays keep
    gp = labels[(1, 1)][0]
    assert labels[(1, 1)] == (gp, "repeat", "keep")
    assert labels[(1, 2)] == (gp, "repeat", "drop") and labels[(1, 4)] == (gp, "repeat", "drop")
    assert labels[(1, 3)] == (None, None, "keep")
    assert len(summary["near_groups"]) == 1
