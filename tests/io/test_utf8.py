"""Segment texts and cleaned article texts cut from the staged texts' bytes: the same strings as
slicing the Python texts."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa

from dedupe.io.tables import cleaned_ranges
from dedupe.io.utf8 import byte_positions, string_array, utf8_of
from dedupe.text.segment import spans
from tests.conftest import RAW


def cleaned_text(text: str, bounds: list[tuple[int, int]], kept: list[bool]) -> str:
    """The rule, one article at a time in Python: each kept segment after the article's first
    kept one is preceded by the whitespace that followed the previous kept segment."""
    parts: list[str] = []
    gap_start: int | None = None
    pending_gap: str | None = None
    for (start, end), keep in zip(bounds, kept):
        if pending_gap is None and gap_start is not None:
            pending_gap = text[gap_start:start]
        if keep:
            if parts and pending_gap is not None:
                parts.append(pending_gap)
            parts.append(text[start:end])
            gap_start, pending_gap = end, None
    return "".join(parts)


def _articles() -> list[str]:
    texts = [p.read_text("utf-8") for p in sorted(RAW.glob("*.txt"))]
    return texts + ["", "One line only", "\n\nCaf\u00e9 \u2014 first\n\n\u201cSecond\u201d \U0001F600\n  third  \n",
                    "  leading and trailing  \n\nlines\n\n"]


def test_segment_and_cleaned_texts_from_bytes_equal_the_python_slices():
    texts = _articles()
    rng = random.Random(3)
    seg_doc, starts, ends, kept = [], [], [], []
    for d, text in enumerate(texts):
        for a, b in spans(text, "line"):
            seg_doc.append(d)
            starts.append(a)
            ends.append(b)
            kept.append(rng.random() < 0.6)
    seg_doc, starts, ends, kept = map(np.array, (seg_doc, starts, ends, kept))
    data, offsets = utf8_of(pa.chunked_array([pa.array(texts)]))
    at = byte_positions(data, offsets, np.array([len(t) for t in texts]), np.repeat(seg_doc, 2),
                        np.stack([starts, ends], axis=1).ravel())
    byte_start, byte_end = at[0::2], at[1::2]
    assert string_array(data, byte_start, byte_end).to_pylist() == \
        [texts[d][a:b] for d, a, b in zip(seg_doc, starts, ends)]
    cleaned = string_array(data, *cleaned_ranges(seg_doc, byte_start, byte_end, kept), n=len(texts))
    expected = []
    for d, text in enumerate(texts):
        mine = seg_doc == d
        expected.append(cleaned_text(text, list(zip(starts[mine], ends[mine])), kept[mine].tolist()))
    assert cleaned.to_pylist() == expected
    everything = string_array(data, *cleaned_ranges(seg_doc, byte_start, byte_end, np.ones(len(kept), bool)),
                              n=len(texts))
    firsts = [text[starts[seg_doc == d][0]: ends[seg_doc == d][-1]] if (seg_doc == d).any() else ""
              for d, text in enumerate(texts)]
    assert everything.to_pylist() == firsts  # nothing dropped: first segment to last, layout kept


def test_a_sliced_column_is_read_from_its_own_offset():
    column = pa.array(["skip me", "caf\u00e9", "b"]).slice(1)
    data, offsets = utf8_of(column)
    assert [data[a:b].tobytes().decode() for a, b in zip(offsets[:-1], offsets[1:])] == ["caf\u00e9", "b"]


def test_the_numpy_path_lists_character_starts_a_run_of_texts_at_a_time(monkeypatch):
    """Without compiled kernels the byte offsets come from each run of texts' character starts
    (bounded memory however large the batch): the same offsets for runs of any size."""
    from dedupe import kernels
    from dedupe.io import utf8

    texts = _articles() * 3
    data, offsets = utf8_of(pa.array(texts))
    n_chars = np.array([len(t) for t in texts])
    text = np.repeat(np.arange(len(texts)), 2)
    chars = np.stack([n_chars // 3, n_chars], axis=1).ravel()
    expected = np.array([offsets[d] + len(texts[d][:c].encode("utf-8")) for d, c in zip(text, chars)])
    monkeypatch.setattr(kernels, "use_compiled", lambda work: False)
    for limit in (1, 100, 5000, 1 << 22):
        monkeypatch.setattr(utf8, "NUMPY_CHUNK", limit)
        assert np.array_equal(byte_positions(data, offsets, n_chars, text, chars), expected), limit
    assert string_array(data, np.array([0, 2]), np.array([2, 5])).to_pylist() == \
        [data[0:2].tobytes().decode("utf-8", "replace"), data[2:5].tobytes().decode("utf-8", "replace")]


def test_take_strings_is_arrows_take_with_missing_indices_as_nulls():
    from dedupe.io.utf8 import take_strings

    rng = np.random.default_rng(4)
    values = pa.array(["", "caf\u00e9", "plain", "\u4e2d\u6587", "x" * 300] * 20).slice(3)  # an offset, too
    for size in (0, 1, 50, 400):
        index = rng.integers(-1, len(values), size)
        want = values.take(pa.array(index, mask=index < 0))
        got = take_strings(values, index)
        assert got.equals(want) and got.null_count == want.null_count
    assert take_strings(pa.array([], pa.string()), np.array([-1, -1])).to_pylist() == [None, None]
    assert take_strings(pa.chunked_array([["a"], ["b", "c"]]), [2, 0]).to_pylist() == ["c", "a"]


def test_a_run_does_not_import_pyarrow_compute(tmp_path):
    """Importing pyarrow.compute costs 0.03 s (it builds 300 docstrings): a run on text files
    or plain JSONL needs none of it."""
    import json
    import subprocess
    import sys

    (tmp_path / "in").mkdir()
    articles = [p.read_text("utf-8") for p in sorted(RAW.glob("*.txt"))]
    (tmp_path / "in" / "a.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in articles))
    code = (f"import sys, dedupe; dedupe.run({str(tmp_path / 'in')!r}, {str(tmp_path / 'out')!r}); "
            f"dedupe.run({str(RAW)!r}, {str(tmp_path / 'out2')!r}); print('pyarrow.compute' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
