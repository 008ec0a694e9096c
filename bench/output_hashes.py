#!/usr/bin/env python3
"""SHA-256 of every output file of `dedupe.run` on the reference inputs, at 1 and 2 workers.

    .venv/bin/python bench/output_hashes.py                  # samples, devset, 200k corpus
    .venv/bin/python bench/output_hashes.py --only samples   # a quick check
    .venv/bin/python bench/output_hashes.py --json out.json  # keep them to compare later

The contract of a refactoring: the same input and config give byte-identical files, whatever
the number of workers. The inputs are built by their own scripts (the development benchmark by
`bench/devset/make_devset.py`, the 200k-paragraph corpus by `bench/throughput.py`) from
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

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

import dedupe  # noqa: E402

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
        import throughput

        corpora = throughput.DEFAULT_CORPORA
        found["200k"] = (throughput.build_corpus(corpora, 200_000, 3) / "jsonl") if corpora.is_dir() else None
    return found


def hashes(output: Path) -> dict[str, str]:
    return {name: hashlib.sha256((output / name).read_bytes()).hexdigest() for name in FILES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=("samples", "devset", "200k"))
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    parser.add_argument("--json", type=Path, help="also write the hashes here")
    args = parser.parse_args(argv)
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
        for file, digest in per_workers[min(per_workers)].items():
            print(f"  {digest[:16]}  {file}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0 if all(r["same_for_all_workers"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
