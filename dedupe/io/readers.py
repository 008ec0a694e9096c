"""Reading articles from an input directory tree: a registry of readers by file suffix.

Every input becomes either a `Document` or a `Skip` with a specific reason (file, line or row,
what is wrong), so nothing is lost silently. The rules:

- `.txt` (and `.txt.gz`): one article per file; title = first non-empty line. Empty, binary (NUL
  bytes) and undecodable files (in the configured `encoding`, UTF-8 by default) are skipped.
- `.jsonl` (and `.jsonl.gz`): one article per line; a line that is not a JSON object, or has no
  string in the text field, is skipped; blank lines are ignored. (A run reads a file of plain
  documents whole with Arrow's JSON parser instead, `jsonl_table.py`: the same documents.)
- `.parquet`: one article per row of the text column; a file without that column, or that
  pyarrow cannot read, is skipped; rows with a null or blank text are skipped.
- Files with other extensions are skipped as unsupported, and so are FIFOs, sockets, devices and
  broken links; hidden files and folders (name starting with ".") are ignored. A symlinked
  folder outside the input is followed (each once); one into the input (a second path, a loop)
  is listed as skipped, since its files are read under their own path. The output directory,
  when it lies inside the input, is left out.
- Titles longer than TITLE_MAX_CHARS are cut at a word and end with "…".

A new format is one function registered for its suffixes, in any module:

    @register_reader(".csv")
    def read_csv(path: Path, rel: str, config: Config) -> Iterator[Document | Skip]: ...

Documents are yielded in a deterministic order (sorted relative paths, then line/row), and each
`doc_id` derives from its source, never from run order. Text is decoded as UTF-8 (a BOM is
removed) and CRLF/CR line ends become LF; character offsets refer to that text.
"""

from __future__ import annotations

import codecs
import gzip
import json
import logging
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..config import Config
from ..model import Document, Skip
from ..progress import track

Reader = Callable[[Path, str, Config], Iterator["Document | Skip"]]
"""reader(path, path relative to the input root, config): every document (or skip) of one file,
in order. A reader never raises for a bad file: it yields a `Skip` with the reason."""

_READERS: dict[str, Reader] = {}  # lower-case suffix -> reader
_FORMATS: dict[str, tuple[str, ...]] = {}  # reader name -> its suffixes, in registration order


log = logging.getLogger("dedupe")

TITLE_MAX_CHARS = 300  # a first line longer than this is a paragraph, not a title


class InputError(Exception):
    """The input as a whole cannot be read (missing directory, no input files)."""


def register_reader(*suffixes: str) -> Callable[[Reader], Reader]:
    """Register the decorated function as the reader of files ending in any of `suffixes`
    (".csv", ".csv.gz"; matched case-insensitively, the longest suffix first)."""
    if not suffixes or not all(s.startswith(".") for s in suffixes):
        raise ValueError("register_reader needs suffixes that start with '.'")

    def register(reader: Reader) -> Reader:
        for suffix in suffixes:
            _READERS[suffix.lower()] = reader
        _FORMATS[f"{reader.__module__}.{reader.__qualname__}"] = tuple(s.lower() for s in suffixes)
        return reader

    return register


def unregister_reader(*suffixes: str) -> None:
    """Remove the readers of `suffixes` (a plugin's tests clean up with this)."""
    for suffix in suffixes:
        _READERS.pop(suffix.lower(), None)
    for name, known in list(_FORMATS.items()):
        left = tuple(s for s in known if s not in {x.lower() for x in suffixes})
        if left:
            _FORMATS[name] = left
        else:
            del _FORMATS[name]


def reader_for(name: str) -> Reader | None:
    """The reader of a file name (the longest registered suffix it ends with), or None."""
    name = name.lower()
    matches = [s for s in _READERS if name.endswith(s)]
    return _READERS[max(matches, key=len)] if matches else None


def expected_formats() -> str:
    """The registered formats for messages: '.txt, .jsonl or .parquet'."""
    firsts = [suffixes[0] for suffixes in _FORMATS.values()]
    return firsts[0] if len(firsts) == 1 else ", ".join(firsts[:-1]) + " or " + firsts[-1]


