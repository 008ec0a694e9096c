"""The compiled kernels, through numba's JIT and compiled ahead of time, compute exactly what the
numpy reference paths compute."""

import numpy as np
import pytest

from dedupe import kernels
from dedupe.kernels import CHAR_SHINGLE_BLOCK
from dedupe.sketch.shingles import char_shingle_hashes, char_tokens, sample_mask, shingle_hashes
from dedupe.text.normalize import key_and_words, match_keys
from dedupe.text.segment import spans
from dedupe.sketch.minhash import minhash_batch
from dedupe.sketch.sets import ShingleSets, unique_per_set
from tests.conftest import RAW, SHARED

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba not installed")


def _implementation(name: str):
    if name == "aot":
        ready = kernels.ahead_of_time()
        if ready is None:
            pytest.skip("the kernels are not compiled ahead of time here")
        return ready
    pytest.importorskip("numba")
    from dedupe.kernels import compiled as jit

    return jit


@pytest.fixture(params=["jit", "aot"])
def compiled(request, monkeypatch):
    """Route every batch, however small, through the kernels of `request.param` (numba's JIT,
    or the module compiled ahead of time); `use` False: numpy."""
    implementation = _implementation(request.param)

    def route(use: bool):
        monkeypatch.setattr(kernels, "MIN_WORK", 0)
        monkeypatch.setattr(kernels, "ahead_of_time", lambda: None)
        monkeypatch.setattr(kernels, "available", (lambda: True) if use else (lambda: False))
        monkeypatch.setattr(kernels, "_compiled", lambda: implementation)
    return route


