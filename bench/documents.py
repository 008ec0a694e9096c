"""Document matching alone, with and without reprint linking (`match/reprints.py`), on the
throughput benchmark's corpus: what the noise-robust verification costs.

    .venv/bin/python bench/documents.py                 # 200k paragraphs, 3 alternated rounds
    .venv/bin/python bench/documents.py --paragraphs 1000000 --rounds 1

The corpus is read and signed once (`dedupe.pipeline.ingest` + `dedupe.corpus.build`); then
`match.match_documents` runs alternately with `doc_reprints` off and on, in this process, so both
see the same warm state. Printed: seconds per round, the median, document clusters and linked
articles, and the process's peak RSS (the whole run's: ingest and signing included).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import DEFAULT_CORPORA, library_fingerprint, peak_rss_mb
from corpus import build_corpus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dedupe.config import Config  # noqa: E402
from dedupe.corpus import build  # noqa: E402
from dedupe.engines.local import local_engine  # noqa: E402
from dedupe.history.run_only import RunOnlyHistory  # noqa: E402
from dedupe.io.stores import DocumentStore  # noqa: E402
from dedupe.match.documents import match_documents  # noqa: E402
from dedupe.pipeline import ingest  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paragraphs", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    args = ap.parse_args(argv)

    corpus_dir = build_corpus(args.corpora, args.paragraphs, args.seed)
    config = Config()
    print(f"dedupe {library_fingerprint()['sha256']}, corpus {corpus_dir.name}")
    with tempfile.TemporaryDirectory(prefix="dedupe-docbench-") as tmp:
        stage = Path(tmp)
        t0 = time.perf_counter()
        docs = DocumentStore(ingest(corpus_dir / "jsonl", stage, config))
        with local_engine(config, docs.row_groups) as engine:
            corpus = build(stage, docs, config, RunOnlyHistory(config).known_texts(), engine)
        print(f"read and signed {corpus.n_docs:,} articles, {corpus.n_occurrences:,} segments "
              f"in {time.perf_counter() - t0:.1f} s")
        times: dict[bool, list[float]] = {False: [], True: []}
        found = {}
        for _ in range(args.rounds):
            for reprints in (False, True):
                t = time.perf_counter()
                matches = match_documents(corpus, config.replace(doc_reprints=reprints))
                times[reprints].append(time.perf_counter() - t)
                sizes = np.bincount(matches.cluster)
                found[reprints] = (int((sizes >= 2).sum()), int(sizes[sizes >= 2].sum()))
    for reprints in (False, True):
        label = "with reprints   " if reprints else "without reprints"
        runs = " ".join(f"{t:.2f}" for t in times[reprints])
        print(f"{label}: {runs} s (median {statistics.median(times[reprints]):.2f} s); "
              f"{found[reprints][0]:,} clusters of {found[reprints][1]:,} articles")
    ratio = statistics.median(times[True]) / statistics.median(times[False])
    print(f"ratio {ratio:.2f}x; peak RSS {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
