"""Partitions: the prepare pass by path, for engines whose workers run elsewhere (a Dask cluster).

A partition is a run of consecutive row groups of the staged input (`stage/input.parquet`, row
groups of `batch_docs` documents). `prepare_partition` reads them, runs `prepare.prepare_batch`
on each and writes each result as Parquet parts in `stage/parts/NNNNNN/` (NNNNNN: the row
group); it returns those folders, and `read_partition` reads one back. Workers and
the driver exchange paths, never texts or arrays, so the scheduler carries a few bytes per task
and the stage folder must be one that every worker sees (a shared file system on a real cluster).

Parts of one row group:

    segments.parquet    one row per segment: doc, start, end, words, key hash
    keys.parquet        one row per distinct key: text, hash, words, template, signature
    passages.parquet    the containment passages' shingle sets (key position, hashes)
    extensions.parquet  in-article near copies (key hash pairs)
    documents.parquet   one row per document: signature, words, key, signed, size, length
    sample.parquet      each document's sampled shingle set

A row group's parts are written aside and renamed into place whole, so a task that a killed
worker left half done, or ran twice, never leaves a mix: the first complete copy stands (the
function is pure, so every copy is the same).
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..config import Config
from ..io.utf8 import utf8_of
from ..sketch.sets import ShingleSets
from .prepare import PreparedBatch, prepare_batch

PARTS = "parts"
PARQUET_PLAIN = {"compression": "none", "use_dictionary": False, "write_statistics": False}
"""Parts are written once and read once, whole: plain pages write 6x and read 6x faster than
Parquet's defaults (dictionaries and statistics of random hashes buy nothing)."""
MAX_GROUPS = 8
"""Row groups per task at most: each task costs its orchestration (a Prefect task run is a few
API calls, about 0.2 s of the 2 cores here), so a task prepares several row groups when there are
many; fewer would leave workers idle at the end."""


@dataclass(frozen=True)
class Partition:
    """Row groups `first` .. `first + count - 1` of the staged input `input` (a path every
    worker can read): one task's work."""

    input: str
    first: int
    count: int = 1

    @property
    def label(self) -> str:
        return f"prepare-partition-{self.first}"

    def folder(self, group: int) -> Path:
        """Where the parts of row group `group` go."""
        return Path(self.input).parent / PARTS / f"{group:06d}"


