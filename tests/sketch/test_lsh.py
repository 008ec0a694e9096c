"""The numpy banding path returns exactly the candidate pairs of datasketch's MinHashLSH, except
inside buckets larger than `max_bucket`, which come back whole and never as all their pairs."""

from __future__ import annotations

import numpy as np
import pytest

from dedupe.sketch.lsh import (DOC_LSH_MARGIN, LSH_MARGIN, MAX_BUCKET, MIN_LSH_THRESHOLD, band_pairs,
                               datasketch_pairs, lsh_candidates, lsh_params)
from dedupe.sketch.arrays import distinct
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


@pytest.fixture(params=["hashed", "sorted"])
def grouping(request, monkeypatch):
    """Band values grouped by the compiled hash table (when kernels are in use) or by a sort."""
    from dedupe import kernels

    if request.param == "sorted":
        monkeypatch.setattr(kernels, "use_compiled", lambda work: False)
    elif not kernels.available():
        pytest.skip("compiled kernels turned off")
    return request.param


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7, 0.9])
def test_band_pairs_equal_minhashlsh_pairs(signatures, threshold, grouping):
    ids = np.arange(len(signatures), dtype=np.int64)
    b, r = lsh_params(threshold, 128)
    expected = datasketch_pairs(signatures, ids, b, r, seed=1)
    got = band_pairs(signatures, ids, b, r, chunk=97)  # chunking must not matter
    assert len(expected) >= (1 if threshold >= 0.9 else 10)
    assert np.array_equal(got.pairs, expected) and len(got.buckets) == 0
    # a screen that keeps everything, one band per pass: still the same pairs
    screened = band_pairs(signatures, ids, b, r, chunk=97, screen=lambda p: np.ones(len(p), bool),
                          pass_bytes=1)
    assert np.array_equal(screened.pairs, expected)


def test_numpy_backend_proposes_minhashlsh_pairs(signatures):
    ids = np.arange(len(signatures), dtype=np.int64)
    a = lsh_candidates(signatures, ids, 0.7, 1, backend="datasketch")
    assert len(a.buckets) == 0 and len(a.pairs) > 0  # real paragraphs: every bucket is small
    b = lsh_candidates(signatures, ids, 0.7, 1)  # the default, which runs use
    assert np.array_equal(a.pairs, b.pairs) and len(b.buckets) == 0


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


def _with_families(signatures: np.ndarray, sizes: tuple[int, ...], seed: int = 9) -> np.ndarray:
    """The signatures plus, per size k, k copies of one random signature (a family of texts
    that share every band value), each copy with one position changed: the family's buckets
    are of about size k in most bands."""
    rng = np.random.RandomState(seed)
    rows = [signatures]
    for k in sizes:
        family = np.repeat(rng.randint(0, 2**32, size=(1, signatures.shape[1]), dtype=np.uint64), k, axis=0)
        family[np.arange(k), rng.randint(signatures.shape[1], size=k)] = rng.randint(0, 2**32, size=k)
        rows.append(family.astype(np.uint32))
    return np.concatenate(rows)


def _all_pairs(buckets) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for lo, hi in zip(buckets.offsets[:-1], buckets.offsets[1:])
            for i, a in enumerate(buckets.members[lo:hi]) for b in buckets.members[lo + i + 1: hi]}


