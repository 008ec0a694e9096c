#!/usr/bin/env python3
"""SHA-256 of every output file of `dedupe.run` on the reference inputs, at 1 and 2 workers.

    .venv/bin/python bench/output_hashes.py                  # samples, devset, 200k corpus
    .venv/bin/python bench/output_hashes.py --only samples   # a quick check
    .venv/bin/python bench/output_hashes.py --json out.json  # keep them to compare later
    .venv/bin/python bench/output_hashes.py --compare out.json   # exit 1 unless byte-identical

The contract of a refactoring: the same input and config give byte-identical files, whatever
the number of workers. The inputs are built by their own scripts (the development benchmark by
`bench/devset/make_devset.py`, the 200k-paragraph corpus by `bench/corpus.py`) from
../shared/corpora; an input that cannot be built is reported as skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import dedupe
from common import DEFAULT_CORPORA, REPO as REPO_ROOT
from corpus import build_corpus

FILES = ("documents.parquet", "segments.parquet", "clusters.parquet", "report.json", "report.md")
DEVSET = REPO_ROOT / "bench" / "devset" / "out"


def inputs(only: set[str] | None) -> dict[str, Path | None]:
    found: dict[str, Path | None] = {}
    if not only or "samples" in only:
        found["samples"] = REPO_ROOT / "raw"
    if not only or "devset" in only:
        if not (DEVSET / "articles").is_dir():
            done = subprocess.run([sys.executable, str(REPO_ROOT / "bench/devset/make_devset.py"),
                                   "--out", str(DEVSET), "--quiet"])
            if done.returncode != 0:
                DEVSET.mkdir(parents=True, exist_ok=True)
        found["devset"] = DEVSET / "articles" if (DEVSET / "articles").is_dir() else None
    if not only or "200k" in only:
        found["200k"] = (build_corpus(DEFAULT_CORPORA, 200_000, 3) / "jsonl") if DEFAULT_CORPORA.is_dir() else None
    return found


def hashes(output: Path) -> dict[str, str]:
    return {name: hashlib.sha256((output / name).read_bytes()).hexdigest() for name in FILES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=("samples", "devset", "200k"))
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    parser.add_argument("--json", type=Path, help="also write the hashes here")
    parser.add_argument("--compare", type=Path, help="hashes written earlier with --json: report any difference")
    args = parser.parse_args(argv)
    earlier = json.loads(args.compare.read_text()) if args.compare else {}
    results: dict[str, dict] = {}
    for name, root in inputs(set(args.only or ())).items():
        if root is None:
            print(f"{name}: skipped (../shared/corpora not found)")
            continue
        per_workers = {}
        for workers in [int(w) for w in args.workers.split(",")]:
            with tempfile.TemporaryDirectory(prefix="dedupe-hashes-") as tmp:
                dedupe.run(root, Path(tmp) / "out", dedupe.Config(workers=workers))
                per_workers[workers] = hashes(Path(tmp) / "out")
        same = all(h == per_workers[min(per_workers)] for h in per_workers.values())
        results[name] = {"hashes": per_workers[min(per_workers)], "same_for_all_workers": same}
        print(f"{name}: {'identical' if same else 'DIFFERENT'} at workers {args.workers}")
        if name in earlier:
            unchanged = earlier[name]["hashes"] == results[name]["hashes"]
            results[name]["same_as_compared"] = unchanged
            print(f"  {'identical to' if unchanged else 'DIFFERENT from'} {args.compare}")
        for file, digest in per_workers[min(per_workers)].items():
            print(f"  {digest[:16]}  {file}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    ok = all(r["same_for_all_workers"] and r.get("same_as_compared", True) for r in results.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