def partitions(input_path: Path, row_groups: int, tasks: int | None = None) -> list[Partition]:
    """The staged input of `row_groups` row groups cut into about `tasks` partitions of
    consecutive row groups (at most MAX_GROUPS each; one row group each when None), in order."""
    per = 1 if tasks is None else max(1, min(MAX_GROUPS, -(-row_groups // max(tasks, 1))))
    path = str(Path(input_path).resolve())
    return [Partition(path, g, min(per, row_groups - g)) for g in range(0, row_groups, per)]


def prepare_partition(part: Partition, config: Config) -> list[str]:
    """Prepare each row group of one partition and write its parts; returns their folders."""
    source = pq.ParquetFile(part.input)
    return [_prepare_group(source, part, g, config) for g in range(part.first, part.first + part.count)]


def _prepare_group(source: pq.ParquetFile, part: Partition, group: int, config: Config) -> str:
    folder = part.folder(group)
    if folder.is_dir():  # an earlier attempt finished (the result is the same)
        return str(folder)
    texts = source.read_row_group(group, columns=["text"]).column("text").to_pylist()
    batch = prepare_batch(texts, config)
    aside = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}")
    aside.mkdir(parents=True)
    try:
        for name, table in _tables(batch).items():
            pq.write_table(table, aside / f"{name}.parquet", **PARQUET_PLAIN)
        try:
            os.rename(aside, folder)
        except OSError:
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)
    return str(folder)


def read_partition(folder: str | Path) -> PreparedBatch:
    """The prepared batch whose parts `prepare_partition` wrote to `folder`."""
    folder = Path(folder)
    t = {name: pq.read_table(folder / f"{name}.parquet") for name in
         ("segments", "keys", "passages", "extensions", "documents", "sample")}
    seg, keys, docs, ext = t["segments"], t["keys"], t["documents"], t["extensions"]
    num_perm = keys.schema.field("sig").type.list_size
    return PreparedBatch(
        seg_doc=_np(seg, "doc"), seg_start=_np(seg, "start"), seg_end=_np(seg, "end"),
        seg_words=_np(seg, "words"), seg_key=_np(seg, "key"),
        **_encoded_keys(keys.column("text")), key_hash=_np(keys, "hash"), key_words=_np(keys, "words"),
        key_sigs=_matrix(keys, "sig", num_perm), key_passages=_sets(t["passages"]),
        key_template=_np(keys, "template"),
        extensions=list(zip(_np(ext, "a").tolist(), _np(ext, "b").tolist())),
        doc_sigs=_matrix(docs, "sig", num_perm), doc_sample=_sets(t["sample"]),
        doc_words=_np(docs, "words"), doc_key=_np(docs, "key"), doc_signed=_np(docs, "signed"),
        doc_size=_np(docs, "size"), doc_len=_np(docs, "len"),
    )


def _tables(b: PreparedBatch) -> dict[str, pa.Table]:
    ext = np.array(b.extensions, dtype=np.uint64).reshape(-1, 2)
    return {
        "segments": pa.table({"doc": b.seg_doc, "start": b.seg_start, "end": b.seg_end,
                              "words": b.seg_words, "key": b.seg_key}),
        "keys": pa.table({"text": _key_array(b), "hash": b.key_hash, "words": b.key_words,
                          "template": b.key_template, "sig": _fixed_lists(b.key_sigs)}),
        "passages": _sets_table(b.key_passages),
        "extensions": pa.table({"a": ext[:, 0], "b": ext[:, 1]}),
        "documents": pa.table({"sig": _fixed_lists(b.doc_sigs), "words": b.doc_words, "key": b.doc_key,
                               "signed": b.doc_signed, "size": b.doc_size, "len": b.doc_len}),
        "sample": _sets_table(b.doc_sample),
    }


def _key_array(b: PreparedBatch) -> pa.Array:
    """The batch's keys as an Arrow string column, from their bytes."""
    return pa.StringArray.from_buffers(len(b.key_offsets) - 1, pa.py_buffer(b.key_offsets.astype(np.int32)),
                                       pa.py_buffer(b.key_text))


def _encoded_keys(column) -> dict[str, np.ndarray]:
    """`PreparedBatch.key_text` and `key_offsets` of a string column (copies: the batch outlives
    the table)."""
    data, offsets = utf8_of(column)
    return {"key_text": data[offsets[0]: offsets[-1]].copy(), "key_offsets": offsets - offsets[0]}


def _fixed_lists(matrix: np.ndarray) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(matrix).ravel()), matrix.shape[1])


def _sets_table(sets: ShingleSets) -> pa.Table:
    ids = sets.ids if sets.ids is not None else np.arange(len(sets), dtype=np.int64)
    values = pa.LargeListArray.from_arrays(pa.array(sets.offsets.astype(np.int64)), pa.array(sets.values))
    return pa.table({"id": pa.array(ids, pa.int64()), "values": values},
                    metadata={"has_ids": "1" if sets.ids is not None else "0"})


def _sets(table: pa.Table) -> ShingleSets:
    values = table.column("values").combine_chunks()
    offsets = values.offsets.to_numpy().astype(np.int64)
    flat = values.values.to_numpy()
    if len(offsets) and offsets[0]:
        flat, offsets = flat[offsets[0]: offsets[-1]], offsets - offsets[0]
    ids = _np(table, "id").astype(np.int64) if table.schema.metadata[b"has_ids"] == b"1" else None
    return ShingleSets(np.ascontiguousarray(flat, dtype=np.uint64), offsets, ids)


def _np(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy()


def _matrix(table: pa.Table, name: str, width: int) -> np.ndarray:
    column = table.column(name).combine_chunks()
    return column.flatten().to_numpy().reshape(-1, width).copy()
