"""The accuracy targets on the labelled development splits (`bench/devset`), end to end: build
the split, clean it, score it. Skipped when the research corpora are not next to the project."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dedupe
from dedupe.evaluation.evaluate import evaluate_output
from dedupe.evaluation.labels import load_labels
from tests.conftest import ROOT, SHARED

CORPORA = SHARED / "corpora"
pytestmark = pytest.mark.skipif(not (CORPORA / "multinews-dev").is_dir() or not (CORPORA / "bbc").is_dir(),
                                reason=f"research corpora not available at {CORPORA}")


def _scores(tmp_path, *flags: str, **config):
    split = tmp_path / "split"
    built = subprocess.run([sys.executable, str(ROOT / "bench" / "devset" / "make_devset.py"),
                            "--out", str(split), "--corpora", str(CORPORA), "--quiet", *flags],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    out = tmp_path / "out"
    dedupe.run(split / "articles", out, dedupe.Config(**config))
    return evaluate_output(out, load_labels(split))


def test_the_reprint_split_reaches_the_document_targets(tmp_path):
    scores = _scores(tmp_path, "--reprints")
    assert scores.documents.ari >= 0.95
    assert scores.documents.pairs.precision >= 0.99
    assert scores.segments.pairs.f1 >= 0.97 and scores.segments.content_loss <= 0.001


def test_the_default_split_keeps_its_targets(tmp_path):
    scores = _scores(tmp_path)
    assert scores.documents.ari >= 0.95 and scores.documents.pairs.precision >= 0.99
    assert scores.segments.pairs.f1 >= 0.97 and scores.segments.content_loss <= 0.001
    removal = {r.kind: r.recall for r in scores.segments.removal}
    assert removal["repeat"] >= 0.99 and removal["boilerplate"] >= 0.97
