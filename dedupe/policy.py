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
import itertools
from collections import defaultdict
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from .config import Config
from .model import (ClusterRecord, Corpus, Decisions, DocumentMatches, Kind, Level, Role,
                    SegmentMatches)
from .sketch.arrays import ranges

UNIQUE, FIRST, REPEAT, BOILERPLATE, SHARED = (role.code for role in
                                              (Role.UNIQUE, Role.FIRST, Role.REPEAT, Role.BOILERPLATE, Role.SHARED))


class _Pending(NamedTuple):
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
    order = sorted(range(len(pending)), key=ids.__getitem__)  # clusters in id order
    clusters = tuple(ClusterRecord(ids[i], *pending[i].fields) for i in order)
    index = np.empty(len(pending), dtype=np.int64)  # each pending cluster's place in `clusters`
    index[order] = np.arange(len(pending))
    sizes = np.fromiter((len(p.members) for p in pending), dtype=np.int64, count=len(pending))
    member = np.fromiter(itertools.chain.from_iterable(p.members for p in pending), dtype=np.int64,
                         count=int(sizes.sum()))
    of_member = np.repeat(index, sizes)
    document = np.repeat(np.fromiter((p.fields[0] is Level.DOCUMENT for p in pending), dtype=bool,
                                     count=len(pending)), sizes)
    dec.cluster[member[~document]] = of_member[~document]
    dec.doc_cluster[member[document]] = of_member[document]
    return replace(dec, clusters=clusters)


def _decide_documents(corpus: Corpus, docs: DocumentMatches, config: Config, doc_ids: list[str],
                      dec: Decisions, pending: list[_Pending]) -> None:
    for group in _groups(docs.cluster):
        if config.doc_representative == "longest":
            rep = min(group, key=lambda d: (-int(corpus.doc_len[d]), d))
        else:
            rep = group[0]
        members = np.array(group, dtype=np.int64)
        dec.doc_similarity[members] = [round(s, 6) for s in docs.similarities(members, rep).tolist()]
        copies = members[members != rep]
        dec.doc_kept[copies] = config.duplicate_doc_action == "keep"
        dec.duplicate_of[copies] = rep
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
    starts, ends = bounds[:-1], bounds[1:]
    plain = _plain(order, starts, ends, occ_group, occ_doc, known | frequent, corpus.key_words[occ_uid], config)
    to_rep, rep_uid = _decide_plain(order, starts[plain], ends[plain], corpus, config, dec, pending)
    doc_group = docs.cluster.tolist()
    uid_list, doc_list, seg_list = occ_uid.tolist(), occ_doc.tolist(), occ_seg.tolist()
    group_list = occ_group.tolist()
    words_list = corpus.key_words.tolist()
    flagged = (known | frequent).tolist()  # either makes the whole group boilerplate

    # to_rep, rep_uid: occurrences whose similarity to their cluster's representative is
    # computed in one batch at the end
    for lo, hi in zip(starts[~plain].tolist(), ends[~plain].tolist()):
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
                found = _first_copy(seg, kept_in_doc[d], i, uid_list, config.segment_threshold)
                if found is None:
                    kept_in_doc[d].append(i)
                    firsts.append(i)
                    continue
                f, similarity = found
                dec.role[i] = REPEAT
                dec.kept[i] = config.repeat_action == "keep"
                dec.kept_doc[i], dec.kept_seg[i] = d, seg_list[f]
                dec.similarity[i] = seg.similarity(uid_list[i], uid_list[f]) if similarity is None else similarity
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


def _plain(order: np.ndarray, starts: np.ndarray, ends: np.ndarray, occ_group: np.ndarray,
           occ_doc: np.ndarray, flagged: np.ndarray, occ_words: np.ndarray, config: Config) -> np.ndarray:
    """Per cluster (occurrences order[starts[c]:ends[c]], in corpus order): whether it is plain,
    every near-duplicate group in it with at most one copy per article and no sign of
    boilerplate (no flagged copy; fewer than `boilerplate_min_docs` copies, or one longer than
    `boilerplate_max_words` words). Most clusters are; `_decide_plain` decides them as the
    loop of `_decide_segments` would, as array operations."""
    sizes = ends - starts
    cluster = np.repeat(np.arange(len(starts)), sizes)
    group = occ_group[order]
    by_group = np.lexsort((group, cluster))  # stable: each group's copies stay in corpus order
    group, cluster, doc = group[by_group], cluster[by_group], occ_doc[order][by_group]
    new = np.r_[True, (group[1:] != group[:-1]) | (cluster[1:] != cluster[:-1])]
    runs = np.flatnonzero(new)  # the groups of each cluster
    # a group's documents ascend: an article with two of its copies gives two equal neighbours
    twice = np.add.reduceat(np.r_[False, doc[1:] == doc[:-1]] & ~new, runs) > 0
    flags = np.add.reduceat(flagged[order][by_group], runs) > 0  # (a sum: reduceat adds booleans as ints)
    short = np.maximum.reduceat(occ_words[order][by_group], runs) <= config.boilerplate_max_words
    many = np.diff(np.r_[runs, len(group)]) >= config.boilerplate_min_docs
    plain = np.ones(len(starts), dtype=bool)
    plain[cluster[runs][twice | flags | (many & short)]] = False
    return plain


