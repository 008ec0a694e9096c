"""The stages of the throughput benchmark, each timed in a fresh process of its own so that its
peak memory is its own: `run_stage` (in the parent) starts this file as that process and
measures it; `main` (in the child) loads the paragraphs, runs one stage and writes its result.

    naive       lower-case + \\w+ words, word 5-gram strings (`sketch.shingles.shingle_strings`),
                datasketch.MinHash(num_perm=128, seed=1).update(shingle.encode()) per shingle,
                MinHashLSH(threshold=0.7) insert + query for every paragraph (what a user's
                datasketch script does)
    pipeline    dedupe.run(jsonl_dir, out_dir, dedupe.Config()) end to end
    signatures  (c0) the match keys of every paragraph, `text.normalize.match_keys` (what the
                prepare pass computes; includes importing numba, about 0.5 s), then (c)
                `sketch.sets.word_shingle_sets` (word hashing, 5-gram shingles, MinHash) on
                those keys
    floor       lower-case + re.findall(r"\\w+") over every paragraph (tokenise-only floor)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import (THROUGHPUT, TreeSampler, busy_cpu_seconds, cpu_seconds, fmt, library_fingerprint,
                    peak_rss_mb, wait_for_quiet)
from corpus import iter_paragraphs

STAGES = ("naive", "pipeline", "signatures", "floor")
SIGNATURE_API = "dedupe.sketch.sets.word_shingle_sets(keys, 5, num_perm, seed)"


# ----------------------------------------------------------------------------------------------
# In the child
# ----------------------------------------------------------------------------------------------
def stage_naive(paragraphs: list[str]) -> dict:
    from datasketch import MinHash, MinHashLSH

    from dedupe.sketch.shingles import shingle_strings

    word = re.compile(r"\w+")
    t0 = time.perf_counter()
    sketches = []
    for text in paragraphs:
        m = MinHash(num_perm=128, seed=1)
        for s in set(shingle_strings(word.findall(text.lower()), 5)):
            m.update(s.encode())
        sketches.append(m)
    t1 = time.perf_counter()
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    for i, m in enumerate(sketches):
        lsh.insert(i, m)
    t2 = time.perf_counter()
    hits = 0
    for m in sketches:
        hits += len(lsh.query(m))
    t3 = time.perf_counter()
    return {"seconds": t3 - t0, "sign_seconds": t1 - t0, "insert_seconds": t2 - t1,
            "query_seconds": t3 - t2, "query_results": hits}


def stage_pipeline(corpus_dir: Path, out_dir: Path, profile: Path | None = None,
                   serial: bool = False) -> dict:
    import dedupe

    if out_dir.exists():
        shutil.rmtree(out_dir)
    config = dedupe.Config(workers=1) if serial else dedupe.Config()
    t0 = time.perf_counter()
    if profile:
        import cProfile

        prof = cProfile.Profile()
        report = prof.runcall(dedupe.run, corpus_dir / "jsonl", out_dir, config)
        prof.dump_stats(profile)
    else:
        report = dedupe.run(corpus_dir / "jsonl", out_dir, config)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "config_workers": config.workers,
            "documents": report.documents, "segments": report.segments,
            "segments_removed": report.segments_removed,
            "clusters_by_kind": report.clusters_by_kind, "skipped": len(report.skipped)}


def stage_signatures(paragraphs: list[str]) -> dict:
    """(c0) match keys, then (c) the library's batched shingle + MinHash pass on them."""
    import dedupe
    from dedupe.sketch.sets import word_shingle_sets
    from dedupe.text.normalize import match_keys

    config = dedupe.Config()
    t0 = time.perf_counter()
    keys, counts = match_keys(paragraphs)
    t1 = time.perf_counter()
    # as the prepare pass: a key without words (a lone "***") has no shingles
    _, sigs = word_shingle_sets([k if n else "" for k, n in zip(keys, counts)], 5, config.num_perm,
                                config.seed)
    t2 = time.perf_counter()
    return {"normalize_seconds": t1 - t0, "seconds": t2 - t1, "api": SIGNATURE_API,
            "signature_shape": list(sigs.shape)}


