"""The per-batch prepare pass over documents: segments, match keys, templates, in-article near
copies, and signatures.

`prepare_batch` is a pure function of a batch of texts and the config, so an engine may run
batches anywhere (`engines`) and the result does not depend on how the corpus was cut into
batches or where they ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..sketch.hashing import hash_joined_words
from ..sketch.sets import ShingleSets, word_hash_shingle_sets
from ..text.nearcopy import KeyTable, batch_link_ids
from ..text.templates import template_keys
from .keys import (DOC_CONTAINMENT_SAMPLE, document_shingle_sets, encoded_key_hash, joined_keys, key_hash,
                   segment_keys)


FORMAT = 2
"""The layout of `PreparedBatch`: part of the digest of a cached batch (`cache.py`), so a cache
written by code with another layout is not read back."""


@dataclass
class PreparedBatch:
    # per segment, in document order
    seg_doc: np.ndarray      # int32, document index within the batch
    seg_start: np.ndarray    # int32
    seg_end: np.ndarray      # int32
    seg_words: np.ndarray    # int32, word count of the match key
    seg_key: np.ndarray      # uint64, hash of the match key
    # distinct keys of the batch, first-seen order: key i is the UTF-8 text
    # key_text[key_offsets[i]:key_offsets[i+1]] (stored from these bytes, `TextStore.append_encoded`)
    key_text: np.ndarray     # uint8
    key_offsets: np.ndarray  # int64, one more than the keys
    key_hash: np.ndarray     # uint64
    key_words: np.ndarray    # int32
    key_sigs: np.ndarray     # (keys, num_perm) uint32, word shingles
    key_passages: ShingleSets  # exact word shingle sets of the keys of at least
    # min_containment_words words (containment candidates); ids: positions of the keys
    key_template: np.ndarray  # uint64 template hash of each key's first occurrence, 0 if none
    extensions: list[tuple[int, int]]  # key hashes of segments of one article where one nearly
    # repeats the other (nearcopy.py)
    # per document
    doc_sigs: np.ndarray     # (n_docs, num_perm) uint32, character shingles of the whole text
    doc_sample: ShingleSets  # sampled character shingles for the containment index
    doc_words: np.ndarray    # int64, words per document
    doc_key: np.ndarray      # uint64, hash of the whole match text (exact duplicate articles)
    doc_signed: np.ndarray   # bool, the sampled shingle set is not empty (the signature means something)
    doc_size: np.ndarray     # int64, size of the signed (sampled) shingle set
    doc_len: np.ndarray      # int64, characters per document text


@dataclass(frozen=True)
class EncodedTexts:
    """A batch of texts as one UTF-8 buffer and each text's byte offsets: how a batch crosses to
    a worker process. Cut from the staged column's own buffer (`assembly`), it needs no Python
    strings in the process sending it, and pickles as two arrays, which travel out of band
    (`engines.transfer`); the worker decodes it (`prepare_encoded`)."""

    data: np.ndarray     # uint8
    offsets: np.ndarray  # int64, len(texts) + 1, from 0

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def texts(self) -> list[str]:
        view = memoryview(self.data)
        bounds = self.offsets.tolist()
        return [str(view[a:b], "utf-8") for a, b in zip(bounds[:-1], bounds[1:])]


def prepare_encoded(batch: EncodedTexts, config: Config) -> PreparedBatch:
    """`prepare_batch` of an encoded batch."""
    return prepare_batch(batch.texts(), config)


def prepare_batch(texts: list[str], config: Config) -> PreparedBatch:
    """Segments, distinct keys and signatures of one batch of article texts."""
    max_template_words = config.boilerplate_max_words
    seg_doc, seg_start, seg_end, seg_keys, seg_words = segment_keys(texts, config.segmentation)

    index: dict[str, int] = {}  # key -> its position in first-seen order
    key_words: list[int] = []
    templated: list[int] = []  # keys short enough to be furniture, and their first texts
    template_texts: list[str] = []
    seg_id: list[int] = []
    for key, n, d, start, end in zip(seg_keys, seg_words, seg_doc, seg_start, seg_end):
        k = index.get(key)
        if k is None:
            k = index[key] = len(key_words)
            if n <= max_template_words:
                templated.append(k)
                template_texts.append(texts[d][start:end])
            key_words.append(n)
        seg_id.append(k)
    keys = list(index)
    encoded = [k.encode("utf-8") for k in keys]
    hashes = np.array([encoded_key_hash(b) for b in encoded], dtype=np.uint64)
    key_offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=key_offsets[1:])
    key_template = np.zeros(len(key_words), dtype=np.uint64)
    key_template[templated] = np.array(template_keys(template_texts), dtype=np.uint64)
    # The keys' word hashes, once: for the near copies and for the keys' shingles (a key of no
    # words, a text of no word characters, has its words hashed as an empty text's: none).
    table = KeyTable(keys, *hash_joined_words(b"\n".join([b if w else b"" for b, w in zip(encoded, key_words)]),
                                              len(keys)))
    hash_of = hashes.tolist()
    extensions = [(hash_of[a], hash_of[b]) for a, b in batch_link_ids(seg_doc, seg_id, seg_words, table)]
    doc_texts = joined_keys(len(texts), seg_doc, seg_keys, seg_words)

    key_sets, key_sigs = word_hash_shingle_sets(table.words, table.offsets, config.shingle_size, config.num_perm,
                                                config.seed, sets=True)
    passages = np.flatnonzero(np.array(key_words, dtype=np.int64) >= config.min_containment_words)
    doc_sets, doc_sigs = document_shingle_sets(doc_texts, config)
    return PreparedBatch(
        seg_doc=np.array(seg_doc, dtype=np.int32), seg_start=np.array(seg_start, dtype=np.int32),
        seg_end=np.array(seg_end, dtype=np.int32), seg_words=np.array(seg_words, dtype=np.int32),
        seg_key=hashes[np.array(seg_id, dtype=np.int64)],
        key_text=np.frombuffer(b"".join(encoded), dtype=np.uint8), key_offsets=key_offsets, key_hash=hashes,
        key_words=np.array(key_words, dtype=np.int32), key_sigs=key_sigs,
        key_passages=key_sets.take(passages, ids=passages),
        key_template=key_template, extensions=extensions,
        doc_sigs=doc_sigs, doc_sample=doc_sets.sample(DOC_CONTAINMENT_SAMPLE),
        doc_words=np.bincount(seg_doc, weights=seg_words, minlength=len(texts)).astype(np.int64),
        doc_key=np.array([key_hash(t) for t in doc_texts], dtype=np.uint64),
        doc_signed=doc_sigs.min(axis=1) != np.uint32(0xFFFFFFFF),
        doc_size=doc_sets.sizes().astype(np.int64),
        doc_len=np.array([len(t) for t in texts], dtype=np.int64),
    )