def _decide_plain(order: np.ndarray, starts: np.ndarray, ends: np.ndarray, corpus: Corpus, config: Config,
                  dec: Decisions, pending: list[_Pending]) -> tuple[list[int], list[int]]:
    """Decide the plain clusters (`_plain`): every copy is the first of its group in its
    article, so each is kept, `shared` when the cluster spans several articles (`first`
    otherwise), and the cluster's first copy is its representative (copies in other articles are
    dropped for it when `shared_action` is drop). Returns the occurrences and their
    representatives' uids, for the similarities computed at the end."""
    if len(starts) == 0:
        return [], []
    sizes = ends - starts
    members = order[ranges(starts, sizes)]
    first = order[starts]
    rep = np.repeat(first, sizes)
    doc = corpus.occ_doc[members]
    changes = np.r_[True, doc[1:] != doc[:-1]]  # documents ascend inside a cluster
    changes[np.r_[0, np.cumsum(sizes)[:-1]]] = True
    n_docs = np.add.reduceat(changes, np.r_[0, np.cumsum(sizes)[:-1]])
    shared = np.repeat(n_docs >= 2, sizes)
    dec.role[members] = np.where(shared, SHARED, FIRST)
    if config.shared_action == "drop":
        dropped = shared & (doc != corpus.occ_doc[rep])
        dec.kept[members[dropped]] = False
        dec.kept_doc[members[dropped]] = corpus.occ_doc[rep[dropped]]
        dec.kept_seg[members[dropped]] = corpus.occ_seg[rep[dropped]]
    member_list, cuts = members.tolist(), np.r_[0, np.cumsum(sizes)].tolist()
    for k, (r_doc, r_seg, r_uid, size, docs) in enumerate(zip(
            corpus.occ_doc[first].tolist(), corpus.occ_seg[first].tolist(), corpus.occ_uid[first].tolist(),
            sizes.tolist(), n_docs.tolist())):
        fields = (Level.SEGMENT, Kind.SHARED if docs >= 2 else Kind.REPEAT, size, docs, r_doc, r_seg)
        pending.append(_Pending(fields, member_list[cuts[k]:cuts[k + 1]], r_uid))
    return member_list, corpus.occ_uid[rep].tolist()


def _segment_kind(boilerplate: bool, shared: bool) -> Kind:
    """A segment cluster is boilerplate if any of its groups is; else shared if it spans
    several articles; else a repeat inside one article."""
    if boilerplate:
        return Kind.BOILERPLATE
    return Kind.SHARED if shared else Kind.REPEAT


SCAN_KEPT_UP_TO = 16
"""Kept copies of a group in one article that `_first_copy` checks one by one; beyond, in one
array call (a page of thousands of lines that chain into one group keeps hundreds)."""


def _first_copy(seg: SegmentMatches, kept: list[int], i: int, uid_list: list[int],
                threshold: float) -> tuple[int, float | None] | None:
    """(f, similarity): the first of the occurrences `kept` (the copies of a group kept so far
    in an article, in order) that occurrence i is a copy of (`SegmentMatches.copy_similarity`),
    and their similarity when it was computed here (else None); or None."""
    u = uid_list[i]
    if len(kept) <= SCAN_KEPT_UP_TO:
        for f in kept:
            similarity = seg.copy_similarity(uid_list[f], u, threshold)
            if similarity is not None:
                return f, similarity
        return None
    first = np.flatnonzero(seg.are_copies([uid_list[f] for f in kept], u, threshold))
    return (kept[int(first[0])], None) if len(first) else None


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
    tmpl, group = tmpl[has], doc_group[corpus.occ_doc[has]]
    # distinct (template, group) pairs by one lexsort (np.unique(axis=0) sorts rows as opaque
    # bytes, 5x slower), then the distinct groups per template
    order = np.lexsort((group, tmpl))
    tmpl, group = tmpl[order], group[order]
    tmpl = tmpl[np.r_[True, (tmpl[1:] != tmpl[:-1]) | (group[1:] != group[:-1])][:len(tmpl)]]
    starts = np.flatnonzero(np.r_[True, tmpl[1:] != tmpl[:-1]][:len(tmpl)])
    frequent = tmpl[starts][np.diff(np.r_[starts, len(tmpl)]) >= config.boilerplate_min_docs]
    return (corpus.key_template != 0) & np.isin(corpus.key_template, frequent) \
        & (corpus.key_words <= config.boilerplate_max_words)


def _groups(roots: np.ndarray) -> list[list[int]]:
    """Members (ascending) of every root with at least two, in order of the smallest member."""
    order = np.argsort(roots, kind="stable")
    sorted_roots = roots[order]
    bounds = np.flatnonzero(np.r_[True, sorted_roots[1:] != sorted_roots[:-1], True])
    out = [order[lo:hi].tolist() for lo, hi in zip(bounds[:-1], bounds[1:]) if hi - lo >= 2]
    return sorted(out, key=lambda g: g[0])
