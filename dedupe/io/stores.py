"""On-disk stores in the staging directory, so memory does not grow with the text.

- `RowGroupWriter`: a Parquet file written in fixed-size row groups in a background thread
  (the staged articles and the output tables).
- `DocumentStore`: the staged articles (Parquet, fixed-size row groups): streamed in order for
  the passes over the corpus, or read by index.
- `TextStore`: the distinct match keys in uid order (Arrow IPC, read back by record batch).
- `SignatureFile`: MinHash signature rows appended to a raw uint32 file, read back by row
  (`SignatureMatrix`: mapped, with the pages dropped after each read).
"""

from __future__ import annotations

import mmap
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from ..model import Document
from .utf8 import take_strings, utf8_of

DOCUMENT_SCHEMA = pa.schema([("doc_id", pa.string()), ("source", pa.string()),
                             ("title", pa.string()), ("text", pa.string())])


class RowGroupWriter:
    """A Parquet writer that cuts row groups every `rows` rows, whatever the caller's batches,
    so the file's bytes do not depend on how the pipeline was batched. With `weigh` (a weight
    per row of a table) a row group also ends at the row where its weight reaches
    `max_weight`.

    Row groups are compressed and written in a background thread (one at a time, in order)
    while the caller builds the next rows: pyarrow releases the GIL for that work."""

    def __init__(self, path: Path, schema: pa.Schema, rows: int, compression: str = "snappy",
                 weigh: Callable[[pa.Table], np.ndarray] | None = None, max_weight: int = 0,
                 **options) -> None:
        self._writer = pq.ParquetWriter(path, schema, compression=compression, **options)
        self._schema = schema
        self._rows = rows
        self._weigh, self._max_weight = weigh, max_weight
        self._weights = np.empty(0, dtype=np.int64)  # of the pending rows, with `weigh`
        self._tables: list[pa.Table] = []
        self._count = 0
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="dedupe-write")
        self._pending: list[Future] = []

    def add(self, table: pa.Table, weights: np.ndarray | None = None, wait: bool = True) -> None:
        """Append rows; `weights`, when the caller has them, are what `weigh` would give. With
        `wait` False, once the row groups queued before are written, the complete row groups of
        these rows all queue at once (rows in memory anyway, a whole file read at once: the
        caller reads on meanwhile, and at most one such table waits to be written)."""
        self._tables.append(table)
        self._count += table.num_rows
        if self._weigh is not None:
            self._weights = np.concatenate([self._weights, self._weigh(table) if weights is None else weights])
        if not wait:
            self._wait()
        while (n := self._complete()) is not None:
            self._flush(n, wait=wait)

    def _complete(self) -> int | None:
        """The rows of the next row group once it is complete, else None."""
        if self._weigh is not None:
            heavy = np.flatnonzero(np.cumsum(self._weights[:self._rows]) >= self._max_weight)
            if len(heavy):
                return int(heavy[0]) + 1
        return self._rows if self._count >= self._rows else None

    def _flush(self, n: int, wait: bool = True) -> None:
        rows = pa.concat_tables(self._tables)
        head, rest = rows.slice(0, n), rows.slice(n)
        self._tables, self._count = ([rest] if rest.num_rows else []), rest.num_rows
        self._weights = self._weights[n:]
        if wait:
            self._wait()  # at most one row group in flight: memory stays bounded
        self._pending.append(self._thread.submit(self._write, head))  # one thread: in order

    def _write(self, rows: pa.Table) -> None:
        # One chunk per column: how the caller's batches were cut must not show in the pages.
        # (Joining them copies every text once: here, beside the caller, not in its way.)
        self._writer.write_table(rows.combine_chunks())

    def _wait(self) -> None:
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()  # re-raises a failed write here

    def finish(self) -> None:
        """Hand the last rows to the writer thread without waiting for them (`close` waits):
        several writers then compress their last row groups at the same time. (They are in
        memory already, so queueing them behind a row group still being written costs none.)"""
        if self._count:
            self._flush(self._count, wait=False)

    def close(self) -> None:
        try:
            self.finish()
            self._wait()
        finally:
            self._thread.shutdown()
            self._writer.close()


STAGED = {"compression": "none", "use_dictionary": False, "write_statistics": False}
"""How the staged documents are written: they are read whole three times (prepare, decide,
write) and deleted after the run, so plain pages, uncompressed (dictionaries and statistics of
article texts buy nothing). Against LZ4, measured on 19 MB of articles: written in 0.015 s
instead of 0.058 s, read in 0.005 s instead of 0.028 s, for 1.5x the (temporary) disk."""

BATCH_WEIGHT = 16 << 20
"""A staged row group (a batch of the passes) ends early when its texts weigh this much:
characters, plus LINE_WEIGHT per line break. 1,024 news articles weigh about 5M, so only feeds
of very long or many-lined articles are cut; a batch's memory in the prepare pass stays bounded
(one batch of 200 articles of 2,000 lines needed 1.4 GB). The outputs do not depend on where
batches are cut."""
LINE_WEIGHT = 64


