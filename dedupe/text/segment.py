"""Splitting an article into segments: (start, end) character offsets into its text."""

from __future__ import annotations

import re
from typing import Iterator, Sequence

_BLOCK_SEPARATOR = re.compile(r"\n[ \t\u00a0\u3000]*\n")


def spans(text: str, mode: str = "line") -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each segment of `text`, whitespace trimmed, empty ones skipped.

    `line`: each non-empty line is a segment (captions, credits and UI strings are usually
    lines of their own, so this is the right default for news text).
    `blank_line`: blocks separated by blank lines (for hard-wrapped paragraphs).
    """
    if mode == "line":
        boundaries = _line_bounds(text)
    elif mode == "blank_line":
        boundaries = _block_bounds(text)
    else:
        raise ValueError(f"unknown segmentation mode {mode!r}")
    for start, end in boundaries:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            yield start, end


def _line_bounds(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end == -1:
            yield start, len(text)
            return
        yield start, end
        start = end + 1


def _block_bounds(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in _BLOCK_SEPARATOR.finditer(text):
        yield start, match.start()
        start = match.end()
    yield start, len(text)


def line_segments(texts: Sequence[str]) -> tuple[list[int], list[int], list[int], list[str]]:
    """`spans(text, "line")` of every text, with the segments' texts: (text index, start, end,
    segment) per segment, in order. One split per text, not a scan per character: the
    prepare pass's segmentation."""
    doc: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    pieces: list[str] = []
    for d, text in enumerate(texts):
        pos = 0
        for line in text.split("\n"):
            piece = line.strip()  # the characters str.isspace() takes, as `spans` trims
            if piece:
                start = pos + len(line) - len(line.lstrip()) if line[0].isspace() else pos
                doc.append(d)
                starts.append(start)
                ends.append(start + len(piece))
                pieces.append(piece)
            pos += len(line) + 1
    return doc, starts, ends, pieces
