"""The cleaning policy: a role and a keep/drop decision for every segment and document.

Near-duplicate groups (see `match/segments.py`) decide removals:
- a group that holds a known boilerplate line, or that appears in at least
  `boilerplate_min_docs` unrelated articles (near-duplicate articles count once) while no longer
  than `boilerplate_max_words` words, or whose template (names and numbers masked, see
  text/templates.py) does, is boilerplate: every copy gets role `boilerplate`;
- otherwise, inside each article the first copy of the group is kept and later copies are
  `repeat`s, each pointing to the copy that was kept; a later copy is a repeat only if its own
  exact Jaccard similarity to that kept copy reaches `segment_threshold`, or it is that copy
  with a few words added at one end (a credit, a dateline), else it is kept too;
- kept copies are `shared` when their cluster spans several articles, else `first`.
Document clusters keep one representative (`doc_representative`) and mark the others.
Cluster ids are content-derived (a hash of the representative's match key, or of the
representative article's id), so they do not depend on run order.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from .config import Config
from .model import (ClusterRecord, Corpus, Decisions, DocumentMatches, Kind, Level, Role,
                    SegmentMatches)

UNIQUE, FIRST, REPEAT, BOILERPLATE, SHARED = (role.code for role in
                                              (Role.UNIQUE, Role.FIRST, Role.REPEAT, Role.BOILERPLATE, Role.SHARED))


@dataclass(frozen=True)
class _Pending:
    """A cluster before its id is known: the id derives from `source`, a representative uid's
    key (segment clusters) or the representative's doc_id (document clusters)."""

    fields: tuple  # the ClusterRecord's fields after its cluster_id, starting with the level
    members: list[int]
    source: int | str


def stable_id(prefix: str, text: str) -> str:
    return prefix + hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def decide(corpus: Corpus, seg: SegmentMatches, docs: DocumentMatches, config: Config,
           doc_ids: list[str]) -> Decisions:
    dec = Decisions.empty(corpus.n_occurrences, corpus.n_docs)
    pending: list[_Pending] = []
    _decide_documents(corpus, docs, config, doc_ids, dec, pending)
    _decide_segments(corpus, seg, docs, config, dec, pending)

    keys = iter(corpus.keys.get([p.source for p in pending if isinstance(p.source, int)]))
    ids = [stable_id("s", next(keys)) if isinstance(p.source, int) else stable_id("d", p.source)
           for p in pending]
    clusters = []
    for index, (cluster_id, p) in enumerate(sorted(zip(ids, pending), key=lambda item: item[0])):
        (dec.cluster if p.fields[0] is Level.SEGMENT else dec.doc_cluster)[p.members] = index
        clusters.append(ClusterRecord(cluster_id, *p.fields))  # not dataclasses.replace: 10x slower
    return replace(dec, clusters=tuple(clusters))


def _decide_documents(corpus: Corpus, docs: DocumentMatches, config: Config, doc_ids: list[str],
                      dec: Decisions, pending: list[_Pending]) -> None:
    for group in _groups(docs.cluster):
        if config.doc_representative == "longest":
            rep = min(group, key=lambda d: (-int(corpus.doc_len[d]), d))
        else:
            rep = group[0]
        for d in group:
            dec.doc_similarity[d] = round(docs.similarity(d, rep), 6)
            if d != rep:
                dec.doc_kept[d] = config.duplicate_doc_action == "keep"
                dec.duplicate_of[d] = rep
        fields = (Level.DOCUMENT, Kind.DUPLICATE_DOCUMENT, len(group), len(group), rep, None)
        pending.append(_Pending(fields, group, doc_ids[rep]))


