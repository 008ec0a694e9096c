"""A JSONL file read whole by Arrow's JSON parser, when that gives what the line reader gives.

`readers.read_jsonl` decodes each line with Python's json module into Python strings, which the
staging then encodes back into UTF-8 for Arrow: most of the read stage. A file whose every line
is a plain document (an object with a string text, and a string id and title where configured;
no blank text, no duplicate id) is parsed here instead, straight into Arrow columns, and staged
as one table. Anything else makes `jsonl_documents` return None, and the file is read line by
line, which reports every line it cannot take: this path never decides a skip, so both paths
give the same documents by construction. The equivalence tests run both on the same files.

Arrow's parser is stricter than Python's where they differ (NaN and 1e999 in a number field
are errors here; it ignores fields it is not asked for, as the line reader does), except that it
reads two objects on one line as two rows: the row count must equal the non-blank lines.
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from ..config import Config
from .readers import _is_utf8, first_line_span, title
from .stores import DOCUMENT_SCHEMA
from .utf8 import utf8_of

MAX_BYTES = 256 << 20
"""Larger files are read line by line: parsed whole, a file would be in memory twice."""
HEAD_BYTES = 4096
"""Bytes of each text decoded to find its title (its first non-empty line); a text whose first
line does not end within them is decoded whole."""


def jsonl_documents(data: bytes, rel: str, config: Config, seen_ids: dict[str, str]) -> pa.Table | None:
    """The staged documents (DOCUMENT_SCHEMA) of a JSONL file's bytes, or None when the line
    reader must read it. `seen_ids` (doc id -> source of the run's documents so far) is updated
    only when the table is returned. Titles follow the line reader's own rules (`readers.title`,
    `readers.first_line_span`)."""
    names = [config.text_field] + [f for f in (config.id_field, config.title_field) if f]
    if (len(data) > MAX_BYTES or len(set(names)) != len(names) or data.startswith(b"\xef\xbb\xbf")
            or not _is_utf8(config.encoding)):
        return None
    lines = _nonblank_lines(data)
    if not lines:
        return None
    schema = pa.schema([(name, pa.string()) for name in names])
    try:
        table = pj.read_json(io.BytesIO(data), parse_options=pj.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore"))
    except (pa.ArrowException, ValueError):  # not JSON objects of strings throughout, or not UTF-8
        return None
    if table.num_rows != len(lines):  # a blank line the parsers see differently, or two objects on a line
        return None
    text = table.column(config.text_field).combine_chunks()
    ids = table.column(config.id_field).combine_chunks() if config.id_field else None
    if text.null_count or (ids is not None and ids.null_count):
        return None  # a line without a text (or id) string: the line reader says which
    data, offsets = utf8_of(text)
    if len(data) and ((data[np.minimum(offsets[:-1], len(data) - 1)] == 0xEF) & (np.diff(offsets) >= 3)).any():
        return None  # perhaps a text opening with a BOM (which clean_text drops): rare, read by lines
    if (data == 13).any():  # CRLF and CR line ends become LF, as clean_text does
        import pyarrow.compute as pc  # here: importing it builds 300 docstrings, 0.03 s

        text = pc.replace_substring(pc.replace_substring(text, "\r\n", "\n"), "\r", "\n")
        data, offsets = utf8_of(text)
    sources = [f"{rel}:{n}" for n in lines]
    doc_ids = ids.to_pylist() if ids is not None else sources
    if len(set(doc_ids)) != len(doc_ids) or any(seen_ids.get(i, s) != s for i, s in zip(doc_ids, sources)):
        return None  # a duplicate id: the line reader skips the later ones
    titles = _titles(text, data, offsets, table.column(config.title_field).to_pylist() if config.title_field else None)
    if titles is None:
        return None  # a blank text
    for i, s in zip(doc_ids, sources):
        seen_ids[i] = s
    documents = pa.Table.from_arrays([pa.array(doc_ids, pa.string()), pa.array(sources, pa.string()),
                                      pa.array(titles, pa.string()), text], schema=DOCUMENT_SCHEMA)
    return documents


_BLANK = np.zeros(256, dtype=bool)
_BLANK[list(b" \t\n\r\x0b\x0c")] = True  # what bytes.strip() strips


def _nonblank_lines(data: bytes) -> list[int]:
    """The numbers (from 1) of the lines of `data` that are not empty or blank (`bytes.strip`):
    decided by each line's first byte, and only a line opening with a blank is looked at whole."""
    arr = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(arr == 10)
    starts, ends = np.r_[0, breaks + 1], np.r_[breaks, len(arr)]
    filled = starts < ends
    opens_blank = _BLANK[arr[np.minimum(starts, max(len(arr) - 1, 0))]] if len(arr) else filled
    keep = filled & ~opens_blank
    for i in np.flatnonzero(filled & opens_blank).tolist():
        keep[i] = bool(data[starts[i]: ends[i]].strip())
    return (np.flatnonzero(keep) + 1).tolist()


def _titles(text: pa.Array, data: np.ndarray, offsets: np.ndarray, given: list | None) -> list[str] | None:
    """Each document's title (the given one when it is a non-blank string, else the text's
    first non-empty line, as `readers.make_document` chooses), or None when a text is blank.
    Found in the first HEAD_BYTES bytes of each text, or in the whole text when its first line
    may go on past them."""
    view = memoryview(data)
    out = []
    for k, (a, b) in enumerate(zip(offsets[:-1].tolist(), offsets[1:].tolist())):
        whole = b - a <= HEAD_BYTES
        head = str(view[a: b if whole else a + HEAD_BYTES], "utf-8", "ignore")  # "ignore": a character cut at the end
        span = first_line_span(head)
        if not whole and (span is None or span[1] >= len(head) - 1):
            head = text[k].as_py()
            span = first_line_span(head)
        if span is None:
            return None
        g = given[k] if given is not None else None
        out.append(title(g) if isinstance(g, str) and g.strip() else title(head[span[0]:span[1]]))
    return out

