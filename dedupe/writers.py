"""Writing the three output tables with explicit Arrow schemas, atomically.

Tables are first written into a staging directory next to the output directory (same file
system), then moved into place with `os.replace`, so a crash before publishing leaves the
previous output untouched. Files carry no timestamps: the same input and config give
byte-identical files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

import numpy as np

from .corpus import Corpus
from .policy import ROLES, ClusterRow, Decisions
from .segment import spans

DOCUMENTS_SCHEMA = pa.schema([
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("title", pa.string(), nullable=False),
    pa.field("text", pa.string(), nullable=False),
    pa.field("doc_cluster_id", pa.string()),
    pa.field("kept", pa.bool_(), nullable=False),
    pa.field("duplicate_of", pa.string()),
    pa.field("similarity", pa.float64()),
    pa.field("n_segments", pa.int32(), nullable=False),
    pa.field("segments_removed", pa.int32(), nullable=False),
    pa.field("chars_removed", pa.int64(), nullable=False),
])

SEGMENTS_SCHEMA = pa.schema([
    pa.field("doc_id", pa.string(), nullable=False),
    pa.field("segment", pa.int32(), nullable=False),
    pa.field("start", pa.int32(), nullable=False),
    pa.field("end", pa.int32(), nullable=False),
    pa.field("text", pa.string(), nullable=False),
    pa.field("cluster_id", pa.string()),
    pa.field("role", pa.string(), nullable=False),
    pa.field("kept", pa.bool_(), nullable=False),
    pa.field("kept_doc_id", pa.string()),
    pa.field("kept_segment", pa.int32()),
    pa.field("similarity", pa.float64()),
])

CLUSTERS_SCHEMA = pa.schema([
    pa.field("cluster_id", pa.string(), nullable=False),
    pa.field("level", pa.string(), nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("size", pa.int32(), nullable=False),
    pa.field("n_docs", pa.int32(), nullable=False),
    pa.field("representative_doc_id", pa.string(), nullable=False),
    pa.field("representative_segment", pa.int32()),
    pa.field("text", pa.string(), nullable=False),
])

OUTPUT_FILES = ("documents.parquet", "segments.parquet", "clusters.parquet")


def cleaned_text(text: str, bounds: list[tuple[int, int]], kept: list[bool]) -> str:
    """The article without its dropped segments, keeping the original layout around kept ones.

    Each kept segment is preceded by the whitespace that followed the previous kept segment in
    the original, so removing a caption line never glues two paragraphs together.
    """
    parts: list[str] = []
    gap_start: int | None = None  # where the gap after the last kept segment begins
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


class RowGroupWriter:
    """A Parquet writer that cuts row groups every `rows` rows, whatever the caller's batches,
    so the file's bytes do not depend on how the pipeline was batched."""

    def __init__(self, path: Path, schema: pa.Schema, rows: int) -> None:
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._schema = schema
        self._rows = rows
        self._buffer: dict[str, list] = {name: [] for name in schema.names}

    def add(self, columns: dict[str, list]) -> None:
        for name in self._schema.names:
            self._buffer[name].extend(columns[name])
        while len(self._buffer[self._schema.names[0]]) >= self._rows:
            self._flush(self._rows)

    def _flush(self, n: int) -> None:
        head = {name: values[:n] for name, values in self._buffer.items()}
        self._buffer = {name: values[n:] for name, values in self._buffer.items()}
        self._writer.write_table(pa.Table.from_pydict(head, schema=self._schema))

    def close(self) -> None:
        remaining = len(self._buffer[self._schema.names[0]])
        if remaining:
            self._flush(remaining)
        self._writer.close()


