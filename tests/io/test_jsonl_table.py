"""A JSONL file read whole by Arrow's parser gives the documents the line reader gives, or is
left to the line reader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import dedupe
from dedupe.config import Config
from dedupe.io import readers
from dedupe.io.readers import DocumentTable, read_inputs
from dedupe.io.stores import text_weights, weights_of
from dedupe.model import Document
from tests.conftest import RAW

ARTICLES = [p.read_text("utf-8") for p in sorted(RAW.glob("*.txt"))]


def _expanded(items) -> tuple[list, int]:
    """The items with each DocumentTable turned into its documents; and how many tables."""
    out, tables = [], 0
    for item in items:
        if isinstance(item, DocumentTable):
            tables += 1
            rows = item.table.to_pylist()
            assert text_weights(item.table).tolist() == weights_of([r["text"] for r in rows]).tolist()
            out += [Document(**row) for row in rows]
        else:
            out.append(item)
    return out, tables


def _both(root: Path, config: Config) -> tuple[list, list, int]:
    lines = list(read_inputs(root, config))
    whole, tables = _expanded(read_inputs(root, config, tables=True))
    return lines, whole, tables


def _write(path: Path, records: list, newline: str = "\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(newline.join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)
                    + newline, encoding="utf-8")


def test_plain_files_are_read_whole_into_the_same_documents(tmp_path):
    long_first = "word " * 2000  # a first line that runs past the decoded head of a text
    records = [{"text": a, "title": t} for a, t in zip(ARTICLES, ["Given title", "  ", None, None, ""])]
    records += [{"text": "\n\n   \n" * 1000 + "Late first line\nbody"}, {"text": long_first + "\nsecond"},
                {"text": "Caf\u00e9 \u201cquoted\u201d \U0001F600\r\nCRLF line\rCR line"}, {"text": "x", "extra": [1, {"a": None}]}]
    _write(tmp_path / "in" / "a.jsonl", records[:4])
    _write(tmp_path / "in" / "sub" / "b.jsonl", ["", *records[4:], "   "])  # blank lines count for line numbers
    for config in (Config(), Config(title_field=None), Config(title_field="title", id_field=None)):
        lines, whole, tables = _both(tmp_path / "in", config)
        assert tables == 2
        assert whole == lines
    assert [d.source for d in lines][-5:] == [f"sub/b.jsonl:{n}" for n in range(2, 7)]


def test_ids_are_read_whole_when_they_are_distinct_strings(tmp_path):
    _write(tmp_path / "a.jsonl", [{"id": f"ap-{i}", "text": a} for i, a in enumerate(ARTICLES)])
    lines, whole, tables = _both(tmp_path, Config(id_field="id"))
    assert tables == 1 and whole == lines and lines[0].doc_id == "ap-0"


@pytest.mark.parametrize("lines_of_file", [
    ['{"text": "ok"}', '{"text": "broken'],                 # invalid JSON
    ['{"text": "ok"}', '["a", "list"]'],                    # not an object
    ['{"text": "ok"}', '{"text": null}'],                   # null text
    ['{"text": "ok"}', '{"body": "no text field"}'],        # missing text
    ['{"text": "ok"}', '{"text": 42}'],                     # not a string
    ['{"text": "ok"}', '{"text": "  \\n "}'],               # blank text
    ['{"text": "a"} {"text": "b"}'],                        # two objects on a line
    ['{"text": "\\ufeffBOM inside"}'],                      # a text opening with a BOM
    ['{"text": "lone \\ud800"}'],                           # an unpaired surrogate
    ['{"text": "ok", "title": 5}'],                         # a title that is not a string
    ['{"text": "a", "n": 1e999}'],                          # a number Arrow cannot hold
])
def test_anything_else_is_left_to_the_line_reader(tmp_path, lines_of_file):
    (tmp_path / "a.jsonl").write_text("\n".join(lines_of_file) + "\n", encoding="utf-8")
    lines, whole, tables = _both(tmp_path, Config())
    assert tables == 0 and whole == lines


def test_duplicate_and_numeric_ids_are_left_to_the_line_reader(tmp_path):
    _write(tmp_path / "a.jsonl", [{"id": "x", "text": "one"}, {"id": "x", "text": "two"}])
    _write(tmp_path / "b.jsonl", [{"id": 7, "text": "seven"}])
    _write(tmp_path / "c.jsonl", [{"id": "x", "text": "again"}, {"id": "y", "text": "why"}])  # x: seen in a.jsonl
    lines, whole, tables = _both(tmp_path, Config(id_field="id"))
    assert tables == 0 and whole == lines
    (tmp_path / "d.jsonl").write_bytes(b'\xef\xbb\xbf{"text": "file BOM"}\n')
    assert _both(tmp_path, Config())[2] == 3  # a, b, c whole; d (a BOM at the file's start) by lines


def test_a_run_on_jsonl_writes_the_same_bytes_either_way(tmp_path, monkeypatch):
    _write(tmp_path / "in" / "a.jsonl", [{"text": a} for a in ARTICLES] * 3)
    whole_out, lines_out = tmp_path / "whole", tmp_path / "lines"
    dedupe.run(tmp_path / "in", whole_out, Config(batch_docs=4))
    from dedupe.io import jsonl_table

    monkeypatch.setattr(jsonl_table, "jsonl_documents", lambda *args: None)
    dedupe.run(tmp_path / "in", lines_out, Config(batch_docs=4))
    for name in ("documents.parquet", "segments.parquet", "clusters.parquet", "report.json"):
        assert (whole_out / name).read_bytes() == (lines_out / name).read_bytes(), name


def test_a_file_left_to_the_line_reader_is_read_from_disk_once(tmp_path, monkeypatch):
    (tmp_path / "a.jsonl").write_text('{"text": "ok"}\n{"text": 42}\n', encoding="utf-8")
    reads = []
    original = readers.read_bytes
    monkeypatch.setattr(readers, "read_bytes", lambda path, rel: reads.append(rel) or original(path, rel))
    items, tables = _expanded(read_inputs(tmp_path, Config(), tables=True))
    assert tables == 0 and reads == ["a.jsonl"]
    assert [type(i).__name__ for i in items] == ["Document", "Skip"]


@pytest.mark.parametrize("data", [b"", b"\n", b"{}", b"{}\n", b"\n\n{}\n \n  {}\n\t\n", b" {}\n\r\n{}\r\n",
                                  b"\x0b\n\x0c{}", b"{}\n\n\n", b"\xc2\xa0\n{}"])
def test_non_blank_lines_are_those_bytes_strip_keeps(data):
    from dedupe.io.jsonl_table import _nonblank_lines

    assert _nonblank_lines(data) == [n for n, raw in enumerate(data.split(b"\n"), start=1) if raw.strip()]
