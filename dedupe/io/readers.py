"""Reading articles from an input directory tree: a registry of readers by file suffix.

Every input becomes either a `Document` or a `Skip` with a specific reason (file, line or row,
what is wrong), so nothing is lost silently. The rules:

- `.txt` (and `.txt.gz`): one article per file; title = first non-empty line. Empty, binary (NUL
  bytes) and invalid UTF-8 files are skipped.
- `.jsonl` (and `.jsonl.gz`): one article per line; a line that is not a JSON object, or has no
  string in the text field, is skipped; blank lines are ignored.
- `.parquet`: one article per row of the text column; a file without that column, or that
  pyarrow cannot read, is skipped; rows with a null or blank text are skipped.
- Files with other extensions are skipped as unsupported; hidden files and folders (name starting
  with ".") are ignored.

A new format is one function registered for its suffixes, in any module:

    @register_reader(".csv")
    def read_csv(path: Path, rel: str, config: Config) -> Iterator[Document | Skip]: ...

Documents are yielded in a deterministic order (sorted relative paths, then line/row), and each
`doc_id` derives from its source, never from run order. Text is decoded as UTF-8 (a BOM is
removed) and CRLF/CR line ends become LF; character offsets refer to that text.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path
from typing import Callable, Iterator

from ..config import Config
from ..model import Document, Skip

Reader = Callable[[Path, str, Config], Iterator["Document | Skip"]]
"""reader(path, path relative to the input root, config): every document (or skip) of one file,
in order. A reader never raises for a bad file: it yields a `Skip` with the reason."""

_READERS: dict[str, Reader] = {}  # lower-case suffix -> reader
_FORMATS: dict[str, tuple[str, ...]] = {}  # reader name -> its suffixes, in registration order


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


def discover(root: Path) -> list[Path]:
    """All non-hidden files below `root`, sorted by relative path."""
    if not root.exists():
        raise InputError(f"input directory not found: {root}")
    if not root.is_dir():
        raise InputError(f"input is not a directory: {root}")
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / name for name in filenames if not name.startswith("."))
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def read_inputs(root: str | Path, config: Config) -> Iterator[Document | Skip]:
    """Yield every document (or skip record) found below `root`."""
    root = Path(root)
    files = discover(root)
    if not files:
        raise InputError(f"no input files in {root} (expected {expected_formats()} files)")
    seen_ids: dict[str, str] = {}
    for path in files:
        rel = path.relative_to(root).as_posix()
        reader = reader_for(path.name)
        if reader is None:
            items: Iterator[Document | Skip] = iter([Skip(rel, f"unsupported file type (expected {expected_formats()})")])
        else:
            items = reader(path, rel, config)
        for item in items:
            if isinstance(item, Document):
                first = seen_ids.setdefault(item.doc_id, item.source)
                if first != item.source:
                    item = Skip(item.source, f"duplicate document id {item.doc_id!r} (first used by {first})")
            yield item


def clean_text(text: str) -> str:
    """Remove a BOM and turn CRLF/CR line ends into LF."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def first_line(text: str) -> str:
    for line in text.split("\n"):
        if line.strip():
            return line.strip()
    return ""


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


def decode(data: bytes, rel: str) -> str | Skip:
    """UTF-8 text without its BOM and with LF line ends, or where it is not valid UTF-8."""
    # Strip the BOM by hand: "utf-8-sig" reports error offsets relative to the text after it.
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return clean_text(data[bom:].decode("utf-8"))
    except UnicodeDecodeError as err:
        pos = err.start + bom
        line = data[:pos].count(b"\n") + 1
        return Skip(rel, f"invalid UTF-8 at line {line} (byte offset {pos}): {err.reason}")


@register_reader(".txt", ".txt.gz")
def read_text_file(path: Path, rel: str, config: Config) -> Iterator[Document | Skip]:
    """One article per file; the title is its first non-empty line."""
    data = read_bytes(path, rel)
    text = data if isinstance(data, Skip) else decode(data, rel)
    if isinstance(text, Skip):
        yield text
    elif not text.strip():
        yield Skip(rel, "empty file")
    else:
        yield Document(doc_id=rel, source=rel, title=first_line(text), text=text)


def make_document(source: str, text: object, doc_id: object, title: object) -> Document | Skip:
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
    title_text = title.strip() if isinstance(title, str) and title.strip() else first_line(text)
    return Document(doc_id=str(doc_id) if doc_id is not None else source, source=source,
                    title=title_text, text=text)


@register_reader(".jsonl", ".jsonl.gz", ".ndjson")
def read_jsonl(path: Path, rel: str, config: Config) -> Iterator[Document | Skip]:
    """One article per line (blank lines ignored); fields from the config."""
    data = read_bytes(path, rel)
    if isinstance(data, Skip):
        yield data
        return
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        source = f"{rel}:{lineno}"
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8-sig" if lineno == 1 else "utf-8"))
        except UnicodeDecodeError as err:
            yield Skip(source, f"invalid UTF-8 at byte {err.start} of the line: {err.reason}")
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
        yield make_document(source, record[config.text_field], doc_id, title)


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
