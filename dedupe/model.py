"""The data model that flows through the pipeline: documents, segments, clusters.

Documents and skips come out of the readers. Segments are (start, end) spans of a document's
text (`segment.spans`); the corpus (`corpus.py`) holds them as flat per-occurrence arrays, the
matching stages assign them and the documents to clusters, the policy gives every segment a
`Role` and each cluster a `Kind`, and `writers.py` turns these into the three Parquet tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    """What the policy decided for one segment."""

    UNIQUE = "unique"            # no duplicate anywhere: kept
    FIRST = "first"              # first copy of a segment repeated inside one article: kept
    REPEAT = "repeat"            # a later copy inside the same article
    BOILERPLATE = "boilerplate"  # site furniture: UI strings, consent blocks, known boilerplate
    SHARED = "shared"            # a passage also carried by other articles


class Kind(str, Enum):
    """What a cluster is."""

    REPEAT = "repeat"                          # copies inside one article only
    BOILERPLATE = "boilerplate"                # furniture repeated across unrelated articles
    SHARED = "shared"                          # a passage shared by several articles
    DUPLICATE_DOCUMENT = "duplicate_document"  # whole near-duplicate articles


@dataclass(frozen=True)
class Document:
    """One article as read. `text` is the original text (BOM removed, line ends as LF)."""

    doc_id: str
    source: str
    title: str
    text: str


@dataclass(frozen=True)
class Skip:
    """An input that was not turned into a document, and why."""

    source: str
    reason: str
