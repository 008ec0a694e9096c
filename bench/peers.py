#!/usr/bin/env python3
"""What a user sees, side by side in one run: `dedupe run` against the paragraph-dedup script a
user writes over datasketch or over rensa (Rust MinHash + LSH), on a 60k-paragraph news corpus,
warm and with an empty numba cache, and on the five sample articles; and the same run on numba's
JIT kernels (what an install without a C compiler gets).

    .venv/bin/python bench/peers.py                      # 60k paragraphs, 3 rounds (about 5 min)
    .venv/bin/python bench/peers.py --rounds 5 --naive-rounds 2

Every run is one command in a fresh process, timed from start to exit (interpreter start,
imports, reading and writing included), in rounds that alternate the contenders, so that a
slow minute of the machine hits them all, each round starting one contender later than the one
before, so that no contender always follows the same one. Timed runs are not sampled (sampling /proc costs CPU
on a 2-core machine); after the rounds, one more run of each dedupe contender is sampled for
the CPU its stages keep busy and the process tree's peak memory:

    naive        `peer_minhash.py datasketch` in the project's venv (datasketch is a dependency)
    rensa        `peer_minhash.py rensa` in the bench's own venv (`bench/out/peers-rensa-venv`,
                 created here with `pip install rensa==0.5.0`; not a project dependency)
    dedupe warm  `dedupe run --engine local`, numba's cache filled by an untimed first run
    dedupe cold  the same with an empty NUMBA_CACHE_DIR (a fresh container, CI job or work pool)
    sample       `dedupe run --engine local` on `raw/` (5 articles), warm and cold
    jit warm     `dedupe run` with DEDUPE_KERNELS=jit: numba's JIT kernels even when the install
    jit cold     compiled them ahead of time (`dedupe/kernels/aot.py`); warm and with an empty cache

The dedupe rows use whatever kernels the install has: compiled ahead of time when it had a C
compiler (then "cold" needs no numba cache at all), else numba's JIT (the same as the jit rows);
the JSON records which (`kernels`).

The corpus is the throughput corpus (`corpus.py`, seed 3), built from the shared corpora. For
the dedupe runs it also reports each stage's wall time (from the run's own log; medians of the
timed runs) and, from the sampled run, the CPU its process tree used meanwhile
(`common.CpuTimeline`): cores busy = CPU seconds / wall seconds. Peak memory: the sampled
process tree's PSS for dedupe, the process's own peak RSS for the single-process peers.
Writes `bench/out/peers.json` and `bench/out/peers.md`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import (DEFAULT_CORPORA, OUT, REPO, CpuTimeline, TreeSampler, fmt, library_fingerprint,
                    machine_info, markdown_table, write_json)
from corpus import CorporaMissing, build_corpus

RENSA = "rensa==0.5.0"
RENSA_VENV = OUT / "peers-rensa-venv"
WARM_CACHE = OUT / "peers-numba-cache"
PEER_SCRIPT = Path(__file__).resolve().parent / "peer_minhash.py"
STAGE_LINE = re.compile(r"^dedupe: INFO: (?P<stage>[a-z ]+): (?P<seconds>\d+\.\d) s$")
TARGETS = {"x_naive": 15.0, "cold_over_warm": 1.3, "sample_seconds": 1.0}


def rensa_python(log=print) -> Path | None:
    """The bench venv's python with rensa installed (created on first use), or None."""
    python = RENSA_VENV / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", "import rensa"], capture_output=True).returncode == 0:
        return python
    log(f"creating {RENSA_VENV.relative_to(REPO)} with {RENSA} ...")
    made = subprocess.run([sys.executable, "-m", "venv", str(RENSA_VENV)], capture_output=True, text=True)
    if made.returncode == 0:
        made = subprocess.run([str(python), "-m", "pip", "install", "--quiet", RENSA], capture_output=True, text=True)
    if made.returncode != 0:
        log(f"  rensa unavailable, its runs are skipped: {(made.stderr or made.stdout).strip()[-300:]}")
        return None
    return python


def kernels_in_use() -> str:
    """Which kernels the project's install gives a run (`dedupe.kernels.aot.status`)."""
    probe = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c",
                            "from dedupe.kernels import aot; print(aot.status()[1])"],
                           capture_output=True, text=True)
    why = probe.stdout.strip() or probe.stderr.strip()[-200:]
    return why if why.startswith("compiled ahead of time") else f"numba's JIT (ahead of time: {why})"


