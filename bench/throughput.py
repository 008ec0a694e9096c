#!/usr/bin/env python3
"""Throughput and peak memory of `dedupe` against a naive datasketch script, on a synthetic
news corpus built from the real articles in ../shared/corpora.

    .venv/bin/python bench/throughput.py                                # 200k paragraphs, all stages
    .venv/bin/python bench/throughput.py --paragraphs 20000             # quick
    .venv/bin/python bench/throughput.py --skip-naive                   # naive on a 20k sample only
    .venv/bin/python bench/throughput.py --sizes 100000,1000000         # pipeline only, per size
    .venv/bin/python bench/throughput.py --profile 50000 [--serial]     # cProfile of the pipeline
    .venv/bin/python bench/throughput.py --quiet-wait 120               # shared machine: wait for quiet

The stages (`stages.py`) each run in a fresh subprocess, so that peak memory is per stage (VmHWM
of the process, plus the sampled PSS of its whole process tree, which includes the pipeline's
worker pool). The corpus (`corpus.py`) is built once per size and seed under
bench/out/throughput/ (git-ignored). This script prints the tables and writes the JSON results.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common import (DEFAULT_CORPORA, OUT, QUIET_CORES, THROUGHPUT, fmt, library_fingerprint, machine_info,
                    markdown_table, shown, write_json)
from corpus import CorporaMissing, build_corpus
from stages import derive_rates, run_stage

DEFAULT_JSON = OUT / "throughput.json"
DEFAULT_SIZES_JSON = OUT / "throughput-sizes.json"

LABELS = {
    "naive": "(a) naive datasketch (MinHash per paragraph + LSH insert/query)",
    "pipeline": "(b) dedupe.run end to end (read .. write Parquet)",
    "normalize": "(c0) match keys: text.normalize.match_keys (input of c)",
    "signatures": "(c) signatures alone: {api}",
    "floor": "(d) floor: lower() + re.findall(\\w+)",
}


def stage_rows(stages: dict) -> list[list[str]]:
    naive_rate = (stages.get("naive") or {}).get("paragraphs_per_s")
    rows = []
    for key in ("naive", "pipeline", "normalize", "signatures", "floor"):
        s = stages.get(key)
        if not s:
            continue
        rate = s.get("paragraphs_per_s")
        ratio = f"{rate / naive_rate:.1f}x" if rate and naive_rate else "n/a"
        api = (s.get("api") or "n/a").split("(")[0].replace("dedupe.", "")
        tree = s.get("tree_peak_pss_mb")
        procs = s.get("tree_max_processes")
        rows.append([LABELS[key].format(api=api), f"{s['paragraphs']:,}", fmt(s.get("seconds"), 2),
                     fmt(rate), fmt(s.get("mb_per_s"), 2), ratio, fmt(s.get("peak_rss_mb")),
                     (f"{tree:,.0f} ({procs})" if tree else "-"), fmt(s.get("rss_before_mb")),
                     fmt(s.get("tree_cpu_seconds"), 1), fmt(s.get("others_cpu_cores"), 1)])
    return rows


def print_machine(machine: dict) -> None:
    print(f"machine: {machine['nproc']} CPUs ({machine['cpu_model']}), "
          f"{machine['mem_total_gb']} GB RAM, Python {machine['python']}")


def corpus_or_none(args: argparse.Namespace, n: int) -> Path | None:
    """The cached (or newly built) n-paragraph corpus, or None after printing why not."""
    try:
        return build_corpus(args.corpora, n, args.seed, force=args.regen)
    except CorporaMissing as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def run_dir(n: int, seed: int) -> Path:
    return THROUGHPUT / f"run-n{n}-seed{seed}"


def main_stages(args: argparse.Namespace) -> int:
    n = args.paragraphs
    machine = machine_info()
    print_machine(machine)
    corpus_dir = corpus_or_none(args, n)
    if corpus_dir is None:
        return 2
    meta = json.loads((corpus_dir / "meta.json").read_text())
    print(f"corpus: {meta['paragraphs']:,} paragraphs in {meta['articles']:,} articles, "
          f"{meta['text_mb']} MB of text ({meta['jsonl_mb']} MB JSONL), "
          f"{meta['distinct_paragraphs']:,} distinct; kinds {meta['kinds']}; "
          f"{meta['epochs']} pass(es) over {meta['source']['paragraphs']:,} source paragraphs")

    naive_n = min(n, args.naive_sample) if args.skip_naive or n > args.naive_full_max else n
    stages: dict = {}
    stages["naive"] = run_stage("naive", corpus_dir, limit=naive_n if naive_n < n else None,
                                quiet_wait=args.quiet_wait)
    stages["pipeline"] = run_stage("pipeline", corpus_dir, outdir=run_dir(n, args.seed), serial=args.serial,
                                   quiet_wait=args.quiet_wait)
    sig = run_stage("signatures", corpus_dir, quiet_wait=args.quiet_wait)
    if sig.get("normalize_seconds") is not None:
        norm = {k: sig[k] for k in ("paragraphs", "text_bytes")}
        norm["seconds"] = sig["normalize_seconds"]
        derive_rates(norm)
        stages["normalize"] = norm
    stages["signatures"] = sig
    stages["floor"] = run_stage("floor", corpus_dir, quiet_wait=args.quiet_wait)

    headers = ["stage", "paragraphs", "seconds", "paragraphs/s", "MB/s", "vs naive",
               "peak RSS MB", "tree PSS MB (procs)", "RSS before MB", "CPU s", "others' load"]
    table = markdown_table(headers, stage_rows(stages))
    sig_mbs, floor_mbs = sig.get("mb_per_s"), stages["floor"].get("mb_per_s")
    frac = sig_mbs / floor_mbs if sig_mbs and floor_mbs else None
    notes = []
    if naive_n < n:
        notes.append(f"naive baseline measured on the first {naive_n:,} of {n:,} paragraphs "
                     "(rates per paragraph; its LSH query cost grows faster than linearly with "
                     "repeated captions, so the full-size rate would be lower)")
    notes.append("signatures MB/s = " + (f"{frac:.2f} of the floor's MB/s" if frac else "n/a")
                 + (f" ({sig.get('error')})" if sig.get("error") else ""))
    p = stages["pipeline"]
    if p.get("seconds"):
        notes.append(f"pipeline: {p['documents']:,} documents, {p['segments']:,} segments, "
                     f"{p['segments_removed']:,} removed, clusters {p['clusters_by_kind']}")
    nv = stages["naive"]
    if nv.get("seconds"):
        notes.append(f"naive split: sign {nv['sign_seconds']:.1f} s, LSH insert "
                     f"{nv['insert_seconds']:.1f} s, query {nv['query_seconds']:.1f} s "
                     f"({nv['query_results']:,} query results)")
    notes.append("peak RSS = VmHWM of the stage's process (includes the paragraphs it loaded: "
                 "'RSS before' is the peak before the timed work); tree PSS = sampled peak of the "
                 "summed PSS of the process and its workers; CPU s = CPU time of the whole stage "
                 "process tree (incl. start-up and loading); others' load = CPU cores used by "
                 "other processes on the machine while the stage ran (contention)")
    library = library_fingerprint()
    prints = {s["library"]["sha256"] for s in stages.values() if s.get("library")} | {library["sha256"]}
    if len(prints) > 1:
        notes.append("WARNING: dedupe/ changed while the benchmark ran (source digests "
                     f"{sorted(prints)}); stages measured different library states")
    busiest = max((s.get("others_cpu_cores") or 0) for s in stages.values())
    if busiest > 0.25:
        notes.append(f"WARNING: other processes used up to {busiest:.1f} of "
                     f"{machine['nproc']} cores during the run; wall-clock rates are pessimistic")
    print()
    print(table)
    for note in notes:
        print(f"- {note}")
    save(args.json or DEFAULT_JSON,
         {"machine": machine, "library": library, "corpus": {**meta, "dir": str(corpus_dir)},
          "naive_sample": naive_n, "stages": stages, "signature_fraction_of_floor_mb_per_s": frac,
          "table": table, "notes": notes, "command": " ".join(sys.argv)})
    return 1 if any(s.get("seconds") is None for s in stages.values()) else 0


def main_sizes(args: argparse.Namespace) -> int:
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    machine = machine_info()
    print_machine(machine)
    results = []
    for n in sizes:
        corpus_dir = corpus_or_none(args, n)
        if corpus_dir is None:
            return 2
        meta = json.loads((corpus_dir / "meta.json").read_text())
        res = run_stage("pipeline", corpus_dir, outdir=run_dir(n, args.seed), serial=args.serial,
                        quiet_wait=args.quiet_wait)
        res.update(size=n, corpus_text_mb=meta["text_mb"], corpus_build_seconds=meta["build_seconds"],
                   corpus_build_peak_rss_mb=meta["build_peak_rss_mb"])
        results.append(res)
    base = results[0].get("peak_mb") if results[0].get("seconds") is not None else None
    rows = []
    for r in results:
        ok = r.get("seconds") is not None
        r["peak_ratio_to_first"] = r["peak_mb"] / base if ok and base else None
        rows.append([f"{r['size']:,}", f"{r['corpus_text_mb']:.1f}", fmt(r.get("seconds"), 1),
                     fmt(r.get("paragraphs_per_s")), fmt(r.get("peak_rss_mb")),
                     fmt(r.get("tree_peak_pss_mb")) + f" ({r.get('tree_max_processes', '-')})",
                     fmt(r.get("peak_mb") if ok else None), fmt(r.get("tree_cpu_seconds"), 1),
                     fmt(r.get("others_cpu_cores"), 1),
                     f"{r['peak_ratio_to_first']:.2f}" if r.get("peak_ratio_to_first") else "n/a",
                     f"{r['size'] / sizes[0]:.1f}"])
    table = markdown_table(["paragraphs", "text MB", "seconds", "paragraphs/s", "main RSS MB",
                            "tree PSS MB (procs)", "peak MB", "CPU s", "others' load", "peak / first",
                            "size / first"], rows)
    checks = {}
    by_size = {r["size"]: r for r in results if r.get("seconds") is not None}
    if 1_000_000 in by_size:
        checks["peak_1m_under_2gb"] = by_size[1_000_000]["peak_mb"] < 2048
    if 1_000_000 in by_size and 100_000 in by_size:
        checks["peak_1m_under_3x_100k"] = (by_size[1_000_000]["peak_mb"]
                                           < 3 * by_size[100_000]["peak_mb"])
    if len(by_size) < len(results):
        checks["all_sizes_ran"] = False
    print()
    print(table)
    print("- peak MB = max(main-process VmHWM, sampled peak of the summed PSS of the process tree)")
    for k, v in checks.items():
        print(f"- check {k}: {'PASS' if v else 'FAIL'}")
    save(args.json or DEFAULT_SIZES_JSON,
         {"machine": machine, "library": library_fingerprint(), "sizes": results, "checks": checks,
          "table": table, "command": " ".join(sys.argv)})
    return 0 if all(checks.values()) else 1


def main_profile(args: argparse.Namespace) -> int:
    import pstats

    n = args.profile
    corpus_dir = corpus_or_none(args, n)
    if corpus_dir is None:
        return 2
    prof = THROUGHPUT / f"pipeline-n{n}{'-serial' if args.serial else ''}.prof"
    res = run_stage("pipeline", corpus_dir, outdir=run_dir(n, args.seed), profile=prof, serial=args.serial,
                    quiet_wait=args.quiet_wait)
    if res.get("seconds") is None:
        return 1
    print(f"\ncProfile of dedupe.run on {n:,} paragraphs, Config(workers="
          f"{res.get('config_workers')}) ({res['seconds']:.1f} s under the profiler, others' load "
          f"{res.get('others_cpu_cores', 0):.1f} cores); stats in {shown(prof)}")
    if res.get("tree_max_processes", 1) > 1:
        print("note: work done in the pool's worker processes is not profiled; it shows as "
              "time waiting in `acquire` (use --serial)")
    print()
    stats = pstats.Stats(str(prof))
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


def save(path: Path, data: dict) -> None:
    """Write a result, and keep a copy in the history: the library changes between runs, and the
    default path is reused."""
    text = write_json(path, data)
    history = THROUGHPUT / "history"
    history.mkdir(parents=True, exist_ok=True)
    (history / f"{Path(path).stem}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(text, encoding="utf-8")
    print(f"wrote {shown(path)}")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paragraphs", type=int, default=200_000, help="corpus size (default 200000)")
    ap.add_argument("--seed", type=int, default=3, help="corpus seed (default 3)")
    ap.add_argument("--json", type=Path, default=None,
                    help=f"result file (default {shown(DEFAULT_JSON)}, or {shown(DEFAULT_SIZES_JSON)} "
                         "with --sizes)")
    ap.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA,
                    help="folder with multinews-dev/ and bbc/ (default ../shared/corpora or $DEDUPE_CORPORA)")
    ap.add_argument("--skip-naive", action="store_true",
                    help="time the naive baseline on the first --naive-sample paragraphs only")
    ap.add_argument("--naive-sample", type=int, default=20_000,
                    help="subsample size for the naive baseline (default 20000)")
    ap.add_argument("--naive-full-max", type=int, default=200_000,
                    help="above this corpus size the naive baseline runs on --naive-sample "
                         "paragraphs even without --skip-naive (default 200000)")
    ap.add_argument("--sizes", default=None,
                    help="comma-separated corpus sizes: time only dedupe.run at each size")
    ap.add_argument("--profile", type=int, default=None, metavar="N",
                    help="cProfile dedupe.run on an N-paragraph corpus and print the top functions")
    ap.add_argument("--top", type=int, default=15, help="functions listed by --profile (default 15)")
    ap.add_argument("--serial", action="store_true",
                    help="run dedupe.run with Config(workers=1) (no process pool), e.g. so that "
                         "--profile sees the work the pool's workers would do")
    ap.add_argument("--regen", action="store_true", help="rebuild the corpus even if cached")
    ap.add_argument("--quiet-wait", type=float, default=0.0, metavar="SECONDS",
                    help="before each stage, wait up to SECONDS until other processes use < "
                         f"{QUIET_CORES} cores (shared machines; default 0 = do not wait)")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.profile:
        return main_profile(args)
    if args.sizes:
        return main_sizes(args)
    return main_stages(args)


if __name__ == "__main__":
    sys.exit(main())
