"""One nightly run: new and changed inputs into the Delta tables of a table directory, which then
hold what one full `dedupe run` over every input seen so far would give.

    table_dir/
      documents/ segments/ clusters/   the three output tables (Delta), plus a `run_id` column
      runs/                            one row per completed run (Delta)
      _dedupe/archive/                 every document read so far, as read (Delta)
      _dedupe/inputs/                  every input read so far: size, mtime, SHA-256 (Delta)

A run, under the table directory's lock (`io.staging`):
1. rolls back what a run that did not finish committed (`recover`);
2. reads only the added and changed inputs (`inputs.scan`);
3. cleans the archive with the new documents, in the order one full run reads them, with the
   pipeline's own `clean`: so every decision (a line that just became boilerplate, a longer copy
   that became a cluster's representative) is the full run's;
4. merges the difference into each table (`delta.merge`): only new, changed and removed rows;
5. appends its `runs` row last, with every table's version: a run is complete when its row is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..config import Config
from ..corpus.cache import PreparedCache
from ..engines import Engine
from ..io.readers import check_input
from ..io.staging import check_output, staged
from ..io.stores import DOCUMENT_SCHEMA, RowGroupWriter
from ..model import Skip
from ..pipeline import clean
from ..report import Report
from . import delta
from .inputs import INPUTS_SCHEMA, scan, inputs_table

log = logging.getLogger("dedupe")

OUTPUTS = {"documents": ("doc_id",), "segments": ("doc_id", "segment"), "clusters": ("cluster_id",)}
STATE = "_dedupe"
INTERNAL = {"archive": ("doc_id",), "inputs": ("entry",)}
RUNS = "runs"
FAULT_ENV = "DEDUPE_FAULT_AFTER"
"""Test hook: the name of a commit after which the process kills itself (SIGKILL)."""

ARCHIVE_SCHEMA = pa.schema(list(DOCUMENT_SCHEMA) + [pa.field("entry", pa.string()),
                                                     pa.field("position", pa.int64())])


class TableError(Exception):
    """The table directory cannot be used (not ours, or damaged beyond rollback)."""


@dataclass(frozen=True)
class UpdateResult:
    """What a run did: its `runs` row and the report of its clean (None when nothing was new)."""

    run_id: str
    run: dict[str, Any]
    report: Report | None


def table_paths(table_dir: Path) -> dict[str, Path]:
    """Every table a run commits before its `runs` row, by name."""
    paths = {name: table_dir / name for name in OUTPUTS}
    paths.update({name: table_dir / STATE / name for name in INTERNAL})
    return paths


def update(input_dir: str | Path, table_dir: str | Path, config: Config | None = None, *,
           engine: Engine | None = None) -> UpdateResult:
    """Bring the tables in `table_dir` up to date with the inputs below `input_dir`."""
    config = config or Config()
    input_dir, table_dir = Path(input_dir), Path(table_dir)
    check_input(input_dir)
    check_output(table_dir)
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    with staged(table_dir) as stage:
        last = recover(table_dir)
        number = last["run_number"] + 1 if last else 1
        run_id = f"{number:06d}-{started.strftime('%Y%m%dT%H%M%SZ')}"
        paths = table_paths(table_dir)
        found = scan(input_dir, delta.read(paths["inputs"]), config, exclude=table_dir)
        seconds["scan"] = time.perf_counter() - clock
        _fault("scan")
        digest = _config_digest(config)
        report = None
        counts: dict[str, delta.MergeCounts] = {}
        skips = list(found.skips)
        if found.read or last is None or last["config_sha256"] != digest:
            t = time.perf_counter()
            archive = _archive(delta.read(paths["archive"]), found)
            documents, extra = _in_read_order(archive)
            skips += extra
            _stage_documents(stage, documents, skips, config)
            prepared = PreparedCache(table_dir / STATE / "prepared", config)
            since = time.time_ns() - 2_000_000_000  # file times come from a coarser clock
            report = clean(stage, config, engine=engine, prepared=prepared)
            prepared.keep_used(since)
            seconds["clean"] = time.perf_counter() - t
            t = time.perf_counter()
            counts["archive"] = _commit(paths["archive"], archive, INTERNAL["archive"], run_id)
            counts["inputs"] = _commit(paths["inputs"], inputs_table(found.inputs), INTERNAL["inputs"], run_id)
            for name, keys in OUTPUTS.items():
                counts[name] = _commit(paths[name], pq.read_table(stage / f"{name}.parquet"), keys, run_id)
            seconds["write"] = time.perf_counter() - t
        versions = {name: delta.version(path) for name, path in paths.items()}
        seconds["total"] = time.perf_counter() - clock
        row = _runs_row(number, run_id, started, input_dir, digest, found, skips, counts, versions,
                        seconds, report, len(found.inputs))
        delta.append(table_dir / RUNS, pa.Table.from_pylist([row], schema=RUNS_SCHEMA))
        log.info("run %s: %d inputs added, %d changed, %d unchanged, %d skipped; %s", run_id,
                 len(found.added), len(found.changed), len(found.unchanged), len(skips),
                 ", ".join(f"{n} +{c.inserted} ~{c.updated} -{c.deleted}" for n, c in counts.items()
                           if n in OUTPUTS) or "nothing to write")
        return UpdateResult(run_id, row, report)


def recover(table_dir: Path) -> dict[str, Any] | None:
    """Roll every table back to the versions of the last complete run (its `runs` row), undoing
    what a killed run committed; returns that row (None before the first complete run, when
    whatever a killed first run left is removed)."""
    runs = delta.read(table_dir / RUNS)
    last = max(runs.to_pylist(), key=lambda r: r["run_number"]) if runs is not None and runs.num_rows else None
    undone = []
    for name, path in table_paths(table_dir).items():
        if delta.restore(path, last[f"{name}_version"] if last else None):
            undone.append(name)
    if undone:
        log.warning("rolled back %s in %s to the last complete run (%s): a run did not finish",
                    ", ".join(undone), table_dir, last["run_id"] if last else "none")
    return last


def _archive(current: pa.Table | None, found) -> pa.Table:
    """Every document read so far: the archive without the inputs read again, plus what they hold
    now, in the order a full run reads them."""
    rows = [{"doc_id": d.doc_id, "source": d.source, "title": d.title, "text": d.text,
             "entry": entry, "position": position} for entry, position, d in found.documents]
    new = pa.Table.from_pylist(rows, schema=ARCHIVE_SCHEMA)
    if current is not None and current.num_rows:
        current = current.select(ARCHIVE_SCHEMA.names).cast(ARCHIVE_SCHEMA)
        reread = pa.array(found.read, pa.string())
        current = current.filter(pc.invert(pc.is_in(current.column("entry"), value_set=reread)))
        new = pa.concat_tables([current, new])
    return new.sort_by([("entry", "ascending"), ("position", "ascending")])


def _in_read_order(archive: pa.Table) -> tuple[pa.Table, list[Skip]]:
    """The archive's documents (sorted in read order) as the staged input's rows; a document id
    already used by an earlier document is skipped, as a full run skips it."""
    ids = archive.column("doc_id").combine_chunks()
    first = pc.index_in(ids, value_set=pc.unique(ids))  # position of each id among distinct ids
    order = np.asarray(first)
    seen = np.zeros(len(order), dtype=bool)
    _, first_row = np.unique(order, return_index=True)
    seen[first_row] = True
    skips = []
    if not seen.all():
        sources = archive.column("source").to_pylist()
        owner = {int(order[i]): sources[i] for i in first_row.tolist()}
        skips = [Skip(sources[i], f"duplicate document id {ids[i].as_py()!r} (first used by {owner[int(order[i])]})")
                 for i in np.flatnonzero(~seen).tolist()]
    return archive.filter(pa.array(seen)).select(DOCUMENT_SCHEMA.names).cast(DOCUMENT_SCHEMA), skips


def _stage_documents(stage: Path, documents: pa.Table, skips: list[Skip], config: Config) -> None:
    """The staged input of `clean`, written as `pipeline.ingest` writes it (the same row groups)."""
    writer = RowGroupWriter(stage / "input.parquet", DOCUMENT_SCHEMA, config.batch_docs)
    try:
        writer.add(documents)
    finally:
        writer.close()
    (stage / "skipped.json").write_text(
        json.dumps([{"source": s.source, "reason": s.reason} for s in skips], ensure_ascii=False))


def _commit(path: Path, rows: pa.Table, keys: tuple[str, ...], run_id: str) -> delta.MergeCounts:
    counts = delta.merge(path, rows, keys, run_id)
    _fault(path.name)
    return counts


def _fault(point: str) -> None:
    """Die here as a killed run would, when the tests ask for it (FAULT_ENV)."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _config_digest(config: Config) -> str:
    return hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()


