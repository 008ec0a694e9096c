"""The data model: every record that crosses a stage, from the readers to the Parquet tables.

    io.readers      -> Document, Skip
    corpus          -> Corpus          segments as flat per-occurrence arrays over distinct texts
    match           -> SegmentMatches, DocumentMatches
    policy          -> Decisions       a Role per segment, ClusterRecords with a Kind and a Level
    io.tables       -> documents / segments / clusters.parquet (and the cluster texts)
    report          -> Report

Records are not changed after the stage that made them. Heavy types (numpy arrays, the on-disk
stores) are only named in annotations, so importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from enum import Enum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import numpy as np

    from .io.stores import DocumentStore, TextStore
    from .sketch.sets import ShingleSets


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


class Role(str, Enum):
    """What the policy decided for one segment. `Decisions.role` holds `code`s."""

    UNIQUE = "unique"            # no duplicate anywhere: kept
    FIRST = "first"              # first copy of a segment repeated inside one article: kept
    REPEAT = "repeat"            # a later copy inside the same article
    BOILERPLATE = "boilerplate"  # site furniture: UI strings, consent blocks, known boilerplate
    SHARED = "shared"            # a passage also carried by other articles

    @property
    def code(self) -> int:
        """The int8 code of this role in `Decisions.role`: its position in ROLES."""
        return ROLES.index(self)


ROLES: tuple[Role, ...] = tuple(Role)


class Kind(str, Enum):
    """What a cluster is."""

    REPEAT = "repeat"                          # copies inside one article only
    BOILERPLATE = "boilerplate"                # furniture repeated across unrelated articles
    SHARED = "shared"                          # a passage shared by several articles
    DUPLICATE_DOCUMENT = "duplicate_document"  # whole near-duplicate articles


class Level(str, Enum):
    """What a cluster groups."""

    SEGMENT = "segment"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Corpus:
    """The run's documents in matching form (built by `corpus.build`).

    Segments with the same match key (same words after normalisation) are exact duplicates, so
    matching works on the distinct keys ("texts", numbered by `uid`); every occurrence (one
    segment of one document, in document order) points to its text. Texts from history (known
    boilerplate) follow the corpus' own texts, with no occurrence.
    """

    docs: DocumentStore
    keys: TextStore
    """Match key per uid: the corpus' distinct texts, then known texts not in it."""
    n_texts: int
    """uids below this occur in the corpus; the rest come from history."""
    key_words: np.ndarray
    """Word count per uid."""
    key_sigs: np.ndarray
    """(uids, num_perm) MinHash signatures of word shingles, memory-mapped."""
    passages: ShingleSets
    """Word shingle sets of the corpus texts of at least `min_containment_words` words (ids:
    uids), the containment candidates: exact, or a consistent sample on large corpora."""
    passage_rate: int
    """1 when `passages` holds the exact sets; else the rate of their consistent sample."""
    key_template: np.ndarray
    """Template hash per uid (names and numbers masked; 0 when not a template), see
    text/templates.py."""
    extensions: np.ndarray
    """(k, 2) uid pairs of segments of one article where one nearly repeats the other
    (text/nearcopy.py: a few words inserted or deleted, or a paragraph glued from two others)."""
    known_uids: np.ndarray
    """uid of every text that history knows as boilerplate."""
    occ_doc: np.ndarray
    """Per occurrence: document index (int32)."""
    occ_seg: np.ndarray
    """Per occurrence: segment index within its document (int32)."""
    occ_uid: np.ndarray
    """Per occurrence: uid of its match key (int64)."""
    occ_start: np.ndarray
    """Per occurrence: where the original segment text starts in its document's text (int32)."""
    occ_len: np.ndarray
    """Per occurrence: length of the original segment text in characters (int32)."""
    doc_offsets: np.ndarray
    """Occurrences of document d are occ_*[doc_offsets[d]:doc_offsets[d+1]]."""
    doc_sigs: np.ndarray
    """(documents, num_perm) signatures of each article's (sampled) document shingles."""
    doc_sample: ShingleSets
    """Sampled character shingles per article (containment candidates)."""
    doc_words: np.ndarray
    """Words per article."""
    doc_key: np.ndarray
    """Hash of each article's whole match text: equal for exact duplicate articles."""
    doc_signed: np.ndarray
    """Whether an article's (sampled) signature is non-empty, i.e. usable for LSH."""
    doc_size: np.ndarray
    """Size of each article's signed (sampled) shingle set."""
    doc_len: np.ndarray
    """Characters per article text."""

    @property
    def n_docs(self) -> int:
        return self.docs.count

    @property
    def n_occurrences(self) -> int:
        return len(self.occ_uid)