def _random_sets(rng, n_sets=300, max_len=40, vocab=5000):
    sizes = rng.integers(0, max_len, n_sets)
    sizes[:3] = [0, 1, 2]  # empty and tiny sets
    offsets = np.zeros(n_sets + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    values = rng.integers(0, vocab, int(offsets[-1])).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return values, offsets


def test_minhash_matches_numpy(compiled):
    rng = np.random.default_rng(5)
    values, offsets = _random_sets(rng)
    h32 = (values >> np.uint64(32)).astype(np.uint32)
    compiled(False)
    expected = minhash_batch(h32, offsets, 128, 7)
    compiled(True)
    assert np.array_equal(minhash_batch(h32, offsets, 128, 7), expected)
    assert (expected[0] == 0xFFFFFFFF).all()


@pytest.mark.parametrize("n,rate", [(1, 1), (5, 1), (5, 8), (3, 32), (4, 6)])
def test_sampled_char_shingles_match_numpy(compiled, n, rate):
    # texts shorter than n, and longer than the kernel's block of positions (several blocks)
    long = " ".join(f"word{i} and more" for i in range(2 * CHAR_SHINGLE_BLOCK // 10))
    texts = ["", "ab", "Ünïcode text, with accents", long] + [f.read_text("utf-8") for f in sorted(RAW.glob("*.txt"))]
    full, full_offsets = shingle_hashes(*char_tokens(texts), n)
    compiled(False)
    expected = char_shingle_hashes(texts, n, rate)
    compiled(True)
    got = char_shingle_hashes(texts, n, rate)
    assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
    for i in range(len(texts)):  # the sample is each text's own shingles, filtered
        own = full[full_offsets[i]: full_offsets[i + 1]]
        assert np.array_equal(got[0][got[1][i]: got[1][i + 1]], own[sample_mask(own, rate)])
    assert 0 < len(got[0]) <= len(full) // (2 if rate > 1 else 1)


def test_unique_rows_and_intersections_match_numpy(compiled):
    rng = np.random.default_rng(11)
    values, offsets = _random_sets(rng, vocab=60)  # many repeats inside a set
    compiled(False)
    ref_values, ref_offsets = unique_per_set(values, offsets)
    for i in range(len(offsets) - 1):
        assert np.array_equal(ref_values[ref_offsets[i]: ref_offsets[i + 1]],
                              np.unique(values[offsets[i]: offsets[i + 1]]))
    compiled(True)
    got_values, got_offsets = unique_per_set(values, offsets)
    assert np.array_equal(got_values, ref_values) and np.array_equal(got_offsets, ref_offsets)

    sets = ShingleSets(ref_values, ref_offsets, ids=np.arange(len(ref_offsets) - 1) * 3)
    a = rng.integers(0, len(sets), 500) * 3
    b = rng.integers(0, len(sets), 500) * 3
    compiled(False)
    expected = sets.intersections(a, b)
    compiled(True)
    assert np.array_equal(sets.intersections(a, b), expected)
    assert expected.sum() > 0
    i, j = int(a[0]), int(b[0])
    assert expected[0] == len(np.intersect1d(sets[i], sets[j]))


def test_unique_rows_sorts_long_rows_of_any_order(compiled):
    """The kernel's own sorts: hashes spread over the top bits (its bucket sort: duplicated, at
    the 48-value threshold, just below it) and rows that crowd a bucket (its quicksort: small
    values, presorted, reversed, all equal, few distinct, one value 70 times among hashes)."""
    rng = np.random.default_rng(5)
    spread = rng.integers(0, 2**63, 3000, dtype=np.int64)
    twice = rng.permutation(np.repeat(rng.integers(0, 2**63, 400, dtype=np.int64), 2))
    crowded = rng.permutation(np.concatenate([np.full(70, 2**62), rng.integers(0, 2**63, 200, dtype=np.int64)]))
    rows = [spread, twice, spread[:48], spread[:47], crowded, np.arange(500), np.arange(500)[::-1],
            np.full(300, 7), rng.integers(0, 3, 1000), rng.integers(0, 40, 17), np.arange(16), []]
    values = np.concatenate([np.asarray(r, dtype=np.uint64) for r in rows])
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    compiled(True)
    got, got_offsets = unique_per_set(values, offsets)
    for i, r in enumerate(rows):
        assert np.array_equal(got[got_offsets[i]: got_offsets[i + 1]], np.unique(np.asarray(r, dtype=np.uint64)))


def test_hash_words_numpy_kernel_and_scalar_agree(compiled):
    from dedupe.sketch.hashing import hash_words, word_hash

    texts = ["", "the quick brown fox", "ünïcode wörds and 2024", "a", "", "x y", "émoji 😀 word"]
    compiled(False)
    ref, ref_offsets = hash_words(texts)
    assert ref_offsets.tolist() == [0, 0, 4, 8, 9, 9, 11, 14]
    assert ref.tolist() == [word_hash(w) for t in texts for w in t.split(" ") if w]
    compiled(True)
    got, got_offsets = hash_words(texts)
    assert np.array_equal(got, ref) and np.array_equal(got_offsets, ref_offsets)
    assert hash_words([])[0].size == 0 and hash_words([])[1].tolist() == [0]


@pytest.mark.parametrize("max_df", [2, 5, 200])
def test_containment_queries_match_numpy_inverted_index(compiled, max_df):
    from dedupe.sketch.overlap import flatten, overlap_counts, overlap_pairs

    rng = np.random.default_rng(max_df)
    values, offsets = _random_sets(rng, n_sets=400, max_len=30, vocab=1500)
    unique_values, unique_offsets = unique_per_set(values, offsets)
    sets = ShingleSets(unique_values, unique_offsets, ids=np.arange(400) * 2 + 1)
    hashes, owner = flatten(sets)
    compiled(False)
    expected = overlap_pairs(hashes, owner, 0.25, max_df=max_df)
    expected_counts = _rows(overlap_counts(hashes, owner, 0.25, max_df=max_df))
    compiled(True)
    got = overlap_pairs(hashes, owner, 0.25, max_df=max_df)
    assert len(expected) > 0
    assert np.array_equal(got, expected)
    # each pair counted once, both directions kept by their own share: the same shared counts
    assert np.array_equal(_rows(overlap_counts(hashes, owner, 0.25, max_df=max_df)), expected_counts)


def _rows(found) -> np.ndarray:
    """(q, x, shared, size) of `Overlaps`, sorted (their order is unspecified)."""
    rows = np.column_stack([found.pairs, found.shared, found.size])
    return rows[np.lexsort(rows.T[::-1])]


def test_containment_queries_in_threads_give_the_same_arrays(compiled):
    """Cut into runs of queries side by side, the compiled queries give the same pairs, shared
    counts and sizes, in the same order, as one run (enough entries that the cut happens)."""
    from dedupe import kernels
    from dedupe.sketch.overlap import flatten, overlap_counts

    rng = np.random.default_rng(7)
    values, offsets = _random_sets(rng, n_sets=20_000, max_len=30, vocab=60_000)
    sets = ShingleSets(*unique_per_set(values, offsets))
    hashes, owner = flatten(sets)
    assert len(hashes) >= kernels.MIN_WORK
    compiled(True)
    one = overlap_counts(hashes, owner, 0.25, max_df=50)
    for threads in (2, 3):
        got = overlap_counts(hashes, owner, 0.25, max_df=50, threads=threads)
        assert len(one.pairs) > 1000
        for field in ("pairs", "shared", "size"):
            assert np.array_equal(getattr(got, field), getattr(one, field)), (threads, field)


TRICKY = ["U.S. House", "a.b.cd", "ab.c.d", "x1.a.b", "e.g.", "e.g.x", "A.B.C", "a.", ".a", "a_b.c_d",
          "J.R.R. Tolkien", "i.e., www.bbc.co.uk", "3.5m", "a.1", "1.a.b", "Z.z.Z9", "___", "|", "***",
          "", "&amp; and &nbsp;", "`quoted`", "it\u2019s U.S.", "caf\u00e9 au lait", "\u00bd cup",
          "Tab\tand\x1cseparators", "CAPS.LOCK.ON NOW",
          # outside ASCII only separators (the compiled pass reads them as spaces) or not
          "\u00a35m for U.S.\u00a3 fans", "\u2022 Item \u2022 U.S.\u2022", "\u00a9 2017 News", "\u00a3", "\u2022\u2022",
          "emoji \U0001F600 here", "A\u2028B", "\u3000wide\u3000space", "x\u0345y", "\ufb00 and \u00b2",
          "\u0130stanbul \u00a3", "\u00df strasse \u2022", "e.g.\u00a0this", "Caf\u00e9 \u00a9"]


def test_match_keys_in_one_compiled_pass_equal_key_and_words(compiled):
    texts = list(TRICKY)
    files = sorted(RAW.glob("*.txt")) + sorted((SHARED / "corpora" / "multinews-dev").glob("story-0*/*.txt"))
    for f in files:
        text = f.read_text("utf-8")
        texts += [text[a:b] for a, b in spans(text, "line")]
    expected = [(k, len(w)) for k, w in map(key_and_words, texts)]
    compiled(True)
    keys, counts = match_keys(texts)
    assert list(zip(keys, counts)) == expected
    compiled(False)
    assert match_keys(texts) == (keys, counts)


def test_templates_in_one_compiled_pass_equal_the_array_pass_and_template_key(compiled):
    from dedupe.text.templates import template_key, template_keys
    from tests.text.test_templates import FURNITURE, noise

    texts = FURNITURE + noise(3000) + [line for path in sorted(RAW.glob("*.txt"))
                                       for line in path.read_text("utf-8").split("\n")]
    compiled(True)
    keys = template_keys(texts)
    assert keys == [template_key(t) for t in texts]
    assert sum(k != 0 for k in keys) > 100  # most seed lines have a template
    compiled(False)
    assert template_keys(texts) == keys


UTF8_TEXTS = ["plain ascii text", "caf\u00e9 au lait \u2014 \u201cquoted\u201d", "", "\U0001F600 emoji \U0001F600 x",
              "e\u0301 combining", "\u4e2d\u6587\u5b57 and ascii", "x"]


def test_utf8_positions_and_byte_ranges_match_numpy_and_python(compiled):
    from dedupe.io.utf8 import byte_positions, join_ranges, string_array, utf8_of
    import pyarrow as pa

    data, offsets = utf8_of(pa.array(UTF8_TEXTS))
    n_chars = np.array([len(t) for t in UTF8_TEXTS])
    text = np.repeat(np.arange(len(UTF8_TEXTS)), [len(t) + 1 for t in UTF8_TEXTS])
    chars = np.concatenate([np.arange(len(t) + 1) for t in UTF8_TEXTS])  # every boundary, the end too
    expected = np.array([offsets[d] + len(UTF8_TEXTS[d][:c].encode("utf-8")) for d, c in zip(text, chars)])
    compiled(True)
    got = byte_positions(data, offsets, n_chars, text, chars)
    pieces = string_array(data, got[:-1], got[1:])  # every one-character piece (and across texts)
    compiled(False)
    assert np.array_equal(got, expected)
    assert np.array_equal(byte_positions(data, offsets, n_chars, text, chars), expected)
    assert pieces.equals(string_array(data, got[:-1], got[1:]))
    assert pieces.to_pylist()[:4] == list("plai")
    lo, hi = np.array([0, 3, 3, 7]), np.array([2, 3, 9, 8])
    compiled(True)
    joined = join_ranges(data, lo, hi)
    compiled(False)
    assert np.array_equal(joined, join_ranges(data, lo, hi))
    assert joined.tobytes() == b"".join(data[a:b].tobytes() for a, b in zip(lo, hi))
