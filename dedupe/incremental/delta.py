"""The Delta Lake tables of a table directory, and row-level merges into them.

Each table is a Delta table (delta-rs, `deltalake`) in a folder of the table directory. A write
is a diff: the rows a run computes are compared with the table's rows by key, and only the rows
that are new, changed or gone are committed, in one `MERGE` per table; unchanged rows keep the
`run_id` of the run that last wrote them. A table with nothing to change gets no commit.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable, WriterProperties, write_deltalake

RUN_ID = "run_id"
MERGE_MEMORY = 64 << 20
"""Bytes a MERGE may hold before it spills to disk: a day's rows touch files all over a large
table, and rewriting them in memory would add a gigabyte to the run's peak at a million rows."""
FILE_SIZE = 16 << 20
"""Target size of a table's data files: a MERGE rewrites the files its rows touch, one at a time."""
_WRITER = WriterProperties(max_row_group_size=65_536, compression="ZSTD")
_DELETE = "__delete"


@dataclass(frozen=True)
class MergeCounts:
    """Rows a merge inserted, updated and deleted."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)


def exists(path: Path) -> bool:
    return (path / "_delta_log").is_dir()


def version(path: Path) -> int | None:
    """The table's current version, None when there is no table."""
    return DeltaTable(str(path)).version() if exists(path) else None


def read(path: Path, columns: Sequence[str] | None = None, at: int | None = None) -> pa.Table | None:
    """The table's rows (at version `at`), None when there is no table."""
    if not exists(path):
        return None
    table = DeltaTable(str(path), version=at)
    return table.to_pyarrow_dataset().to_table(columns=list(columns) if columns else None)


def restore(path: Path, to: int | None) -> bool:
    """Bring the table back to version `to` (None: remove it, it did not exist then). True when
    anything was undone."""
    current = version(path)
    if current is None:
        return False
    if to is None:
        shutil.rmtree(path)
        return True
    if current > to:
        DeltaTable(str(path)).restore(to)
        return True
    return False


def merge(path: Path, source: Path, keys: Sequence[str], run_id: str, *, ignore: Sequence[str] = (),
          force: tuple[str, pa.Array] | None = None) -> tuple[MergeCounts, pa.Array]:
    """Make the table at `path` hold exactly the rows of the Parquet file `source` (plus
    `run_id`), committing only the difference; `keys` identify a row.

    Rows are compared without the `ignore` columns (long texts that follow from the others),
    except the rows whose `force` column (name, values) holds one of the values: their ignored
    columns are compared too, read for those rows only. Only the changed rows are then read
    whole. Returns the counts and the keys[0] values of the changed rows."""
    schema = pq.read_schema(source)
    compared = [n for n in schema.names if n not in ignore]
    rows = pq.read_table(source, columns=compared)
    if not exists(path):
        counts = MergeCounts(inserted=rows.num_rows)
        return apply(path, pq.read_table(source), rows.select(list(keys)).slice(0, 0), keys, run_id, counts), \
            rows.column(keys[0])
    current = read(path, columns=compared)
    changed, present, gone = diff(current, rows, keys)
    del current
    if force is not None and ignore:
        changed = _check_ignored(path, source, rows, keys, ignore, changed, present,
                                 pc.is_in(rows.column(force[0]), value_set=flat(force[1])))
    n_changed, n_present = pc.sum(changed).as_py() or 0, pc.sum(pc.and_(changed, present)).as_py() or 0
    counts = MergeCounts(inserted=n_changed - n_present, updated=n_present, deleted=gone.num_rows)
    changed_keys = rows.column(keys[0]).filter(changed)
    del rows
    return apply(path, _rows_where(source, changed), gone, keys, run_id, counts), changed_keys


def _check_ignored(path: Path, source: Path, rows: pa.Table, keys: Sequence[str], ignore: Sequence[str],
                   changed: pa.Array, present: pa.Array, forced: pa.Array) -> pa.Array:
    """`changed`, plus the `forced` rows whose `ignore` columns differ from the table's: those
    columns are read for these rows only."""
    check = np.asarray(flat(pc.and_(pc.and_(forced, present), pc.invert(changed))))
    if not check.any():
        return changed
    new = _rows_where(source, pa.array(check)).select(list(keys) + list(ignore))
    wanted = pc.field(keys[0]).isin(flat(new.column(keys[0])))
    batches = DeltaTable(str(path)).to_pyarrow_dataset().to_batches(columns=list(keys) + list(ignore), filter=wanted)
    old = pa.Table.from_batches(batches, schema=new.schema)  # filtered batch by batch: the texts of these rows only
    differs, _, _ = diff(old, new, keys)
    out = np.asarray(flat(changed)).copy()
    out[np.flatnonzero(check)[np.asarray(flat(differs))]] = True
    return pa.array(out)


def flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _rows_where(source: Path, mask: pa.ChunkedArray) -> pa.Table:
    """The rows of a Parquet file where `mask` holds, read a row group at a time."""
    mask = flat(mask)
    file = pq.ParquetFile(source)
    parts, at = [], 0
    for group in range(file.num_row_groups):
        n = file.metadata.row_group(group).num_rows
        part = mask.slice(at, n)
        if pc.any(part).as_py():
            parts.append(file.read_row_group(group).filter(part))
        at += n
    return pa.concat_tables(parts) if parts else file.schema_arrow.empty_table()


def apply(path: Path, upserts: pa.Table, deleted_keys: pa.Table, keys: Sequence[str], run_id: str,
          counts: MergeCounts) -> MergeCounts:
    """Commit `upserts` (rows to insert or replace, matched by `keys`) and the deletion of the
    rows with `deleted_keys`, stamped with `run_id`, in one commit (none when there is nothing)."""
    stamped = upserts.append_column(RUN_ID, pa.array([run_id] * upserts.num_rows, pa.string()))
    if not exists(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_deltalake(str(path), stamped, mode="overwrite", target_file_size=FILE_SIZE, writer_properties=_WRITER)
        return counts
    if not upserts.num_rows and not deleted_keys.num_rows:
        return counts
    if not deleted_keys.num_rows and counts.updated == 0:  # only new rows: an append, no MERGE
        write_deltalake(str(path), stamped, mode="append", target_file_size=FILE_SIZE, writer_properties=_WRITER)
        return counts
    source = _source(stamped, deleted_keys, keys)
    match = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in keys)
    data = stamped.column_names
    (DeltaTable(str(path))
     .merge(source, predicate=match, source_alias="s", target_alias="t", max_spill_size=MERGE_MEMORY,
            writer_properties=_WRITER)
     .when_matched_delete(predicate=f"s.{_q(_DELETE)}")
     .when_matched_update(updates={c: f"s.{_q(c)}" for c in data if c not in keys},
                          predicate=f"NOT s.{_q(_DELETE)}")
     .when_not_matched_insert(updates={c: f"s.{_q(c)}" for c in data}, predicate=f"NOT s.{_q(_DELETE)}")
     .execute())
    return counts


def _q(name: str) -> str:
    """A column name quoted for a merge expression ("end" and "text" are SQL words)."""
    return f'"{name}"'


def _source(stamped: pa.Table, gone: pa.Table, keys: Sequence[str]) -> pa.Table:
    """The merge source: the rows to insert or replace, then the keys of the rows to delete."""
    # every column nullable: the delete rows carry only their keys
    upserts = stamped.cast(pa.schema([f.with_nullable(True) for f in stamped.schema]))
    upserts = upserts.append_column(_DELETE, pa.array([False] * upserts.num_rows, pa.bool_()))
    if gone.num_rows:
        columns = {field.name: gone.column(field.name) if field.name in keys else pa.nulls(gone.num_rows, field.type)
                   for field in stamped.schema}
        deletes = pa.table(columns).append_column(_DELETE, pa.array([True] * gone.num_rows, pa.bool_()))
        upserts = pa.concat_tables([upserts, deletes.cast(upserts.schema)])
    return upserts


def diff(current: pa.Table, rows: pa.Table, keys: Sequence[str]) -> tuple[pa.Array, pa.Array, pa.Table]:
    """Compare `rows` with `current` by `keys`, over the columns of `rows`: masks over `rows` of
    the changed (new or different) and the present ones, and the keys of the `current` rows
    that `rows` no longer has. Old values are aligned one column at a time."""
    old = current.select(list(keys)).append_column("__old", pa.array(np.arange(current.num_rows)))
    new = rows.select(list(keys)).append_column("__row", pa.array(np.arange(rows.num_rows)))
    where = new.join(old, keys=list(keys), join_type="left outer").sort_by("__row").column("__old")
    present = pc.is_valid(where)
    aligned = pc.fill_null(where, 0)
    same = present
    for c in rows.column_names:
        if c in keys:
            continue
        a, b = rows.column(c), current.column(c).take(aligned)
        equal = pc.or_kleene(pc.equal(a, b), pc.and_(pc.is_null(a), pc.is_null(b)))
        same = pc.and_(same, pc.fill_null(equal, False))
    seen = np.zeros(current.num_rows, dtype=bool)
    seen[where.drop_null().to_numpy()] = True
    gone = current.select(list(keys)).filter(pa.array(~seen))
    return pc.invert(same), present, gone


def append(path: Path, rows: pa.Table) -> None:
    """Add rows to the table at `path` (made when missing): one commit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), rows, mode="append")