@dataclass(frozen=True)
class Entry:
    """One entry of the input listing: a file to read, or a folder skipped with `reason`."""

    path: Path
    rel: str
    reason: str | None = None


def discover(root: Path, exclude: Path | None = None) -> list[Entry]:
    """Every non-hidden file below `root` (`walk`), sorted by relative path."""
    return sorted(walk(root, exclude), key=lambda e: e.rel)


def walk(root: Path, exclude: Path | None = None) -> Iterator[Entry]:
    """The non-hidden files below `root`, in walk order, found as the walk goes.

    A symlinked folder that points inside the input (a second path to a folder, or a loop) is
    listed with the reason, as it is read under its own path; one that points outside is
    followed, each outside folder once. `exclude` (the output directory) is left out, with a
    warning when it lies inside `root`."""
    if not root.exists():
        raise InputError(f"input directory not found: {root}")
    if not root.is_dir():
        raise InputError(f"input is not a directory: {root}")
    top = os.path.realpath(root)
    excluded = os.path.realpath(exclude) if exclude is not None else None
    followed: dict[str, str] = {}  # real path of a folder outside the input -> where it was read
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        keep = []
        for name in sorted(d for d in dirnames if not d.startswith(".")):
            path = Path(dirpath) / name
            rel, real = path.relative_to(root).as_posix(), os.path.realpath(path)
            if real == excluded:
                log.warning("the output directory %s lies inside the input: not read as input", path)
            elif path.is_symlink() and os.path.commonpath([top, real]) == top:
                yield Entry(path, rel, f"symlink to {Path(os.path.relpath(real, top)).as_posix()}, "
                                       "read under that path")
            elif real in followed:
                yield Entry(path, rel, f"symlink to a folder already read as {followed[real]}")
            else:
                followed[real] = rel
                keep.append(name)
        dirnames[:] = keep
        for name in filenames:
            if not name.startswith("."):
                yield Entry(Path(dirpath) / name, (Path(dirpath) / name).relative_to(root).as_posix())


def check_input(root: str | Path) -> None:
    """InputError when the input is missing, not a directory, or holds no file to read. Stops
    at the first file: the full listing is made once, by `read_inputs`."""
    root = Path(root)
    if not any(e.reason is None for e in walk(root)):
        raise _nothing_to_read(root)


@dataclass(frozen=True)
class DocumentTable:
    """The documents of one whole input file as a staged table (`stores.DOCUMENT_SCHEMA`): what
    `read_inputs(tables=True)` yields for a JSONL file that Arrow's parser reads whole
    (`jsonl_table.py`)."""

    table: object  # pa.Table

    def __len__(self) -> int:
        return self.table.num_rows


def read_inputs(root: str | Path, config: Config, exclude: Path | None = None,
                tables: bool = False) -> Iterator[Document | Skip | DocumentTable]:
    """Yield every document (or skip record) found below `root` (see `walk`). With `tables`, a
    JSONL file whose every line is a document may come as one `DocumentTable` instead of its
    documents (the same documents, in order)."""
    root = Path(root)
    entries = discover(root, exclude)
    if not any(e.reason is None for e in entries):
        raise _nothing_to_read(root)
    if tables:
        from .jsonl_table import jsonl_documents
    seen_ids: dict[str, str] = {}
    for entry in track(entries, len(entries), "read"):
        if tables and entry.reason is None and reader_for(entry.path.name) is read_jsonl and entry.path.is_file():
            data = read_bytes(entry.path, entry.rel)
            whole = None if isinstance(data, Skip) else jsonl_documents(data, entry.rel, config, seen_ids)
            if whole is not None:
                yield DocumentTable(whole)
                continue
            items = iter([data]) if isinstance(data, Skip) else jsonl_lines(data, entry.rel, config)  # read once
        else:
            items = read_entry(entry, config)
        for item in items:
            if isinstance(item, Document):
                first = seen_ids.setdefault(item.doc_id, item.source)
                if first != item.source:
                    item = Skip(item.source, f"duplicate document id {item.doc_id!r} (first used by {first})")
            if isinstance(item, Skip):
                log.warning("skipped %s: %s", item.source, item.reason)
            yield item


