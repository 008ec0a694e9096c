#!/usr/bin/env python3
"""OCR sweep: document-matching accuracy (ARI) against OCR noise, old matching vs new.

    .venv/bin/python bench/ocr_sweep.py                         # full sweep, a few minutes
    .venv/bin/python bench/ocr_sweep.py --rates 0,0.05,0.1      # other noise rates
    .venv/bin/python bench/ocr_sweep.py --from-json             # re-print table, re-draw plot
    .venv/bin/python bench/ocr_sweep.py --png docs/ocr-sweep.png   # also write the plot there

For each noise rate R and shape, builds a dev set (`bench/devset/make_devset.py --quiet`) into
OUT/ocr-sweep/<shape>-<R>/, reused when its meta file OUT/ocr-sweep/<shape>-<R>.json records the
same options (`--rebuild` forces a build):

    full        --syn-noise R               every syndicated copy at R OCR noise
    abridged    --reprints --syn-noise R    ... and abridged (ending cut, inner paragraphs dropped)

Each dev set is cleaned twice with `dedupe.run` into a temporary folder, with the old matching
`dedupe.Config(doc_reprints=False)` and the new `dedupe.Config()`, and scored with
`evaluate_output`. Writes OUT/ocr_sweep.json (document ARI, pair P/R/F1 and run time per point,
seed, library fingerprint, machine) and OUT/ocr_sweep.png (ARI vs noise, needs matplotlib),
and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dedupe
from common import (BENCH, DEFAULT_CORPORA, OUT, library_fingerprint, machine_info,
                    markdown_table, shown, write_json)
from dedupe.evaluation.evaluate import evaluate_output
from dedupe.evaluation.labels import load_labels

DEFAULT_RATES = "0,0.01,0.02,0.03,0.05,0.07,0.10,0.12,0.15"
SHAPES = {"full": [], "abridged": ["--reprints"]}
TITLES = {"full": "full copies (edited, not abridged)",
          "abridged": "abridged copies (ending cut, inner paragraphs dropped)"}
MATCHINGS = {"old": {"doc_reprints": False}, "new": {}}
TARGET_ARI = 0.95
SWEEP = OUT / "ocr-sweep"
JSON_PATH = OUT / "ocr_sweep.json"
PNG_PATH = OUT / "ocr_sweep.png"


def parse_rates(value: str) -> list[float]:
    """--rates: comma-separated noise rates in [0, 1), sorted and deduplicated."""
    try:
        rates = sorted({float(x) for x in value.split(",") if x.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {value!r}") from None
    if not rates or not all(0 <= r < 1 for r in rates):
        raise argparse.ArgumentTypeError(f"noise rates must be in [0, 1): {value!r}")
    return rates


def fail(msg: str) -> int:
    print(f"ocr_sweep: error: {msg}", file=sys.stderr)
    return 2


def build_devset(shape: str, rate: float, seed: int, corpora: Path, rebuild: bool) -> tuple[Path, bool]:
    """Build (or reuse) the dev set of one point; returns its folder and whether it was reused."""
    where = SWEEP / f"{shape}-{rate:g}"
    meta_path = SWEEP / f"{shape}-{rate:g}.json"
    options = ["--seed", str(seed), "--corpora", str(corpora), *SHAPES[shape], "--syn-noise", f"{rate:g}"]
    meta = {"shape": shape, "rate": rate, "seed": seed, "make_devset_args": options}
    if not rebuild and meta_path.is_file() and (where / "labels.jsonl").is_file() \
            and (where / "articles").is_dir():
        try:
            saved = json.loads(meta_path.read_text("utf-8"))
        except ValueError:
            saved = None
        if saved == meta:
            return where, True
    meta_path.unlink(missing_ok=True)   # an interrupted build is never reused
    cmd = [sys.executable, str(BENCH / "devset" / "make_devset.py"), "--out", str(where), "--quiet",
           *options]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(fail(f"building {shown(where)} failed (make_devset exit status {proc.returncode})"))
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return where, False


def run_point(devset: Path, labels, matching: str) -> dict[str, Any]:
    """Clean `devset` with one matching into a temporary folder and score its documents."""
    before = library_fingerprint()["sha256"]
    with tempfile.TemporaryDirectory(prefix="ocr-sweep-") as tmp:
        t0 = time.perf_counter()
        dedupe.run(devset / "articles", Path(tmp) / "out", dedupe.Config(**MATCHINGS[matching]))
        seconds = time.perf_counter() - t0
        doc = evaluate_output(Path(tmp) / "out", labels).documents
    after = library_fingerprint()["sha256"]
    return {"doc_ari": doc.ari, "doc_precision": doc.pairs.precision, "doc_recall": doc.pairs.recall,
            "doc_f1": doc.pairs.f1, "documents_matched": doc.matched,
            "documents_missing": len(doc.missing), "seconds": round(seconds, 2),
            "code": before if before == after else f"{before}->{after}"}


def sweep(rates: list[float], seed: int, corpora: Path, rebuild: bool) -> list[dict[str, Any]]:
    """Every (shape, rate, matching) point, in a fixed order."""
    points = []
    for shape in SHAPES:
        for rate in rates:
            t0 = time.perf_counter()
            devset, reused = build_devset(shape, rate, seed, corpora, rebuild)
            built = "reused" if reused else f"built in {time.perf_counter() - t0:.0f} s"
            labels = load_labels(devset / "labels.jsonl")
            for matching in MATCHINGS:
                m = run_point(devset, labels, matching)
                points.append({"shape": shape, "rate": rate, "matching": matching, **m})
                print(f"{shape:<8} noise {100 * rate:5.1f} %  {matching}  ARI {m['doc_ari']:.4f}  "
                      f"P {m['doc_precision']:.4f}  R {m['doc_recall']:.4f}  {m['seconds']:5.1f} s"
                      + (f"  (devset {built})" if matching == "old" else ""), flush=True)
    return points


def table(points: list[dict[str, Any]]) -> str:
    """Markdown table: one row per (shape, rate), old and new side by side."""
    by = {(p["shape"], p["rate"], p["matching"]): p for p in points}
    rows = []
    for shape in SHAPES:
        for rate in sorted({p["rate"] for p in points if p["shape"] == shape}):
            old, new = by.get((shape, rate, "old")), by.get((shape, rate, "new"))
            cells = []
            for key in ("doc_ari", "doc_precision", "doc_recall"):
                cells += [f"{p[key]:.4f}" if p else "n/a" for p in (old, new)]
            rows.append([shape, f"{100 * rate:g}", *cells])
    return markdown_table(["shape", "noise %", "old ARI", "new ARI", "old P", "new P",
                           "old R", "new R"], rows, left=1)


def plot(data: dict[str, Any], paths: list[Path]) -> list[Path]:
    """ARI vs noise rate, one panel per shape; old dashed, new solid; dotted line at 0.95."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("ocr_sweep: matplotlib is not installed, so no PNG plot was written (the table and "
              "ocr_sweep.json are complete). Install it with: .venv/bin/pip install matplotlib")
        return []
    points = data["points"]
    lows = [p["doc_ari"] for p in points] + [TARGET_ARI]
    fig, axes = plt.subplots(1, len(SHAPES), figsize=(12, 4.8), sharey=True)
    for ax, shape in zip(axes, SHAPES):
        for matching, style in (("old", dict(ls="--", marker="s", color="tab:orange")),
                                ("new", dict(ls="-", marker="o", color="tab:blue"))):
            pts = sorted((p["rate"], p["doc_ari"]) for p in points
                         if p["shape"] == shape and p["matching"] == matching)
            label = ("old: doc_reprints=False" if matching == "old" else "new: default Config()")
            ax.plot([100 * r for r, _ in pts], [a for _, a in pts], label=label, **style)
        ax.axhline(TARGET_ARI, color="grey", ls=":", lw=1.2, label=f"target ARI {TARGET_ARI}")
        ax.set_title(TITLES[shape], fontsize=10)
        ax.set_xlabel("OCR noise rate of every syndicated copy (%)")
        ax.set_ylim(max(0.0, min(lows) - 0.03), 1.005)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("document ARI")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Document ARI vs OCR noise, old vs new matching "
                 f"(synthetic dev split, make_devset seed {data['seed']})")
    fig.tight_layout()
    written = []
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        written.append(path)
    plt.close(fig)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", type=parse_rates, default=parse_rates(DEFAULT_RATES),
                    help=f"comma-separated OCR noise rates (default {DEFAULT_RATES})")
    ap.add_argument("--seed", type=int, default=7, help="make_devset seed (default 7)")
    ap.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA,
                    help="folder holding multinews-dev/ and bbc/ (default ../shared/corpora)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the dev sets even if present")
    ap.add_argument("--png", type=Path, default=None, help="also write the plot to this path")
    ap.add_argument("--from-json", action="store_true",
                    help=f"do not run: re-print the table and re-draw the plot from {shown(JSON_PATH)}")
    args = ap.parse_args(argv)

    if args.from_json:
        if not JSON_PATH.is_file():
            return fail(f"{shown(JSON_PATH)} not found; run the sweep first")
        data = json.loads(JSON_PATH.read_text("utf-8"))
    else:
        missing = [str(args.corpora / d) for d in ("multinews-dev", "bbc")
                   if not (args.corpora / d).is_dir()]
        if missing:
            return fail("corpora not found: " + ", ".join(missing) + ". The dev sets are built from "
                        "the research-licensed corpora in ../shared/corpora (see its README.md); "
                        "they are not part of the repository. Pass --corpora DIR or set "
                        "$DEDUPE_CORPORA.")
        SWEEP.mkdir(parents=True, exist_ok=True)
        fingerprint = library_fingerprint()
        t0 = time.perf_counter()
        points = sweep(args.rates, args.seed, args.corpora.resolve(), args.rebuild)
        elapsed = time.perf_counter() - t0
        codes = sorted({p["code"] for p in points})
        if len(codes) > 1 or any("->" in c for c in codes):
            print(f"ocr_sweep: WARNING dedupe/ changed during the sweep (code fingerprints {codes});"
                  " points are not comparable. Re-run when dedupe/ is stable.", flush=True)
        data = {"seed": args.seed, "rates": args.rates, "shapes": list(SHAPES),
                "matchings": {k: dedupe.Config(**v).doc_reprints for k, v in MATCHINGS.items()},
                "dataset": "synthetic dev split (bench/devset/make_devset.py)",
                "devsets": {s: {f"{r:g}": str(shown(SWEEP / f"{s}-{r:g}")) for r in args.rates}
                            for s in SHAPES},
                "elapsed_seconds": round(elapsed, 1), "points": points,
                "library_fingerprint": fingerprint, "machine": machine_info()}
        write_json(JSON_PATH, data)
        print(f"\nocr_sweep: {len(points)} runs in {elapsed:.0f} s", flush=True)
    print()
    print(table(data["points"]))
    paths = [PNG_PATH] + ([args.png] if args.png else [])
    written = ([] if args.from_json else [JSON_PATH]) + plot(data, paths)
    if written:
        print("\nwrote " + ", ".join(str(shown(p)) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
