"""The corpus in matching form, built in one streaming pass over the staged documents.

Segments with the same match key (same words after normalisation) are exact duplicates, so
matching works on the distinct keys ("texts", numbered by `uid`) and every occurrence points to
its text. Memory holds only fixed-size arrays per occurrence and per text, plus a hash table
from key hash to uid; the keys themselves and their signatures go to files in the staging
directory (`store.py`).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .prepare import key_hash, prepare_all
from .sketch import ShingleSets, word_shingle_sets
from .store import DocumentStore, SignatureFile, TextStore

CONTAINMENT_SAMPLE_FROM = 100_000  # passages; larger runs estimate containment on a sample
CONTAINMENT_SAMPLE_RATE = 4


@dataclass
class Corpus:
    docs: DocumentStore
    keys: TextStore
    """Match key per uid: the corpus' distinct texts, then known boilerplate lines not in it."""
    n_texts: int
    """uids below this occur in the corpus; the rest are known boilerplate lines."""
    key_words: np.ndarray
    """Word count per uid."""
    key_sigs: np.ndarray
    """(uids, num_perm) MinHash signatures of word shingles, memory-mapped."""
    passages: ShingleSets
    """Word shingle sets of the corpus texts of at least `min_containment_words` words (ids:
    uids), the containment candidates: exact, or their consistent 1-in-CONTAINMENT_SAMPLE_RATE
    sample when there are more than CONTAINMENT_SAMPLE_FROM."""
    key_template: np.ndarray
    """Template hash per uid (names and numbers masked; 0 when not a template), see templates.py."""
    extensions: np.ndarray
    """(k, 2) uid pairs of segments of one article where one nearly repeats the other
    (nearcopy.py: a few words inserted or deleted, or a paragraph glued from two others)."""
    known_uids: np.ndarray
    """uid of every known boilerplate line."""
    occ_doc: np.ndarray
    """Per occurrence (all segments of all documents, in order): document index (int32)."""
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
    """(documents, num_perm) signatures of each article's character shingles."""
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


def build(stage: Path, docs: DocumentStore, known: list[str], settings: dict,
          executor: Executor | None = None) -> Corpus:
    """One pass over the staged documents: segments, distinct keys, signatures."""
    num_perm = settings["num_perm"]
    keys = TextStore(stage / "keys.arrow")
    sigs = SignatureFile(stage / "key_sigs.u32", num_perm)
    uid_of: dict[int, int] = {}
    passages = _PassageSets()
    key_words: list[np.ndarray] = []
    key_template: list[np.ndarray] = []
    extensions: set[tuple[int, int]] = set()
    occ_doc, occ_uid, occ_start, occ_len, counts, doc_sigs, doc_sample = [], [], [], [], [], [], []
    doc_words, doc_len, doc_key, doc_signed, doc_size = [], [], [], [], []
    batches = (data["text"] for _, data in docs.iter_batches(("text",)))
    first_doc = 0
    for batch in prepare_all(batches, settings, executor):
        hashes = batch.key_hash.tolist()
        fresh = [i for i, h in enumerate(hashes) if h not in uid_of]
        first_uid = len(uid_of)
        for i in fresh:
            uid_of[hashes[i]] = len(uid_of)
        fresh_passages = np.intersect1d(batch.key_passages.ids, np.array(fresh, dtype=np.int64))
        passages.add(batch.key_passages.take(
            fresh_passages, ids=first_uid + np.searchsorted(fresh, fresh_passages)))
        keys.append([batch.keys[i] for i in fresh])
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
    for k in known:
        h = key_hash(k)
        if h not in uid_of:
            uid_of[h] = len(uid_of)
            extra.append(k)
        known_uids.append(uid_of[h])
    if extra:
        _, extra_sigs = word_shingle_sets(extra, settings["shingle_size"], num_perm, settings["seed"])
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
        key_sigs=sigs.array(), passages=passages.sets(), known_uids=np.array(known_uids, dtype=np.int64),
        key_template=_cat(key_template, np.uint64),
        extensions=np.array(sorted(extensions), dtype=np.int64).reshape(-1, 2),
        occ_doc=occ_doc_all, occ_seg=occ_seg, occ_uid=_cat(occ_uid, np.int64),
        occ_start=_cat(occ_start, np.int32), occ_len=_cat(occ_len, np.int32), doc_offsets=doc_offsets,
        doc_sigs=np.concatenate(doc_sigs) if doc_sigs else np.empty((0, num_perm), np.uint32),
        doc_sample=ShingleSets.concat(doc_sample), doc_words=_cat(doc_words, np.int64), doc_len=_cat(doc_len, np.int64),
        doc_key=_cat(doc_key, np.uint64), doc_signed=_cat(doc_signed, bool),
        doc_size=_cat(doc_size, np.int64),
    )


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