def timed(cmd: list[str], env: dict[str, str] | None = None, sampled: bool = False) -> dict:
    """Run `cmd`; its wall time (until it exits), exit status, its stderr lines with the second
    each arrived, and its own peak RSS; `sampled`: also the CPU timeline and the peak PSS of
    its process tree."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    samplers = (CpuTimeline(proc.pid, t0, interval=0.05), TreeSampler(proc.pid, interval=0.2)) if sampled else ()
    for sampler in samplers:
        sampler.start()
    lines: list[tuple[float, str]] = []

    def read() -> None:
        for line in proc.stderr:
            lines.append((time.perf_counter() - t0, line.rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    for sampler in samplers:
        sampler.stop()
    run = {"seconds": wall, "exit": proc.returncode, "peak_mb": usage.ru_maxrss / 1024, "lines": lines}
    if sampled:
        timeline, memory = samplers
        run.update(timeline=timeline, peak_mb=max(memory.peak_mb, run["peak_mb"]),
                   cpu_seconds=timeline.cpu_between(0.0, wall))
    return run


def stages_of(run: dict) -> list[dict]:
    """Each logged stage of a dedupe run, with 'start-up' before the first and 'publish and exit'
    after the last: wall seconds and, for a sampled run, CPU seconds of the process tree and
    cores busy."""
    spans = []
    for when, line in run["lines"]:
        m = STAGE_LINE.match(line)
        if m:
            spans.append((m["stage"], when - float(m["seconds"]), when))
    if not spans:
        return []
    spans = [("start-up", 0.0, spans[0][1])] + spans + [("publish and exit", spans[-1][2], run["seconds"])]
    out = []
    for stage, start, end in spans:
        start, wall = max(start, 0.0), max(end - start, 0.0)
        row = {"stage": stage, "seconds": wall}
        if "timeline" in run:
            cpu = run["timeline"].cpu_between(start, end)
            row.update(cpu_seconds=cpu, cores=cpu / wall if wall > 0.05 else None)
        out.append(row)
    return out


def dedupe_cmd(corpus: Path, out: Path) -> list[str]:
    return [str(REPO / ".venv" / "bin" / "dedupe"), "run", "--engine", "local", "-v", "--input", str(corpus),
            "--output", str(out)]


def one_round(kinds: list[str], corpus: Path, rensa: Path | None, work: Path, sampled: bool = False,
              log=print) -> dict[str, dict]:
    """One run of each kind, in the order given."""
    results = {}
    for kind in kinds:
        env = {"NUMBA_CACHE_DIR": str(WARM_CACHE)}
        result_file = work / f"{kind}.json"
        if kind == "naive":
            cmd = [sys.executable, str(PEER_SCRIPT), "datasketch", str(corpus), str(result_file)]
        elif kind == "rensa":
            cmd = [str(rensa), str(PEER_SCRIPT), "rensa", str(corpus), str(result_file)]
        else:
            source = REPO / "raw" if kind.startswith("sample") else corpus / "jsonl"
            cmd = dedupe_cmd(source, work / f"out-{kind.replace(' ', '-')}")
            if kind.endswith("cold"):
                env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cold-", dir=work)
            if kind.startswith("jit"):
                env["DEDUPE_KERNELS"] = "jit"
        run = timed(cmd, env, sampled)
        if run["exit"] != 0:
            tail = " | ".join(line for _, line in run["lines"][-5:])
            raise SystemExit(f"{kind} failed (exit {run['exit']}): {tail}")
        run["stages"] = stages_of(run) if kind.startswith(("dedupe", "sample", "jit")) else []
        if result_file.exists():
            run["result"] = __import__("json").loads(result_file.read_text())
        log(f"  {kind:12s} {run['seconds']:6.2f} s  peak {run['peak_mb']:5.0f} MB"
            + (f"  CPU {run['cpu_seconds']:5.1f} s" if sampled else ""))
        results[kind] = run
    return results


def summarise(rounds: list[dict[str, dict]], sampled: dict[str, dict]) -> dict:
    """Per kind: the timed runs' seconds (median, range), peak memory, and per stage the
    median wall seconds with the sampled run's CPU seconds and cores busy."""
    kinds = list(dict.fromkeys(k for r in rounds for k in r))
    summary = {}
    for kind in kinds:
        runs = [r[kind] for r in rounds if kind in r]
        secs = [run["seconds"] for run in runs]
        probe = sampled.get(kind)
        entry = {"runs": len(runs), "seconds": secs, "median": statistics.median(secs), "min": min(secs),
                 "max": max(secs), "peak_mb": max([run["peak_mb"] for run in runs] + ([probe["peak_mb"]] if probe else [])),
                 "sampled_seconds": probe["seconds"] if probe else None,
                 "sampled_cpu_seconds": probe["cpu_seconds"] if probe else None}
        if runs[0]["stages"]:
            names = [s["stage"] for s in runs[0]["stages"]]
            entry["stages"] = []
            for i, name in enumerate(names):
                rows = [run["stages"][i] for run in runs if len(run["stages"]) == len(names)]
                row = {"stage": name, "seconds": statistics.median(s["seconds"] for s in rows)}
                if probe and len(probe["stages"]) == len(names):
                    row.update(sampled_seconds=probe["stages"][i]["seconds"],
                               cpu_seconds=probe["stages"][i]["cpu_seconds"], cores=probe["stages"][i]["cores"])
                entry["stages"].append(row)
        if "result" in runs[0]:
            entry["result"] = runs[0]["result"]
        summary[kind] = entry
    return summary


