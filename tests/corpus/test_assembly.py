"""Corpus assembly: uids and passage sets do not depend on the batches; history's texts follow
the corpus' own."""

from __future__ import annotations

import numpy as np

from dedupe.config import Config
from dedupe.corpus import assembly as corpus_module
from dedupe.match.segments import segment_sets
from dedupe.model import Document
from tests.conftest import RAW, build_corpus as _corpus


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
