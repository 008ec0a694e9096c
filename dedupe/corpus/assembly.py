"""Corpus assembly: the `Corpus` (model.py) built in one streaming pass over the staged documents.

Batches are prepared by the engine (`prepare.prepare_batch`, in order); this pass numbers the
distinct match keys (uids) in first-seen order, so uids do not depend on the batches. Memory
holds only fixed-size arrays per occurrence and per text, plus a hash table from key hash to
uid; the keys themselves and their signatures go to files in the staging directory
(`io.stores`). Texts from history follow the corpus' own.
"""

from __future__ import annotations

import logging
from collections import deque
from functools import partial
from pathlib import Path
from typing import Iterator

import numpy as np

from ..config import Config
from ..engines import Engine
from ..engines.local import workers
from ..history import KnownTexts
from ..io.stores import DocumentStore, SignatureFile, TextStore
from ..io.utf8 import utf8_of
from ..model import Corpus
from ..progress import track
from ..sketch.sets import ShingleSets, word_shingle_sets
from .keys import key_hash
from .cache import PreparedCache
from .partitions import partitions, prepare_partition, read_partition
from .prepare import EncodedTexts, PreparedBatch, prepare_batch, prepare_encoded

log = logging.getLogger("dedupe")

TASKS_PER_WORKER = 4  # partitions per worker, for an engine that takes paths (`partitions.py`)
LAST_PIECES_PER_WORKER = 2  # pieces per worker of the last row group on a pool (`_prepared`)
CONTAINMENT_SAMPLE_FROM = 100_000  # passages; larger runs estimate containment on a sample
CONTAINMENT_SAMPLE_RATE = 4


def build(stage: Path, docs: DocumentStore, config: Config, known: KnownTexts, engine: Engine,
          cache: PreparedCache | None = None) -> Corpus:
    """One pass over the staged documents: segments, distinct keys, signatures; the known
    texts are appended after the corpus' own. Batches prepared by an earlier run come from
    `cache` when given (`cache.py`)."""
    num_perm = config.num_perm
    keys = TextStore(stage / "keys.arrow")
    sigs = SignatureFile(stage / "key_sigs.u32", num_perm)
    uid_of: dict[int, int] = {}
    passages = _PassageSets()
    key_words: list[np.ndarray] = []
    key_template: list[np.ndarray] = []
    extensions: set[tuple[int, int]] = set()
    occ_doc, occ_uid, occ_start, occ_len, counts, doc_sigs, doc_sample = [], [], [], [], [], [], []
    doc_words, doc_len, doc_key, doc_signed, doc_size = [], [], [], [], []
    first_doc = 0
    row_groups = track(_prepared(stage, docs, config, engine, cache), docs.row_groups, "segment and sign")
    for batch in (batch for pieces in row_groups for batch in pieces):
        hashes = batch.key_hash.tolist()
        fresh = [i for i, h in enumerate(hashes) if h not in uid_of]
        first_uid = len(uid_of)
        for i in fresh:
            uid_of[hashes[i]] = len(uid_of)
        is_fresh = np.zeros(len(hashes), dtype=bool)
        is_fresh[fresh] = True
        fresh_passages = batch.key_passages.ids[is_fresh[batch.key_passages.ids]]  # ids ascending
        passages.add(batch.key_passages.take(
            fresh_passages, ids=first_uid + np.searchsorted(fresh, fresh_passages)))
        keys.append_encoded(batch.key_text, batch.key_offsets, fresh)
        sigs.append(batch.key_sigs[fresh])
        key_words.append(batch.key_words[fresh])
        key_template.append(batch.key_template[fresh])
        for a, b in batch.extensions:
            ua, ub = uid_of[a], uid_of[b]
            extensions.add((min(ua, ub), max(ua, ub)))
        occ_uid.append(np.array([uid_of[h] for h in batch.seg_key.tolist()], dtype=np.int64))
        occ_doc.append(batch.seg_doc.astype(np.int32) + first_doc)
        occ_start.append(batch.seg_start)
        occ_len.append(batch.seg_end - batch.seg_start)
        counts.append(np.bincount(batch.seg_doc, minlength=len(batch.doc_sigs)))
        doc_sigs.append(batch.doc_sigs)
        doc_sample.append(batch.doc_sample)
        doc_words.append(batch.doc_words)
        doc_len.append(batch.doc_len)
        doc_key.append(batch.doc_key)
        doc_signed.append(batch.doc_signed)
        doc_size.append(batch.doc_size)
        first_doc += len(batch.doc_sigs)

    n_texts = len(uid_of)
    known_uids = []
    extra = []
    for k, boilerplate in zip(known.keys, known.boilerplate):
        h = key_hash(k)
        if h not in uid_of:
            uid_of[h] = len(uid_of)
            extra.append(k)
        if boilerplate:
            known_uids.append(uid_of[h])
    if extra:
        _, extra_sigs = word_shingle_sets(extra, config.shingle_size, num_perm, config.seed)
        keys.append(extra)
        sigs.append(extra_sigs)
        key_words.append(np.array([len(k.split(" ")) for k in extra], dtype=np.int32))
        key_template.append(np.zeros(len(extra), dtype=np.uint64))
    keys.close()
    sigs.close()

    doc_counts = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    doc_offsets = np.zeros(len(doc_counts) + 1, dtype=np.int64)
    np.cumsum(doc_counts, out=doc_offsets[1:])
    occ_doc_all = _cat(occ_doc, np.int32)
    occ_seg = (np.arange(len(occ_doc_all), dtype=np.int64) - doc_offsets[occ_doc_all]).astype(np.int32)
    return Corpus(
        docs=docs, keys=keys, n_texts=n_texts, key_words=_cat(key_words, np.int32),
        key_sigs=sigs.array(), passages=passages.sets(), passage_rate=passages.rate,
        known_uids=np.array(known_uids, dtype=np.int64),
        key_template=_cat(key_template, np.uint64),
        extensions=np.array(sorted(extensions), dtype=np.int64).reshape(-1, 2),
        occ_doc=occ_doc_all, occ_seg=occ_seg, occ_uid=_cat(occ_uid, np.int64),
        occ_start=_cat(occ_start, np.int32), occ_len=_cat(occ_len, np.int32), doc_offsets=doc_offsets,
        doc_sigs=np.concatenate(doc_sigs) if doc_sigs else np.empty((0, num_perm), np.uint32),
        doc_sample=ShingleSets.concat(doc_sample), doc_words=_cat(doc_words, np.int64), doc_len=_cat(doc_len, np.int64),
        doc_key=_cat(doc_key, np.uint64), doc_signed=_cat(doc_signed, bool),
        doc_size=_cat(doc_size, np.int64),
    )


