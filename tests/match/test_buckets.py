"""Segment LSH in hash buckets (`match.buckets`), as a cluster engine runs it: the same groups
and clusters as the local path, whatever the number of buckets; band buckets too large to
expand are linked through leaders there too."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dedupe.config import Config
from dedupe.engines.local import InlineEngine
from dedupe.match import buckets
from dedupe.match.buckets import BUCKET_ROWS
from dedupe.match.segments import match_segments
from dedupe.model import Document
from dedupe.sketch.lsh import MAX_BUCKET, SCREEN_FROM
from tests.conftest import BASE, build_corpus


def _docs(n_random: int) -> list[Document]:
    """Articles of random paragraphs, near-duplicate variants of one sentence spread over them,
    and template pages whose lines share LSH bands far beyond MAX_BUCKET texts."""
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(3000)]
    docs = []
    for d in range(n_random // 10):
        paras = [" ".join(rng.choices(vocab, k=rng.randint(8, 30))) for _ in range(10)]
        if d % 7 == 0:
            words = list(BASE)
            words[rng.randrange(len(words))] = rng.choice(vocab)
            paras.append(" ".join(words))
        docs.append(Document(f"r{d}", f"r{d}.txt", paras[0], "\n".join(paras)))
    for t in range(3 * MAX_BUCKET):
        page = (f"Photo gallery item number {t} of the week in pictures from around the world today\n"
                f"Open Image Modal\nThis is article number {t} in the series about the city council budget")
        docs.append(Document(f"t{t}", f"t{t}.txt", "", page))
    return docs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    built = build_corpus(tmp_path_factory.mktemp("buckets"), _docs(SCREEN_FROM + 1000))
    assert (built.key_words > 0).sum() >= SCREEN_FROM  # the screened path, as large runs take
    return built


@pytest.mark.parametrize("workers, bucket_rows", [(1, BUCKET_ROWS), (3, BUCKET_ROWS), (8, BUCKET_ROWS), (1, 5000)])
def test_hash_buckets_give_the_local_groups_and_clusters(corpus, workers, bucket_rows, monkeypatch):
    """2, 6 and 16 hash buckets, and about 30 when a bucket may hold only 5,000 band values."""
    monkeypatch.setattr(buckets, "BUCKET_ROWS", bucket_rows)
    monkeypatch.setattr(buckets, "PART_TEXTS", 2000 if bucket_rows < BUCKET_ROWS else buckets.PART_TEXTS)
    config = Config(workers=workers)
    local = match_segments(corpus, config)
    bucketed = match_segments(corpus, config, engine=InlineEngine(by_path=True))
    assert np.array_equal(local.group, bucketed.group)
    assert np.array_equal(local.cluster, bucketed.cluster)
    assert (np.bincount(local.group) > MAX_BUCKET).any()  # the template lines: a leader-linked group
    assert len(np.unique(local.group)) < len(local.group)  # and the near-duplicate sentence