@dataclass(frozen=True)
class SegmentMatches:
    """Verified segment matches, over uids (made by `match.segments`)."""

    group: np.ndarray
    """Near-duplicate group (its smallest uid) per uid."""
    cluster: np.ndarray
    """Cluster (its smallest uid) per uid: near-duplicate groups joined by containment links."""
    known_groups: frozenset[int]
    """Near-duplicate groups that hold a text history knows as boilerplate."""
    sets: ShingleSets
    """Exact shingle sets of the uids that took part in a candidate pair (indexed by uid)."""
    extensions: frozenset[tuple[int, int]] = frozenset()
    """(smaller uid, larger uid): one extends or nearly repeats the other inside an article."""

    def similarity(self, u: int, v: int) -> float:
        """Exact Jaccard similarity of the word shingles of two texts."""
        return self.sets.similarity(u, v)

    def copy_similarity(self, u: int, v: int, threshold: float) -> float | None:
        """The similarity of v to u when v may be removed as a copy of u (a near duplicate, or
        an extension of it), else None."""
        similarity = self.similarity(u, v)
        return similarity if similarity >= threshold or (min(u, v), max(u, v)) in self.extensions else None

    def are_copies(self, us: np.ndarray, v: int, threshold: float) -> np.ndarray:
        """Whether v is a copy of each u of `us` (`copy_similarity`), as array operations: one
        call for the hundreds of copies that a page of chained lines keeps of one group."""
        import numpy as np

        us = np.asarray(us, dtype=np.int64)
        copy = us == v  # the same text: similarity 1.0, whether or not it has a set
        other = np.flatnonzero(~copy)
        copy[other] = self.sets.jaccard(us[other], np.full(len(other), v, dtype=np.int64)) >= threshold
        return copy | np.isin(us, self._extension_partners.get(v, []))

    @cached_property
    def _extension_partners(self) -> dict[int, list[int]]:
        """uid -> the uids it forms an extension pair with."""
        out: dict[int, list[int]] = {}
        for a, b in self.extensions:
            out.setdefault(a, []).append(b)
            out.setdefault(b, []).append(a)
        return out


@dataclass(frozen=True)
class DocumentMatches:
    """Verified near-duplicate articles (made by `match.documents`)."""

    cluster: np.ndarray
    """Cluster (its smallest document index) per document."""
    sets: ShingleSets
    """Exact shingle sets of the documents that took part in a candidate pair (by index)."""

    def similarity(self, a: int, b: int) -> float:
        """max(Jaccard, containment of the smaller set in the larger)."""
        return float(self.similarities([a], b)[0])

    def similarities(self, docs: np.ndarray, b: int) -> np.ndarray:
        """`similarity(d, b)` of each document d of `docs` (1.0 for b itself), in one call: a
        cluster of thousands of near-identical pages costs array operations, not a call each."""
        import numpy as np

        from .sketch.sets import containment_of, jaccard_of

        docs = np.asarray(docs, dtype=np.int64)
        inter, size_a, size_b = self.sets.measures(docs, np.full(len(docs), b, dtype=np.int64))
        out = np.maximum(jaccard_of(inter, size_a, size_b), containment_of(inter, np.minimum(size_a, size_b)))
        out[docs == b] = 1.0
        return out


class ClusterRecord(NamedTuple):
    """One cluster of the map: what it is and which member was kept (made by `policy`). A named
    tuple, as a run makes one per cluster (a frozen dataclass takes 3x as long to make)."""

    cluster_id: str
    """`s…` segment clusters, `d…` document clusters; content-derived, stable across runs."""
    level: Level
    kind: Kind
    size: int
    """Segments (or articles) in the cluster."""
    n_docs: int
    """Distinct articles in the cluster."""
    rep_doc: int
    """Document index of the representative."""
    rep_segment: int | None
    """Segment index of the representative within its document (None for documents)."""


@dataclass(frozen=True)
class Decisions:
    """What the policy decided: per occurrence (aligned with `Corpus.occ_*`), per document, and
    the clusters, sorted by id. The policy fills the arrays of `empty` in place; nothing changes
    them after it."""

    role: np.ndarray          # int8 Role.code
    kept: np.ndarray          # bool
    cluster: np.ndarray       # int64 index into `clusters`, -1 for none
    kept_doc: np.ndarray      # int64 document index of the copy kept instead, -1 for none
    kept_seg: np.ndarray      # int32 segment index of that copy, -1 for none
    similarity: np.ndarray    # float64, NaN for none
    doc_cluster: np.ndarray   # int64 index into `clusters`, -1 for none
    doc_kept: np.ndarray      # bool
    duplicate_of: np.ndarray  # int64 document index of the representative, -1 for none
    doc_similarity: np.ndarray  # float64, NaN for none
    clusters: tuple[ClusterRecord, ...] = ()

    @classmethod
    def empty(cls, n_occurrences: int, n_docs: int) -> "Decisions":
        """Every segment and document unique and kept, no cluster: what the policy fills in."""
        import numpy as np

        n, d = n_occurrences, n_docs
        return cls(role=np.zeros(n, dtype=np.int8), kept=np.ones(n, dtype=bool),
                   cluster=np.full(n, -1, dtype=np.int64), kept_doc=np.full(n, -1, dtype=np.int64),
                   kept_seg=np.full(n, -1, dtype=np.int32), similarity=np.full(n, np.nan),
                   doc_cluster=np.full(d, -1, dtype=np.int64), doc_kept=np.ones(d, dtype=bool),
                   duplicate_of=np.full(d, -1, dtype=np.int64), doc_similarity=np.full(d, np.nan))