@pytest.mark.parametrize("backend", ["numpy", "datasketch"])
def test_large_buckets_come_back_whole_and_small_ones_as_the_old_pairs(signatures, backend):
    sigs = _with_families(signatures, (5, 20, 300))
    ids = np.arange(len(sigs), dtype=np.int64)
    b, r = lsh_params(0.5, 128)
    old = {tuple(p) for p in datasketch_pairs(sigs, ids, b, r, seed=1).tolist()}
    found = lsh_candidates(sigs, ids, 0.7, 1, backend=backend)
    pairs = {tuple(p) for p in found.pairs.tolist()}
    sizes = np.diff(found.buckets.offsets)
    assert len(found.buckets) >= 1 and sizes.min() > MAX_BUCKET
    for lo, hi in zip(found.buckets.offsets[:-1], found.buckets.offsets[1:]):
        assert np.all(np.diff(found.buckets.members[lo:hi]) > 0)  # ascending ids
    # nothing is lost or invented: the pairs plus every pair inside a large bucket are the old pairs
    assert pairs <= old and pairs | _all_pairs(found.buckets) == old
    # pairs of the real paragraphs (never in a large bucket) are exactly the old ones
    real = len(signatures)
    assert {p for p in pairs if p[1] < real} == {p for p in old if p[1] < real}
    # the large family is not expanded: each member has at most b * (MAX_BUCKET - 1) pairs
    degree = np.bincount(found.pairs.ravel(), minlength=len(sigs))
    assert degree.max() <= b * (MAX_BUCKET - 1)
    assert len(found.pairs) < len(old) - 300 * 299 // 4


def test_identical_texts_give_buckets_not_pairs(signatures):
    sigs = np.concatenate([signatures[:50], np.repeat(signatures[50:51], 2_000, axis=0)])
    found = lsh_candidates(sigs, range(len(sigs)), 0.7, 1)
    b, _ = lsh_params(0.5, 128)
    assert not np.any(found.pairs >= 50)  # 2,000 copies: not one of their ~2M pairs
    assert len(found.buckets) == b  # the same bucket in every band
    assert np.array_equal(found.buckets.members[:2_001], np.r_[50:2_050, 50])


def test_distinct_is_sorted_unique():
    rng = np.random.RandomState(1)
    for values in (np.empty(0, dtype=np.int64), rng.randint(0, 50, size=1_000), rng.randint(0, 2**62, size=100)):
        assert np.array_equal(distinct(values), np.unique(values))


@pytest.mark.parametrize("texts", [2_000, 12_000])  # the numpy path, and the compiled one if available
def test_overlap_pairs_stay_linear_in_the_number_of_texts(texts):
    # every text holds the same 20 stock shingles and one of its own: no evidence, no pairs
    hashes = np.concatenate([np.r_[np.arange(1, 21), 1_000 + t] for t in range(texts)]).astype(np.uint64)
    owner = np.repeat(np.arange(texts, dtype=np.int64), 21)
    assert len(overlap_pairs(hashes, owner, 0.5, max_df=50)) == 0
    # families of max_df identical texts: each text pairs with its own family only
    hashes = (np.arange(texts)[:, None] // 50 * 100 + np.arange(20)).astype(np.uint64).ravel()
    owner = np.repeat(np.arange(texts, dtype=np.int64), 20)
    pairs = overlap_pairs(hashes, owner, 0.5, max_df=50)
    assert len(pairs) == texts * 49 and np.all(pairs[:, 0] // 50 == pairs[:, 1] // 50)


def test_hashed_and_sorted_band_groups_give_the_same_pairs_and_buckets(signatures, monkeypatch):
    """The hash table lists groups in order of first appearance, the sort in order of value:
    the same pairs, and the same large buckets as sets (each bucket's ids ascending)."""
    from dedupe import kernels

    if not kernels.available():
        pytest.skip("compiled kernels turned off")
    ids = np.arange(0, 2 * len(signatures), 2, dtype=np.int64)  # ids need not be positions
    sigs = np.repeat(signatures, 2, axis=0)
    b, r = lsh_params(0.5, 128)

    def found():
        got = band_pairs(sigs, ids, b, r, max_bucket=2)
        buckets = {tuple(got.buckets.members[lo:hi].tolist())
                   for lo, hi in zip(got.buckets.offsets[:-1], got.buckets.offsets[1:])}
        return got.pairs, buckets

    hashed_pairs, hashed_buckets = found()
    monkeypatch.setattr(kernels, "use_compiled", lambda work: False)
    sorted_pairs, sorted_buckets = found()
    assert len(sorted_pairs) > 0 and len(sorted_buckets) > 0
    assert np.array_equal(hashed_pairs, sorted_pairs)
    assert hashed_buckets == sorted_buckets and all(list(k) == sorted(k) for k in hashed_buckets)
