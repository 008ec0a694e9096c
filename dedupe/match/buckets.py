"""Segment LSH by hash bucket: the candidates and exact verification of `segments.py`, cut into
tasks an engine runs anywhere, for engines whose workers take paths (`Engine.by_path`).

1. **Band parts** (`band_part`, one task per range of text ids): every LSH band value of every
   text with words (the same values as `sketch.lsh`) goes to one of `buckets` hash buckets,
   written as Parquet `lsh/part-PPPP-bucket-KKKK.parquet` (band, value, uid). This is the shuffle:
   about `bands` x 17 bytes per distinct text.
2. **Bucket links** (`bucket_links`, one task per bucket): reads its bucket of every part; texts
   sharing a (band, value) are a band bucket, held whole by one task. A band bucket of at most
   `MAX_BUCKET` texts gives all its pairs, screened by their MinHash estimate as the local path
   screens them; a larger one links each member to a few leaders (`leaders.py`). Every pair is
   verified on the exact shingle sets of its texts, read from the key store and shingled in the
   task. Verified links go to `lsh/links-KKKK.parquet`.
3. The driver reads the links: the edge list that union-find groups (`segments.py`).

Why the result is the local path's: a pair's screen and verification depend on the pair alone,
a band bucket is never split between tasks, leader linking works bucket by bucket, and union-find
roots are the smallest member whatever the order of the links. So the groups, and the output,
do not depend on the number of parts, buckets or workers.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..config import Config
from ..corpus.partitions import PARQUET_PLAIN
from ..model import Corpus
from ..sketch.arrays import distinct, ranges
from ..sketch.lsh import LSH_MARGIN, MAX_BUCKET, MIN_LSH_THRESHOLD, SCREEN_FROM, Buckets, \
    band_values, estimated_jaccard, lsh_params, pairs_in_groups
from ..sketch.sets import stored_word_sets
from .leaders import leader_links

log = logging.getLogger("dedupe")

PART_TEXTS = 250_000   # texts per band part (signature rows read per task: 128 MB at 128 perms)
BUCKET_ROWS = 6_000_000
"""Band values per hash bucket at most (18 bytes each, a few times that while sorted and paired):
the bucket count grows with the corpus so that a bucket task's memory does not."""
FOLDER = "lsh"
_SPREAD = np.uint64(0x9E3779B97F4A7C15)  # bucket of a band value: its top bits after an odd multiply


@dataclass(frozen=True)
class BandJob:
    """What every task of one run needs: paths to the corpus files, and the parameters."""

    folder: str
    signatures: Any          # SignatureMatrix (pickles as its path)
    keys: Any                # TextStore / KeyReader (pickles as its path)
    with_words: str          # .npy of the ascending ids of texts with words
    n_texts: int
    bands: int
    rows: int
    buckets: int
    parts: int
    screen: bool
    config: Config


@dataclass(frozen=True)
class LshTask:
    """Task `index` of one phase, `bands` (a range of texts) or `bucket` (a hash bucket)."""

    job: BandJob
    phase: str
    index: int

    @property
    def label(self) -> str:
        return f"lsh-{self.phase}-{self.index}"


