"""The match stage: verified segment and document matches of a corpus.

- `segments.py`: near-duplicate groups (LSH candidates, exact Jaccard) and containment clusters;
- `documents.py`: near-duplicate articles (LSH and containment candidates, exact measures);
- `reprints.py`: OCR'd and abridged reprints, verified paragraph by paragraph by alignment;
- `leaders.py`: verified links inside a large LSH bucket, a few checks per member, not all pairs;
- `buckets.py`: segment LSH and verification as hash-bucket tasks, for a cluster engine;
- `unionfind.py`: grouping of verified pairs.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..config import Config
from ..engines import Engine
from ..model import Corpus, DocumentMatches, SegmentMatches
from .documents import match_documents
from .segments import match_segments

SIDE_BY_SIDE_MAX_SEGMENTS = 500_000
"""Above this many segments, document matching, segment LSH and segment containment run one
after the other, not side by side: their temporaries would add up (1M segments: a 1.96 GB peak
side by side), while on smaller corpora running them together saves time and memory is no
concern."""


def match(corpus: Corpus, config: Config, threads: int = 1,
          engine: Engine | None = None) -> tuple[DocumentMatches, SegmentMatches]:
    """Document matching, segment LSH and segment containment; side by side in three threads
    when `threads` >= 2 and the corpus has at most SIDE_BY_SIDE_MAX_SEGMENTS segments.

    They read disjoint parts of the corpus (documents vs keys vs passage sets) and spend most of
    their time in numpy sorts and compiled kernels, which release the GIL, so every core is used.
    The output does not depend on the order. An engine that takes paths (a cluster) runs the
    segment LSH and its verification (`match_segments`)."""
    # With a cluster doing the segment LSH, this process only waits for it meanwhile, and its
    # LSH temporaries are not here: documents and containment run side by side at any size.
    on_cluster = getattr(engine, "by_path", False)
    if threads < 2 or (corpus.n_occurrences > SIDE_BY_SIDE_MAX_SEGMENTS and not on_cluster):
        return match_documents(corpus, config), match_segments(corpus, config, engine=engine)
    with ThreadPoolExecutor(2, thread_name_prefix="dedupe-match") as pool:
        side = pool.submit(match_documents, corpus, config)
        segments = match_segments(corpus, config, pool, engine=engine)
        return side.result(), segments


__all__ = ["match", "match_documents", "match_segments"]
