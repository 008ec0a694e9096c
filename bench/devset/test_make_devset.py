"""Tests for bench/devset/make_devset.py (needs the research corpora in ../shared/corpora)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

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
            assert s["kind"] is None and s["expected"] == "keep"
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
    labels = pytest.importorskip("dedupe.labels")
    loaded = labels.load_labels(small_build[0])
    assert loaded.segments and loaded.documents
