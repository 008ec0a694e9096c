"""Which inputs a nightly run must read: the input listing against the inputs already in the
table.

An input is known by its path below the input root (`entry`), its size, modification time and
SHA-256. Size and modification time unchanged: the input is not opened. Either changed: it is
read and hashed; the same hash means unchanged (it was only touched), another hash means its
earlier rows are replaced. An input that has gone from the listing keeps its rows: a feed
directory is often cleaned after it was loaded, and the tables are the history.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ..config import Config
from ..io.readers import InputError, discover, expected_formats, read_entry
from ..io.stores import DOCUMENT_SCHEMA
from ..model import Document, Skip

ARCHIVE_SCHEMA = pa.schema(list(DOCUMENT_SCHEMA) + [pa.field("entry", pa.string()), pa.field("position", pa.int64())])
"""A document as read, and where: its input and its place in it (read order is (entry, position))."""
_BATCH = 1024

INPUTS_SCHEMA = pa.schema([
    pa.field("entry", pa.string(), nullable=False),
    pa.field("size", pa.int64(), nullable=False),
    pa.field("mtime_ns", pa.int64(), nullable=False),
    pa.field("sha256", pa.string(), nullable=False),
    pa.field("documents", pa.int64(), nullable=False),
    pa.field("skipped", pa.string()),
])


@dataclass
class Scan:
    """The outcome of comparing the input listing with the known inputs."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    documents: list[pa.RecordBatch] = field(default_factory=list)
    """The documents read from added or changed inputs (ARCHIVE_SCHEMA), a batch at a time."""
    skips: list[Skip] = field(default_factory=list)
    """Skip records of the inputs read this run (a bad file, a bad line)."""
    inputs: dict[str, dict] = field(default_factory=dict)
    """The inputs table after this run: entry -> row."""

    @property
    def read(self) -> list[str]:
        return self.added + self.changed


def scan(root: Path, known: pa.Table | None, config: Config, exclude: Path | None = None) -> Scan:
    """Compare the files below `root` with `known` (the inputs table) and read the new and
    changed ones."""
    entries = discover(root, exclude)
    if not any(e.reason is None for e in entries):
        raise InputError(f"no input files in {root} (expected {expected_formats()} files)")
    before = {r["entry"]: r for r in known.to_pylist()} if known is not None else {}
    out = Scan(inputs=dict(before))
    pending: list[tuple] = []
    for entry in entries:
        if entry.reason is not None:
            out.skips.append(Skip(entry.rel, entry.reason))
            continue
        try:
            stat = entry.path.stat()
        except OSError as err:
            out.skips.append(Skip(entry.rel, f"cannot read: {err.strerror}"))
            continue
        old = before.get(entry.rel)
        if old is not None and old["size"] == stat.st_size and old["mtime_ns"] == stat.st_mtime_ns:
            out.unchanged.append(entry.rel)
            continue
        digest = _sha256(entry.path)
        if digest is None:
            out.skips.append(Skip(entry.rel, "cannot read the file"))
            continue
        row = {"entry": entry.rel, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest,
               "documents": 0, "skipped": None}
        if old is not None and old["sha256"] == digest:
            out.unchanged.append(entry.rel)
            out.inputs[entry.rel] = {**row, "documents": old["documents"], "skipped": old["skipped"]}
            continue
        (out.changed if old is not None else out.added).append(entry.rel)
        reasons = []
        for position, item in enumerate(read_entry(entry, config)):
            if isinstance(item, Document):
                pending.append((item.doc_id, item.source, item.title, item.text, entry.rel, position))
                row["documents"] += 1
                if len(pending) == _BATCH:
                    out.documents.append(_batch(pending))
                    pending = []
            else:
                out.skips.append(item)
                reasons.append(item.reason if item.source == entry.rel else f"{item.source}: {item.reason}")
        row["skipped"] = "; ".join(reasons) or None
        out.inputs[entry.rel] = row
    if pending:
        out.documents.append(_batch(pending))
    return out


def _batch(rows: list[tuple]) -> pa.RecordBatch:
    """Documents as Arrow, so the Python strings of a large first run do not pile up."""
    return pa.RecordBatch.from_arrays([pa.array(list(column), f.type) for column, f in zip(zip(*rows), ARCHIVE_SCHEMA)],
                                      schema=ARCHIVE_SCHEMA)


def inputs_table(rows: dict[str, dict]) -> pa.Table:
    ordered = [rows[k] for k in sorted(rows)]
    return pa.Table.from_pylist(ordered, schema=INPUTS_SCHEMA)


def _sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()