def checks(summary: dict) -> dict[str, bool | None]:
    naive, rensa = summary.get("naive"), summary.get("rensa")
    warm, cold, sample = summary["dedupe warm"], summary["dedupe cold"], summary["sample warm"]
    return {
        f"warm >= {TARGETS['x_naive']:.0f}x naive": naive["median"] / warm["median"] >= TARGETS["x_naive"] if naive else None,
        "warm faster than rensa": warm["median"] < rensa["median"] if rensa else None,
        f"cold <= {TARGETS['cold_over_warm']}x warm": cold["median"] <= TARGETS["cold_over_warm"] * warm["median"],
        f"sample < {TARGETS['sample_seconds']:.0f} s (warm and cold)":
            max(sample["median"], summary["sample cold"]["median"]) < TARGETS["sample_seconds"],
    }


def tables(summary: dict, paragraphs: int) -> str:
    naive = summary.get("naive")
    rows = []
    for kind, e in summary.items():
        x = f"{naive['median'] / e['median']:.1f}x" if naive and not kind.startswith("sample") else ""
        rows.append([kind, str(e["runs"]), f"{e['median']:.2f}", f"{e['min']:.2f}–{e['max']:.2f}", x, fmt(e["peak_mb"])])
    out = [f"{paragraphs:,} paragraphs (sample: the 5 articles of raw/); seconds from process start to exit",
           "", markdown_table(["run", "runs", "median s", "range s", "x naive", "peak MB"], rows)]
    for kind in ("dedupe warm", "dedupe cold", "jit warm"):
        stages = summary.get(kind, {}).get("stages")
        if stages:
            out += ["", f"Stages of `{kind}`: wall seconds (median of the timed runs); CPU seconds of the process "
                        f"tree and cores busy (CPU / wall) in the sampled run", "",
                    markdown_table(["stage", "wall s", "CPU s", "cores busy"],
                                   [[s["stage"], f"{s['seconds']:.2f}", fmt(s.get("cpu_seconds"), 2),
                                     "" if s.get("cores") is None else f"{s['cores']:.2f}"] for s in stages])]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paragraphs", type=int, default=60_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--naive-rounds", type=int, default=1, help="rounds that include the naive script (about 40 s each)")
    ap.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    ap.add_argument("--json", type=Path, default=OUT / "peers.json")
    ap.add_argument("--no-jit", action="store_true", help="leave out the runs on numba's JIT kernels")
    args = ap.parse_args(argv)
    try:
        corpus = build_corpus(args.corpora, args.paragraphs, args.seed)
    except CorporaMissing as exc:
        print(f"skipped: {exc}")
        return 0
    rensa = rensa_python()
    rounds = []
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        work = Path(tmp)
        print("warming numba's cache (untimed) ...")
        timed(dedupe_cmd(corpus / "jsonl", work / "warmup"), {"NUMBA_CACHE_DIR": str(WARM_CACHE)})
        timed(dedupe_cmd(corpus / "jsonl", work / "warmup"), {"NUMBA_CACHE_DIR": str(WARM_CACHE), "DEDUPE_KERNELS": "jit"})
        contenders = (["rensa"] if rensa else []) + ["dedupe warm", "dedupe cold", "sample warm", "sample cold"] + \
            ([] if args.no_jit else ["jit warm", "jit cold"])
        for i in range(args.rounds):
            # Each round starts one contender later, so that none always runs right after the
            # same one (the run after rensa was the slower of two identical runs in 3 of 3 benches).
            shift = i % len(contenders)
            kinds = (["naive"] if i < args.naive_rounds else []) + contenders[shift:] + contenders[:shift]
            print(f"round {i + 1} of {args.rounds}")
            rounds.append(one_round(kinds, corpus, rensa, work))
        print("sampled run")
        sampled = one_round(["dedupe warm", "dedupe cold"], corpus, rensa, work, sampled=True)
    summary = summarise(rounds, sampled)
    verdict = checks(summary)
    text = tables(summary, args.paragraphs)
    print(f"\nkernels: {kernels_in_use()}\n\n" + text + "\n")
    for name, ok in verdict.items():
        print(f"{'n/a ' if ok is None else 'met ' if ok else 'NOT '} {name}")
    write_json(args.json, {"machine": machine_info(), "library": library_fingerprint(), "kernels": kernels_in_use(),
                           "paragraphs": args.paragraphs,
                           "seed": args.seed, "rensa": RENSA if rensa else None, "summary": summary,
                           "checks": verdict})
    args.json.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.json} and {args.json.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