def write_outputs(stage: Path, corpus: Corpus, dec: Decisions, doc_ids: list[str], mode: str) -> None:
    """Stream the staged documents once and write the three tables into `stage`."""
    docs_out = RowGroupWriter(stage / "documents.parquet", DOCUMENTS_SCHEMA, 4096)
    segs_out = RowGroupWriter(stage / "segments.parquet", SEGMENTS_SCHEMA, 65536)
    rep_segments: dict[int, list[tuple[int, ClusterRow]]] = {}
    rep_titles: dict[int, list[ClusterRow]] = {}
    for row in dec.clusters:
        if row.rep_segment is None:
            rep_titles.setdefault(row.rep_doc, []).append(row)
        else:
            rep_segments.setdefault(row.rep_doc, []).append((row.rep_segment, row))
    kept_doc_ids = _ids_or_none(dec.kept_doc, doc_ids)
    cluster_ids = [c.cluster_id for c in dec.clusters]

    for first, data in corpus.docs.iter_batches(("doc_id", "source", "title", "text")):
        doc_cols: dict[str, list] = {name: [] for name in DOCUMENTS_SCHEMA.names}
        seg_cols: dict[str, list] = {name: [] for name in SEGMENTS_SCHEMA.names}
        for k, text in enumerate(data["text"]):
            d = first + k
            lo, hi = int(corpus.doc_offsets[d]), int(corpus.doc_offsets[d + 1])
            spans_ = list(spans(text, mode))
            assert len(spans_) == hi - lo, "segmentation changed between passes"
            kept = dec.kept[lo:hi].tolist()
            seg_texts = [text[a:b] for a, b in spans_]
            for seg_index, row in rep_segments.get(d, []):
                row.text = seg_texts[seg_index]
            for row in rep_titles.get(d, []):
                row.text = data["title"][k]
            doc_cols["doc_id"].append(data["doc_id"][k])
            doc_cols["source"].append(data["source"][k])
            doc_cols["title"].append(data["title"][k])
            doc_cols["text"].append(cleaned_text(text, spans_, kept))
            doc_cols["doc_cluster_id"].append(_at(cluster_ids, dec.doc_cluster[d]))
            doc_cols["kept"].append(bool(dec.doc_kept[d]))
            doc_cols["duplicate_of"].append(_at(doc_ids, dec.duplicate_of[d]))
            doc_cols["similarity"].append(_float(dec.doc_similarity[d]))
            doc_cols["n_segments"].append(hi - lo)
            doc_cols["segments_removed"].append(kept.count(False))
            doc_cols["chars_removed"].append(sum(len(t) for t, k_ in zip(seg_texts, kept) if not k_))
            seg_cols["doc_id"].extend([data["doc_id"][k]] * (hi - lo))
            seg_cols["segment"].extend(range(hi - lo))
            seg_cols["start"].extend(a for a, _ in spans_)
            seg_cols["end"].extend(b for _, b in spans_)
            seg_cols["text"].extend(seg_texts)
        lo, hi = int(corpus.doc_offsets[first]), int(corpus.doc_offsets[first + len(data["text"])])
        seg_cols["cluster_id"] = [_at(cluster_ids, c) for c in dec.cluster[lo:hi].tolist()]
        seg_cols["role"] = [ROLES[r].value for r in dec.role[lo:hi].tolist()]
        seg_cols["kept"] = dec.kept[lo:hi].tolist()
        seg_cols["kept_doc_id"] = kept_doc_ids[lo:hi]
        seg_cols["kept_segment"] = [None if v < 0 else v for v in dec.kept_seg[lo:hi].tolist()]
        seg_cols["similarity"] = [_float(v) for v in dec.similarity[lo:hi].tolist()]
        docs_out.add(doc_cols)
        segs_out.add(seg_cols)
    docs_out.close()
    segs_out.close()
    write_table(clusters_table(dec.clusters, doc_ids), stage / "clusters.parquet")


def clusters_table(rows: list[ClusterRow], doc_ids: list[str]) -> pa.Table:
    return pa.Table.from_pydict({
        "cluster_id": [r.cluster_id for r in rows],
        "level": [r.level for r in rows],
        "kind": [r.kind for r in rows],
        "size": [r.size for r in rows],
        "n_docs": [r.n_docs for r in rows],
        "representative_doc_id": [doc_ids[r.rep_doc] for r in rows],
        "representative_segment": [r.rep_segment for r in rows],
        "text": [r.text for r in rows],
    }, schema=CLUSTERS_SCHEMA)


def _at(values: list[str], index: int) -> str | None:
    return None if index < 0 else values[index]


def _float(value: float) -> float | None:
    return None if value != value else round(value, 6)  # NaN -> null


def _ids_or_none(indices: np.ndarray, doc_ids: list[str]) -> list[str | None]:
    return [None if i < 0 else doc_ids[i] for i in indices.tolist()]


def write_table(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def staging_dir(output_dir: Path) -> Path:
    """A fresh directory beside `output_dir` (same file system, so publishing is a rename)."""
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.staging-", dir=output_dir.parent))


def publish(staged: Path, output_dir: Path, names: Iterable[str]) -> None:
    """Move the staged files into `output_dir`, each with an atomic rename, then drop staging."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        os.replace(staged / name, output_dir / name)
    shutil.rmtree(staged, ignore_errors=True)
