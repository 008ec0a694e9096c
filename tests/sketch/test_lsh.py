"""The numpy banding path returns exactly the candidate pairs of datasketch's MinHashLSH."""

from __future__ import annotations

import numpy as np
import pytest

from dedupe.sketch.lsh import (DOC_LSH_MARGIN, LSH_MARGIN, MIN_LSH_THRESHOLD, band_pairs, datasketch_pairs,
                               lsh_pairs, lsh_params)
from dedupe.sketch.overlap import overlap_pairs
from dedupe.sketch.sets import word_shingle_sets
from dedupe.text.normalize import normalize, words
from tests.conftest import RAW, SHARED


def _paragraphs() -> list[str]:
    """Real news paragraphs with many near-duplicates: the seeds, their edited copies, and
    the multinews dev corpus when it is available."""
    paras = [line for f in sorted(RAW.glob("*.txt")) for line in f.read_text("utf-8").splitlines() if line.strip()]
    rng = np.random.RandomState(5)
    edited = []
    for p in paras:
        w = p.split()
        for _ in range(rng.randint(0, 4)):
            w[rng.randint(len(w))] = "edit"
        edited.append(" ".join(w))
    # long paragraphs with one word appended: Jaccard > 0.9, so every threshold has pairs
    appended = [p + " indeed" for p in paras if len(p.split()) >= 40]
    corpus = SHARED / "corpora" / "multinews-dev"
    extra = []
    if corpus.is_dir():
        for f in sorted(corpus.glob("story-0[0-4]*/*.txt")):
            extra += [line for line in f.read_text("utf-8").splitlines() if line.strip()]
    return paras + edited + appended + extra


@pytest.fixture(scope="module")
def signatures():
    word_lists = list(dict.fromkeys(tuple(words(normalize(p))) for p in _paragraphs()))
    _, sigs = word_shingle_sets([" ".join(w) for w in word_lists], 5, 128, 1)
    return sigs


def test_precomputed_lsh_params_are_datasketchs_choice():
    from datasketch.lsh import _optimal_param

    from dedupe.config import Config
    from dedupe.sketch.lsh_table import TABLE

    c = Config()  # the default thresholds, as lsh_pairs offsets them, must not need scipy
    for threshold, margin in ((c.segment_threshold, LSH_MARGIN), (c.doc_threshold, DOC_LSH_MARGIN)):
        assert (c.num_perm, max(MIN_LSH_THRESHOLD, threshold - margin)) in TABLE
    rng = np.random.RandomState(0)
    entries = sorted(TABLE.items())
    for i in sorted(set(rng.randint(len(entries), size=12).tolist()) | {0, len(entries) - 1}):
        (num_perm, threshold), params = entries[i]
        assert _optimal_param(threshold, num_perm, 0.5, 0.5) == params, (num_perm, threshold)
    lsh_params.cache_clear()
    assert lsh_params(0.123, 128) == _optimal_param(0.123, 128, 0.5, 0.5)  # not in the table


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7, 0.9])
def test_band_pairs_equal_minhashlsh_pairs(signatures, threshold):
    ids = np.arange(len(signatures), dtype=np.int64)
    b, r = lsh_params(threshold, 128)
    expected = datasketch_pairs(signatures, ids, b, r, seed=1)
    got = band_pairs(signatures, ids, b, r, chunk=97)  # chunking must not matter
    assert len(expected) >= (1 if threshold >= 0.9 else 10)
    assert np.array_equal(got, expected)
    # a screen that keeps everything, one band per pass: still the same pairs
    screened = band_pairs(signatures, ids, b, r, chunk=97, screen=lambda p: np.ones(len(p), bool),
                          pass_bytes=1)
    assert np.array_equal(screened, expected)


def test_auto_backend_switches_without_changing_pairs(signatures):
    ids = np.arange(len(signatures), dtype=np.int64)
    a = lsh_pairs(signatures, ids, 0.7, 1, backend="datasketch")
    assert np.array_equal(a, lsh_pairs(signatures, ids, 0.7, 1, backend="numpy"))
    assert np.array_equal(a, lsh_pairs(signatures, ids, 0.7, 1, backend="auto"))


def test_overlap_pairs_counts_shared_shingles_exactly():
    # text 0 = {1..10}; text 1 = {1..8, 20, 21}; text 2 = {1, 2, 30..37}; text 3 shares nothing
    sets = {0: np.arange(1, 11), 1: np.r_[np.arange(1, 9), 20, 21], 2: np.r_[1, 2, np.arange(30, 38)],
            3: np.arange(100, 110)}
    hashes = np.concatenate([s.astype(np.uint64) for s in sets.values()])
    owner = np.repeat(np.arange(4), 10)
    pairs = {tuple(p) for p in overlap_pairs(hashes, owner, min_share=0.8).tolist()}
    assert pairs == {(0, 1), (1, 0)}  # 8/10 shared >= 0.8 - margin; 2/10 is not
    # a shingle in more texts than max_df is ignored: with max_df=1 nothing is shared
    assert len(overlap_pairs(hashes, owner, min_share=0.1, max_df=1)) == 0


def test_pairs_in_groups_chunks_give_every_pair_once():
    from dedupe.sketch.lsh import pairs_in_groups as _pairs_in_groups

    rng = np.random.RandomState(3)
    sizes = np.array([1, 2, 3, 3, 7, 40, 2, 120])  # groups of sorted owners
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    owners = rng.permutation(int(sizes.sum())).astype(np.int64)
    n = len(owners)
    expected = sorted(min(a, b) * n + max(a, b)
                      for s, k in zip(starts, sizes) for x in range(k) for y in range(x + 1, k)
                      for a, b in [(owners[s + x], owners[s + y])])
    for limit in (1 << 22, 50, 7, 1):  # one chunk; several groups a chunk; rows of big groups
        chunks = list(_pairs_in_groups(owners, starts, sizes, n, limit=limit))
        assert sorted(np.concatenate(chunks).tolist()) == expected
        assert limit > 100 or max(len(c) for c in chunks) <= max(limit, 119)
