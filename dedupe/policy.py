"""The cleaning policy: a role and a keep/drop decision for every segment and document.

Near-duplicate groups (see `matching.py`) decide removals:
- a group that holds a known boilerplate line, or that appears in at least
  `boilerplate_min_docs` unrelated articles (near-duplicate articles count once) while no longer
  than `boilerplate_max_words` words, is boilerplate: every copy gets role `boilerplate`;
- otherwise, inside each article the first copy of the group is kept and later copies are
  `repeat`s, each pointing to the copy that was kept; a later copy is a repeat only if its own
  exact Jaccard similarity to that kept copy reaches `segment_threshold` (else it is kept too);
- kept copies are `shared` when their cluster spans several articles, else `first`.
Document clusters keep one representative (`doc_representative`) and mark the others.
Cluster ids are content-derived (a hash of the representative's match key, or of the
representative article's id), so they do not depend on run order.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from .candidates import containment, jaccard
from .config import Config
from .corpus import Corpus
from .matching import DocumentMatches, SegmentMatches
from .model import Kind, Role


@dataclass(frozen=True)
class ClusterRow:
    cluster_id: str
    level: str
    kind: str
    size: int
    n_docs: int
    representative_doc_id: str
    representative_segment: int | None
    text: str


@dataclass
class Decisions:
    """Per occurrence (aligned with `Corpus.occ_*`), per document, and per cluster."""

    cluster_id: list[str | None]
    role: list[str]
    kept: np.ndarray
    kept_doc: list[str | None]
    kept_seg: list[int | None]
    similarity: list[float | None]
    doc_cluster_id: list[str | None]
    doc_kept: list[bool]
    duplicate_of: list[str | None]
    doc_similarity: list[float | None]
    clusters: list[ClusterRow] = field(default_factory=list)


def stable_id(prefix: str, text: str) -> str:
    return prefix + hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def decide(corpus: Corpus, seg: SegmentMatches, docs: DocumentMatches, config: Config) -> Decisions:
    n_docs = len(corpus.documents)
    doc_ids = [d.doc_id for d in corpus.documents]
    doc_cluster_id, doc_kept, duplicate_of, doc_sim, doc_rows = _decide_documents(corpus, docs, config)

    n = corpus.n_occurrences
    out = Decisions(
        cluster_id=[None] * n, role=[Role.UNIQUE.value] * n, kept=np.ones(n, dtype=bool),
        kept_doc=[None] * n, kept_seg=[None] * n, similarity=[None] * n,
        doc_cluster_id=doc_cluster_id, doc_kept=doc_kept, duplicate_of=duplicate_of,
        doc_similarity=doc_sim,
    )
    occ_doc, occ_seg, occ_uid = corpus.occ_doc.tolist(), corpus.occ_seg.tolist(), corpus.occ_uid.tolist()
    by_cluster: dict[int, list[int]] = defaultdict(list)
    for i, u in enumerate(occ_uid):
        by_cluster[int(seg.cluster[u])].append(i)

    doc_group = docs.cluster
    word_count = [len(k.split(" ")) for k in seg.keys]
    rows: list[ClusterRow] = []
    for members in by_cluster.values():  # occurrences are in corpus order within each cluster
        groups: dict[int, list[int]] = defaultdict(list)
        for i in members:
            groups[int(seg.group[occ_uid[i]])].append(i)
        boiler = {g: _is_boilerplate(g, occ, seg, doc_group, occ_doc, occ_uid, word_count, config)
                  for g, occ in groups.items()}
        if len(members) == 1 and not any(boiler.values()):
            continue  # a unique segment
        cluster_docs = {occ_doc[i] for i in members}
        shared = len(cluster_docs) >= 2

        firsts: list[int] = []
        for g, occ in groups.items():
            if boiler[g]:
                for i in occ:
                    out.role[i] = Role.BOILERPLATE.value
                    out.kept[i] = config.boilerplate_action == "keep"
                continue
            kept_in_doc: dict[int, list[int]] = defaultdict(list)
            for i in occ:
                d = occ_doc[i]
                # A repeat must itself be verified against the copy kept in its article:
                # union-find chains (A~B, B~C) must not delete a C that is not close to A.
                match = next(((f, sim) for f in kept_in_doc[d]
                              if (sim := seg.similarity(occ_uid[i], occ_uid[f])) >= config.segment_threshold),
                             None)
                if match is None:
                    kept_in_doc[d].append(i)
                    firsts.append(i)
                    continue
                f, sim = match
                out.role[i] = Role.REPEAT.value
                out.kept[i] = config.repeat_action == "keep"
                out.kept_doc[i], out.kept_seg[i] = doc_ids[d], occ_seg[f]
                out.similarity[i] = sim
        firsts.sort()
        kept_members = [i for i in members if out.kept[i]]
        rep = firsts[0] if firsts else (kept_members[0] if kept_members else members[0])
        for i in firsts:
            out.role[i] = (Role.SHARED if shared else Role.FIRST).value
            if shared and config.shared_action == "drop" and occ_doc[i] != occ_doc[rep]:
                out.kept[i] = False
                out.kept_doc[i], out.kept_seg[i] = doc_ids[occ_doc[rep]], occ_seg[rep]

        rep_uid = occ_uid[rep]
        cid = stable_id("s", seg.keys[rep_uid])
        for i in members:
            out.cluster_id[i] = cid
            if out.similarity[i] is None:
                out.similarity[i] = seg.similarity(occ_uid[i], rep_uid)
        kind = Kind.BOILERPLATE if any(boiler.values()) else (Kind.SHARED if shared else Kind.REPEAT)
        d_rep = occ_doc[rep]
        rows.append(ClusterRow(cid, "segment", kind.value, len(members), len(cluster_docs),
                               doc_ids[d_rep], occ_seg[rep],
                               corpus.segments[d_rep][occ_seg[rep]].text))
    out.clusters = sorted(rows + doc_rows, key=lambda r: r.cluster_id)
    assert len(out.doc_kept) == n_docs
    return out


def _is_boilerplate(g: int, occ: list[int], seg: SegmentMatches, doc_group: np.ndarray,
                    occ_doc: list[int], occ_uid: list[int], word_count: list[int],
                    config: Config) -> bool:
    if g in seg.known_groups:
        return True
    if len(occ) < config.boilerplate_min_docs:
        return False
    unrelated = {int(doc_group[occ_doc[i]]) for i in occ}
    if len(unrelated) < config.boilerplate_min_docs:
        return False
    return max(word_count[occ_uid[i]] for i in occ) <= config.boilerplate_max_words


def _decide_documents(corpus: Corpus, docs: DocumentMatches, config: Config):
    n = len(corpus.documents)
    doc_ids = [d.doc_id for d in corpus.documents]
    cluster_id: list[str | None] = [None] * n
    kept = [True] * n
    duplicate_of: list[str | None] = [None] * n
    similarity: list[float | None] = [None] * n
    members: dict[int, list[int]] = defaultdict(list)
    for d in range(n):
        members[int(docs.cluster[d])].append(d)
    rows = []
    for group in members.values():
        if len(group) < 2:
            continue
        if config.doc_representative == "longest":
            rep = min(group, key=lambda d: (-len(corpus.documents[d].text), d))
        else:
            rep = group[0]
        cid = stable_id("d", doc_ids[rep])
        for d in group:
            cluster_id[d] = cid
            similarity[d] = 1.0 if d == rep else round(
                max(jaccard(docs.shingles[d], docs.shingles[rep]),
                    containment(*sorted((docs.shingles[d], docs.shingles[rep]), key=len))), 6)
            if d != rep:
                kept[d] = config.duplicate_doc_action == "keep"
                duplicate_of[d] = doc_ids[rep]
        rows.append(ClusterRow(cid, "document", Kind.DUPLICATE_DOCUMENT.value, len(group), len(group),
                               doc_ids[rep], None, corpus.documents[rep].title))
    return cluster_id, kept, duplicate_of, similarity, rows