def _decide_segments(corpus: Corpus, seg: SegmentMatches, docs: DocumentMatches, config: Config,
                     dec: Decisions, pending: list[_Pending]) -> None:
    occ_uid, occ_doc, occ_seg = corpus.occ_uid, corpus.occ_doc, corpus.occ_seg
    occ_cluster = seg.cluster[occ_uid]
    occ_group = seg.group[occ_uid]
    known = np.isin(occ_group, np.array(sorted(seg.known_groups), dtype=np.int64))
    frequent = _frequent_templates(corpus, docs.cluster, config)[occ_uid]
    size = np.bincount(occ_cluster, minlength=len(seg.cluster))
    interesting = np.flatnonzero((size[occ_cluster] >= 2) | known | frequent)
    if len(interesting) == 0:
        return
    order = interesting[np.argsort(occ_cluster[interesting], kind="stable")]
    bounds = np.flatnonzero(np.r_[True, occ_cluster[order][1:] != occ_cluster[order][:-1], True])
    doc_group = docs.cluster.tolist()
    uid_list, doc_list, seg_list = occ_uid.tolist(), occ_doc.tolist(), occ_seg.tolist()
    group_list = occ_group.tolist()
    words_list = corpus.key_words.tolist()
    flagged = (known | frequent).tolist()  # either makes the whole group boilerplate

    to_rep: list[int] = []  # occurrences whose similarity to their cluster's representative
    rep_uid: list[int] = []  # is computed in one batch at the end
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        members = order[lo:hi].tolist()  # occurrences of one cluster, in corpus order
        groups: dict[int, list[int]] = defaultdict(list)
        for i in members:
            groups[group_list[i]].append(i)
        boiler = {g: _is_boilerplate(occ, flagged, doc_group, doc_list, uid_list, words_list, config)
                  for g, occ in groups.items()}
        cluster_docs = {doc_list[i] for i in members}
        shared = len(cluster_docs) >= 2

        firsts: list[int] = []
        repeats: set[int] = set()
        for g, occ in groups.items():
            if boiler[g]:
                dec.role[occ] = BOILERPLATE
                dec.kept[occ] = config.boilerplate_action == "keep"
                continue
            kept_in_doc: dict[int, list[int]] = defaultdict(list)
            for i in occ:
                d = doc_list[i]
                # A repeat must itself be verified against the copy kept in its article:
                # union-find chains (A~B, B~C) must not delete a C that is not close to A.
                f = next((f for f in kept_in_doc[d]
                          if seg.is_copy(uid_list[f], uid_list[i], config.segment_threshold)), None)
                if f is None:
                    kept_in_doc[d].append(i)
                    firsts.append(i)
                    continue
                dec.role[i] = REPEAT
                dec.kept[i] = config.repeat_action == "keep"
                dec.kept_doc[i], dec.kept_seg[i] = d, seg_list[f]
                dec.similarity[i] = seg.similarity(uid_list[i], uid_list[f])
                repeats.add(i)
        firsts.sort()
        kept_members = [i for i in members if dec.kept[i]]
        rep = firsts[0] if firsts else (kept_members[0] if kept_members else members[0])
        for i in firsts:
            dec.role[i] = SHARED if shared else FIRST
            if shared and config.shared_action == "drop" and doc_list[i] != doc_list[rep]:
                dec.kept[i] = False
                dec.kept_doc[i], dec.kept_seg[i] = doc_list[rep], seg_list[rep]
        unset = [i for i in members if i not in repeats]  # the others' similarity is set
        to_rep.extend(unset)
        rep_uid.extend([uid_list[rep]] * len(unset))
        fields = (Level.SEGMENT, _segment_kind(any(boiler.values()), shared), len(members), len(cluster_docs),
                  doc_list[rep], seg_list[rep])
        pending.append(_Pending(fields, members, uid_list[rep]))
    if to_rep:
        occ, u, v = np.array(to_rep), occ_uid[to_rep], np.array(rep_uid, dtype=np.int64)
        sim = np.ones(len(occ))
        differ = u != v
        if differ.any():
            sim[differ] = seg.sets.jaccard(u[differ], v[differ])
        dec.similarity[occ] = sim


def _segment_kind(boilerplate: bool, shared: bool) -> Kind:
    """A segment cluster is boilerplate if any of its groups is; else shared if it spans
    several articles; else a repeat inside one article."""
    if boilerplate:
        return Kind.BOILERPLATE
    return Kind.SHARED if shared else Kind.REPEAT


def _is_boilerplate(occ: list[int], flagged: list[bool], doc_group: list[int], doc_list: list[int],
                    uid_list: list[int], words_list: list[int], config: Config) -> bool:
    """flagged: per occurrence, a known line or a frequent template."""
    if any(flagged[i] for i in occ):
        return True
    if len(occ) < config.boilerplate_min_docs:
        return False
    unrelated = {doc_group[doc_list[i]] for i in occ}
    if len(unrelated) < config.boilerplate_min_docs:
        return False
    return max(words_list[uid_list[i]] for i in occ) <= config.boilerplate_max_words


def _frequent_templates(corpus: Corpus, doc_group: np.ndarray, config: Config) -> np.ndarray:
    """Per uid: its template (see text/templates.py) occurs in >= boilerplate_min_docs unrelated
    articles (near-duplicate articles counting once), so it is site furniture."""
    tmpl = corpus.key_template[corpus.occ_uid]
    has = tmpl != 0
    pairs = np.unique(np.stack([tmpl[has], doc_group[corpus.occ_doc[has]].astype(np.uint64)], axis=1), axis=0)
    values, counts = np.unique(pairs[:, 0], return_counts=True)
    frequent = values[counts >= config.boilerplate_min_docs]
    return (corpus.key_template != 0) & np.isin(corpus.key_template, frequent) \
        & (corpus.key_words <= config.boilerplate_max_words)


def _groups(roots: np.ndarray) -> list[list[int]]:
    """Members (ascending) of every root with at least two, in order of the smallest member."""
    order = np.argsort(roots, kind="stable")
    sorted_roots = roots[order]
    bounds = np.flatnonzero(np.r_[True, sorted_roots[1:] != sorted_roots[:-1], True])
    out = [order[lo:hi].tolist() for lo, hi in zip(bounds[:-1], bounds[1:]) if hi - lo >= 2]
    return sorted(out, key=lambda g: g[0])
