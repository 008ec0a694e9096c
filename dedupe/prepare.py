"""The per-batch pass over documents: segments, match keys and signatures.

`prepare_batch` is a pure function of a batch of texts and the settings, so batches can be
prepared in worker processes (`prepare_parallel`) and the result does not depend on how the
corpus was cut into batches or how many workers ran.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
import xxhash

from .nearcopy import article_links
from .normalize import match_keys
from .segment import spans
from .sketch import ShingleSets, char_shingle_sets, word_shingle_sets
from .templates import template_key

# Articles have thousands of character shingles: their signatures are taken over a consistent
# 1-in-8 sample (a few hundred per article), and 1 in 32 feed the containment index.
DOC_SIGNATURE_SAMPLE = 8
DOC_CONTAINMENT_SAMPLE = 32


@dataclass
class PreparedBatch:
    # per segment, in document order
    seg_doc: np.ndarray      # int32, document index within the batch
    seg_start: np.ndarray    # int32
    seg_end: np.ndarray      # int32
    seg_words: np.ndarray    # int32, word count of the match key
    seg_key: np.ndarray      # uint64, hash of the match key
    # distinct keys of the batch, first-seen order
    keys: list[str]
    key_hash: np.ndarray     # uint64
    key_words: np.ndarray    # int32
    key_sigs: np.ndarray     # (len(keys), num_perm) uint32, word shingles
    key_passages: ShingleSets  # exact word shingle sets of the keys of at least
    # min_containment_words words (containment candidates); ids: positions in `keys`
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


def key_hash(key: str) -> int:
    return xxhash.xxh3_64_intdigest(key.encode("utf-8"))


def segment_keys(texts: list[str], mode: str) -> tuple[list[int], list[int], list[int], list[str], list[int]]:
    """Per segment of the given articles, in order: (document index, start, end, match key,
    word count); the keys of all of them come from one `match_keys` call."""
    seg_doc, seg_start, seg_end = [], [], []
    for d, text in enumerate(texts):
        for start, end in spans(text, mode):
            seg_doc.append(d)
            seg_start.append(start)
            seg_end.append(end)
    keys, counts = match_keys([texts[d][a:b] for d, a, b in zip(seg_doc, seg_start, seg_end)])
    return seg_doc, seg_start, seg_end, keys, counts


def doc_match_texts(texts: list[str], mode: str) -> list[str]:
    """The words of each whole article joined by spaces: what document shingles are taken from."""
    parts: list[list[str]] = [[] for _ in texts]
    seg_doc, _, _, keys, counts = segment_keys(texts, mode)
    for d, key, n in zip(seg_doc, keys, counts):
        if n:
            parts[d].append(key)
    return [" ".join(p) for p in parts]


def prepare_batch(texts: list[str], settings: dict) -> PreparedBatch:
    mode = settings["segmentation"]
    num_perm, seed = settings["num_perm"], settings["seed"]
    max_template_words = settings["boilerplate_max_words"]
    seg_doc, seg_start, seg_end, seg_keys, seg_words = segment_keys(texts, mode)

    first: dict[str, int] = {}  # key -> its hash, in first-seen order
    key_words: list[int] = []
    key_template: list[int] = []
    seg_key: list[int] = []
    for key, n, d, start, end in zip(seg_keys, seg_words, seg_doc, seg_start, seg_end):
        h = first.get(key)
        if h is None:
            h = first[key] = key_hash(key)
            key_words.append(n)
            key_template.append(template_key(texts[d][start:end]) if n <= max_template_words else 0)
        seg_key.append(h)

    extensions: list[tuple[int, int]] = []
    doc_texts: list[str] = []
    doc_bounds = np.searchsorted(np.array(seg_doc, dtype=np.int64), np.arange(len(texts) + 1)).tolist()
    for d in range(len(texts)):
        lo, hi = doc_bounds[d], doc_bounds[d + 1]
        article = [(key, key.split(" ")) for key, n in zip(seg_keys[lo:hi], seg_words[lo:hi]) if n]
        extensions.extend((first[a], first[b]) for a, b in article_links(article))  # nearcopy.py
        doc_texts.append(" ".join(key for key, _ in article))

    keys = list(first)
    key_sets, key_sigs = word_shingle_sets([k if w else "" for k, w in zip(keys, key_words)],
                                           settings["shingle_size"], num_perm, seed, sets=True)
    passages = np.flatnonzero(np.array(key_words, dtype=np.int64) >= settings["min_containment_words"])
    if settings["doc_shingles"] == "char":
        doc_sets, doc_sigs = char_shingle_sets(doc_texts, settings["doc_shingle_size"], num_perm, seed,
                                               sets=True, rate=DOC_SIGNATURE_SAMPLE)
    else:
        doc_sets, doc_sigs = word_shingle_sets(doc_texts, settings["doc_shingle_size"], num_perm, seed,
                                               sets=True)
    return PreparedBatch(
        seg_doc=np.array(seg_doc, dtype=np.int32), seg_start=np.array(seg_start, dtype=np.int32),
        seg_end=np.array(seg_end, dtype=np.int32), seg_words=np.array(seg_words, dtype=np.int32),
        seg_key=np.array(seg_key, dtype=np.uint64),
        keys=keys, key_hash=np.array(list(first.values()), dtype=np.uint64),
        key_words=np.array(key_words, dtype=np.int32), key_sigs=key_sigs,
        key_passages=key_sets.take(passages, ids=passages),
        key_template=np.array(key_template, dtype=np.uint64), extensions=extensions,
        doc_sigs=doc_sigs, doc_sample=doc_sets.sample(DOC_CONTAINMENT_SAMPLE),
        doc_words=np.bincount(seg_doc, weights=seg_words, minlength=len(texts)).astype(np.int64),
        doc_key=np.array([key_hash(t) for t in doc_texts], dtype=np.uint64),
        doc_signed=doc_sigs.min(axis=1) != np.uint32(0xFFFFFFFF),
        doc_size=doc_sets.sizes().astype(np.int64),
        doc_len=np.array([len(t) for t in texts], dtype=np.int64),
    )


def prepare_all(batches: Iterable[list[str]], settings: dict, executor: Executor | None,
                window: int = 4) -> Iterator[PreparedBatch]:
    """Prepare batches in order, at most `window` in flight when an executor is given."""
    if executor is None:
        for texts in batches:
            yield prepare_batch(texts, settings)
        return
    pending: deque = deque()
    for texts in batches:
        pending.append(executor.submit(prepare_batch, texts, settings))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
