"""`spans` and `segment_keys`: segment boundaries and offsets into the original text."""

from __future__ import annotations

import pytest

from dedupe.text.segment import spans
from tests.conftest import RAW

ARTICLE = (
    "  Sessions met Russian envoy twice  \n"
    "\n"
    "Load video\n"
    "   \t \n"
    "Attorney General Jeff Sessions said Thursday morning that while he twice met\n"
    "with Russia's ambassador, he did not discuss the campaign.\n"
    "\n"
    "\n"
    "\u00a0 Photo: AP \u00a0\n"
)


def texts(text: str, mode: str) -> list[str]:
    return [text[s:e] for s, e in spans(text, mode)]


def test_line_mode_one_segment_per_non_empty_line_trimmed():
    assert texts(ARTICLE, "line") == [
        "Sessions met Russian envoy twice",
        "Load video",
        "Attorney General Jeff Sessions said Thursday morning that while he twice met",
        "with Russia's ambassador, he did not discuss the campaign.",
        "Photo: AP",
    ]


def test_line_mode_offsets_point_into_original_text():
    result = list(spans(ARTICLE, "line"))
    assert result[0] == (2, 34)
    assert ARTICLE[2:34] == "Sessions met Russian envoy twice"
    starts = [s for s, _ in result]
    assert starts == sorted(starts)
    for start, end in result:
        assert start < end
        assert not ARTICLE[start].isspace() and not ARTICLE[end - 1].isspace()
        assert "\n" not in ARTICLE[start:end]


def test_line_mode_is_the_default():
    assert list(spans(ARTICLE)) == list(spans(ARTICLE, "line"))


def test_line_mode_last_line_without_newline_and_trailing_newline():
    assert texts("a b\nc d", "line") == ["a b", "c d"]
    assert texts("a b\nc d\n", "line") == ["a b", "c d"]
    assert list(spans("a b\nc d", "line")) == [(0, 3), (4, 7)]


def test_whitespace_only_text_has_no_segments():
    assert list(spans("", "line")) == []
    assert list(spans(" \n\t\n\u00a0\n", "line")) == []
    assert list(spans(" \n\t\n\u00a0\n", "blank_line")) == []


def test_blank_line_mode_joins_wrapped_lines_into_one_block():
    result = texts(ARTICLE, "blank_line")
    assert result == [
        "Sessions met Russian envoy twice",
        "Load video",
        "Attorney General Jeff Sessions said Thursday morning that while he twice met\n"
        "with Russia's ambassador, he did not discuss the campaign.",
        "Photo: AP",
    ]


def test_blank_line_mode_treats_lines_of_spaces_as_blank():
    text = "first para line one\nline two\n \t \nsecond para\n\u3000\nthird"
    assert texts(text, "blank_line") == ["first para line one\nline two", "second para", "third"]


def test_unknown_mode_raises():
    with pytest.raises(ValueError, match="word"):
        list(spans("a", "word"))


def test_segment_keys_give_offsets_keys_and_word_counts():
    from dedupe.text.normalize import key_and_words
    from dedupe.corpus.keys import segment_keys

    docs, starts, ends, keys, counts = segment_keys([ARTICLE, "Load video"], "line")
    assert docs == [0, 0, 0, 0, 0, 1]
    assert (starts[1], ends[1], keys[1], counts[1]) == (38, 48, "load video", 2)
    for d, start, end, key, n in zip(docs, starts, ends, keys, counts):
        text = [ARTICLE, "Load video"][d]
        assert text[start:end] == text[start:end].strip() != ""
        key_words = key_and_words(text[start:end])
        assert (key, n) == (key_words[0], len(key_words[1]))
    assert len(segment_keys([ARTICLE], "blank_line")[0]) == 4


def test_line_segments_of_a_batch_are_the_line_spans_of_each_text():
    import random

    from dedupe.text.segment import line_segments

    rng = random.Random(2)
    alphabet = ["a", "b", " ", "\t", "\n", "\r", "\u00a0", "\u3000", "\u2028", "\x1c", "\u200b", "\u00e9"]
    texts = ["", "\n", "  \n\t", "one\ntwo", "\u3000lead\u00a0 \n trail \n"] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(2000)]
    texts += [p.read_text("utf-8") for p in sorted(RAW.glob("*.txt"))]
    want = [(d, a, b, t[a:b]) for d, t in enumerate(texts) for a, b in spans(t, "line")]
    assert list(zip(*line_segments(texts))) == want