def text_weights(table: pa.Table) -> np.ndarray:
    """The weight of each staged document (`BATCH_WEIGHT`) of a table: `weights_of` its texts,
    counted in their UTF-8 bytes (a character is a byte that is not a continuation byte,
    10xxxxxx), with no Python string made."""
    data, offsets = utf8_of(table.column("text"))
    breaks = np.flatnonzero(data == 10)
    continuation = np.flatnonzero((data & 0xC0) == 0x80)

    def per_text(positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(positions, offsets[1:]) - np.searchsorted(positions, offsets[:-1])

    return np.diff(offsets) - per_text(continuation) + LINE_WEIGHT * per_text(breaks)


def weights_of(texts: Sequence[str]) -> np.ndarray:
    """The weight of each text: characters, plus LINE_WEIGHT per line break (the texts'
    Python strings where they exist; `text_weights` for an Arrow table)."""
    return np.fromiter((len(t) + LINE_WEIGHT * t.count("\n") for t in texts), dtype=np.int64, count=len(texts))


def staged_writer(path: Path, batch_docs: int) -> RowGroupWriter:
    """A writer of staged documents: one row group per `batch_docs` documents, or fewer that
    weigh BATCH_WEIGHT."""
    return RowGroupWriter(path, DOCUMENT_SCHEMA, batch_docs, weigh=text_weights, max_weight=BATCH_WEIGHT,
                          **STAGED)


class DocumentWriter:
    """Appends documents to the staged Parquet file, one row group per `batch_docs` documents
    (fewer when they weigh BATCH_WEIGHT): the unit of work of the later passes."""

    def __init__(self, path: Path, batch_docs: int) -> None:
        self._writer = staged_writer(path, batch_docs)
        self._buffer: list[Document] = []
        self._chars = 0
        self._batch = batch_docs
        self.count = 0

    def add(self, doc: Document) -> None:
        self._buffer.append(doc)
        self._chars += len(doc.text)
        self.count += 1
        # (the characters only bound this buffer of long articles; the writer cuts the row groups)
        if len(self._buffer) == self._batch or self._chars >= BATCH_WEIGHT:
            self._flush()

    def add_table(self, table: pa.Table) -> None:
        """Append documents already in DOCUMENT_SCHEMA (after the ones added before)."""
        self._flush()
        self._writer.add(table, wait=False)  # in memory already: its row groups all queue
        self.count += table.num_rows

    def _flush(self) -> None:
        if self._buffer:
            cols = {name: [getattr(d, name) for d in self._buffer] for name in DOCUMENT_SCHEMA.names}
            self._writer.add(pa.Table.from_pydict(cols, schema=DOCUMENT_SCHEMA), weights_of(cols["text"]))
            self._buffer, self._chars = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()


class DocumentStore:
    """Read access to the staged documents."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = pq.ParquetFile(path)
        self.count = self._file.metadata.num_rows
        self.row_groups = self._file.num_row_groups  # the batches of the passes over the corpus
        sizes = [self._file.metadata.row_group(g).num_rows for g in range(self.row_groups)]
        self._group_starts = np.cumsum([0] + sizes)

    def iter_batches(self, columns: Sequence[str] = ("text",)) -> Iterator[tuple[int, dict]]:
        """Yield (first document index, column dict) per row group, in document order."""
        for first, table in self.iter_tables(columns):
            yield first, table.to_pydict()

    def iter_tables(self, columns: Sequence[str] = ("text",)) -> Iterator[tuple[int, pa.Table]]:
        """Yield (first document index, Arrow table) per row group, in document order."""
        first = 0
        for g in range(self.row_groups):
            table = self._file.read_row_group(g, columns=list(columns))
            yield first, table
            first += table.num_rows

    def texts(self, indices: Sequence[int]) -> dict[int, str]:
        """Texts of the given document indices (reads only the row groups that hold them)."""
        out: dict[int, str] = {}
        by_group: dict[int, list[int]] = {}
        for i in sorted(set(int(i) for i in indices)):
            by_group.setdefault(int(np.searchsorted(self._group_starts, i, side="right")) - 1, []).append(i)
        for g, members in by_group.items():
            column = self._file.read_row_group(g, columns=["text"]).column("text")
            for i in members:
                out[i] = column[i - int(self._group_starts[g])].as_py()
        return out


class TextStore:
    """Distinct match keys, appended in uid order, looked up by uid after `close`.

    Lookups read the record batches that hold the asked uids from the file into memory and
    let them go, rather than memory-mapping the file: mapped pages would count in the
    process's resident memory for the rest of the run.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sink = pa.OSFile(str(path), "wb")
        self._writer = ipc.new_file(self._sink, pa.schema([("key", pa.string())]))  # a batch's keys: < 2 GB
        self._batch_starts: list[int] = [0]
        self.count = 0

    def append(self, keys: list[str]) -> None:
        self._write(pa.array(keys, pa.string()))

    def append_encoded(self, data: np.ndarray, offsets: np.ndarray, rows: Sequence[int]) -> None:
        """Append texts `rows` of UTF-8 texts given as one buffer (text i is
        data[offsets[i]:offsets[i+1]]; offsets int64 from 0): no Python strings are made."""
        if len(rows):
            texts = pa.StringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets.astype(np.int32)),
                                                pa.py_buffer(data))
            self._write(texts if len(rows) == len(texts) else take_strings(texts, rows))

    def _write(self, keys: pa.Array) -> None:
        if len(keys):
            self._writer.write_batch(pa.record_batch([keys], names=["key"]))
            self.count += len(keys)
            self._batch_starts.append(self.count)

    def close(self) -> None:
        self._writer.close()
        self._sink.close()

    def get(self, uids: Sequence[int]) -> list[str]:
        """Keys of the given uids, in the order asked."""
        return _read_keys(self.path, self._batch_starts, uids)

    def __getitem__(self, uid: int) -> str:
        return self.get([uid])[0]

    def __reduce__(self):
        # After `close`, a store travels to other processes as a read-only view of its file.
        return KeyReader, (self.path, list(self._batch_starts))


