"""Vectorised shingle hashes and MinHash signatures against their one-at-a-time definitions
and against plain datasketch."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash

from dedupe.sketch import minhash as signatures
from dedupe.text.normalize import normalize, words
from dedupe.sketch.hashing import hash_words
from dedupe.sketch.shingles import fold32, shingle_hash, shingle_hashes, shingle_strings
from dedupe.sketch.minhash import EMPTY, lean_minhash, minhash_batch

TEXTS = [
    "Attorney General Jeff Sessions said Thursday morning that while he twice met with "
    "Russia's ambassador during the presidential campaign, he did not discuss the election.",
    "Load video",
    "Advertisement",
    "",
    "Photo: AP Photo/Evan Vucci",
    "one two three four five",
    "Attorney General Jeff Sessions said Thursday morning that while he twice met with "
    "Russia\u2019s envoy during the campaign, he did not discuss the election.",
    "Load audio",
]
WORD_LISTS = [words(normalize(t)) for t in TEXTS]


def batch(word_lists: list[list[str]], n: int) -> tuple[np.ndarray, np.ndarray]:
    return shingle_hashes(*hash_words([" ".join(ws) for ws in word_lists]), n)


def per_sequence(hashes: np.ndarray, offsets: np.ndarray) -> list[list[int]]:
    return [hashes[offsets[i]:offsets[i + 1]].tolist() for i in range(len(offsets) - 1)]


def signatures_of(word_lists: list[list[str]], n: int = 5, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    hashes, offsets = batch(word_lists, n)
    return minhash_batch(fold32(hashes), offsets, num_perm, seed)


# --- shingles -------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 3, 5])
def test_vectorised_hashes_agree_with_string_shingles(n):
    hashes, offsets = batch(WORD_LISTS, n)
    assert hashes.dtype == np.uint64 and offsets.dtype == np.int64
    folded = per_sequence(fold32(hashes), offsets)
    for ws, got in zip(WORD_LISTS, folded):
        assert got == [shingle_hash(s, n) for s in shingle_strings(ws, n)]
        # the bytes form (what datasketch passes) gives the same value
        assert got == [shingle_hash(s.encode("utf-8"), n) for s in shingle_strings(ws, n)]


def test_shingle_counts():
    n = 5
    _, offsets = batch(WORD_LISTS, n)
    counts = np.diff(offsets).tolist()
    lengths = [len(ws) for ws in WORD_LISTS]
    assert lengths[:6] == [26, 2, 1, 0, 5, 5]
    assert counts[:6] == [22, 1, 1, 0, 1, 1]  # short ones: exactly one; empty: none


def test_shingle_strings():
    assert shingle_strings(["load", "video"], 5) == ["load video"]
    assert shingle_strings(["a", "b", "c", "d"], 3) == ["a b c", "b c d"]
    assert shingle_strings(["a", "b", "c"], 3) == ["a b c"]
    assert shingle_strings([], 3) == []


def test_different_short_texts_get_different_shingles():
    hashes, offsets = batch([["load", "video"], ["load", "audio"], ["advertisement"], ["load"]], 5)
    assert len(hashes) == 4 and len(set(hashes.tolist())) == 4


def test_short_segment_does_not_collide_with_ngrams_of_longer_text():
    # "load video" as a whole short segment vs the 2-gram "load video" inside a longer text (n=2)
    short_hashes, _ = batch([["load"]], 2)
    long_hashes, _ = batch([["load", "video"]], 2)
    one_word, _ = batch([["load"]], 1)
    assert short_hashes[0] != one_word[0]  # the short one is salted with its length
    assert long_hashes.tolist() != short_hashes.tolist()


def test_sequence_of_exactly_n_words_has_one_shingle_independent_of_neighbours():
    alone, off_alone = batch([["one", "two", "three", "four", "five"]], 5)
    mixed, off_mixed = batch([["x"] * 7, ["one", "two", "three", "four", "five"], []], 5)
    assert np.diff(off_alone).tolist() == [1]
    assert np.diff(off_mixed).tolist() == [3, 1, 0]
    assert mixed[3] == alone[0]


def test_shingle_size_out_of_range():
    with pytest.raises(ValueError):
        shingle_hashes(np.zeros(3, dtype=np.uint64), np.array([0, 3]), 0)
    with pytest.raises(ValueError):
        shingle_hashes(np.zeros(3, dtype=np.uint64), np.array([0, 3]), 33)


# --- signatures -----------------------------------------------------------------------------

def test_minhash_batch_bit_identical_to_datasketch():
    sig = signatures_of(WORD_LISTS)
    assert sig.shape == (len(WORD_LISTS), 128) and sig.dtype == np.uint32
    for ws, row in zip(WORD_LISTS, sig):
        m = MinHash(num_perm=128, seed=1, hashfunc=functools.partial(shingle_hash, n=5))
        for s in shingle_strings(ws, 5):
            m.update(s.encode("utf-8"))
        assert np.array_equal(m.hashvalues.astype(np.uint32), row)


def test_datasketch_equivalence_other_seed_and_size():
    sig = signatures_of(WORD_LISTS[:2], n=3, num_perm=64, seed=42)
    m = MinHash(num_perm=64, seed=42, hashfunc=functools.partial(shingle_hash, n=3))
    for s in shingle_strings(WORD_LISTS[0], 3):
        m.update(s.encode("utf-8"))
    assert np.array_equal(m.hashvalues.astype(np.uint32), sig[0])


def test_empty_set_signature_is_all_max():
    sig = signatures_of([[], ["load", "video"], []])
    assert (sig[0] == 0xFFFFFFFF).all() and (sig[2] == 0xFFFFFFFF).all()
    assert not (sig[1] == EMPTY).all()
    assert np.array_equal(sig[0], MinHash(num_perm=128, seed=1).hashvalues.astype(np.uint32))
    none = minhash_batch(np.empty(0, dtype=np.uint32), np.array([0, 0, 0]), 128, 1)
    assert none.shape == (2, 128) and (none == EMPTY).all()


def test_lean_minhash_jaccard_is_fraction_of_equal_positions():
    sig = signatures_of(WORD_LISTS)
    a, b = sig[0], sig[6]  # the two near-identical Sessions captions
    expected = float(np.mean(a == b))
    assert 0.0 < expected < 1.0
    lean_a = LeanMinHash(seed=1, hashvalues=a, scheme="affine32")
    lean_b = LeanMinHash(seed=1, hashvalues=b, scheme="affine32")
    assert lean_a.jaccard(lean_b) == pytest.approx(expected)
    assert lean_minhash(a, 1).jaccard(lean_minhash(b, 1)) == pytest.approx(expected)
    assert lean_minhash(a, 1).jaccard(lean_minhash(a, 1)) == 1.0
    # unrelated texts share (almost) nothing
    assert lean_minhash(sig[0], 1).jaccard(lean_minhash(sig[1], 1)) < 0.1


def test_signatures_do_not_depend_on_batching():
    whole = signatures_of(WORD_LISTS)
    halves = np.vstack([signatures_of(WORD_LISTS[:3]), signatures_of(WORD_LISTS[3:])])
    singles = np.vstack([signatures_of([ws]) for ws in WORD_LISTS])
    assert np.array_equal(whole, halves)
    assert np.array_equal(whole, singles)


def test_sets_spanning_internal_chunks(monkeypatch):
    hashes, offsets = batch(WORD_LISTS, 5)
    h32 = fold32(hashes)
    expected = minhash_batch(h32, offsets, 128, 1)
    monkeypatch.setattr(signatures, "_CHUNK", 3)  # sets now straddle chunk boundaries
    assert np.array_equal(minhash_batch(h32, offsets, 128, 1), expected)


def test_signature_is_min_over_set_members():
    hashes, offsets = batch(WORD_LISTS[:1], 5)
    h32 = fold32(hashes)
    whole = minhash_batch(h32, offsets, 128, 1)[0]
    each = minhash_batch(h32, np.arange(len(h32) + 1), 128, 1)
    assert np.array_equal(whole, each.min(axis=0))


def test_permutations_are_datasketchs_own():
    from datasketch import MinHash

    from dedupe.sketch.minhash import permutations

    for num_perm, seed in ((128, 1), (64, 42), (256, 7)):
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        mine = permutations(num_perm, seed)
        assert np.array_equal(mine[0], a) and np.array_equal(mine[1], b)
        assert mine[0].dtype == np.uint32


@pytest.mark.parametrize("kind", ["char", "word"])
def test_consistent_samples_keep_about_one_in_rate(kind):
    # Regression: character 5-gram hashes are all odd, so a low-bit sample kept nothing.
    from dedupe.corpus.keys import article_match_texts as doc_match_texts
    from dedupe.sketch.shingles import sample_mask
    from dedupe.sketch.sets import char_shingle_sets, word_shingle_sets
    from tests.conftest import RAW

    (text,) = doc_match_texts([(RAW / "003_86e27f69b90c4879.txt").read_text("utf-8")], "line")
    if kind == "char":
        (full,), _ = char_shingle_sets([text], 5, 128, 1, signatures=False)
    else:
        (full,), _ = word_shingle_sets([text], 5, 128, 1, signatures=False)
    for rate in (4, 8, 32):
        share = sample_mask(full, rate).sum() / len(full)
        assert 0.6 / rate < share < 1.5 / rate, (rate, share)


def test_batches_are_equal_parts_within_the_limits():
    from dedupe.sketch import sets

    for items in (["a b c"] * 10_000, ["w" * 300] * 20_000, ["x" * 1_000_000] * 9 + ["y"] * 5):
        bounds = list(sets._batches(sets._lengths(items)))
        assert bounds[0][0] == 0 and bounds[-1][1] == len(items)
        assert all(hi == lo for (_, hi), (lo, _) in zip(bounds, bounds[1:]))
        sizes = [hi - lo for lo, hi in bounds]
        chars = [sum(map(len, items[lo:hi])) for lo, hi in bounds]
        assert max(sizes) <= sets._BATCH + 1 and max(chars) <= sets._BATCH_CHARS + max(map(len, items))
        if len(set(items)) == 1:  # no small remainder batch
            assert max(sizes) - min(sizes) <= 1
    assert list(sets._batches(sets._lengths([]))) == []


def test_shingle_sets_from_word_hashes_equal_those_from_the_texts():
    from dedupe.sketch.hashing import hash_words
    from dedupe.sketch.sets import word_hash_shingle_sets, word_shingle_sets

    rng = np.random.default_rng(5)
    vocab = "the a police said on tuesday city council vote road bridge".split()
    texts = ["", "one", "two words"] + [" ".join(rng.choice(vocab, rng.integers(1, 40))) for _ in range(500)]
    sets, sigs = word_shingle_sets(texts, 4, 64, 1, sets=True)
    got_sets, got_sigs = word_hash_shingle_sets(*hash_words(texts), 4, 64, 1, sets=True)
    assert np.array_equal(got_sigs, sigs)
    assert np.array_equal(got_sets.values, sets.values) and np.array_equal(got_sets.offsets, sets.offsets)


def test_sets_named_by_id_merge_in_id_order():
    from dedupe.sketch.sets import ShingleSets

    def named(ids, rows):
        sizes = [len(r) for r in rows]
        return ShingleSets(np.concatenate(rows).astype(np.uint64), np.r_[0, np.cumsum(sizes)], np.array(ids))

    a = named([2, 9], [np.array([1, 2, 3]), np.array([5])])
    b = named([4, 7, 30], [np.array([2, 3]), np.array([], dtype=np.int64), np.array([1, 2, 3, 4])])
    merged = a.merge(b)
    assert merged.ids.tolist() == [2, 4, 7, 9, 30]
    assert [merged[i].tolist() for i in (2, 4, 7, 9, 30)] == [[1, 2, 3], [2, 3], [], [5], [1, 2, 3, 4]]
    assert merged.sizes([30, 2]).tolist() == [4, 3] and merged.sizes().tolist() == [3, 2, 0, 1, 4]
    inter, size_a, size_b = merged.measures([2, 4], [30, 9])
    assert inter.tolist() == [3, 0] and size_a.tolist() == [3, 2] and size_b.tolist() == [4, 1]
