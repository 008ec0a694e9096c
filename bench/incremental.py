#!/usr/bin/env python3
"""The incremental (nightly) benchmark: what `dedupe update` costs for one day of new articles on
top of a history already in the Delta tables, against a full rebuild of history + day.

    .venv/bin/python bench/incremental.py                                   # H=200k, days of 1, 5, 20 % (~2 min)
    .venv/bin/python bench/incremental.py --history 20000 --fractions 0.01  # smoke test (~10 s)
    .venv/bin/python bench/incremental.py --history 50000,100000,200000 --fractions 0.01   # growth
    .venv/bin/python bench/incremental.py --history 1000000 --fractions 0.01  # memory at 1M, 2 GB target (~3 min,
                                                                            # + ~70 s once to build the corpus)
    .venv/bin/python bench/incremental.py --repeat 2 --quiet-wait 120       # shared machine: best of 2, start quiet
    .venv/bin/python bench/incremental.py --day-first                       # the day's folder reads before history/
    .venv/bin/python bench/incremental.py --keep                            # keep inputs, tables, outputs

Per history size H (paragraphs) the script builds, under bench/out/incremental/h<H>/ (git-ignored):
- `in/history/part-NNNN.jsonl`: the history, the first articles of the throughput corpus
  (`corpus.build_corpus`) up to H paragraphs (the article that crosses H is kept whole), in
  shards of `corpus.SHARD_ARTICLES` articles;
- `in/new/day-<F>/day.jsonl` per day fraction F: the round(F x history articles) articles that
  follow the history in the corpus: new articles, never in the history. Days of different F
  overlap (each starts right after the history); each is measured on its own. The day's file
  reads after the history's (`new/` sorts after `history/`), as a feed of dated folders does;
  this matters since `update` keeps the prepared batches of the earlier inputs
  (`dedupe/corpus/cache.py`), which a day read first would shift. `--day-first` puts it in
  `in/day-<F>/` instead, which reads before `history/`.
  The corpus generator is prefix-stable (the first k paragraphs do not depend on the corpus
  size), so the smallest cached corpus under bench/out/throughput/ that holds history + the
  largest day is used, else one is built (the 200k and 1M corpora serve every H < 1M);
- `roots/<name>/`: input roots holding only what a run should see, as hard links into `in/` (same
  inode, so the same size and mtime: `update` sees the history files as unchanged):
  `roots/history/` = history/, `roots/day-<F>/` = history/ + the day's folder.

Then, each command in a fresh process (`python -m dedupe ...` started with `subprocess`):
1. history load (once per H): `dedupe update --engine local -v --input roots/history --table
   tables/history`;
2. per F, from a fresh `shutil.copytree` of tables/history (so every F starts from the same
   history; the copy is not timed):
   - day run: `dedupe update --engine local -v --input roots/day-<F> --table tables/day-<F>`;
   - full rebuild: `dedupe run --engine local -v --input roots/day-<F> --output out/full`;
   - one-shot of the day: `dedupe run --engine local -v --input <the day's folder> --output out/day`;
   and checks that the day run's report (runs table, `report_json`) equals the full rebuild's.

Measurement of each command: wall time (perf_counter around the child; /usr/bin/time's %e is
kept too) and memory two ways: `/usr/bin/time -f "%e %M"` (%M = the largest resident set of any
one process of the tree the child waited for: the main process or one worker), and
`common.TreeSampler` (the sampled peak, every 0.5 s, of the summed PSS of the whole process
tree, which counts the forkserver's worker pool together). "peak MB" in the tables is the larger
of the two, as in throughput.py. The stage times come from the child's `-v` log
(`dedupe: INFO: <stage>: N s`) and, for `update`, from the `runs` table's seconds_scan /
seconds_clean / seconds_write / seconds_total. Logs are kept in bench/out/incremental/logs/.
CPU time is the child's and its reaped descendants' (`resource.getrusage(RUSAGE_CHILDREN)`
before and after) or the sampled tree's, whichever is larger; "others' load" is the CPU the rest
of the machine used meanwhile, in cores. `--repeat N` runs each command N times from the same
state (fresh table copy, no output) and keeps the fastest; its peak is the highest of the N.

Writes bench/out/incremental.json (and a time-stamped copy in bench/out/incremental/history/)
with every number, `library_fingerprint()` before and after each command and `machine_info()`.
By default the large work dirs (inputs, roots, tables, outputs) are deleted after use (--keep:
keep them). The machine is shared: run one benchmark at a time (`--quiet-wait` waits for quiet
before each command).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import (DEFAULT_CORPORA, OUT, QUIET_CORES, REPO, THROUGHPUT, TreeSampler, busy_cpu_seconds, fmt,
                    library_fingerprint, machine_info, markdown_table, shown, wait_for_quiet, write_json)
from corpus import ARTICLE_PARAGRAPHS, GENERATOR_VERSION, SHARD_ARTICLES, CorporaMissing, build_corpus

WORK = OUT / "incremental"
DEFAULT_JSON = OUT / "incremental.json"
TIME = "/usr/bin/time"
MEMORY_TARGET_MB = 2048
_STAGE_LINE = re.compile(r"dedupe: INFO: ([a-z ]+): ([0-9.]+) s$")


# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------
def needed_paragraphs(h: int, max_fraction: float) -> int:
    """Paragraphs of corpus enough for the history and its largest day, at worst (every article
    as short as the generator makes them, for the count, and as long, for the day)."""
    lo, hi = ARTICLE_PARAGRAPHS
    max_articles = math.ceil(h / lo) + 1
    return h + hi + (round(max_fraction * max_articles) + 1) * hi


def source_corpus(args: argparse.Namespace, needed: int) -> Path:
    """The smallest cached corpus of this seed with at least `needed` paragraphs (its prefix is
    the corpus of any smaller size), else a newly built one."""
    cached = []
    for meta_path in THROUGHPUT.glob(f"corpus-n*-seed{args.seed}/meta.json"):
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue
        if meta.get("generator_version") == GENERATOR_VERSION and meta.get("paragraphs", 0) >= needed \
                and len(list((meta_path.parent / "jsonl").glob("*.jsonl"))) == meta.get("shards"):
            cached.append((meta["paragraphs"], meta_path.parent))
    if cached:
        n, path = min(cached)
        print(f"corpus: using the first {needed:,} paragraphs (at most) of {shown(path)}")
        return path
    size = math.ceil(needed / 10_000) * 10_000
    return build_corpus(args.corpora, size, args.seed)


def corpus_lines(corpus_dir: Path):
    """(JSONL line, its paragraph count) for every article of a corpus, in order."""
    for path in sorted((corpus_dir / "jsonl").glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                yield line, json.loads(line)["text"].count("\n") + 1


def fraction_label(f: float) -> str:
    return f"{f:g}"


def day_folder(f: float, day_first: bool) -> str:
    """The day's folder below the input root: `new/day-<F>` reads after `history/` (as a feed of
    dated folders does), `day-<F>` before it (--day-first)."""
    return f"day-{fraction_label(f)}" if day_first else f"new/day-{fraction_label(f)}"


def build_inputs(corpus_dir: Path, h: int, fractions: list[float], base: Path, day_first: bool) -> dict:
    """Write in/history/ and in/<day folder>/day.jsonl under `base`; returns what was written."""
    inp = base / "in"
    if inp.exists():
        shutil.rmtree(inp)
    (inp / "history").mkdir(parents=True)
    lines = corpus_lines(corpus_dir)
    hist_articles = hist_pars = 0
    fh = None
    try:
        while hist_pars < h:
            line, pars = next(lines)
            if hist_articles % SHARD_ARTICLES == 0:
                if fh:
                    fh.close()
                fh = open(inp / "history" / f"part-{hist_articles // SHARD_ARTICLES:04d}.jsonl", "w",
                          encoding="utf-8")
            fh.write(line)
            hist_articles += 1
            hist_pars += pars
    finally:
        if fh:
            fh.close()
    day_counts = {f: max(1, round(f * hist_articles)) for f in fractions}
    following = []
    for _ in range(max(day_counts.values())):
        following.append(next(lines))
    lines.close()
    days = {}
    for f, n in day_counts.items():
        d = inp / day_folder(f, day_first)
        d.mkdir(parents=True)
        with open(d / "day.jsonl", "w", encoding="utf-8") as out:
            out.writelines(line for line, _ in following[:n])
        days[fraction_label(f)] = {"fraction": f, "articles": n, "folder": day_folder(f, day_first),
                                   "paragraphs": sum(p for _, p in following[:n]),
                                   "jsonl_mb": round((d / "day.jsonl").stat().st_size / 1e6, 2)}
    history_mb = sum(p.stat().st_size for p in (inp / "history").glob("*.jsonl")) / 1e6
    return {"history": {"articles": hist_articles, "paragraphs": hist_pars,
                        "shards": len(list((inp / "history").glob("*.jsonl"))),
                        "jsonl_mb": round(history_mb, 2)},
            "days": days}


def link_root(root: Path, sources: list[Path], inp: Path) -> Path:
    """An input root holding `sources` (folders of `inp`) as hard links (same size and mtime)."""
    if root.exists():
        shutil.rmtree(root)
    for src in sources:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                dest = root / path.relative_to(inp)
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, dest)
                except OSError:
                    shutil.copy2(path, dest)   # keeps mtime_ns: still "unchanged" for update
    return root


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


# ----------------------------------------------------------------------------------------------
# Measuring one command
# ----------------------------------------------------------------------------------------------
def measure(name: str, dedupe_args: list[str], log_path: Path, quiet_wait: float) -> dict:
    """Run `python -m dedupe <dedupe_args>` under /usr/bin/time in a fresh process; its wall
    time, memory, CPU, the other processes' load and the stage times of its -v log."""
    if quiet_wait > 0:
        wait_for_quiet(quiet_wait)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    time_file = log_path.with_suffix(".time")
    time_file.unlink(missing_ok=True)
    cmd = [TIME, "-f", "%e %M", "-o", str(time_file), sys.executable, "-m", "dedupe", *dedupe_args]
    print(f"  {name}: dedupe {' '.join(shown(Path(a)).as_posix() if '/' in a else a for a in dedupe_args)}",
          flush=True)
    library = library_fingerprint()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0 = busy_cpu_seconds()
    t0 = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        proc.wait()
        sampler.stop()
    wall = time.perf_counter() - t0
    busy = busy_cpu_seconds() - busy0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    res: dict = {"name": name, "command": ["dedupe", *dedupe_args], "log": str(shown(log_path)),
                 "exit": proc.returncode, "library_before": library}
    try:
        elapsed, max_rss_kb = time_file.read_text().split()[-2:]
        res["time_elapsed_s"], res["max_rss_mb"] = float(elapsed), int(max_rss_kb) / 1024
    except (OSError, ValueError):
        res["time_elapsed_s"] = res["max_rss_mb"] = None
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    res.update(seconds=wall, tree_peak_pss_mb=sampler.peak_mb, tree_max_processes=sampler.max_procs,
               cpu_seconds=max(cpu, sampler.cpu_seconds),
               others_cpu_cores=max(0.0, (busy - max(cpu, sampler.cpu_seconds)) / wall) if wall else None,
               stages={m.group(1): float(m.group(2)) for m in map(_STAGE_LINE.match, text.splitlines()) if m})
    res["peak_mb"] = max(res["max_rss_mb"] or 0.0, sampler.peak_mb)
    res["library_after"] = library_fingerprint()
    if proc.returncode != 0:
        tail = " | ".join(text.strip().splitlines()[-5:])
        res["error"] = f"exit {proc.returncode}: {tail}"
        res["seconds"] = None
        print(f"    FAILED ({res['error']})", flush=True)
    else:
        print(f"    {wall:.1f} s, peak {res['peak_mb']:,.0f} MB (largest process {res['max_rss_mb']:,.0f} MB, "
              f"tree PSS {sampler.peak_mb:,.0f} MB, {sampler.max_procs} procs), CPU {res['cpu_seconds']:.0f} s, "
              f"others' load {res['others_cpu_cores']:.1f} cores", flush=True)
    return res


