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

from .corpus import Corpus
from .policy import Decisions

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


def cleaned_text(text: str, spans: list[tuple[int, int]], kept: list[bool]) -> str:
    """The article without its dropped segments, keeping the original layout around kept ones.

    Each kept segment is preceded by the whitespace that followed the previous kept segment in
    the original, so removing a caption line never glues two paragraphs together.
    """
    parts: list[str] = []
    gap_start: int | None = None  # where the gap after the last kept segment begins
    pending_gap: str | None = None
    for (start, end), keep in zip(spans, kept):
        if pending_gap is None and gap_start is not None:
            pending_gap = text[gap_start:start]
        if keep:
            if parts and pending_gap is not None:
                parts.append(pending_gap)
            parts.append(text[start:end])
            gap_start, pending_gap = end, None
    return "".join(parts)


def documents_table(corpus: Corpus, dec: Decisions) -> pa.Table:
    cols: dict[str, list] = {name: [] for name in DOCUMENTS_SCHEMA.names}
    for d, doc in enumerate(corpus.documents):
        lo, hi = int(corpus.doc_offsets[d]), int(corpus.doc_offsets[d + 1])
        segs = corpus.segments[d]
        kept = dec.kept[lo:hi].tolist()
        cols["doc_id"].append(doc.doc_id)
        cols["source"].append(doc.source)
        cols["title"].append(doc.title)
        cols["text"].append(cleaned_text(doc.text, [(s.start, s.end) for s in segs], kept))
        cols["doc_cluster_id"].append(dec.doc_cluster_id[d])
        cols["kept"].append(dec.doc_kept[d])
        cols["duplicate_of"].append(dec.duplicate_of[d])
        cols["similarity"].append(dec.doc_similarity[d])
        cols["n_segments"].append(len(segs))
        cols["segments_removed"].append(kept.count(False))
        cols["chars_removed"].append(sum(len(s.text) for s, k in zip(segs, kept) if not k))
    return pa.Table.from_pydict(cols, schema=DOCUMENTS_SCHEMA)


def segments_table(corpus: Corpus, dec: Decisions) -> pa.Table:
    segs = [s for per_doc in corpus.segments for s in per_doc]
    return pa.Table.from_pydict({
        "doc_id": [s.doc_id for s in segs],
        "segment": [s.index for s in segs],
        "start": [s.start for s in segs],
        "end": [s.end for s in segs],
        "text": [s.text for s in segs],
        "cluster_id": dec.cluster_id,
        "role": dec.role,
        "kept": dec.kept.tolist(),
        "kept_doc_id": dec.kept_doc,
        "kept_segment": dec.kept_seg,
        "similarity": [None if v is None else round(v, 6) for v in dec.similarity],
    }, schema=SEGMENTS_SCHEMA)


def clusters_table(dec: Decisions) -> pa.Table:
    rows = dec.clusters
    return pa.Table.from_pydict(
        {name: [getattr(r, name) for r in rows] for name in CLUSTERS_SCHEMA.names},
        schema=CLUSTERS_SCHEMA,
    )


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
