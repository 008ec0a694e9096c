"""The three output tables: explicit Arrow schemas, and the writer that streams the staged
documents once to fill them.

Tables are written into the staging directory (`staging.py` moves them into place). Files carry
no timestamps: the same input and config give byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..model import ROLES, ClusterRecord, Corpus, Decisions
from ..progress import track
from .stores import RowGroupWriter
from .utf8 import byte_positions, string_array, take_strings, utf8_of

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
DOCUMENT_ROWS, SEGMENT_ROWS = 4096, 65536  # rows per row group: part of the files' bytes


def cleaned_ranges(seg_doc: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                   kept: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, document) of the ranges of the original texts that make each article's cleaned
    text: the article without its dropped segments, keeping the original layout around kept
    ones. Segments (document, start, end; any unit) are in order, each document's together.

    A kept segment other than its article's first kept one is preceded by the whitespace that
    followed the previous kept segment in the original (from its end to the start of the
    segment after it), so removing a caption line never glues two paragraphs together. An
    article with every segment kept is its text from the first segment to the last."""
    k = np.flatnonzero(kept)
    doc = np.asarray(seg_doc, dtype=np.int64)[k]
    later = np.r_[False, doc[1:] == doc[:-1]]  # not the first kept segment of its article
    prev = k[np.flatnonzero(later) - 1]  # the kept segment before each later one
    own = np.arange(len(k)) + np.cumsum(later)  # each kept segment's range; a later one's gap before it
    lo = np.empty(len(k) + len(prev), dtype=np.int64)
    hi, owner = np.empty_like(lo), np.empty_like(lo)
    lo[own], hi[own], owner[own] = starts[k], ends[k], doc
    gap = own[later] - 1
    lo[gap], hi[gap], owner[gap] = ends[prev], starts[prev + 1], doc[later]
    return lo, hi, owner


def write_outputs(stage: Path, corpus: Corpus, dec: Decisions, doc_ids: list[str]) -> list[str]:
    """Stream the staged documents once and write the three tables into `stage`; returns each
    cluster's text (its representative segment, or the representative article's title), aligned
    with `dec.clusters`.

    Columns come from the decision arrays as Arrow arrays (ids looked up with
    `utf8.take_strings`, -1 as null), the texts from byte ranges of the staged texts
    (`cleaned_ranges`, `utf8.py`)."""
    docs_out = RowGroupWriter(stage / "documents.parquet", DOCUMENTS_SCHEMA, DOCUMENT_ROWS, "zstd")
    segs_out = RowGroupWriter(stage / "segments.parquet", SEGMENTS_SCHEMA, SEGMENT_ROWS, "zstd")
    ids = pa.array(doc_ids, pa.string())
    cluster_ids = pa.array([c.cluster_id for c in dec.clusters], pa.string())
    roles = pa.array([r.value for r in ROLES], pa.string())
    cluster_texts = [""] * len(dec.clusters)
    rep_segments: dict[int, list[int]] = {}  # occurrence -> clusters it represents
    rep_titles: dict[int, list[int]] = {}  # document -> clusters it represents
    for index, row in enumerate(dec.clusters):
        if row.rep_segment is None:
            rep_titles.setdefault(row.rep_doc, []).append(index)
        else:
            rep_segments.setdefault(int(corpus.doc_offsets[row.rep_doc]) + row.rep_segment, []).append(index)
    reps = np.array(sorted(rep_segments), dtype=np.int64)

    batches = corpus.docs.iter_tables(("doc_id", "source", "title", "text"))
    for first, table in track(batches, corpus.docs.row_groups, "write"):
        last = first + table.num_rows
        lo, hi = int(corpus.doc_offsets[first]), int(corpus.doc_offsets[last])
        seg_doc = corpus.occ_doc[lo:hi] - first
        starts, kept = corpus.occ_start[lo:hi], dec.kept[lo:hi]
        ends = starts + corpus.occ_len[lo:hi]
        # Texts are cut from the staged texts' UTF-8 bytes (utf8.py): no Python string per text.
        data, offsets = utf8_of(table.column("text"))
        at = byte_positions(data, offsets, corpus.doc_len[first:last], np.repeat(seg_doc, 2),
                            np.stack([starts, ends], axis=1).ravel())
        byte_start, byte_end = at[0::2], at[1::2]
        seg_texts = string_array(data, byte_start, byte_end)
        represented = reps[np.searchsorted(reps, lo): np.searchsorted(reps, hi)]
        for occ, text in zip(represented.tolist(), take_strings(seg_texts, represented - lo).to_pylist()):
            for index in rep_segments[occ]:
                cluster_texts[index] = text
        titles = table.column("title")
        for d in range(first, last):
            for index in rep_titles.get(d, []):
                cluster_texts[index] = titles[d - first].as_py()

        bounds = corpus.doc_offsets[first: last + 1] - lo
        dropped = ~kept
        segs_out.add(pa.Table.from_arrays([
            take_strings(table.column("doc_id"), seg_doc),
            pa.array(corpus.occ_seg[lo:hi]), pa.array(starts), pa.array(ends.astype(np.int32)),
            seg_texts,
            take_strings(cluster_ids, dec.cluster[lo:hi]),
            take_strings(roles, dec.role[lo:hi]),
            pa.array(kept),
            take_strings(ids, dec.kept_doc[lo:hi]),
            pa.array(dec.kept_seg[lo:hi], mask=dec.kept_seg[lo:hi] < 0),
            _floats(dec.similarity[lo:hi]),
        ], schema=SEGMENTS_SCHEMA))
        docs_out.add(pa.Table.from_arrays([
            table.column("doc_id"), table.column("source"), titles,
            string_array(data, *cleaned_ranges(seg_doc, byte_start, byte_end, kept), n=last - first),
            take_strings(cluster_ids, dec.doc_cluster[first:last]),
            pa.array(dec.doc_kept[first:last]),
            take_strings(ids, dec.duplicate_of[first:last]),
            _floats(dec.doc_similarity[first:last]),
            pa.array(np.diff(bounds).astype(np.int32)),
            pa.array(np.bincount(seg_doc[dropped], minlength=last - first).astype(np.int32)),
            pa.array(np.bincount(seg_doc[dropped], weights=corpus.occ_len[lo:hi][dropped],
                                 minlength=last - first).astype(np.int64)),
        ], schema=DOCUMENTS_SCHEMA))
    docs_out.finish()  # the last row groups of both files compress side by side, and meanwhile
    segs_out.finish()  # the clusters table is written
    write_table(clusters_table(dec.clusters, cluster_texts, doc_ids), stage / "clusters.parquet")
    docs_out.close()
    segs_out.close()
    return cluster_texts