def measure_best(name: str, dedupe_args: list[str], log_path: Path, args: argparse.Namespace,
                 reset, after=None) -> dict:
    """`measure` args.repeat times, each after `reset()` (a fresh table copy, no output): the
    fastest attempt (the least disturbed on a shared machine), with every attempt's wall time
    and the highest peak of them all (`peak_mb_max`). `after(result)` adds what the attempt left
    (its runs row, its report) to its result. A failed attempt ends the series."""
    attempts = []
    for i in range(args.repeat):
        reset()
        path = log_path if args.repeat == 1 else log_path.with_name(f"{log_path.stem}-{i + 1}{log_path.suffix}")
        attempts.append(measure(name + (f" ({i + 1}/{args.repeat})" if args.repeat > 1 else ""),
                                dedupe_args, path, args.quiet_wait))
        if after is not None:
            after(attempts[-1])
        if attempts[-1]["seconds"] is None:
            return attempts[-1]
    best = dict(min(attempts, key=lambda a: a["seconds"]))
    best["attempt_seconds"] = [a["seconds"] for a in attempts]
    best["attempt_peak_mb"] = [a["peak_mb"] for a in attempts]
    best["peak_mb_max"] = max(a["peak_mb"] for a in attempts)
    best["attempt_others_cpu_cores"] = [a["others_cpu_cores"] for a in attempts]
    return best


