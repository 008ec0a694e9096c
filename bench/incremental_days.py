#!/usr/bin/env python3
"""The throughput corpus fed to `dedupe update` over several days, compared with one full run.

    .venv/bin/python bench/incremental_days.py                  # 200k paragraphs in 5 days
    .venv/bin/python bench/incremental_days.py --paragraphs 60000 --days 3

The corpus's articles (JSONL lines) are cut into consecutive parts, one per day, each written to
a dated folder (`day-1/part.jsonl`, ...); each day's folder is added to the input root and
`dedupe.incremental.update` runs; then the tables
are exported and the three Parquet files compared, by SHA-256, with `dedupe.run` over the final
input root. Prints each day's `runs` counts and seconds, and the hashes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

from common import DEFAULT_CORPORA
from corpus import build_corpus

import dedupe
from dedupe.incremental import export, update

FILES = ("documents.parquet", "segments.parquet", "clusters.parquet")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paragraphs", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    args = ap.parse_args(argv)
    shards = sorted((build_corpus(args.corpora, args.paragraphs, 3) / "jsonl").glob("*.jsonl"))
    lines = [line for shard in shards for line in shard.read_bytes().splitlines(keepends=True)]
    cut = [len(lines) * d // args.days for d in range(args.days + 1)]
    with tempfile.TemporaryDirectory(prefix="dedupe-days-") as tmp:
        root, tables = Path(tmp) / "in", Path(tmp) / "tables"
        for day in range(1, args.days + 1):
            (root / f"day-{day}").mkdir(parents=True)
            (root / f"day-{day}" / "part.jsonl").write_bytes(b"".join(lines[cut[day - 1]:cut[day]]))
            run = update(root, tables).run
            print(f"day {day}: {run['inputs_added']} inputs added, {run['inputs_unchanged']} unchanged; "
                  f"documents +{run['documents_inserted']} ~{run['documents_updated']}, segments "
                  f"+{run['segments_inserted']} ~{run['segments_updated']} -{run['segments_deleted']}, clusters "
                  f"+{run['clusters_inserted']} ~{run['clusters_updated']} -{run['clusters_deleted']}; "
                  f"{run['seconds_total']:.1f} s", flush=True)
        t = time.perf_counter()
        export(tables, Path(tmp) / "export")
        dedupe.run(root, Path(tmp) / "full")
        print(f"export and full run: {time.perf_counter() - t:.1f} s")
        same = True
        for name in FILES:
            a = hashlib.sha256((Path(tmp) / "export" / name).read_bytes()).hexdigest()[:16]
            b = hashlib.sha256((Path(tmp) / "full" / name).read_bytes()).hexdigest()[:16]
            same &= a == b
            print(f"  {name}: export {a}  full run {b}  {'identical' if a == b else 'DIFFERENT'}")
    print("the tables equal one full run" if same else "MISMATCH")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