def _nothing_to_read(root: Path) -> InputError:
    return InputError(f"no input files in {root} (expected {expected_formats()} files)")


def read_entry(entry: Entry, config: Config) -> Iterator[Document | Skip]:
    """The documents (and skip records) of one listed entry, in order."""
    if entry.reason is not None:
        return iter([Skip(entry.rel, entry.reason)])
    if not entry.path.is_file():  # follows a symlink: False for FIFOs, devices, broken links
        kind = "broken symlink" if not entry.path.exists() else "not a regular file (FIFO, socket or device)"
        return iter([Skip(entry.rel, kind)])
    reader = reader_for(entry.path.name)
    if reader is None:
        return iter([Skip(entry.rel, f"unsupported file type (expected {expected_formats()})")])
    return reader(entry.path, entry.rel, config)


def clean_text(text: str) -> str:
    """Remove a BOM and turn CRLF/CR line ends into LF."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def first_line(text: str) -> str:
    """The first non-empty line, stripped, as a title (`title`); "" for a blank text."""
    span = first_line_span(text)
    return "" if span is None else title(text[span[0]:span[1]])


def first_line_span(text: str) -> tuple[int, int] | None:
    """(start, end) of the first line that is not empty or whitespace, or None (a blank text)."""
    start = 0
    while start <= len(text):  # line by line, not splitting the whole article
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if not text[start:end].isspace() and end > start:
            return start, end
        start = end + 1
    return None


def title(text: str) -> str:
    """`text` stripped, cut at a word to at most TITLE_MAX_CHARS characters ("…" marks a cut)."""
    text = text.strip()
    if len(text) <= TITLE_MAX_CHARS:
        return text
    cut = text[: TITLE_MAX_CHARS - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > TITLE_MAX_CHARS // 2 else cut).rstrip() + "…"


def read_bytes(path: Path, rel: str) -> bytes | Skip:
    """The bytes of a file (gunzipped for `.gz`), or why they cannot be read as text."""
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                data = fh.read()
        else:
            data = path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:  # zlib.error: corrupt .gz stream
        return Skip(rel, f"cannot read file: {err}")
    if b"\x00" in data:
        return Skip(rel, "binary file (contains NUL bytes)")
    return data


def decode(data: bytes, rel: str, encoding: str = "utf-8") -> str | Skip:
    """Text in `encoding` with LF line ends and no BOM, or where it cannot be decoded."""
    # Strip the BOM by hand: "utf-8-sig" reports error offsets relative to the text after it.
    bom = 3 if data.startswith(b"\xef\xbb\xbf") and _is_utf8(encoding) else 0
    try:
        return clean_text(data[bom:].decode(encoding))
    except UnicodeDecodeError as err:
        pos = err.start + bom
        line = data[:pos].count(b"\n") + 1
        name = "UTF-8" if _is_utf8(encoding) else encoding
        return Skip(rel, f"invalid {name} at line {line} (byte offset {pos}): {err.reason}"
                         " (set the `encoding` option for files in another encoding)")


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


@register_reader(".txt", ".txt.gz")
def read_text_file(path: Path, rel: str, config: Config) -> Iterator[Document | Skip]:
    """One article per file; the title is its first non-empty line."""
    data = read_bytes(path, rel)
    text = data if isinstance(data, Skip) else decode(data, rel, config.encoding)
    if isinstance(text, Skip):
        yield text
    elif not text.strip():
        yield Skip(rel, "empty file")
    else:
        yield Document(doc_id=rel, source=rel, title=first_line(text), text=text)


def make_document(source: str, text: object, doc_id: object, given_title: object) -> Document | Skip:
    """A document from one JSONL record or Parquet row, or the reason it cannot be one."""
    if text is None:
        return Skip(source, "text is null")
    if not isinstance(text, str):
        return Skip(source, f"text is a {type(text).__name__}, not a string")
    text = clean_text(text)
    if not text.strip():
        return Skip(source, "empty text")
    if doc_id is not None and not isinstance(doc_id, (str, int)):
        return Skip(source, f"id is a {type(doc_id).__name__}, not a string or integer")
    heading = title(given_title) if isinstance(given_title, str) and given_title.strip() else first_line(text)
    return Document(doc_id=str(doc_id) if doc_id is not None else source, source=source,
                    title=heading, text=text)


@register_reader(".jsonl", ".jsonl.gz", ".ndjson")
def read_jsonl(path: Path, rel: str, config: Config) -> Iterator[Document | Skip]:
    """One article per line (blank lines ignored); fields from the config."""
    data = read_bytes(path, rel)
    if isinstance(data, Skip):
        yield data
        return
    yield from jsonl_lines(data, rel, config)


def jsonl_lines(data: bytes, rel: str, config: Config) -> Iterator[Document | Skip]:
    """The documents (and skips) of a JSONL file's bytes, line by line."""
    utf8 = _is_utf8(config.encoding)
    name = "UTF-8" if utf8 else config.encoding
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        source = f"{rel}:{lineno}"
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode(("utf-8-sig" if lineno == 1 else "utf-8") if utf8 else config.encoding))
        except UnicodeDecodeError as err:
            yield Skip(source, f"invalid {name} at byte {err.start} of the line: {err.reason}"
                               " (set the `encoding` option for files in another encoding)")
            continue
        except json.JSONDecodeError as err:
            yield Skip(source, f"invalid JSON at column {err.colno}: {err.msg}")
            continue
        if not isinstance(record, dict):
            yield Skip(source, f"line is a JSON {type(record).__name__}, not an object")
            continue
        if config.text_field not in record:
            yield Skip(source, f"no field {config.text_field!r} (fields: {', '.join(sorted(record)) or 'none'})")
            continue
        doc_id = record.get(config.id_field) if config.id_field else None
        if config.id_field and doc_id is None:
            yield Skip(source, f"no id field {config.id_field!r}")
            continue
        title = record.get(config.title_field) if config.title_field else None
        if _SURROGATE_ESCAPE.search(raw):
            fields = ((config.text_field, record[config.text_field]), (config.id_field, doc_id),
                      (config.title_field, title))
            bad = next((f"field {name!r} holds an unpaired surrogate (\\u{ord(value[at]):04x} at character {at}): "
                        "not valid Unicode" for name, value in fields if (at := _unpaired_surrogate(value)) is not None),
                       None)
            if bad is not None:
                yield Skip(source, bad)
                continue
        yield make_document(source, record[config.text_field], doc_id, title)


