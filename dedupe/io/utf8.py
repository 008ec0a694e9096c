"""Text columns cut from another text column in bytes, without a Python string per text.

The output's segment texts and cleaned article texts are pieces of the staged article texts.
Slicing each article as a Python string and converting the pieces back to Arrow cost the write
stage a third of its time. Here the pieces are cut from the staged column's UTF-8 buffer:
character offsets become byte offsets (`byte_positions`; in an ASCII text they are the same),
the byte ranges are copied into one new buffer (`join_ranges`, a compiled loop for large
batches) and the Arrow array is made from it (`string_array`). A range cut at character
boundaries is exactly the encoding of the Python slice, so the strings are the same.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .. import kernels

NUMPY_CHUNK = 4 << 20  # bytes of text whose character starts the numpy path lists at a time


def utf8_of(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(data, offsets) of a string column without copying its text: text i is the UTF-8 bytes
    data[offsets[i]:offsets[i + 1]] (offsets int64; a null is empty)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if column.type != pa.string():
        raise TypeError(f"expected a string column, got {column.type}")
    _, offset_buffer, data_buffer = column.buffers()
    if offset_buffer is None:  # an empty array
        return np.zeros(0, dtype=np.uint8), np.zeros(len(column) + 1, dtype=np.int64)
    offsets = np.frombuffer(offset_buffer, dtype=np.int32)[column.offset: column.offset + len(column) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    return data, offsets.astype(np.int64)


def byte_positions(data: np.ndarray, offsets: np.ndarray, n_chars: np.ndarray, text: np.ndarray,
                   chars: np.ndarray) -> np.ndarray:
    """The byte offset in `data` of character chars[i] of text text[i] (`utf8_of`'s layout;
    n_chars: characters per text; a character may be a text's length, its end). `text` is
    ascending, and ascending `chars` within a text make one pass over it."""
    text = np.asarray(text, dtype=np.int64)
    chars = np.asarray(chars, dtype=np.int64)
    ascii = np.diff(offsets) == n_chars  # its bytes are its characters
    if kernels.use_compiled(len(text) + int(np.diff(offsets)[~ascii].sum())):
        return kernels.utf8_positions(data, np.ascontiguousarray(offsets[:-1]), ascii, text, chars)
    out = offsets[text] + chars
    queried = np.searchsorted(text, np.arange(len(offsets)))  # the queries of text t: queried[t]:queried[t + 1]
    for first, last in _runs_of_bytes(offsets, NUMPY_CHUNK):
        q = np.arange(queried[first], queried[last])
        q = q[~ascii[text[q]]]
        if len(q):
            lo, hi = offsets[first], offsets[last]
            starts = np.append(np.flatnonzero((data[lo:hi] & 0xC0) != 0x80) + lo, hi)  # each character's first byte
            out[q] = starts[np.searchsorted(starts, offsets[text[q]]) + chars[q]]
    return out


def _runs_of_bytes(offsets: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """(first, last): texts first..last-1, consecutive runs of at most `limit` bytes (a longer
    text is a run of its own) that cover every text."""
    n, runs, first = len(offsets) - 1, [], 0
    while first < n:
        last = min(n, max(first + 1, int(np.searchsorted(offsets, offsets[first] + limit, side="right")) - 1))
        runs.append((first, last))
        first = last
    return runs


def join_ranges(data: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The bytes data[lo[0]:hi[0]] + data[lo[1]:hi[1]] + ... as one uint8 array."""
    lengths = hi - lo
    total = int(lengths.sum())
    if kernels.use_compiled(total):
        source = data.view()
        source.flags.writeable = False  # read-only whatever the buffer: one signature for numba's JIT
        return kernels.copy_ranges(source, np.ascontiguousarray(lo, dtype=np.int64),
                                   np.ascontiguousarray(hi, dtype=np.int64))
    view = memoryview(data)
    return np.frombuffer(b"".join([view[a:b] for a, b in zip(lo.tolist(), hi.tolist())]), dtype=np.uint8)


def take_strings(values: pa.Array | pa.ChunkedArray, index) -> pa.Array:
    """values[index] of a string column, null where an index is negative: what `Array.take`
    gives (with a masked index), built from byte ranges instead, as its pyarrow.compute costs
    0.03 s to import in a run that needs nothing else of it."""
    data, offsets = utf8_of(values)
    index = np.asarray(index, dtype=np.int64)
    missing = index < 0
    if len(offsets) == 1:  # no values: every index is missing
        lo = hi = np.zeros(len(index), dtype=np.int64)
    else:
        at = np.where(missing, 0, index)
        lo, hi = offsets[at], np.where(missing, offsets[at], offsets[at + 1])
    return string_array(data, lo, hi, valid=~missing if missing.any() else None)


def string_array(data: np.ndarray, lo: np.ndarray, hi: np.ndarray, owner: np.ndarray | None = None,
                 n: int | None = None, valid: np.ndarray | None = None) -> pa.Array:
    """A string array of byte ranges of `data`: one string per range, or, given `owner`
    (ascending), string j made of the ranges i with owner[i] == j, in order (n strings; a string
    with no range is empty). `valid` (per string): False makes it null."""
    lengths = np.asarray(hi, dtype=np.int64) - lo
    if owner is None:
        per, n = lengths, len(lengths)
    else:
        per = np.bincount(owner, weights=lengths, minlength=n).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per, out=offsets[1:])
    if offsets[-1] >= 1 << 31:  # a batch is at most BATCH_WEIGHT characters, far below this
        raise ValueError("string_array: more than 2 GB of text in one array")
    validity = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    buffers = [validity, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(join_ranges(data, lo, hi))]
    return pa.Array.from_buffers(pa.string(), n, buffers, null_count=0 if valid is None else int(n - valid.sum()))
