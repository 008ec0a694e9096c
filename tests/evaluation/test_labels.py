"""`load_labels`: the format of docs/labels.md and every error it reports."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from dedupe.evaluation.labels import DocumentLabel, LabelError, SegmentLabel, load_labels

SEGMENT = {
    "type": "segment", "source": "story-003/article-2.txt", "start": 120, "end": 245,
    "group": "s-17", "kind": "repeat", "expected": "drop",
}
DOCUMENT = {"type": "document", "source": "story-003/article-2.txt", "group": "d-4"}


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def segment(**changes) -> str:
    return json.dumps({**SEGMENT, **changes})


def without(record: dict, field: str) -> str:
    return json.dumps({k: v for k, v in record.items() if k != field})


def test_loads_both_record_types(tmp_path: Path) -> None:
    path = write(
        tmp_path / "labels.jsonl",
        [
            json.dumps(SEGMENT),
            "",
            "   ",
            segment(start=0, end=50, group=None, kind=None, expected="keep", note="extra ok"),
            json.dumps(DOCUMENT),
            json.dumps({"type": "document", "source": "b.txt", "group": None}),
        ],
    )
    labels = load_labels(path)
    assert labels.path == path
    assert labels.segments == (
        SegmentLabel("story-003/article-2.txt", 120, 245, "s-17", "repeat", "drop", line=1),
        SegmentLabel("story-003/article-2.txt", 0, 50, None, None, "keep", line=4),
    )
    assert labels.documents == (
        DocumentLabel("story-003/article-2.txt", "d-4", line=5),
        DocumentLabel("b.txt", None, line=6),
    )
    assert labels.segments[0].key == ("story-003/article-2.txt", 120)
    with pytest.raises(dataclasses.FrozenInstanceError):
        labels.segments[0].start = 1  # type: ignore[misc]


@pytest.mark.parametrize("kind", ["repeat", "boilerplate", "shared", None])
def test_every_kind_is_accepted(tmp_path: Path, kind: str | None) -> None:
    labels = load_labels(write(tmp_path / "labels.jsonl", [segment(kind=kind)]))
    assert labels.segments[0].kind == kind


def test_directory_means_labels_jsonl_inside(tmp_path: Path) -> None:
    write(tmp_path / "labels.jsonl", [json.dumps(DOCUMENT)])
    assert load_labels(tmp_path).documents[0].group == "d-4"


def test_empty_file_has_no_labels(tmp_path: Path) -> None:
    labels = load_labels(write(tmp_path / "labels.jsonl", [""]))
    assert (labels.segments, labels.documents) == ((), ())


def test_crlf_and_bom_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(DOCUMENT).encode() + b"\r\n\r\n")
    assert len(load_labels(path).documents) == 1


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.jsonl"
    with pytest.raises(LabelError) as info:
        load_labels(path)
    assert str(path) in str(info.value) and "not found" in str(info.value)
    assert info.value.line is None


def test_directory_without_labels_file(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match="labels.jsonl: labels file not found"):
        load_labels(tmp_path)


# Each bad line is written as line 3, after a valid segment label and a blank line.
BAD_LINES = {
    "invalid json": ('{"type": "segment", "source": ', "invalid JSON"),
    "not an object": ("[1, 2]", "expected a JSON object"),
    "unknown type": (json.dumps({**DOCUMENT, "type": "paragraph"}), "unknown type 'paragraph'"),
    "missing type": (without(DOCUMENT, "type"), 'missing field "type"'),
    "missing source": (without(SEGMENT, "source"), "missing field 'source'"),
    "empty source": (segment(source=""), "invalid 'source'"),
    "source not a string": (segment(source=3), "invalid 'source'"),
    "missing start": (without(SEGMENT, "start"), "missing field 'start'"),
    "missing end": (without(SEGMENT, "end"), "missing field 'end'"),
    "negative start": (segment(start=-1), "invalid 'start': -1"),
    "float start": (segment(start=1.5), "invalid 'start': 1.5"),
    "string end": (segment(end="245"), "invalid 'end': '245'"),
    "boolean start": (segment(start=True), "invalid 'start': True"),
    "start equals end": (segment(start=245), "start 245 is not less than end 245"),
    "start after end": (segment(start=300), "start 300 is not less than end 245"),
    "missing expected": (without(SEGMENT, "expected"), "missing field 'expected'"),
    "bad expected": (segment(expected="remove"), "invalid 'expected': 'remove'"),
    "missing kind": (without(SEGMENT, "kind"), "missing field 'kind'"),
    "bad kind": (segment(kind="duplicate"), "invalid 'kind': 'duplicate'"),
    "missing segment group": (without(SEGMENT, "group"), "missing field 'group'"),
    "numeric group": (segment(group=17), "invalid 'group': 17"),
    "missing document group": (without(DOCUMENT, "group"), "missing field 'group'"),
    "missing document source": (without(DOCUMENT, "source"), "missing field 'source'"),
    "duplicate segment": (
        segment(end=999, group=None),
        "duplicate segment label for source 'story-003/article-2.txt' start 120 "
        "(first labelled on line 1)",
    ),
}


@pytest.mark.parametrize("bad_line, problem", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_errors_name_file_and_line(tmp_path: Path, bad_line: str, problem: str) -> None:
    path = write(tmp_path / "gold.jsonl", [json.dumps(SEGMENT), "", bad_line])
    with pytest.raises(LabelError) as info:
        load_labels(path)
    message = str(info.value)
    assert f"{path}:3: " in message
    assert "gold.jsonl" in message
    assert problem in message
    assert (info.value.path, info.value.line) == (path, 3)
    assert isinstance(info.value, ValueError)


def test_duplicate_document_label(tmp_path: Path) -> None:
    other = json.dumps({"type": "document", "source": "x.txt", "group": None})
    path = write(tmp_path / "gold.jsonl", [json.dumps(DOCUMENT), other, json.dumps(DOCUMENT)])
    with pytest.raises(LabelError) as info:
        load_labels(path)
    assert f"{path}:3: duplicate document label for source 'story-003/article-2.txt'" in str(
        info.value
    )
    assert "first labelled on line 1" in str(info.value)


def test_same_start_in_another_source_is_not_a_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path / "labels.jsonl", [json.dumps(SEGMENT), segment(source="other.txt")])
    assert len(load_labels(path).segments) == 2


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_bytes(json.dumps(DOCUMENT).encode() + b"\n\xff\xfe\n")
    with pytest.raises(LabelError, match=r"gold\.jsonl:2: not valid UTF-8"):
        load_labels(path)
