"""Loading the hand labels of an evaluation corpus (`labels.jsonl`, see docs/labels.md).

One JSON object per line, `"type": "segment"` or `"type": "document"`. Every field the format
names is required (`group` and `kind` may be null); extra fields are ignored. Blank lines are
allowed. Any problem raises `LabelError` with `FILE:LINE: what is wrong`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

LABELS_FILENAME = "labels.jsonl"
SEGMENT_KINDS = (None, "repeat", "boilerplate", "shared")
EXPECTED_VALUES = ("keep", "drop")


class LabelError(ValueError):
    """The labels file is missing or malformed. `path` and `line` (1-based, or None) say where."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class SegmentLabel:
    """The label of one paragraph `text[start:end]` of the article `source`."""

    source: str
    start: int
    end: int
    group: str | None
    kind: str | None
    expected: str
    line: int
    """Line of the labels file this came from (for messages)."""

    @property
    def key(self) -> tuple[str, int]:
        """(source, start): how a label is joined to `segments.parquet`."""
        return (self.source, self.start)


@dataclass(frozen=True)
class DocumentLabel:
    """The near-duplicate group of one article (`None`: it has no near-duplicate)."""

    source: str
    group: str | None
    line: int


@dataclass(frozen=True)
class Labels:
    """All labels of one corpus, in file order."""

    path: Path
    segments: tuple[SegmentLabel, ...]
    documents: tuple[DocumentLabel, ...]


def load_labels(path: str | Path) -> Labels:
    """Read and validate a labels file, or `labels.jsonl` inside `path` when it is a directory."""
    path = Path(path)
    if path.is_dir():
        path = path / LABELS_FILENAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LabelError(path, None, "labels file not found") from None
    except OSError as exc:
        raise LabelError(path, None, f"cannot read labels file: {exc.strerror or exc}") from None

    segments: dict[tuple[str, int], SegmentLabel] = {}
    documents: dict[str, DocumentLabel] = {}
    for lineno, record in _records(path, raw):
        kind = record.get("type")
        if kind == "segment":
            label = _segment(path, lineno, record)
            first = segments.get(label.key)
            if first is not None:
                raise LabelError(
                    path, lineno,
                    f"duplicate segment label for source {label.source!r} start {label.start} "
                    f"(first labelled on line {first.line})",
                )
            segments[label.key] = label
        elif kind == "document":
            doc = _document(path, lineno, record)
            first_doc = documents.get(doc.source)
            if first_doc is not None:
                raise LabelError(
                    path, lineno,
                    f"duplicate document label for source {doc.source!r} "
                    f"(first labelled on line {first_doc.line})",
                )
            documents[doc.source] = doc
        elif "type" not in record:
            raise LabelError(
                path, lineno, 'missing field "type" (expected "segment" or "document")'
            )
        else:
            raise LabelError(
                path, lineno, f'unknown type {kind!r} (expected "segment" or "document")'
            )
    return Labels(path, tuple(segments.values()), tuple(documents.values()))


def _records(path: Path, raw: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, JSON object) for every non-blank line."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for lineno, line in enumerate(raw.splitlines(), start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LabelError(path, lineno, f"not valid UTF-8 ({exc.reason})") from None
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = f"invalid JSON: {exc.msg} (column {exc.colno})"
            raise LabelError(path, lineno, problem) from None
        if not isinstance(record, dict):
            raise LabelError(
                path, lineno, f"expected a JSON object, got {type(record).__name__}"
            )
        yield lineno, record


def _field(
    path: Path, lineno: int, record: dict[str, Any], name: str,
    valid: Callable[[Any], bool], expectation: str,
) -> Any:
    """The value of a required field, checked with `valid`."""
    if name not in record:
        raise LabelError(path, lineno, f"missing field {name!r} ({expectation})")
    value = record[name]
    if not valid(value):
        raise LabelError(path, lineno, f"invalid {name!r}: {value!r} ({expectation})")
    return value


def _is_offset(value: Any) -> bool:
    # bool is a subclass of int; `true` is not an offset.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_source(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _is_group(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _segment(path: Path, lineno: int, record: dict[str, Any]) -> SegmentLabel:
    source = _field(path, lineno, record, "source", _is_source, "a non-empty string")
    start = _field(path, lineno, record, "start", _is_offset, "a non-negative integer")
    end = _field(path, lineno, record, "end", _is_offset, "a non-negative integer")
    if start >= end:
        raise LabelError(path, lineno, f"start {start} is not less than end {end}")
    group = _field(path, lineno, record, "group", _is_group, "a string or null")
    kind = _field(
        path, lineno, record, "kind", lambda v: v in SEGMENT_KINDS,
        'null, "repeat", "boilerplate" or "shared"',
    )
    expected = _field(
        path, lineno, record, "expected", lambda v: v in EXPECTED_VALUES, '"keep" or "drop"'
    )
    return SegmentLabel(source, start, end, group, kind, expected, lineno)


def _document(path: Path, lineno: int, record: dict[str, Any]) -> DocumentLabel:
    source = _field(path, lineno, record, "source", _is_source, "a non-empty string")
    group = _field(path, lineno, record, "group", _is_group, "a string or null")
    return DocumentLabel(source, group, lineno)
