"""Staged row groups: cut by count, and early by weight, without changing any output."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import dedupe
import dedupe.pipeline
from dedupe.config import Config
from dedupe.io import stores
from dedupe.io.stores import DocumentWriter, RowGroupWriter
from dedupe.model import Document
from tests.conftest import RAW

SCHEMA = pa.schema([("n", pa.int64()), ("w", pa.int64())])


def _groups(path) -> list[int]:
    meta = pq.ParquetFile(path).metadata
    return [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]


def test_row_groups_end_at_the_row_count_or_where_the_weight_is_reached(tmp_path):
    weights = [3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 20, 1, 1]
    path = tmp_path / "t.parquet"
    writer = RowGroupWriter(path, SCHEMA, rows=5, weigh=lambda t: t.column("w").to_numpy(), max_weight=7)
    for lo in range(0, len(weights), 4):  # the caller's batches do not matter
        part = weights[lo:lo + 4]
        writer.add(pa.table({"n": list(range(lo, lo + len(part))), "w": part}, schema=SCHEMA))
    writer.close()
    # 3+3+3 reaches 7 at the third row; five light rows; 1+1+20 at the heavy one; the rest
    assert _groups(path) == [3, 5, 3, 2]
    assert pq.read_table(path).column("n").to_pylist() == list(range(len(weights)))


def test_heavy_documents_make_smaller_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(stores, "BATCH_WEIGHT", 10_000)
    texts = ["short text"] * 3 + ["x" * 6_000, "line\n" * 900, "y" * 12_000] + ["short text"] * 4
    writer = DocumentWriter(tmp_path / "input.parquet", batch_docs=4)
    for i, text in enumerate(texts):
        writer.add(Document(f"d{i}", f"d{i}.txt", "", text))
    writer.close()
    weights = stores.text_weights(pq.read_table(tmp_path / "input.parquet"))
    assert weights.tolist()[3:6] == [6_000, 4_500 + 900 * stores.LINE_WEIGHT, 12_000]  # characters + 64 per line
    # 3 short + 6,000; 4,500 + 57,600 alone; 12,000 alone; then 4 short by count
    assert _groups(tmp_path / "input.parquet") == [4, 1, 1, 4]
    assert pq.read_table(tmp_path / "input.parquet").column("text").to_pylist() == texts


def test_a_text_weighs_its_characters_and_64_per_line_break(tmp_path, monkeypatch):
    """Characters, not bytes; CRLF is one break; the writer passes the weights of the strings it
    holds, and a table is weighed the same way."""
    texts = ["", "é\n\nü", "line\r\nline\n", "\n" * 7, "naïve “quoted” ✓"]
    expected = [0, 4 + 2 * 64, 11 + 2 * 64, 7 * 64 + 7, 16]
    assert stores.weights_of(texts).tolist() == expected
    seen = []
    real_add = RowGroupWriter.add
    monkeypatch.setattr(RowGroupWriter, "add", lambda self, table, weights=None: (
        seen.extend(weights.tolist()), real_add(self, table, weights))[1])
    writer = DocumentWriter(tmp_path / "input.parquet", batch_docs=2)
    for i, text in enumerate(texts):
        writer.add(Document(f"d{i}", f"d{i}.txt", "", text))
    writer.close()
    assert seen == expected
    assert stores.text_weights(pq.read_table(tmp_path / "input.parquet")).tolist() == expected


def test_where_batches_are_cut_does_not_change_the_output(tmp_path, monkeypatch):
    staged = []
    real_store = stores.DocumentStore

    def recording(path):
        store = real_store(path)
        staged.append(store.row_groups)
        return store

    monkeypatch.setattr(dedupe.pipeline, "DocumentStore", recording)
    outputs = []
    for weight in (stores.BATCH_WEIGHT, 3_000):  # each sample article weighs more than 3,000
        monkeypatch.setattr(stores, "BATCH_WEIGHT", weight)
        out = tmp_path / f"out{weight}"
        dedupe.run(RAW, out, Config(engine="local", batch_docs=3))
        outputs.append({name: (out / name).read_bytes() for name in ("documents.parquet", "segments.parquet",
                                                                     "clusters.parquet", "report.json")})
    assert staged == [2, 5]  # 5 articles: 3 + 2 by count, then one batch each by weight
    assert outputs[0] == outputs[1]


def test_keys_appended_from_their_bytes_read_back_as_the_strings(tmp_path):
    from dedupe.io.stores import TextStore

    keys = ["caf\u00e9 au lait", "", "plain words", "\u4e2d\u6587 and more", "last"]
    encoded = [k.encode("utf-8") for k in keys]
    offsets = np.cumsum([0] + [len(b) for b in encoded]).astype(np.int64)
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    store = TextStore(tmp_path / "keys.arrow")
    store.append_encoded(data, offsets, [3, 0, 1])  # some of them, in the order given
    store.append_encoded(data, offsets, range(len(keys)))  # all of them
    store.append_encoded(data, offsets, [])
    store.close()
    assert store.count == 8
    assert store.get(range(8)) == [keys[3], keys[0], keys[1]] + keys