def _floats(values: np.ndarray) -> pa.Array:
    """`_float` of each value, rounding each distinct value once (similarities repeat)."""
    nan = np.isnan(values)
    distinct, inverse = np.unique(values[~nan], return_inverse=True)
    out = np.zeros(len(values))
    out[~nan] = np.array([_float(v) for v in distinct.tolist()], dtype=np.float64)[inverse]
    return pa.array(out, mask=nan, type=pa.float64())


def clusters_table(rows: tuple[ClusterRecord, ...], texts: list[str], doc_ids: list[str]) -> pa.Table:
    return pa.Table.from_pydict({
        "cluster_id": [r.cluster_id for r in rows],
        "level": [r.level.value for r in rows],
        "kind": [r.kind.value for r in rows],
        "size": [r.size for r in rows],
        "n_docs": [r.n_docs for r in rows],
        "representative_doc_id": [doc_ids[r.rep_doc] for r in rows],
        "representative_segment": [r.rep_segment for r in rows],
        "text": texts,
    }, schema=CLUSTERS_SCHEMA)


def _float(value: float) -> float | None:
    return None if value != value else round(value, 6)  # NaN -> null


def write_snapshot(stage: Path, documents: pa.Table, segments: pa.Table, clusters: pa.Table) -> None:
    """The three tables, already computed and in output order, written as `write_outputs`
    writes them (same row groups and compression: the same bytes)."""
    for table, name, schema, rows in ((documents, "documents", DOCUMENTS_SCHEMA, DOCUMENT_ROWS),
                                      (segments, "segments", SEGMENTS_SCHEMA, SEGMENT_ROWS)):
        out = RowGroupWriter(stage / f"{name}.parquet", schema, rows, "zstd")
        out.add(table)
        out.close()
    write_table(clusters, stage / "clusters.parquet")


def write_table(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", write_statistics=True)
