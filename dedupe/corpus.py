"""A corpus in matching form: documents, their segments, and each segment's match key.

Segments with the same match key (same words after normalisation) are exact duplicates, so
matching works on the distinct keys ("texts", numbered by `uid`) and every occurrence points to
its text. That collapses the many exact copies of captions and boilerplate before any hashing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .model import Document, Segment
from .normalize import match_key
from .segment import split


@dataclass
class Corpus:
    documents: list[Document]
    segments: list[list[Segment]]
    """Segments of each document, in document order."""
    keys: list[str]
    """Distinct match keys; the uid of a text is its index here."""
    occ_doc: np.ndarray
    """Per occurrence (segments of all documents, in order): document index."""
    occ_seg: np.ndarray
    """Per occurrence: segment index within its document."""
    occ_uid: np.ndarray
    """Per occurrence: uid of its match key."""
    doc_offsets: np.ndarray
    """Occurrences of document d are occ_*[doc_offsets[d]:doc_offsets[d+1]]."""

    @classmethod
    def build(cls, documents: Iterable[Document], mode: str = "line") -> "Corpus":
        docs = list(documents)
        segments = [split(doc, mode) for doc in docs]
        uid_of: dict[str, int] = {}
        occ_doc, occ_seg, occ_uid = [], [], []
        for d, segs in enumerate(segments):
            for seg in segs:
                occ_doc.append(d)
                occ_seg.append(seg.index)
                occ_uid.append(uid_of.setdefault(match_key(seg.text), len(uid_of)))
        counts = np.array([len(s) for s in segments], dtype=np.int64)
        offsets = np.zeros(len(docs) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(
            documents=docs,
            segments=segments,
            keys=list(uid_of),
            occ_doc=np.array(occ_doc, dtype=np.int64),
            occ_seg=np.array(occ_seg, dtype=np.int64),
            occ_uid=np.array(occ_uid, dtype=np.int64),
            doc_offsets=offsets,
        )

    @property
    def n_occurrences(self) -> int:
        return len(self.occ_uid)

    def doc_uids(self, d: int) -> np.ndarray:
        return self.occ_uid[self.doc_offsets[d]: self.doc_offsets[d + 1]]
