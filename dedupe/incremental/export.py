"""The tables of a table directory as the three Parquet files of a one-shot run, at the last
completed run or any earlier one (Delta time travel to the versions its `runs` row records).

Rows are ordered as a one-shot run orders them (documents in read order, segments by document
and position, clusters by id) and written by the same writers, so a table directory that saw
every input exports byte-identical files to `dedupe run` over the same inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from ..io.staging import check_output, publish, staged
from ..io.tables import (CLUSTERS_SCHEMA, DOCUMENTS_SCHEMA, OUTPUT_FILES, SEGMENTS_SCHEMA, write_snapshot)
from . import delta
from .nightly import RUNS, TableError, first_of_each, table_paths


def export(table_dir: str | Path, output_dir: str | Path, run: int | None = None) -> str:
    """Write documents/segments/clusters Parquet files and the run's report to `output_dir`
    (atomically, like `dedupe run`); `run` is a `run_number` (default: the last). Returns the
    published version."""
    table_dir, output_dir = Path(table_dir), Path(output_dir)
    check_output(output_dir)
    runs = delta.read(table_dir / RUNS)
    if runs is None or not runs.num_rows:
        raise TableError(f"{table_dir}: no completed run to export (run `dedupe update` first)")
    rows = {r["run_number"]: r for r in runs.to_pylist()}
    number = max(rows) if run is None else run
    if number not in rows:
        raise TableError(f"{table_dir}: no run number {number} (runs 1..{max(rows)})")
    row = rows[number]
    paths = table_paths(table_dir)

    def at(name: str) -> pa.Table:
        table = delta.read(paths[name], at=row[f"{name}_version"])
        if table is None:
            raise TableError(f"{paths[name]}: missing table (the directory is damaged)")
        return table

    order = _read_order(at("archive").select(["doc_id", "entry", "position"]))
    documents = at("documents").join(order, "doc_id").sort_by("__order")
    index = pa.table({"doc_id": documents.column("doc_id"),
                      "__doc": pa.array(range(documents.num_rows), pa.int64())})
    segments = at("segments").join(index, "doc_id").sort_by([("__doc", "ascending"), ("segment", "ascending")])
    clusters = at("clusters").sort_by("cluster_id")
    with staged(output_dir) as stage:
        write_snapshot(stage, documents.select(DOCUMENTS_SCHEMA.names).cast(DOCUMENTS_SCHEMA),
                       segments.select(SEGMENTS_SCHEMA.names).cast(SEGMENTS_SCHEMA),
                       clusters.select(CLUSTERS_SCHEMA.names).cast(CLUSTERS_SCHEMA))
        (stage / "report.json").write_text(row["report_json"] or "{}", encoding="utf-8")
        (stage / "report.md").write_text(row["report_md"] or "", encoding="utf-8")
        return publish(stage, output_dir, OUTPUT_FILES + ("report.json", "report.md"))


def _read_order(archive: pa.Table) -> pa.Table:
    """(doc_id, __order): each document id's place in read order; an id that several inputs
    use belongs to the first (the later ones were skipped, as a full run skips them)."""
    archive = archive.sort_by([("entry", "ascending"), ("position", "ascending")])
    ids = archive.column("doc_id")
    first = first_of_each(ids)
    return pa.table({"doc_id": ids.take(first), "__order": pa.array(np.arange(len(first)))})
