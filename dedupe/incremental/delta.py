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

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable, write_deltalake

RUN_ID = "run_id"
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


def merge(path: Path, rows: pa.Table, keys: Sequence[str], run_id: str) -> MergeCounts:
    """Make the table at `path` hold exactly `rows` (plus `run_id`), committing only the
    difference. `keys` identify a row."""
    stamped = rows.append_column(RUN_ID, pa.array([run_id] * rows.num_rows, pa.string()))
    if not exists(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_deltalake(str(path), stamped, mode="overwrite")
        return MergeCounts(inserted=rows.num_rows)
    current = read(path)
    changes, counts = diff(current.drop_columns([RUN_ID]), rows, keys)
    if not counts.changed:
        return counts
    source = _source(stamped, changes, keys)
    match = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in keys)
    data = stamped.column_names
    (DeltaTable(str(path))
     .merge(source, predicate=match, source_alias="s", target_alias="t")
     .when_matched_delete(predicate=f"s.{_q(_DELETE)}")
     .when_matched_update(updates={c: f"s.{_q(c)}" for c in data if c not in keys},
                          predicate=f"NOT s.{_q(_DELETE)}")
     .when_not_matched_insert(updates={c: f"s.{_q(c)}" for c in data}, predicate=f"NOT s.{_q(_DELETE)}")
     .execute())
    return counts


def _q(name: str) -> str:
    """A column name quoted for a merge expression ("end" and "text" are SQL words)."""
    return f'"{name}"'


def _source(stamped: pa.Table, changes: dict, keys: Sequence[str]) -> pa.Table:
    """The merge source: the new or changed rows, then the keys of the rows to delete."""
    upserts = stamped.filter(changes["changed"])
    # every column nullable: the delete rows carry only their keys
    upserts = upserts.cast(pa.schema([f.with_nullable(True) for f in upserts.schema]))
    upserts = upserts.append_column(_DELETE, pa.array([False] * upserts.num_rows, pa.bool_()))
    gone = changes["deleted_keys"]
    if gone.num_rows:
        columns = {}
        for field in stamped.schema:
            columns[field.name] = gone.column(field.name) if field.name in keys \
                else pa.nulls(gone.num_rows, field.type)
        deletes = pa.table(columns).append_column(_DELETE, pa.array([True] * gone.num_rows, pa.bool_()))
        upserts = pa.concat_tables([upserts, deletes.cast(upserts.schema)])
    return upserts


def diff(current: pa.Table, rows: pa.Table, keys: Sequence[str]) -> tuple[dict, MergeCounts]:
    """Compare `rows` with `current` by `keys`: a mask over `rows` of the new or changed ones, the
    keys of the `current` rows that `rows` no longer has, and the counts."""
    values = [c for c in rows.column_names if c not in keys]
    old = current.select(list(keys) + values).rename_columns(
        list(keys) + [f"__old_{c}" for c in values]).append_column(
        "__old_present", pa.array([True] * current.num_rows, pa.bool_()))
    new = rows.select(list(keys)).append_column("__row", pa.array(range(rows.num_rows), pa.int64()))
    matched = new.join(old, keys=list(keys), join_type="left outer")
    matched = matched.sort_by("__row")
    present = pc.fill_null(matched.column("__old_present"), False)
    same = present
    for c in values:
        a, b = rows.column(c), matched.column(f"__old_{c}")
        equal = pc.or_kleene(pc.equal(a, b), pc.and_(pc.is_null(a), pc.is_null(b)))
        same = pc.and_(same, pc.fill_null(equal, False))
    changed = pc.invert(same)
    gone_mask = pc.invert(pc.is_in(_key_strings(current, keys), value_set=_key_strings(rows, keys)))
    gone = current.select(list(keys)).filter(gone_mask)
    n_changed = pc.sum(changed).as_py() or 0
    n_inserted = rows.num_rows - (pc.sum(present).as_py() or 0)
    counts = MergeCounts(inserted=n_inserted, updated=n_changed - n_inserted, deleted=gone.num_rows)
    return {"changed": changed, "deleted_keys": gone}, counts


def _key_strings(table: pa.Table, keys: Sequence[str]) -> pa.Array:
    """One comparable value per row for a compound key."""
    if len(keys) == 1:
        return table.column(keys[0]).combine_chunks()
    parts = [pc.cast(table.column(k), pa.string()) for k in keys]
    return pc.binary_join_element_wise(*parts, "\x1f").combine_chunks()


def append(path: Path, rows: pa.Table) -> None:
    """Add rows to the table at `path` (made when missing): one commit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(str(path), rows, mode="append")
