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

import ctypes
import gc
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
from ..io.staging import OutputError, check_output, staged
from ..io.stores import DOCUMENT_SCHEMA, staged_writer
from ..model import Skip
from ..pipeline import clean, write_skips
from ..report import Report
from . import delta
from .inputs import ARCHIVE_SCHEMA, INPUTS_SCHEMA, Scan, inputs_table, scan

log = logging.getLogger("dedupe")

OUTPUTS = {"documents": ("doc_id",), "segments": ("doc_id", "segment"), "clusters": ("cluster_id",)}
STATE = "_dedupe"
INTERNAL = {"archive": ("entry", "position"), "inputs": ("entry",)}  # ids may repeat across inputs
RUNS = "runs"
FAULT_ENV = "DEDUPE_FAULT_AFTER"
"""Test hook: the name of a commit after which the process kills itself (SIGKILL)."""



class TableError(OutputError):
    """The table directory cannot be used (nothing to export, a missing table)."""


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
            report, counts, extra = _rebuild(stage, table_dir, found, config, engine, run_id, seconds)
            skips += extra
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


def _rebuild(stage: Path, table_dir: Path, found: Scan, config: Config, engine: Engine | None,
             run_id: str, seconds: dict[str, float]) -> tuple[Report, dict[str, delta.MergeCounts], list[Skip]]:
    """Stage the archive with the documents read this run, clean it, and merge the difference
    into every table; returns the report, the counts per table and the skips the staging found."""
    paths = table_paths(table_dir)
    counts: dict[str, delta.MergeCounts] = {}
    t = time.perf_counter()
    # The archive is staged and committed first and let go before the clean: at a million
    # paragraphs it is 300 MB of text that the clean does not need in memory.
    documents, change, skips = _archive(delta.read(paths["archive"]), found)
    _stage_documents(stage, documents, list(found.skips) + skips, config)
    del documents
    read_ids = change[0].column("doc_id")
    counts["archive"] = delta.apply(paths["archive"], change[0], change[1], INTERNAL["archive"], run_id, change[2])
    _fault("archive")
    del change
    found.documents.clear()
    _release()
    pq.write_table(inputs_table(found.inputs), stage / "inputs.parquet")
    counts["inputs"] = _merge(paths["inputs"], stage / "inputs.parquet", "inputs", run_id)[0]
    prepared = PreparedCache(table_dir / STATE / "prepared", config)
    since = time.time_ns() - 2_000_000_000  # file times come from a coarser clock
    report = clean(stage, config, engine=engine, prepared=prepared)
    prepared.keep_used(since)
    _release()
    seconds["clean"] = time.perf_counter() - t
    t = time.perf_counter()
    # Long texts follow from the other columns and the archive: they are not compared, except for
    # the documents read this run or whose segments changed.
    counts["segments"], changed = _merge(paths["segments"], stage / "segments.parquet", "segments", run_id,
                                         ignore=("text",), force=("doc_id", read_ids))
    force = pa.concat_arrays([delta.flat(read_ids), delta.flat(pc.unique(changed))])
    counts["documents"] = _merge(paths["documents"], stage / "documents.parquet", "documents", run_id,
                                 ignore=("text", "title", "source"), force=("doc_id", force))[0]
    counts["clusters"] = _merge(paths["clusters"], stage / "clusters.parquet", "clusters", run_id)[0]
    seconds["write"] = time.perf_counter() - t
    return report, counts, skips


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


def _archive(current: pa.Table | None, found) -> tuple[pa.Table, tuple, list[Skip]]:
    """The staged input: every document read so far (the archive without the inputs read again,
    plus what they hold now) in the order a full run reads them, a document id already used by
    an earlier document skipped as a full run skips it. Also the archive's change, as
    `delta.apply` takes it (the documents read this run, the places of re-read inputs' documents
    that are gone, the counts), and the skip records. One copy of the texts is made."""
    new = pa.Table.from_batches(found.documents, schema=ARCHIVE_SCHEMA)
    gone = pa.table({"entry": pa.array([], pa.string()), "position": pa.array([], pa.int64())})
    counts = delta.MergeCounts(inserted=new.num_rows)
    if current is not None and current.num_rows:
        current = current.select(ARCHIVE_SCHEMA.names).cast(ARCHIVE_SCHEMA)
        reread = pc.is_in(current.column("entry"), value_set=pa.array(found.read, pa.string()))
        replaced = pc.and_(reread, pc.is_in(_place(current), value_set=_place(new)))
        gone = current.filter(pc.and_(reread, pc.invert(replaced))).select(["entry", "position"])
        n_replaced = pc.sum(replaced).as_py() or 0
        counts = delta.MergeCounts(inserted=new.num_rows - n_replaced, updated=n_replaced, deleted=gone.num_rows)
        both = pa.concat_tables([current, new])  # chunks side by side: no copy
        keep = np.concatenate([~np.asarray(reread), np.ones(new.num_rows, dtype=bool)])
    else:
        both, keep = new, np.ones(new.num_rows, dtype=bool)
    rows = np.flatnonzero(keep)
    order = rows[np.asarray(pc.sort_indices(both.select(["entry", "position"]).take(rows),
                                            sort_keys=[("entry", "ascending"), ("position", "ascending")]))]
    ids = both.column("doc_id").take(order)
    first = first_of_each(ids)
    unique = np.zeros(len(order), dtype=bool)
    unique[first] = True
    skips = []
    if not unique.all():
        sources = both.column("source").take(order).to_pylist()
        owner = dict(zip(ids.take(first).to_pylist(), (sources[i] for i in first.tolist())))
        skips = [Skip(sources[i], f"duplicate document id {ids[i].as_py()!r} (first used by {owner[ids[i].as_py()]})")
                 for i in np.flatnonzero(~unique).tolist()]
    documents = both.select(DOCUMENT_SCHEMA.names).take(order[unique]).cast(DOCUMENT_SCHEMA)
    return documents, (new.select(ARCHIVE_SCHEMA.names), gone, counts), skips


def first_of_each(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The sorted positions of the first occurrence of each distinct id: the documents a full run
    keeps when several inputs use one id."""
    _, first = np.unique(np.asarray(pc.index_in(ids, value_set=pc.unique(ids))), return_index=True)
    return np.sort(first)


def _place(table: pa.Table) -> pa.Array:
    """(entry, position) as one comparable value per row."""
    return delta.flat(pc.binary_join_element_wise(table.column("entry"), pc.cast(table.column("position"), pa.string()),
                                                  "\x1f"))


def _stage_documents(stage: Path, documents: pa.Table, skips: list[Skip], config: Config) -> None:
    """The staged input of `clean`, written as `pipeline.ingest` writes it (the same row groups)."""
    writer = staged_writer(stage / "input.parquet", config.batch_docs)
    try:
        writer.add(documents)
    finally:
        writer.close()
    write_skips(stage, skips)


def _merge(path: Path, source: Path, name: str, run_id: str, **options) -> tuple[delta.MergeCounts, pa.Array]:
    keys = OUTPUTS.get(name) or INTERNAL[name]
    done = delta.merge(path, source, keys, run_id, **options)
    _fault(name)
    _release()
    return done


def _release() -> None:
    """Give freed Arrow memory back to the system between stages: the allocator keeps it
    otherwise, and the next stage's peak would add to this one's."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)  # glibc keeps freed numpy buffers otherwise


try:
    _LIBC = ctypes.CDLL("libc.so.6")
    _LIBC.malloc_trim  # noqa: B018 - glibc only
except (OSError, AttributeError):
    _LIBC = None


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
