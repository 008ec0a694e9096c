#!/usr/bin/env python3
"""Accuracy sweep: thresholds and shingle sizes against the labelled dev benchmark.

    .venv/bin/python bench/sweep.py                       # full sweep, ~8 min on 2 cores
    .venv/bin/python bench/sweep.py --groups segments     # one group only
    .venv/bin/python bench/sweep.py --from-json           # re-print tables / plots / analysis

Builds the dev benchmark (`bench/devset/make_devset.py`) into `OUT/devset` and a variant whose
syndicated copies all carry 3 % OCR-like noise (`--syn-noise 0.03`) into `OUT/devset-noise3`
(the acceptance target for documents is stated at 3 % noise), unless they already exist. Then
runs the plain-function pipeline, `dedupe.run(articles, out, dedupe.Config(**params))`, for each
point of the grid (`sweep_grid.py`), scores it with `dedupe.evaluation.evaluate.evaluate_output`,
prints one table per group (`sweep_report.py`) and the miss analysis of the default config
(`sweep_analysis.py`), and writes

    OUT/sweep.json              every run: params, metrics, targets met, run time, library
                                fingerprint; plus the miss analysis of the default config
    OUT/sweep_tables.md         the tables
    OUT/sweep_segments.png      content loss vs repeat / boilerplate recall per shingle size
    OUT/sweep_documents.png     document ARI vs doc_threshold per shingle setting

Groups (each varies its parameters from the defaults, never the full product):
    segments      shingle_size x segment_threshold                      devset
    boilerplate   boilerplate_min_docs                                  devset
    documents     doc_shingles x doc_shingle_size x doc_threshold       devset-noise3
    containment   doc_containment_threshold                             devset-noise3
    combined      whole candidate configs, on both devsets

Nothing under dedupe/ is changed; the pipeline is only called through its public API.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import dedupe
from common import BENCH, OUT, library_fingerprint, write_json
from dedupe.evaluation.evaluate import evaluate_output
from dedupe.evaluation.labels import Labels, load_labels
from sweep_analysis import analyse, print_analysis
from sweep_grid import (ALL_GROUPS, COMBINED, DEVSET, GROUP_PARAMS, NOISE3, TARGETS, canonical, defaults,
                        fmt_params, grid, slug, targets_met)
from sweep_report import plot, ranking, tables

MAX_FAILURES_IN_A_ROW = 3
NOISE3_RATE = "0.03"   # make_devset --syn-noise: every syndicated copy at 3 % noise


def build_devsets(out: Path, corpora: Path | None, rebuild: bool) -> dict[str, Path]:
    """Build OUT/devset and OUT/devset-noise3 unless present; returns name -> directory."""
    dirs = {DEVSET: out / DEVSET, NOISE3: out / NOISE3}
    for name, where in dirs.items():
        if (where / "labels.jsonl").is_file() and (where / "articles").is_dir() and not rebuild:
            continue
        cmd = [sys.executable, str(BENCH / "devset" / "make_devset.py"), "--out", str(where), "--quiet"]
        cmd += ["--corpora", str(corpora)] if corpora else []
        cmd += ["--syn-noise", NOISE3_RATE] if name == NOISE3 else []
        print(f"building {name} ...", flush=True)
        status = subprocess.run(cmd).returncode
        if status != 0:
            sys.exit(f"sweep: building {name} failed (make_devset exit status {status})")
    return dirs


def metrics_of(evaluation: dict[str, Any]) -> dict[str, Any]:
    seg, doc = evaluation["segments"], evaluation["documents"]
    removal = {r["kind"]: r for r in seg["removal"]}
    rep, bp = removal.get("repeat"), removal.get("boilerplate")
    return {
        "content_loss": seg["content_loss"],
        "lost": len(seg["lost"]),
        "expected_keep": seg["expected_keep"],
        "repeat_recall": rep["recall"], "repeat_removed": rep["removed"],
        "repeat_expected": rep["expected_drop"],
        "boilerplate_recall": bp["recall"], "boilerplate_removed": bp["removed"],
        "boilerplate_expected": bp["expected_drop"],
        "pair_precision": seg["pairs"]["precision"], "pair_recall": seg["pairs"]["recall"],
        "pair_f1": seg["pairs"]["f1"],
        "doc_ari": doc["ari"], "doc_precision": doc["pairs"]["precision"],
        "doc_recall": doc["pairs"]["recall"], "doc_f1": doc["pairs"]["f1"],
        "segments_missing": len(seg["missing"]), "documents_missing": len(doc["missing"]),
        "end_mismatches": seg["end_mismatches"],
        "lost_segments": [{k: s[k] for k in ("source", "start", "text", "role")}
                          for s in seg["lost"]],
    }


def run_one(articles: Path, labels: Labels, out_dir: Path, params: dict[str, Any]) -> dict[str, Any]:
    config = dedupe.Config(**params)
    t0 = time.perf_counter()
    dedupe.run(articles, out_dir, config)
    seconds = time.perf_counter() - t0
    evaluation = evaluate_output(out_dir, labels).to_dict()
    return {"seconds": round(seconds, 2), "metrics": metrics_of(evaluation)}


def sweep(dirs: dict[str, Path], labels: dict[str, Labels], out: Path, groups: list[str],
          keep_outputs: bool) -> list[dict]:
    plan = grid(groups)
    done: dict[tuple, dict] = {}
    results = []
    errors: Counter = Counter()
    failed_in_a_row = 0
    fingerprints: Counter = Counter()
    keep = {slug(data, params) for params in COMBINED.values() for data in dirs}
    t_start = time.perf_counter()
    for i, (group, data, params, label) in enumerate(plan, 1):
        key = (data, canonical(params))
        run_slug = slug(data, params)
        if key in done:
            record = {**done[key], "group": group, "label": label, "params": params,
                      "reused": True}
        else:
            out_dir = out / "runs" / run_slug
            before = library_fingerprint()["sha256"]
            try:
                record = run_one(dirs[data] / "articles", labels[data], out_dir, params)
                record["error"] = None
                record["targets"] = targets_met(record["metrics"], data)
            except Exception as exc:  # record and go on: one bad point must not lose the sweep
                record = {"seconds": None, "metrics": None, "targets": None,
                          "error": f"{type(exc).__name__}: {exc}"}
                if record["error"] not in errors:
                    traceback.print_exc()
                errors[record["error"]] += 1
                failed_in_a_row += 1
                if failed_in_a_row >= MAX_FAILURES_IN_A_ROW:
                    sys.exit(f"sweep: {failed_in_a_row} runs in a row failed ({record['error']}); "
                             "is dedupe/ being edited right now? Nothing was written.")
            else:
                failed_in_a_row = 0
            after = library_fingerprint()["sha256"]
            fingerprints[before] += 1
            if after != before:
                print(f"sweep: WARNING dedupe/ changed during this run ({before} -> {after})",
                      flush=True)
            record.update(group=group, dataset=data, params=params, label=label,
                          output=str(out_dir.relative_to(out)), reused=False,
                          code=before if after == before else f"{before}->{after}")
            done[key] = record
            if not keep_outputs and run_slug not in keep:
                shutil.rmtree(out_dir, ignore_errors=True)
                record["output"] = None
        results.append(record)
        m = record["metrics"]
        summary = (f"loss {m['content_loss']:.5f} rep {m['repeat_recall']:.3f} "
                   f"bp {m['boilerplate_recall']:.3f} F1 {m['pair_f1']:.3f} ARI {m['doc_ari']:.3f}"
                   if m else record["error"])
        took = "(reused)" if record["reused"] else (
            f"{record['seconds']:5.1f} s" if record["seconds"] is not None else "failed")
        print(f"[{i:>2}/{len(plan)}] {group:<11} {data:<13} {label or fmt_params(params):<48} "
              f"{took}  {summary}", flush=True)
    print(f"sweep: {len(plan)} points, {len(done)} pipeline runs in "
          f"{time.perf_counter() - t_start:.0f} s", flush=True)
    if len(fingerprints) > 1 or any("->" in (r.get("code") or "") for r in results):
        print("sweep: WARNING dedupe/ changed during the sweep; runs are not comparable "
              f"(code fingerprints {dict(fingerprints)}). Re-run when dedupe/ is stable.",
              flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT, help="output folder (bench/out)")
    ap.add_argument("--corpora", type=Path, default=None,
                    help="passed to make_devset.py (default: its own default)")
    ap.add_argument("--groups", default=",".join(ALL_GROUPS),
                    help=f"comma-separated subset of {','.join(ALL_GROUPS)}")
    ap.add_argument("--keep-outputs", action="store_true",
                    help="keep every run's Parquet output (default: only the 'combined' configs)")
    ap.add_argument("--rebuild-devsets", action="store_true")
    ap.add_argument("--from-json", action="store_true",
                    help="do not run: re-print tables, plots and analysis from OUT/sweep.json")
    ap.add_argument("--no-analysis", action="store_true")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    unknown = [g for g in groups if g not in ALL_GROUPS]
    if unknown:
        ap.error(f"unknown group(s) {unknown}; choose from {ALL_GROUPS}")

    dirs = build_devsets(out, args.corpora, args.rebuild_devsets)
    labels = {name: load_labels(d / "labels.jsonl") for name, d in dirs.items()}
    json_path = out / "sweep.json"
    saved: dict[str, Any] = {}
    if args.from_json:
        saved = json.loads(json_path.read_text("utf-8"))
        results = saved["runs"]
    else:
        results = sweep(dirs, labels, out, groups, args.keep_outputs)
        if json_path.is_file() and set(groups) != set(ALL_GROUPS):
            # a partial sweep replaces only its own groups in an earlier full result
            previous = json.loads(json_path.read_text("utf-8"))["runs"]
            results = [r for r in previous if r["group"] not in groups] + results
            results.sort(key=lambda r: ALL_GROUPS.index(r["group"]))
    print()
    print(tables(results))
    print(ranking(results))
    (out / "sweep_tables.md").write_text(tables(results, markdown=True) + "\n" + ranking(results)
                                         + "\n", encoding="utf-8")
    # with --from-json, an analysis that cannot be redone (outputs gone, or --no-analysis) is
    # kept from the saved file instead of being dropped
    analysis = dict(saved.get("analysis", {}))
    if not args.no_analysis:
        default = analyse("default", dirs, labels, out)
        if default:
            analysis["default"] = default
    if analysis:
        print_analysis(analysis)
    write_json(json_path, {
        "dedupe_version": dedupe.__version__,
        "code_fingerprints": sorted({r.get("code") for r in results if r.get("code")}),
        "targets": {k: {"metric": v[0], "op": v[1], "bound": v[2], "label": v[3]}
                    for k, v in TARGETS.items()},
        "defaults": {k: v for k, v in defaults().items()
                     if k in {p for ps in GROUP_PARAMS.values() for p in ps}},
        "datasets": {k: str(v) for k, v in dirs.items()},
        "runs": results,
        "analysis": analysis,
    })
    written = plot(results, out)
    print(f"\nwrote {json_path}, {out / 'sweep_tables.md'}"
          + "".join(f", {p}" for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
