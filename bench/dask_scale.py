#!/usr/bin/env python3
"""The Dask engine against the local engine on the throughput corpus: wall time, per-stage times,
per-process peak memory, bytes of partition parts, and the output's SHA-256 (equal or not).

    .venv/bin/python bench/dask_scale.py --sizes 1000000 --rounds 3      # local, prefect and dask, alternated
    .venv/bin/python bench/dask_scale.py --sizes 200000 --partitions 2,4,16 --engines dask
    .venv/bin/python bench/dask_scale.py --sizes 3000000 --engines local,dask

Each run is the `dedupe run` command in a fresh process (`-v`, so the stage times are in its log):
- `local`:  `--engine local` (no Prefect; a local process pool);
- `prefect`: the Prefect flow with the local engine (the default `dedupe run`);
- `dask`:   the Prefect flow with the prepare pass on a 2-worker LocalCluster (`--engine dask`).

Memory is sampled every 0.2 s over the run's process tree: each process's own peak (VmHWM), named
driver (the run), prefect-server (the temporary API server) or worker (pool or Dask workers).
`--partitions P` sets batch_docs to cut the corpus into P row groups and `partitions = P`: P tasks.
Corpora come from `corpus.py` (bench/out/throughput/, built on first use); results go to
bench/out/dask_scale.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import DEFAULT_CORPORA, OUT, REPO, fmt, library_fingerprint, machine_info, text_table, write_json
from corpus import build_corpus

DEDUPE = Path(sys.executable).with_name("dedupe")
OUTPUTS = ("documents.parquet", "segments.parquet", "clusters.parquet", "report.json")
STAGES = ("read", "segment and sign", "match", "decide", "write")


class ProcessPeaks(threading.Thread):
    """Each process of a tree: its peak RSS (VmHWM, MB), its role and its CPU seconds."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peaks: dict[int, float] = {}
        self.roles: dict[int, str] = {}
        self.cpu: dict[int, float] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        import psutil

        while not self._halt.is_set():
            try:
                procs = [psutil.Process(self.root)] + psutil.Process(self.root).children(recursive=True)
            except psutil.NoSuchProcess:
                break
            for p in procs:
                try:
                    status = Path(f"/proc/{p.pid}/status").read_text()
                    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
                    times = p.cpu_times()
                    if p.pid not in self.roles:
                        self.roles[p.pid] = _role(p, self.root)
                except (OSError, AttributeError, psutil.Error):
                    continue
                self.peaks[p.pid] = max(self.peaks.get(p.pid, 0.0), hwm)
                self.cpu[p.pid] = max(self.cpu.get(p.pid, 0.0), times.user + times.system)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def by_role(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for pid, peak in self.peaks.items():
            role = self.roles.get(pid, "other")
            r = out.setdefault(role, {"processes": 0, "max_peak_mb": 0.0, "cpu_s": 0.0})
            r["processes"] += 1
            r["max_peak_mb"] = max(r["max_peak_mb"], round(peak))
            r["cpu_s"] = round(r["cpu_s"] + self.cpu.get(pid, 0.0), 1)
        return out


def _role(p, root: int) -> str:
    if p.pid == root:
        return "driver"
    cmd = " ".join(p.cmdline())
    if "uvicorn" in cmd or "prefect.server" in cmd or "server start" in cmd:
        return "prefect-server"
    return "worker"


def run_once(engine: str, corpus: Path, batch_docs: int | None, workers: int, docs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="dask-scale-") as tmp:
        out = Path(tmp) / "out"
        args = [str(DEDUPE), "run", "-v", "--input", str(corpus), "--output", str(out),
                "--workers", str(workers)]
        if engine in ("local", "dask"):
            args += ["--engine", engine]
        if batch_docs:
            parts = -(-docs // batch_docs)
            (Path(tmp) / "c.toml").write_text(f"batch_docs = {batch_docs}\npartitions = {parts}\n")
            args += ["--config", str(Path(tmp) / "c.toml")]
        env = dict(os.environ, PREFECT_HOME=os.environ.get("PREFECT_HOME", str(OUT / "prefect-home")))
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        sampler = ProcessPeaks(proc.pid)
        sampler.start()
        log, _ = proc.communicate()
        seconds = time.perf_counter() - start
        sampler.stop()
        if proc.returncode:
            raise SystemExit(f"{engine} run failed ({proc.returncode}):\n{log[-4000:]}")
        stages = {name: float(m.group(1)) for name in STAGES
                  for m in [re.search(rf"INFO: {name}: ([\d.]+) s", log)] if m}
        parts = re.search(r"(\d+) partitions prepared by path: ([\d.]+) MB of Parquet parts", log)
        lsh = re.search(r"segment LSH: (\d+) band tasks ([\d.]+) s, ([\d.]+) MB of band values in (\d+) hash "
                        r"buckets \((\d+) bytes per text\), \d+ bucket tasks ([\d.]+) s", log)
        edges = re.search(r"(\d+) verified links \(([\d.]+) MB\) for union-find", log)
        texts = re.search(r"(\d+) distinct texts", log)
        hashes = {name: hashlib.sha256((out / name).read_bytes()).hexdigest()[:16] for name in OUTPUTS}
        return {"engine": engine, "seconds": round(seconds, 2), "stages": stages, "memory": sampler.by_role(),
                "partitions": int(parts.group(1)) if parts else None,
                "parts_mb": float(parts.group(2)) if parts else None,
                "distinct_texts": int(texts.group(1)) if texts else None,
                "lsh": {"band_tasks": int(lsh.group(1)), "band_s": float(lsh.group(2)),
                        "shuffled_mb": float(lsh.group(3)), "buckets": int(lsh.group(4)),
                        "bytes_per_text": int(lsh.group(5)), "bucket_s": float(lsh.group(6))} if lsh else None,
                "edges": {"links": int(edges.group(1)), "mb": float(edges.group(2))} if edges else None,
                "hashes": hashes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000", help="paragraphs, comma-separated")
    ap.add_argument("--engines", default="local,prefect,dask")
    ap.add_argument("--partitions", default="", help="dask runs at about these partition counts (comma-separated)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="runs of each engine, alternated (the machine's speed drifts)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--json", type=Path, default=OUT / "dask_scale.json")
    args = ap.parse_args()
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        corpus = build_corpus(DEFAULT_CORPORA, n, args.seed) / "jsonl"
        meta = json.loads((corpus.parent / "meta.json").read_text())
        docs = meta.get("articles") or meta.get("documents")
        runs = [(e, None) for _ in range(args.rounds) for e in args.engines.split(",") if e]
        if args.partitions:
            runs += [("dask", -(-docs // int(p))) for p in args.partitions.split(",")]
        for engine, batch_docs in runs:
            r = run_once(engine, corpus, batch_docs, args.workers, docs)
            r.update(paragraphs=n, documents=docs, batch_docs=batch_docs)
            results.append(r)
            print(json.dumps(r), flush=True)
    rows = []
    for r in results:
        mem = r["memory"]
        rows.append([f"{r['paragraphs']:,}", r["engine"], str(r["partitions"] or "-"), fmt(r["seconds"], 1),
                     " / ".join(fmt(r["stages"].get(s), 1) for s in STAGES[1:]),
                     fmt(mem.get("driver", {}).get("max_peak_mb")),
                     f"{mem.get('worker', {}).get('max_peak_mb', 0):.0f} ({mem.get('worker', {}).get('processes', 0)})",
                     fmt(r["parts_mb"], 1), r["hashes"]["documents.parquet"] + " " + r["hashes"]["segments.parquet"]
                     + " " + r["hashes"]["clusters.parquet"]])
    print(text_table(["paragraphs", "engine", "partitions", "wall s", "sign / match / decide / write s",
                      "driver MB", "worker MB (n)", "parts MB", "documents / segments / clusters sha256"], rows))
    write_json(args.json, {"machine": machine_info(), "library": library_fingerprint(), "runs": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