def last_run(table_dir: Path) -> dict | None:
    """The last row of the table directory's `runs` table, without the report columns' bulk."""
    from deltalake import DeltaTable

    try:
        rows = DeltaTable(str(table_dir / "runs")).to_pyarrow_table().to_pylist()
    except Exception as err:   # noqa: BLE001  (a failed run leaves no table)
        return {"error": str(err)}
    row = max(rows, key=lambda r: r["run_number"])
    report = json.loads(row.pop("report_json") or "null")
    row.pop("report_md", None)
    row["report"] = report
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def update_result(res: dict, table_dir: Path) -> None:
    """Add an update's runs row and the size of its table directory to its result."""
    res["runs_row"] = last_run(table_dir) if res["seconds"] is not None else None
    res["tables_mb"] = round(dir_mb(table_dir), 1) if table_dir.exists() else None
    prepared = table_dir / "_dedupe" / "prepared"
    res["prepared_cache_mb"] = round(dir_mb(prepared), 1) if prepared.exists() else None


def report_of(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / "report.json").read_text())
    except (OSError, ValueError):
        return None


def compare_reports(a: dict | None, b: dict | None) -> dict:
    if a is None or b is None:
        return {"same": None, "differs": ["missing report"]}
    differs = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    return {"same": not differs, "differs": differs}