def bucketed_links(corpus: Corpus, config: Config, engine, stage: Path, min_buckets: int) -> np.ndarray:
    """Verified LSH links (M, 2) of the corpus texts, sorted and unique, computed as band-part and
    bucket tasks on `engine`; the same links the local path unites (`segments.match_segments`).
    At least `min_buckets` hash buckets, more when they would exceed BUCKET_ROWS band values."""
    with_words = np.flatnonzero(corpus.key_words > 0)
    if len(with_words) < 2:
        return np.empty((0, 2), dtype=np.int64)
    folder = stage / FOLDER
    folder.mkdir(exist_ok=True)
    np.save(folder / "with_words.npy", with_words)
    b, r = lsh_params(max(MIN_LSH_THRESHOLD, config.segment_threshold - LSH_MARGIN), corpus.key_sigs.shape[1])
    buckets = max(min_buckets, -(-len(with_words) * b // BUCKET_ROWS))
    job = BandJob(folder=str(folder.resolve()), signatures=corpus.key_sigs, keys=corpus.keys,
                  with_words=str((folder / "with_words.npy").resolve()), n_texts=corpus.keys.count,
                  bands=b, rows=r, buckets=buckets, parts=-(-len(with_words) // PART_TEXTS),
                  screen=len(with_words) >= SCREEN_FROM, config=config)
    start = time.perf_counter()
    for _ in engine.map(band_part, [LshTask(job, "bands", i) for i in range(job.parts)]):
        pass
    banded = time.perf_counter()
    shuffled = sum(p.stat().st_size for p in folder.glob("part-*-bucket-*.parquet"))
    links = [pq.read_table(path) for path in engine.map(bucket_links, [LshTask(job, "bucket", k) for k in range(buckets)])]
    a = np.concatenate([t.column("a").to_numpy() for t in links])
    c = np.concatenate([t.column("b").to_numpy() for t in links])
    keys = distinct(a * job.n_texts + c)  # a band bucket found in several hash buckets' bands
    log.info("segment LSH: %d band tasks %.1f s, %.1f MB of band values in %d hash buckets (%.0f bytes per "
             "text), %d bucket tasks %.1f s", job.parts, banded - start, shuffled / 1e6, buckets,
             shuffled / len(with_words), buckets, time.perf_counter() - banded)
    return np.stack([keys // job.n_texts, keys % job.n_texts], axis=1)


def band_part(task: LshTask) -> str:
    """Band values of one range of texts, split by hash bucket; returns the folder."""
    job = task.job
    ids = np.load(job.with_words)[task.index * PART_TEXTS: (task.index + 1) * PART_TEXTS]
    values = band_values(job.signatures[ids, : job.bands * job.rows], job.rows)  # as `sketch.lsh` bands them
    with np.errstate(over="ignore"):
        band = np.repeat(np.arange(job.bands, dtype=np.uint16), len(ids))
        flat = values.ravel()
        bucket = ((flat + band.astype(np.uint64)) * _SPREAD >> np.uint64(40)) % np.uint64(job.buckets)
    uid = np.tile(ids, job.bands)
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(job.buckets + 1, dtype=np.uint64))
    for k in range(job.buckets):
        pick = order[bounds[k]: bounds[k + 1]]
        _write_atomic(pa.table({"band": band[pick], "value": flat[pick], "uid": uid[pick]}),
                      Path(job.folder) / f"part-{task.index:04d}-bucket-{k:04d}.parquet")
    return job.folder


def bucket_links(task: LshTask) -> str:
    """The verified links of one hash bucket's band buckets; returns the links file."""
    job = task.job
    parts = [pq.read_table(Path(job.folder) / f"part-{p:04d}-bucket-{task.index:04d}.parquet")
             for p in range(job.parts)]
    band = np.concatenate([t.column("band").to_numpy() for t in parts])
    value = np.concatenate([t.column("value").to_numpy() for t in parts])
    uid = np.concatenate([t.column("uid").to_numpy() for t in parts])
    order = np.lexsort((uid, value, band))  # by band, then value; members ascending
    band, value, owners = band[order], value[order], uid[order]
    new = np.r_[True, (band[1:] != band[:-1]) | (value[1:] != value[:-1])] if len(owners) else np.zeros(0, bool)
    starts = np.flatnonzero(new)
    sizes = np.diff(np.r_[starts, len(owners)])
    n = job.n_texts
    keys = [distinct(k) for k in pairs_in_groups(owners, starts, sizes, n, max_size=MAX_BUCKET)]
    pair_keys = distinct(np.concatenate(keys)) if keys else np.empty(0, dtype=np.int64)
    pairs = np.stack([pair_keys // n, pair_keys % n], axis=1)
    if job.screen and len(pairs):
        pairs = pairs[estimated_jaccard(job.signatures, pairs) >= job.config.segment_threshold - LSH_MARGIN]
    big = sizes > MAX_BUCKET
    large = Buckets.of(owners[ranges(starts[big], sizes[big])], sizes[big]) if big.any() else Buckets.empty()
    involved = distinct(np.concatenate([pairs.ravel(), large.members]))  # all have words
    config = job.config
    sets = stored_word_sets(job.keys, involved, config.shingle_size, config.num_perm, config.seed)

    def verified(p: np.ndarray) -> np.ndarray:
        return sets.jaccard(p[:, 0], p[:, 1]) >= config.segment_threshold

    links = np.concatenate([pairs[verified(pairs)] if len(pairs) else pairs,
                            leader_links(large, verified) if len(large) else np.empty((0, 2), np.int64)])
    path = Path(job.folder) / f"links-{task.index:04d}.parquet"
    _write_atomic(pa.table({"a": links[:, 0].astype(np.int64), "b": links[:, 1].astype(np.int64)}), path)
    return str(path)


def _write_atomic(table: pa.Table, path: Path) -> None:
    """Written aside and renamed: a task repeated after its worker died replaces it whole."""
    aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    pq.write_table(table, aside, **PARQUET_PLAIN)
    aside.replace(path)