def stage_floor(paragraphs: list[str]) -> dict:
    word = re.compile(r"\w+")
    t0 = time.perf_counter()
    n = 0
    for text in paragraphs:
        n += len(word.findall(text.lower()))
    return {"seconds": time.perf_counter() - t0, "words": n}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run one throughput stage (started by run_stage).")
    ap.add_argument("stage", choices=STAGES)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--result", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--outdir", type=Path, default=None)
    ap.add_argument("--profile", type=Path, default=None)
    ap.add_argument("--serial", action="store_true")
    args = ap.parse_args(argv)
    base = {"stage": args.stage, "pid": os.getpid()}
    # imports happen before the timed work
    if args.stage == "naive":
        import datasketch  # noqa: F401
    elif args.stage == "pipeline":
        import dedupe  # noqa: F401  (heavy modules load on first use, as for any caller)
    elif args.stage == "signatures":
        import dedupe.sketch.sets  # noqa: F401
        import dedupe.text.normalize  # noqa: F401
    if args.stage in ("pipeline", "signatures"):
        base["library"] = library_fingerprint()   # the state of dedupe/ this process imported
    if args.stage == "pipeline":
        rss0, cpu0 = peak_rss_mb(), cpu_seconds()
        res = stage_pipeline(args.corpus, args.outdir, args.profile, args.serial)
        meta = json.loads((args.corpus / "meta.json").read_text())
        res.update(paragraphs=meta["paragraphs"], text_bytes=meta["text_bytes"])
    else:
        paragraphs = list(iter_paragraphs(args.corpus, args.limit))
        rss0, cpu0 = peak_rss_mb(), cpu_seconds()
        fn = {"naive": stage_naive, "signatures": stage_signatures, "floor": stage_floor}[args.stage]
        res = fn(paragraphs)
        res.update(paragraphs=len(paragraphs), text_bytes=sum(len(p.encode()) for p in paragraphs))
    res.update(base, cpu_seconds=cpu_seconds() - cpu0, rss_before_mb=rss0, peak_rss_mb=peak_rss_mb())
    args.result.write_text(json.dumps(res))
    return 0


# ----------------------------------------------------------------------------------------------
# In the parent
# ----------------------------------------------------------------------------------------------
def run_stage(stage: str, corpus_dir: Path, *, limit: int | None = None, outdir: Path | None = None,
              profile: Path | None = None, serial: bool = False, quiet_wait: float = 0.0,
              log=print) -> dict:
    """Run one stage in a child process; its result with the process tree's memory and CPU, and
    the load other processes put on the machine meanwhile."""
    THROUGHPUT.mkdir(parents=True, exist_ok=True)
    quiet = wait_for_quiet(quiet_wait, log) if quiet_wait > 0 else None
    result = THROUGHPUT / f".result-{stage}-{os.getpid()}.json"
    result.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), stage, "--corpus", str(corpus_dir),
           "--result", str(result)]
    for flag, value in (("--limit", limit), ("--outdir", outdir), ("--profile", profile)):
        if value is not None:
            cmd += [flag, str(value)]
    if serial:
        cmd.append("--serial")
    log(f"  running {stage}" + (f" on the first {limit} paragraphs" if limit else "") + " ...")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()
    busy0 = busy_cpu_seconds()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    sampler.stop()
    wall = time.perf_counter() - t0
    busy = busy_cpu_seconds() - busy0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or not result.exists():
        tail = (stderr or stdout).strip().splitlines()[-5:]
        log(f"  {stage} FAILED (exit {proc.returncode}): " + " | ".join(tail))
        return {"stage": stage, "seconds": None, "error": f"exit {proc.returncode}: " + " | ".join(tail)}
    res = json.loads(result.read_text())
    result.unlink()
    res["process_wall_seconds"] = wall
    # CPU of the child and every descendant it reaped (worker processes), whole process life.
    res["reaped_cpu_seconds"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    res["tree_cpu_sampled_seconds"] = sampler.cpu_seconds
    res["tree_cpu_seconds"] = max(res["reaped_cpu_seconds"], sampler.cpu_seconds)
    # Contention: CPU that other processes on the machine used while this stage ran, in cores.
    res["others_cpu_cores"] = max(0.0, (busy - res["tree_cpu_seconds"]) / wall) if wall else None
    res["tree_peak_pss_mb"] = sampler.peak_mb
    res["loadavg_before"] = load_before
    res["quiet_wait"] = quiet
    res["loadavg_after"] = os.getloadavg()
    res["tree_max_processes"] = sampler.max_procs
    derive_rates(res)
    log(f"  {stage}: {fmt(res.get('seconds'), 1)} s, peak RSS {res['peak_rss_mb']:.0f} MB, "
        f"process tree peak {sampler.peak_mb:.0f} MB in {sampler.max_procs} process(es)"
        + (f" ({res['error']})" if res.get("error") else ""))
    return res


def derive_rates(res: dict) -> None:
    """Add text MB, peak MB and the per-second rates to a stage result."""
    sec = res.get("seconds")
    res["text_mb"] = res["text_bytes"] / 1e6
    res["peak_mb"] = max(res.get("peak_rss_mb") or 0, res.get("tree_peak_pss_mb") or 0)
    if sec:
        res["paragraphs_per_s"] = res["paragraphs"] / sec
        res["mb_per_s"] = res["text_mb"] / sec


if __name__ == "__main__":
    sys.exit(main())