# ----------------------------------------------------------------------------------------------
# One history size
# ----------------------------------------------------------------------------------------------
def bench_history(args: argparse.Namespace, h: int, fractions: list[float], corpus_dir: Path) -> dict:
    base = WORK / f"h{h}"
    logs = WORK / "logs" / f"h{h}"
    if base.exists():
        shutil.rmtree(base)
    t0 = time.perf_counter()
    inputs = build_inputs(corpus_dir, h, fractions, base, args.day_first)
    inp = base / "in"
    hist = inputs["history"]
    print(f"history H={h:,}: {hist['articles']:,} articles, {hist['paragraphs']:,} paragraphs, "
          f"{hist['jsonl_mb']} MB JSONL in {hist['shards']} file(s); days: "
          + ", ".join(f"{k}: {d['articles']:,} articles / {d['paragraphs']:,} paragraphs"
                      for k, d in inputs["days"].items())
          + f" ({time.perf_counter() - t0:.1f} s to write)", flush=True)
    result: dict = {"history_paragraphs_asked": h, "inputs": inputs, "days": []}

    root = link_root(base / "roots" / "history", [inp / "history"], inp)
    history_tables = base / "tables" / "history"
    load = measure_best("history load", ["update", "--engine", "local", "-v", "--input", str(root),
                                         "--table", str(history_tables)], logs / "history-load.log", args,
                        reset=lambda: shutil.rmtree(history_tables, ignore_errors=True),
                        after=lambda res: update_result(res, history_tables))
    result["history_load"] = load
    if load["seconds"] is None:
        return result

    for f in fractions:
        label = fraction_label(f)
        day_info = inputs["days"][label]
        entry: dict = {"fraction": f, **{k: day_info[k] for k in ("articles", "paragraphs", "jsonl_mb")}}
        print(f" day F={label} ({day_info['articles']:,} articles, {day_info['paragraphs']:,} paragraphs):",
              flush=True)
        day_dir = inp / day_info["folder"]
        root = link_root(base / "roots" / f"day-{label}", [inp / "history", day_dir], inp)
        tables = base / "tables" / f"day-{label}"

        def fresh_tables() -> None:
            if tables.exists():
                shutil.rmtree(tables)
            t = time.perf_counter()
            shutil.copytree(history_tables, tables)
            entry["table_copy_seconds"] = time.perf_counter() - t

        day = measure_best("day run", ["update", "--engine", "local", "-v", "--input", str(root),
                                       "--table", str(tables)], logs / f"day-{label}-update.log", args,
                           reset=fresh_tables, after=lambda res: update_result(res, tables))
        entry["day_run"] = day
        full_out = base / "out" / f"full-{label}"
        full = measure_best("full rebuild", ["run", "--engine", "local", "-v", "--input", str(root),
                                             "--output", str(full_out)], logs / f"day-{label}-full.log", args,
                            reset=lambda: shutil.rmtree(full_out, ignore_errors=True),
                            after=lambda res: res.update(report=report_of(full_out)))
        entry["full_rebuild"] = full
        day_out = base / "out" / f"oneshot-{label}"
        one = measure_best("one-shot of the day", ["run", "--engine", "local", "-v", "--input",
                                                   str(day_dir), "--output", str(day_out)],
                           logs / f"day-{label}-oneshot.log", args,
                           reset=lambda: shutil.rmtree(day_out, ignore_errors=True),
                           after=lambda res: res.update(report=report_of(day_out)))
        entry["one_shot_day"] = one
        day_report = (day.get("runs_row") or {}).get("report")
        entry["update_equals_full_rebuild"] = compare_reports(day_report, full["report"])
        entry["day_over_full"] = (day["seconds"] / full["seconds"]
                                  if day["seconds"] and full["seconds"] else None)
        same = entry["update_equals_full_rebuild"]
        print(f"   day/full = {fmt(entry['day_over_full'], 2)}; update report equals full rebuild's: "
              f"{same['same']}" + (f" (differs: {', '.join(same['differs'])})" if same["differs"] else ""),
              flush=True)
        if not args.keep:
            for path in (tables, full_out, day_out, root):
                shutil.rmtree(path, ignore_errors=True)
        result["days"].append(entry)
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return result


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------
def peak(m: dict) -> float | None:
    """A command's peak MB: the highest of its attempts."""
    return m.get("peak_mb_max", m.get("peak_mb"))