_COUNTED = ("documents", "segments", "clusters")
RUNS_SCHEMA = pa.schema(
    [pa.field("run_number", pa.int64(), nullable=False), pa.field("run_id", pa.string(), nullable=False),
     pa.field("started_at", pa.timestamp("us", tz="UTC")), pa.field("finished_at", pa.timestamp("us", tz="UTC")),
     pa.field("input_dir", pa.string()), pa.field("config_sha256", pa.string()),
     pa.field("inputs_added", pa.int64()), pa.field("inputs_changed", pa.int64()),
     pa.field("inputs_unchanged", pa.int64()), pa.field("inputs_skipped", pa.int64()),
     pa.field("inputs_known", pa.int64()), pa.field("documents_total", pa.int64())]
    + [pa.field(f"{t}_{what}", pa.int64()) for t in _COUNTED for what in ("inserted", "updated", "deleted")]
    + [pa.field(f"{t}_version", pa.int64()) for t in (*OUTPUTS, *INTERNAL)]
    + [pa.field(f"seconds_{s}", pa.float64()) for s in ("scan", "clean", "write", "total")]
    + [pa.field("skipped", pa.string()), pa.field("report_json", pa.string()), pa.field("report_md", pa.string())])


def _runs_row(number: int, run_id: str, started: datetime, input_dir: Path, digest: str, found, skips: list[Skip],
              counts: dict[str, delta.MergeCounts], versions: dict[str, int | None], seconds: dict[str, float],
              report: Report | None, known: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_number": number, "run_id": run_id, "started_at": started,
        "finished_at": datetime.now(timezone.utc), "input_dir": str(input_dir), "config_sha256": digest,
        "inputs_added": len(found.added), "inputs_changed": len(found.changed),
        "inputs_unchanged": len(found.unchanged), "inputs_skipped": len({s.source.split(":")[0] for s in skips}),
        "inputs_known": known, "documents_total": report.documents if report is not None else None,
        "skipped": json.dumps([{"source": s.source, "reason": s.reason} for s in skips], ensure_ascii=False),
        "report_json": report.to_json() if report is not None else None,
        "report_md": report.to_markdown() if report is not None else None,
    }
    for t in _COUNTED:
        c = counts.get(t, delta.MergeCounts())
        row.update({f"{t}_inserted": c.inserted, f"{t}_updated": c.updated, f"{t}_deleted": c.deleted})
    row.update({f"{name}_version": v for name, v in versions.items()})
    row.update({f"seconds_{s}": round(seconds.get(s, 0.0), 3) for s in ("scan", "clean", "write", "total")})
    return row


__all__ = ["ARCHIVE_SCHEMA", "INPUTS_SCHEMA", "RUNS_SCHEMA", "TableError", "UpdateResult", "recover",
           "table_paths", "update"]