class KeyReader:
    """Read-only lookups in a closed `TextStore`'s file (what a pickled store becomes)."""

    def __init__(self, path: Path, batch_starts: list[int]) -> None:
        self.path, self._batch_starts = Path(path), batch_starts
        self.count = batch_starts[-1]

    def get(self, uids: Sequence[int]) -> list[str]:
        return _read_keys(self.path, self._batch_starts, uids)


def _read_keys(path: Path, batch_starts: list[int], uids: Sequence[int]) -> list[str]:
    uids = np.asarray(uids, dtype=np.int64)
    out: list[str | None] = [None] * len(uids)
    if not len(uids):
        return []
    starts = np.asarray(batch_starts, dtype=np.int64)
    batch_of = np.searchsorted(starts, uids, side="right") - 1
    order = np.argsort(batch_of, kind="stable")
    with pa.OSFile(str(path), "rb") as source:
        reader = ipc.open_file(source)
        bounds = np.flatnonzero(np.r_[True, batch_of[order][1:] != batch_of[order][:-1], True])
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            b = int(batch_of[order[lo]])
            column = reader.get_batch(b).column(0)
            picked = order[lo:hi]
            values = take_strings(column, uids[picked] - starts[b]).to_pylist()
            for i, v in zip(picked.tolist(), values):
                out[i] = v
    return out  # type: ignore[return-value]


class SignatureFile:
    """MinHash rows (uint32) appended to a file; `array()` reads them back as a
    `SignatureMatrix`."""

    def __init__(self, path: Path, num_perm: int) -> None:
        self.path = path
        self.num_perm = num_perm
        self._fh = open(path, "wb")
        self.count = 0

    def append(self, rows: np.ndarray) -> None:
        if len(rows):
            np.ascontiguousarray(rows, dtype=np.uint32).tofile(self._fh)
            self.count += len(rows)

    def close(self) -> None:
        self._fh.close()

    def array(self) -> "SignatureMatrix | np.ndarray":
        if self.count == 0:
            return np.empty((0, self.num_perm), dtype=np.uint32)
        return SignatureMatrix(self.path, self.count, self.num_perm)


class SignatureMatrix:
    """Read-only (rows, num_perm) uint32 signatures in a file, indexed like an array.

    Each indexing returns a copy. In a file of more than RESIDENT_MAX bytes it then drops the
    mapped pages from this process (`madvise(MADV_DONTNEED)`; they stay in the page cache), so
    reading every row of a million-row file in chunks does not leave 512 MB resident. A smaller
    file stays mapped: dropping and faulting its pages again on each of the hundreds of lookups
    of a run's matching cost more than the lookups (0.15 s at 60k paragraphs).
    """

    RESIDENT_MAX = 64 << 20

    def __init__(self, path: Path, rows: int, num_perm: int) -> None:
        self.path, self._rows = Path(path), rows
        with open(path, "rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self._array = np.frombuffer(self._map, dtype=np.uint32).reshape(rows, num_perm)
        self.shape = self._array.shape
        self.dtype = self._array.dtype
        self._drop = hasattr(mmap, "MADV_DONTNEED") and self._array.nbytes > self.RESIDENT_MAX

    def __len__(self) -> int:
        return self.shape[0]

    def __reduce__(self):
        return SignatureMatrix, (self.path, self._rows, self.shape[1])  # re-mapped where it lands

    def __getitem__(self, index) -> np.ndarray:
        out = self._array[index]
        if np.may_share_memory(out, self._array):  # a view (basic indexing); fancy indexing copied already
            out = out.copy()
        if self._drop:
            self._map.madvise(mmap.MADV_DONTNEED)
        return out