def tables(results: list[dict]) -> dict[str, str]:
    main_rows, load_rows, split_rows = [], [], []
    for r in results:
        h = r["inputs"]["history"]
        load = r["history_load"]
        run = load.get("runs_row") or {}
        load_rows.append([f"{h['paragraphs']:,}", f"{h['articles']:,}", f"{h['jsonl_mb']:.1f}",
                          fmt(load.get("seconds"), 1), fmt(peak(load)), fmt(load.get("max_rss_mb")),
                          fmt(load.get("tree_peak_pss_mb")), fmt(run.get("seconds_scan"), 1),
                          fmt(run.get("seconds_clean"), 1), fmt(run.get("seconds_write"), 1),
                          fmt(load.get("tables_mb"), 1), fmt(load.get("prepared_cache_mb"), 1)])
        for d in r["days"]:
            day, full, one = d["day_run"], d["full_rebuild"], d["one_shot_day"]
            main_rows.append([f"{h['paragraphs']:,}", f"{d['fraction']:g}", f"{d['articles']:,}",
                              fmt(day.get("seconds"), 1), fmt(peak(day)),
                              fmt(full.get("seconds"), 1), fmt(peak(full)),
                              fmt(one.get("seconds"), 1),
                              fmt(d.get("day_over_full"), 2)])
            run = day.get("runs_row") or {}
            st = day.get("stages", {})
            other = (day["seconds"] - (run.get("seconds_total") or 0)) if day.get("seconds") else None
            split_rows.append([f"{h['paragraphs']:,}", f"{d['fraction']:g}", fmt(day.get("seconds"), 1),
                               fmt(other, 1), fmt(run.get("seconds_scan"), 1), fmt(run.get("seconds_clean"), 1),
                               " / ".join(fmt(st.get(s), 1) for s in ("segment and sign", "match", "decide", "write")),
                               fmt(run.get("seconds_write"), 1), fmt(full.get("seconds"), 1),
                               " / ".join(fmt(full.get("stages", {}).get(s), 1)
                                          for s in ("segment and sign", "match", "decide", "write")),
                               {True: "yes", False: "NO", None: "n/a"}[d["update_equals_full_rebuild"]["same"]]])
    out = {}
    if main_rows:
        out["days"] = markdown_table(["H", "F", "day articles", "day run s", "day peak MB", "full rebuild s",
                                      "full peak MB", "one-shot-of-day s", "day/full"], main_rows)
    out["history_load"] = markdown_table(
        ["H", "articles", "JSONL MB", "load s", "peak MB", "largest proc MB", "tree PSS MB", "scan s",
         "clean s", "write s", "tables MB", "of which prepared cache MB"], load_rows)
    if split_rows:
        out["day_split"] = markdown_table(
            ["H", "F", "day run s", "start+exit s", "scan s", "clean s", "clean: sign / match / decide / write",
             "delta write s", "full s", "full: sign / match / decide / write", "same report"], split_rows)
    return out