def _prepared(stage: Path, docs: DocumentStore, config: Config, engine: Engine,
              cache: PreparedCache | None) -> Iterator[list[PreparedBatch]]:
    """The prepared batches in document order, as a list per row group (a pool gets row groups
    cut into pieces; progress counts row groups): texts sent to the engine, or, for an engine
    that takes paths (`Engine.by_path`), partitions of the staged input prepared into Parquet
    parts."""
    if cache is None and getattr(engine, "by_path", False):
        refs = partitions(docs.path, docs.row_groups, tasks=config.partitions or TASKS_PER_WORKER * workers(config))
        written = 0
        for folders in engine.map(partial(prepare_partition, config=config), refs):
            for folder in folders:
                written += sum(f.stat().st_size for f in Path(folder).iterdir())
                yield [read_partition(folder)]
        log.info("%d partitions prepared by path: %.1f MB of Parquet parts, %.0f bytes per document",
                 len(refs), written / 1e6, written / max(docs.count, 1))
        return
    pool = getattr(engine, "workers", 1)  # a local pool's worker processes (other engines: none)
    if cache is None and pool > 1:
        # Batches go to the pool's processes as their UTF-8 bytes, cut from the staged column
        # (no Python strings here). A few row groups on a pool leave workers idle at the end:
        # they are cut into pieces so that each worker gets about TASKS_PER_WORKER, and the last
        # into LAST_PIECES_PER_WORKER per worker, so the workers finish about together (a piece
        # is prepared as a batch would be).
        pieces = max(1, -(-TASKS_PER_WORKER * pool // max(docs.row_groups, 1)))
        counts: deque[int] = deque()  # pieces of each row group sent, in order

        def cut(tables: Iterator[tuple[int, object]]) -> Iterator[EncodedTexts]:
            for g, (_, table) in enumerate(tables):
                last = g == docs.row_groups - 1
                row_group = _encoded(table.column("text"), max(pieces, LAST_PIECES_PER_WORKER * pool) if last
                                     else pieces)
                counts.append(len(row_group))
                yield from row_group

        results = engine.map(partial(prepare_encoded, config=config), cut(docs.iter_tables(("text",))))
        for first in results:  # a row group's pieces were counted before the first was sent
            yield [first] + [next(results) for _ in range(counts.popleft() - 1)]
        return
    batches = (data["text"] for _, data in docs.iter_batches(("text",)))
    prepare = partial(prepare_batch, config=config) if cache is None else partial(cache.prepare, config=config)
    for batch in engine.map(prepare, batches):
        yield [batch]


def _encoded(column, pieces: int) -> list[EncodedTexts]:
    """The texts of a staged column in `pieces` consecutive batches (`_cuts`) of UTF-8 bytes."""
    data, offsets = utf8_of(column)
    return [EncodedTexts(data[offsets[lo]: offsets[hi]], offsets[lo: hi + 1] - offsets[lo])
            for lo, hi in _cuts(len(offsets) - 1, pieces)]


def _cuts(n: int, pieces: int) -> list[tuple[int, int]]:
    """(lo, hi) of `pieces` consecutive parts of n items, of sizes differing by at most one
    (fewer parts when n is smaller)."""
    bounds = [n * k // pieces for k in range(pieces + 1)]
    return [(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


class _PassageSets:
    """Collects the passages' shingle sets batch by batch, in uid order; once there are more
    than CONTAINMENT_SAMPLE_FROM, holds only their 1-in-CONTAINMENT_SAMPLE_RATE sample (the
    decision is the same whatever the batches)."""

    def __init__(self) -> None:
        self.parts: list[ShingleSets] = []
        self.count = 0
        self.rate = 1

    def add(self, sets: ShingleSets) -> None:
        self.count += len(sets)
        if self.rate == 1 and self.count > CONTAINMENT_SAMPLE_FROM:
            self.rate = CONTAINMENT_SAMPLE_RATE
            self.parts = [p.sample(self.rate) for p in self.parts]
        self.parts.append(sets.sample(self.rate))

    def sets(self) -> ShingleSets:
        return ShingleSets.concat(self.parts, ids=_cat([p.ids for p in self.parts], np.int64))


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)