# A JSON escape of a UTF-16 surrogate: a valid pair decodes to one character (an emoji), but an
# unpaired one gives a string that no UTF-8 file can hold.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _unpaired_surrogate(value: object) -> int | None:
    """Where a string holds a character no UTF-8 text can (an unpaired surrogate), else None."""
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        return err.start
    return None


@register_reader(".parquet")
def read_parquet(path: Path, rel: str, config: Config) -> Iterator[Document | Skip]:
    """One article per row of the text column, in row groups."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
    except Exception as err:  # pyarrow raises several types for corrupt files
        yield Skip(rel, f"not a readable Parquet file: {err}")
        return
    if config.text_field not in names:
        yield Skip(rel, f"no column {config.text_field!r} (columns: {', '.join(names)})")
        return
    if config.id_field and config.id_field not in names:
        yield Skip(rel, f"no id column {config.id_field!r} (columns: {', '.join(names)})")
        return
    columns = [config.text_field]
    if config.id_field:
        columns.append(config.id_field)
    has_title = bool(config.title_field) and config.title_field in names
    if has_title:
        columns.append(config.title_field)
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=4096, columns=columns):
            data = batch.to_pydict()
            for i, text in enumerate(data[config.text_field]):
                source = f"{rel}:{row}"
                doc_id = data[config.id_field][i] if config.id_field else None
                if config.id_field and doc_id is None:
                    yield Skip(source, f"id column {config.id_field!r} is null")
                else:
                    title = data[config.title_field][i] if has_title else None
                    yield make_document(source, text, doc_id, title)
                row += 1
    except Exception as err:
        yield Skip(f"{rel}:{row}", f"Parquet read failed from this row on: {err}")