# ----------------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--history", default="200000",
                    help="comma-separated history sizes H in paragraphs (default 200000)")
    ap.add_argument("--fractions", default="0.01,0.05,0.20",
                    help="comma-separated day sizes as fractions of the history's articles (default 0.01,0.05,0.20)")
    ap.add_argument("--seed", type=int, default=3, help="corpus seed (default 3)")
    ap.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA,
                    help="folder with multinews-dev/ and bbc/ (default ../shared/corpora or $DEDUPE_CORPORA)")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"result file (default {shown(DEFAULT_JSON)})")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work dirs (inputs, roots, tables, outputs) under bench/out/incremental/h<H>/")
    ap.add_argument("--day-first", action="store_true",
                    help="put the day in day-<F>/, which reads before history/ (default: new/day-<F>/, after it, "
                         "as in a feed of dated folders)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each command N times from the same state and keep the fastest (default 1)")
    ap.add_argument("--quiet-wait", type=float, default=0.0, metavar="SECONDS",
                    help="before each command, wait up to SECONDS until other processes use < "
                         f"{QUIET_CORES} cores (default 0 = do not wait)")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.history.split(",") if s.strip()]
    fractions = [float(s) for s in args.fractions.split(",") if s.strip()]
    if not sizes or not fractions or any(f <= 0 for f in fractions):
        print("error: need at least one history size and positive fractions", file=sys.stderr)
        return 2
    if not Path(TIME).exists():
        print(f"error: {TIME} not found (GNU time measures each command's peak RSS)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    machine = machine_info()
    library = library_fingerprint()
    print(f"machine: {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['mem_total_gb']} GB RAM, "
          f"Python {machine['python']}; dedupe/ {library['sha256']}")
    try:
        corpus_dir = source_corpus(args, max(needed_paragraphs(h, max(fractions)) for h in sizes))
    except CorporaMissing as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    results = []
    for h in sizes:
        t = time.perf_counter()
        res = bench_history(args, h, fractions, corpus_dir)
        res["benchmark_seconds"] = time.perf_counter() - t
        results.append(res)
        print(f" H={h:,} took {res['benchmark_seconds']:.0f} s", flush=True)
    elapsed = time.perf_counter() - started

    out = tables(results)
    notes = ["peak MB = max(largest single process's max RSS from /usr/bin/time %M, sampled peak of the "
             "summed PSS of the process tree); each command is a fresh `python -m dedupe` process"
             + (f"; seconds = the fastest of {args.repeat} attempts, peak MB = the highest" if args.repeat > 1 else ""),
             "day run = `dedupe update` of history + day on a copy of the history's tables; full rebuild = "
             "`dedupe run` over history + day; one-shot-of-day = `dedupe run` over the day's file alone",
             "start+exit s = the day run's wall time outside the runs table's seconds_total (interpreter "
             "start, imports, config and input checks, appending the runs row, exit)"]
    checks = {}
    for r in results:
        for d in r["days"]:
            if r["history_paragraphs_asked"] >= 1_000_000 and d["fraction"] <= 0.01 and d["day_run"].get("seconds"):
                checks[f"day_peak_under_2gb_h{r['history_paragraphs_asked']}_f{d['fraction']:g}"] = \
                    peak(d["day_run"]) < MEMORY_TARGET_MB
            same = d["update_equals_full_rebuild"]["same"]
            if same is not None:
                checks[f"update_equals_full_h{r['history_paragraphs_asked']}_f{d['fraction']:g}"] = same
    prints = {library["sha256"]} | {m[k]["sha256"] for r in results for m in
                                    [r["history_load"], *(x for d in r["days"] for x in
                                                          (d["day_run"], d["full_rebuild"], d["one_shot_day"]))]
                                    for k in ("library_before", "library_after") if m.get(k)}
    if len(prints) > 1:
        notes.append(f"WARNING: dedupe/ changed while the benchmark ran (digests {sorted(prints)}); "
                     "commands measured different library states")
    busiest = max([max(m.get("attempt_others_cpu_cores") or [m.get("others_cpu_cores") or 0]) for r in results for m in
                   [r["history_load"], *(x for d in r["days"] for x in
                                         (d["day_run"], d["full_rebuild"], d["one_shot_day"]))]] or [0])
    if busiest > 0.25:
        notes.append(f"WARNING: other processes used up to {busiest:.1f} of {machine['nproc']} cores during "
                     "a command; wall times are pessimistic")
    print()
    for key, title in (("days", "Day runs"), ("history_load", "History load (first update)"),
                       ("day_split", "Where the day run's time goes (s)")):
        if key in out:
            print(f"{title}:\n\n{out[key]}\n")
    for note in notes:
        print(f"- {note}")
    for k, v in checks.items():
        print(f"- check {k}: {'PASS' if v else 'FAIL'}")
    print(f"- benchmark wall time {elapsed:.0f} s")
    data = {"machine": machine, "library": library, "library_after": library_fingerprint(),
            "corpus": str(corpus_dir), "history_sizes": sizes, "fractions": fractions,
            "day_first": args.day_first, "repeat": args.repeat,
            "results": results, "checks": checks, "tables": out, "notes": notes,
            "benchmark_seconds": elapsed, "command": " ".join(sys.argv)}
    text = write_json(args.json, data)
    hist = WORK / "history"
    hist.mkdir(parents=True, exist_ok=True)
    (hist / f"{args.json.stem}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(text, encoding="utf-8")
    print(f"wrote {shown(args.json)}")
    failed = any(m.get("seconds") is None for r in results for m in
                 [r["history_load"], *(x for d in r["days"] for x in (d["day_run"], d["full_rebuild"], d["one_shot_day"]))])
    return 1 if failed or not all(checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
