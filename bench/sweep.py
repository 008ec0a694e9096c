"""Accuracy sweep: thresholds and shingle sizes against the labelled dev benchmark.

    .venv/bin/python bench/sweep.py                       # full sweep, ~8 min on 2 cores
    .venv/bin/python bench/sweep.py --groups segments     # one group only
    .venv/bin/python bench/sweep.py --from-json           # re-print tables / plots / analysis

Builds the dev benchmark (`bench/devset/make_devset.py`) into `OUT/devset` and a variant whose
syndicated copies all carry 3 % OCR-like noise into `OUT/devset-noise3` (the acceptance target
for documents is stated at 3 % noise), unless they already exist. Then runs the plain-function
pipeline, `dedupe.run(articles, out, dedupe.Config(**params))`, for each point of the grid,
scores it with `dedupe.evaluation.evaluate.evaluate_output`, prints one table per group and writes

    OUT/sweep.json              every run: params, metrics, targets met, run time; plus the
                                miss analysis of the default and the recommended config
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
import difflib
import hashlib
import importlib.util
import json
import re
import shutil
import sys
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import fields
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import dedupe  # noqa: E402
from dedupe.evaluation.evaluate import evaluate_output  # noqa: E402
from dedupe.evaluation.labels import load_labels  # noqa: E402
from dedupe.text.normalize import key_and_words  # noqa: E402
from dedupe.sketch.shingles import shingle_strings  # noqa: E402

DEFAULT_OUT = BENCH / "out"
DEVSET, NOISE3 = "devset", "devset-noise3"

TARGETS = {  # name: (metric key, comparison, bound, label)
    "loss": ("content_loss", "<=", 0.001, "content loss <= 0.1 %"),
    "repeat": ("repeat_recall", ">=", 0.99, "repeat removal recall >= 99 %"),
    "boiler": ("boilerplate_recall", ">=", 0.97, "boilerplate removal recall >= 97 %"),
    "pairF1": ("pair_f1", ">=", 0.97, "segment pair F1 >= 0.97"),
    "ARI": ("doc_ari", ">=", 0.95, "document ARI >= 0.95 at 3 % noise (devset-noise3)"),
}
FLAGS = {"loss": "L", "repeat": "R", "boiler": "B", "pairF1": "F", "ARI": "A"}

SEG_SHINGLES = (2, 3, 4, 5)
SEG_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
BOILER_MIN_DOCS = (3, 5, 8)
DOC_SHINGLES = ("char", "word")
DOC_SIZES = (3, 4, 5, 7)
DOC_THRESHOLDS = (0.3, 0.4, 0.5, 0.6)
DOC_CONTAINMENT = (0.7, 0.8, 0.9)
# Whole configurations run on both devsets. The first is the shipped default; the others are
# the grid points that keep content loss <= 0.1 % with the best recall, and the min_docs=3
# variant on top (see bench/README.md, "Accuracy sweep").
COMBINED: dict[str, dict[str, Any]] = {
    "default": {},
    "seg2@0.7": {"shingle_size": 2, "segment_threshold": 0.7},
    "seg3@0.7": {"shingle_size": 3, "segment_threshold": 0.7},
    "seg4@0.7": {"shingle_size": 4, "segment_threshold": 0.7},
    "seg2@0.7+bp3": {"shingle_size": 2, "segment_threshold": 0.7, "boilerplate_min_docs": 3},
}
RECOMMENDED = "seg4@0.7"
"""The combined config recommended as the new default (justified in bench/README.md)."""

MAX_FAILURES_IN_A_ROW = 3

GROUP_PARAMS = {
    "segments": ("shingle_size", "segment_threshold"),
    "boilerplate": ("boilerplate_min_docs",),
    "documents": ("doc_shingles", "doc_shingle_size", "doc_threshold"),
    "containment": ("doc_containment_threshold",),
    "combined": ("name",),
}
ALL_GROUPS = tuple(GROUP_PARAMS)


# ----------------------------------------------------------------------------------------------
# Devsets
# ----------------------------------------------------------------------------------------------
def _load_make_devset():
    path = BENCH / "devset" / "make_devset.py"
    spec = importlib.util.spec_from_file_location("make_devset", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_devset"] = module  # dataclasses look their module up while executing it
    spec.loader.exec_module(module)
    return module


def build_devsets(out: Path, corpora: Path | None, rebuild: bool) -> dict[str, Path]:
    """Build OUT/devset and OUT/devset-noise3 unless present; returns name -> directory."""
    dirs = {DEVSET: out / DEVSET, NOISE3: out / NOISE3}
    make_devset = None
    for name, where in dirs.items():
        if (where / "labels.jsonl").is_file() and (where / "articles").is_dir() and not rebuild:
            continue
        if make_devset is None:
            make_devset = _load_make_devset()
        argv = ["--out", str(where), "--quiet"] + (["--corpora", str(corpora)] if corpora else [])
        saved = make_devset.SYN_NOISE
        if name == NOISE3:
            make_devset.SYN_NOISE = ((0.03, 1.0),)  # every syndicated copy at 3 % noise
        print(f"building {name} ...", flush=True)
        try:
            status = make_devset.main(argv)
        except SystemExit as exc:  # make_devset.fail(): corpora missing, bad --out
            status = exc.code
        finally:
            make_devset.SYN_NOISE = saved
        if status not in (0, None):
            sys.exit(f"sweep: building {name} failed (make_devset exit status {status})")
    return dirs


# ----------------------------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------------------------
def code_fingerprint() -> str:
    """Hash of the dedupe/ sources: a sweep is only comparable if this did not change during it
    (dedupe/ may be edited while a sweep runs)."""
    h = hashlib.blake2b(digest_size=8)
    for path in sorted((REPO / "dedupe").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".txt"):
            h.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def grid(groups: list[str]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(group, dataset, params, label) for every run of the selected groups."""
    runs = []
    if "segments" in groups:
        for s in SEG_SHINGLES:
            for t in SEG_THRESHOLDS:
                runs.append(("segments", DEVSET, {"shingle_size": s, "segment_threshold": t}, ""))
    if "boilerplate" in groups:
        for m in BOILER_MIN_DOCS:
            runs.append(("boilerplate", DEVSET, {"boilerplate_min_docs": m}, ""))
    if "documents" in groups:
        for kind in DOC_SHINGLES:
            for n in DOC_SIZES:
                for t in DOC_THRESHOLDS:
                    runs.append(("documents", NOISE3, {"doc_shingles": kind, "doc_shingle_size": n,
                                                       "doc_threshold": t}, ""))
    if "containment" in groups:
        for c in DOC_CONTAINMENT:
            runs.append(("containment", NOISE3, {"doc_containment_threshold": c}, ""))
    if "combined" in groups:
        for name, params in COMBINED.items():
            for data in (DEVSET, NOISE3):
                runs.append(("combined", data, dict(params), name))
    return runs


def _defaults() -> dict[str, Any]:
    config = dedupe.Config()
    return {f.name: getattr(config, f.name) for f in fields(config)}


def _canonical(params: dict[str, Any]) -> tuple:
    """Params with default values dropped: equal configs share one run."""
    defaults = _defaults()
    return tuple(sorted((k, v) for k, v in params.items() if defaults.get(k) != v))


def _slug(data: str, params: dict[str, Any]) -> str:
    canon = _canonical(params)
    body = "_".join(f"{k}={v}" for k, v in canon) or "default"
    return f"{data}/{body}"


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


def targets_met(metrics: dict[str, Any], data: str) -> dict[str, bool | None]:
    met: dict[str, bool | None] = {}
    for name, (key, op, bound, _) in TARGETS.items():
        if name == "ARI" and data != NOISE3:
            met[name] = None  # the document target is stated at 3 % noise
            continue
        value = metrics[key]
        met[name] = value <= bound if op == "<=" else value >= bound
    return met


def run_one(articles: Path, labels, out_dir: Path, params: dict[str, Any]) -> dict[str, Any]:
    config = dedupe.Config(**params)
    t0 = time.perf_counter()
    dedupe.run(articles, out_dir, config)
    seconds = time.perf_counter() - t0
    evaluation = evaluate_output(out_dir, labels).to_dict()
    return {"seconds": round(seconds, 2), "metrics": metrics_of(evaluation)}


def sweep(dirs: dict[str, Path], out: Path, groups: list[str], keep_outputs: bool) -> list[dict]:
    labels = {name: load_labels(d / "labels.jsonl") for name, d in dirs.items()}
    plan = grid(groups)
    done: dict[tuple, dict] = {}
    results = []
    errors: Counter = Counter()
    failed_in_a_row = 0
    fingerprints: Counter = Counter()
    keep = {_slug(data, params) for params in COMBINED.values() for data in dirs}
    t_start = time.perf_counter()
    for i, (group, data, params, label) in enumerate(plan, 1):
        key = (data, _canonical(params))
        slug = _slug(data, params)
        if key in done:
            record = {**done[key], "group": group, "label": label, "params": params,
                      "reused": True}
        else:
            out_dir = out / "runs" / slug
            before = code_fingerprint()
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
            after = code_fingerprint()
            fingerprints[before] += 1
            if after != before:
                print(f"sweep: WARNING dedupe/ changed during this run ({before} -> {after})",
                      flush=True)
            record.update(group=group, dataset=data, params=params, label=label,
                          output=str(out_dir.relative_to(out)), reused=False,
                          code=before if after == before else f"{before}->{after}")
            done[key] = record
            if not keep_outputs and slug not in keep:
                shutil.rmtree(out_dir, ignore_errors=True)
                record["output"] = None
        results.append(record)
        m = record["metrics"]
        summary = (f"loss {m['content_loss']:.5f} rep {m['repeat_recall']:.3f} "
                   f"bp {m['boilerplate_recall']:.3f} F1 {m['pair_f1']:.3f} ARI {m['doc_ari']:.3f}"
                   if m else record["error"])
        took = "(reused)" if record["reused"] else (
            f"{record['seconds']:5.1f} s" if record["seconds"] is not None else "failed")
        print(f"[{i:>2}/{len(plan)}] {group:<11} {data:<13} {label or _fmt_params(params):<48} "
              f"{took}  {summary}", flush=True)
    print(f"sweep: {len(plan)} points, {len(done)} pipeline runs in "
          f"{time.perf_counter() - t_start:.0f} s", flush=True)
    if len(fingerprints) > 1 or any("->" in (r.get("code") or "") for r in results):
        print("sweep: WARNING dedupe/ changed during the sweep; runs are not comparable "
              f"(code fingerprints {dict(fingerprints)}). Re-run when dedupe/ is stable.",
              flush=True)
    return results


def _fmt_params(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items()) or "defaults"


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------
def _pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}"


def _flags(targets: dict[str, bool | None] | None) -> str:
    if not targets:
        return "error"
    return "".join(FLAGS[n] if ok else ("·" if ok is None else "-") for n, ok in targets.items())


def tables(results: list[dict], markdown: bool = False) -> str:
    """One table per group. Flags: L R B F A = target met, - = missed, · = not measured here."""
    blocks = []
    by_group: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        by_group[r["group"]].append(r)
    for group in ALL_GROUPS:
        rows = by_group.get(group)
        if not rows:
            continue
        pnames = GROUP_PARAMS[group]
        header = [*pnames, "data", "loss %", "lost", "repeat R %", "boiler R %", "pair P",
                  "pair R", "pair F1", "doc ARI", "doc P", "doc R", "targets", "s"]
        body = []
        for r in rows:
            m = r["metrics"]
            pvals = [r["label"]] if group == "combined" else [str(r["params"][p]) for p in pnames]
            if m is None:
                body.append([*pvals, r["dataset"], *(["—"] * 10), "error", ""])
                continue
            body.append([
                *pvals, "noise3" if r["dataset"] == NOISE3 else "devset",
                _pct(m["content_loss"], 3), str(m["lost"]),
                f"{_pct(m['repeat_recall'], 1)} ({m['repeat_removed']}/{m['repeat_expected']})",
                f"{_pct(m['boilerplate_recall'], 1)} ({m['boilerplate_removed']}/{m['boilerplate_expected']})",
                f"{m['pair_precision']:.4f}", f"{m['pair_recall']:.4f}", f"{m['pair_f1']:.4f}",
                f"{m['doc_ari']:.4f}", f"{m['doc_precision']:.3f}", f"{m['doc_recall']:.3f}",
                _flags(r["targets"]), "reused" if r["reused"] else f"{r['seconds']:.1f}",
            ])
        title = {"segments": "Segment level: shingle_size x segment_threshold (devset)",
                 "boilerplate": "Boilerplate: boilerplate_min_docs (devset)",
                 "documents": "Document level: doc_shingles x doc_shingle_size x doc_threshold "
                              "(devset-noise3)",
                 "containment": "Document level: doc_containment_threshold (devset-noise3)",
                 "combined": "Whole configurations (both devsets)"}[group]
        blocks.append(_render(title, header, body, markdown))
    legend = ("targets: L loss<=0.1%  R repeat>=99%  B boilerplate>=97%  F pair F1>=0.97  "
              "A ARI>=0.95 (noise3 only); '-' missed, '·' not measured on this dataset")
    return "\n\n".join(blocks) + "\n\n" + legend + "\n"


def _render(title: str, header: list[str], body: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = [f"**{title}**", "", "| " + " | ".join(header) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [title, fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in body]
    return "\n".join(lines)


def ranking(results: list[dict]) -> str:
    """Whole configurations by targets met (both devsets together)."""
    by_name: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in results:
        if r["group"] == "combined" and r["metrics"]:
            by_name[r["label"]][r["dataset"]] = r
    lines = ["Whole configurations: segment targets on devset, ARI target on devset-noise3"]
    for name, runs in by_name.items():
        if DEVSET not in runs or NOISE3 not in runs:
            continue
        seg, doc = runs[DEVSET], runs[NOISE3]
        met = {**{k: v for k, v in seg["targets"].items() if k != "ARI"},
               "ARI": doc["targets"]["ARI"]}
        lines.append(f"  {name:<22} {sum(bool(v) for v in met.values())}/5 {_flags(met)}  "
                     f"{_fmt_params(COMBINED.get(name, {}))}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------------------------
def plot(results: list[dict], out: Path) -> list[Path]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("sweep: matplotlib is not installed, so no PNG plots were written (the tables and "
              "sweep.json are complete). Install it with: .venv/bin/pip install matplotlib")
        return []
    def _save(fig, path: Path) -> Path:
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path

    written = []
    seg = [r for r in results if r["group"] == "segments" and r["metrics"]]
    if seg:
        fig, axes = plt.subplots(1, 3, figsize=(17, 5.6))
        panels = (("repeat_recall", "in-article repeat removal recall", 0.99),
                  ("boilerplate_recall", "boilerplate removal recall", 0.97),
                  ("pair_f1", "segment pair F1", 0.97))
        for ax, (key, label, bound) in zip(axes, panels):
            for s in SEG_SHINGLES:
                pts = sorted(((r["params"]["segment_threshold"], r["metrics"]) for r in seg
                              if r["params"]["shingle_size"] == s), key=lambda p: p[0])
                xs = [100 * m["content_loss"] for _, m in pts]
                ys = [100 * m[key] for _, m in pts]
                line, = ax.plot(xs, ys, marker="o", label=f"shingle_size {s}")
                for (t, _), x, y in zip(pts, xs, ys):
                    ax.annotate(f"{t:g}", (x, y), textcoords="offset points", xytext=(4, 3),
                                fontsize=7, color=line.get_color())
            for name, marker in (("default", "*"), (RECOMMENDED, "P")):
                params = {**{"shingle_size": 5, "segment_threshold": 0.7}, **COMBINED[name]}
                hit = [r["metrics"] for r in seg if all(r["params"].get(k) == v for k, v in params.items()
                                                        if k in ("shingle_size", "segment_threshold"))]
                if hit:
                    ax.scatter([100 * hit[0]["content_loss"]], [100 * hit[0][key]], s=220,
                               marker=marker, facecolors="none", edgecolors="black", zorder=5,
                               label=f"{name} ({_fmt_params(COMBINED[name])})")
            ax.axhline(100 * bound, color="grey", ls="--", lw=1)
            ax.axvline(0.1, color="grey", ls=":", lw=1)
            ax.set_xscale("symlog", linthresh=0.01)
            ax.set_xlim(left=-0.001, right=1.0)
            ax.set_xlabel("content loss, % of keep-labelled segments (symlog)")
            ax.set_ylabel(f"{label}, %")
            ax.set_title(f"{label}\n(dashed: target {100 * bound:g} %, dotted: loss 0.1 %)",
                         fontsize=10)
            ax.grid(alpha=0.3)
        axes[0].legend(title="points labelled by segment_threshold", fontsize=7.5, title_fontsize=8,
                       loc="lower right")
        fig.suptitle("Segment sweep on the devset: content loss vs removal recall per shingle size")
        written.append(_save(fig, out / "sweep_segments.png"))
    docs = [r for r in results if r["group"] == "documents" and r["metrics"]]
    if docs:
        fig, axes = plt.subplots(1, 2, figsize=(14, 5.6))
        styles = {"char": "-", "word": "--"}
        for kind in DOC_SHINGLES:
            for n in DOC_SIZES:
                pts = sorted((r["params"]["doc_threshold"], r["metrics"]) for r in docs
                             if r["params"]["doc_shingles"] == kind
                             and r["params"]["doc_shingle_size"] == n)
                if not pts:
                    continue
                style = dict(ls=styles[kind], marker="o" if kind == "char" else "s")
                axes[0].plot([t for t, _ in pts], [m["doc_ari"] for _, m in pts], **style,
                             label=f"{kind} {n}-grams")
                axes[1].plot([m["doc_recall"] for _, m in pts], [m["doc_precision"] for _, m in pts],
                             **style, label=f"{kind} {n}-grams")
        axes[0].axhline(0.95, color="grey", ls=":", lw=1)
        axes[0].set_xlabel("doc_threshold (Jaccard)")
        axes[0].set_ylabel("document ARI")
        axes[0].set_title("ARI vs doc_threshold (doc_containment_threshold 0.8)\n"
                          "dotted: target 0.95", fontsize=10)
        axes[0].set_xticks(DOC_THRESHOLDS)
        axes[0].legend(fontsize=8, ncol=2)
        axes[0].grid(alpha=0.3)
        axes[1].set_xlabel("document pair recall")
        axes[1].set_ylabel("document pair precision")
        axes[1].set_title("pair precision vs recall (one point per doc_threshold)", fontsize=10)
        axes[1].grid(alpha=0.3)
        cont = sorted((r["params"]["doc_containment_threshold"], r["metrics"]) for r in results
                      if r["group"] == "containment" and r["metrics"])
        if cont:
            axes[0].text(0.02, 0.02, "char 5-grams @ doc_threshold 0.5, containment " + ", ".join(
                f"{c:g}: ARI {m['doc_ari']:.3f}" for c, m in cont), transform=axes[0].transAxes,
                fontsize=7.5)
        fig.suptitle("Document sweep on devset-noise3 (every syndicated copy at 3 % OCR noise)")
        written.append(_save(fig, out / "sweep_documents.png"))
    return written


# ----------------------------------------------------------------------------------------------
# Miss analysis
# ----------------------------------------------------------------------------------------------
def words(text: str) -> list[str]:
    """The word tokens the tool matches on."""
    return key_and_words(text)[1]


def shingles(ws: list[str], n: int) -> set[str]:
    """Word n-grams as the tool takes them (a text shorter than n words is one shingle)."""
    return set(shingle_strings(ws, n))


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def char_grams(text: str, n: int = 5) -> set[str]:
    s = " ".join(words(text))
    return {s[i:i + n] for i in range(len(s) - n + 1)} if len(s) >= n else {s}


CREDIT = re.compile(r"(photo|picture|getty|reuters|\bap\b|aap|afp|pa\b|epa|images?|credit|"
                    r"published|file)", re.I)


def _diff_shape(a: list[str], b: list[str]) -> tuple[str, list[str]]:
    """How word list b differs from a: ('affix'|'inside'|'mixed'|'same', changed words)."""
    ops = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
           if op[0] != "equal"]
    if not ops:
        return "same", []
    changed = [w for op in ops for w in a[op[1]:op[2]] + b[op[3]:op[4]]]
    at_ends = all((i1 == 0 and j1 == 0) or (i2 == len(a) and j2 == len(b))
                  for _, i1, i2, j1, j2 in ops)
    if at_ends:
        return "affix", changed
    return ("inside" if len(ops) == 1 else "mixed"), changed


def _read_output(out_dir: Path) -> tuple[dict, dict, dict]:
    import pyarrow.parquet as pq
    docs = pq.read_table(out_dir / "documents.parquet",
                         columns=["doc_id", "source", "doc_cluster_id"]).to_pylist()
    source_of = {d["doc_id"]: d["source"] for d in docs}
    doc_cluster = {d["source"]: d["doc_cluster_id"] or d["source"] for d in docs}
    seg = {}
    for r in pq.read_table(out_dir / "segments.parquet",
                           columns=["doc_id", "start", "text", "cluster_id", "role", "kept",
                                    "kept_doc_id", "similarity"]).to_pylist():
        seg[(source_of[r["doc_id"]], r["start"])] = r
    return source_of, doc_cluster, seg


def analyse_segments(out_dir: Path, labels_path: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Categorise drop-labelled segments the run kept, and keep-labelled segments it removed."""
    _, doc_cluster, pred = _read_output(out_dir)
    labels = [json.loads(line) for line in labels_path.read_text("utf-8").splitlines()
              if line.strip()]
    seg_labels = [l for l in labels if l["type"] == "segment"]
    by_group: dict[str, list[dict]] = defaultdict(list)
    for l in seg_labels:
        if l["group"]:
            by_group[l["group"]].append(l)
    text = {(l["source"], l["start"]): pred[(l["source"], l["start"])]["text"] for l in seg_labels}
    min_docs = config["boilerplate_min_docs"]

    def key(l):
        return " ".join(words(text[(l["source"], l["start"])]))

    missed = [l for l in seg_labels if l["expected"] == "drop"
              and pred[(l["source"], l["start"])]["kept"] is True]
    cats: dict[str, list[dict]] = defaultdict(list)
    for l in missed:
        k = (l["source"], l["start"])
        t, ws = text[k], words(text[k])
        p = pred[k]
        item = {"source": l["source"], "start": l["start"], "group": l["group"], "text": t,
                "words": len(ws), "role": p["role"], "cluster_id": p["cluster_id"]}
        if l["kind"] == "repeat":
            members = sorted(by_group[l["group"]], key=lambda m: (m["source"] != l["source"],
                                                                  m["start"]))
            first = next((m for m in members if m["source"] == l["source"]
                          and m["expected"] == "keep"), None)
            if first is None:
                cats["repeat: no kept copy in the article"].append(item)
                continue
            fw = words(text[(first["source"], first["start"])])
            item["kept_copy"] = text[(first["source"], first["start"])]
            item["kept_words"] = len(fw)
            item["jaccard_by_n"] = {n: round(jaccard(shingles(fw, n), shingles(ws, n)), 3)
                                    for n in (1, 2, 3, 4, 5)}
            shape, changed = _diff_shape(fw, ws)
            item["changed_words"] = changed
            short, long_ = sorted((fw, ws), key=len)
            n, t = config["shingle_size"], config["segment_threshold"]
            item["jaccard_at_config"] = round(jaccard(shingles(fw, n), shingles(ws, n)), 3)
            if item["jaccard_at_config"] >= t:
                cat = ("repeat: LSH band miss (exact Jaccard passes segment_threshold, "
                       "no band agreed)")
            elif "".join(fw) == "".join(ws):
                cat = "repeat: tokenisation variant (U.S. / US.)"
            elif shape == "affix" and " ".join(short) in " ".join(long_) and \
                    len(long_) - len(short) >= max(5, len(short) // 2):
                cat = "repeat: doubled or merged paragraph (one copy holds the other + much more)"
            elif shape == "affix":
                cat = ("repeat: credit/prefix added to a short caption" if CREDIT.search(
                    " ".join(changed)) or len(changed) <= 4 else "repeat: text added at one end")
            elif shape == "inside" and len(changed) <= 3:
                cat = "repeat: one word inserted/changed inside"
            else:
                cat = "repeat: several edits"
            cats[cat].append(item)
            continue
        # boilerplate (and any other drop kind)
        group = by_group.get(l["group"] or "", [])
        same_key = [m for m in group if key(m) == key(l)]
        unrelated_same = {doc_cluster[m["source"]] for m in same_key}
        unrelated_group = {doc_cluster[m["source"]] for m in group}
        item.update(label_group_size=len(group), label_group_docs=len({m["source"] for m in group}),
                    unrelated_docs_same_text=len(unrelated_same),
                    unrelated_docs_label_group=len(unrelated_group),
                    docs_same_text=len({m["source"] for m in same_key}))
        if l["kind"] != "boilerplate":
            cat = f"{l['kind']}: other"
        elif len(group) <= 1 or len({m["source"] for m in group}) == 1:
            cat = "boilerplate: lone furniture line (no copy in another article)"
        elif len(unrelated_same) >= min_docs:
            cat = "boilerplate: frequent but not removed (check)"
        elif item["docs_same_text"] >= min_docs:
            cat = ("boilerplate: in >= min_docs articles, but those are near-duplicate articles "
                   "that count once")
        elif len(unrelated_group) >= min_docs:
            commonest = Counter(key(m) for m in group).most_common(1)[0][0]
            ref = commonest.split()
            item["commonest_variant"] = commonest
            item["jaccard_to_commonest_by_n"] = {
                n: round(jaccard(shingles(ref, n), shingles(ws, n)), 3) for n in (1, 2, 3, 4, 5)}
            shape, changed = _diff_shape(ref, ws)
            item["changed_words"] = changed
            cat = ("boilerplate: variant of a frequent string (site/year/word changed), "
                   "its exact copies in < min_docs articles")
        else:
            cat = f"boilerplate: rare, label group in < {min_docs} unrelated articles"
        cats[cat].append(item)

    lost = []
    for l in seg_labels:
        p = pred[(l["source"], l["start"])]
        if l["expected"] == "keep" and p["kept"] is False:
            lost.append({"source": l["source"], "start": l["start"], "text": p["text"],
                         "role": p["role"], "label_kind": l["kind"], "label_group": l["group"]})

    # Segment pairs the run missed / added, by label kind.
    true_pairs = Counter()
    missed_pairs = Counter()
    for g, members in by_group.items():
        kind = members[0]["kind"]
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                true_pairs[kind] += 1
                ca, cb = (pred[(m["source"], m["start"])]["cluster_id"] for m in (a, b))
                if ca is None or ca != cb:
                    missed_pairs[kind] += 1
    return {
        "missed_drops": len(missed),
        "categories": {c: {"count": len(v), "items": v}
                       for c, v in sorted(cats.items(), key=lambda kv: -len(kv[1]))},
        "lost": lost,
        "pair_misses_by_kind": {k: {"true_pairs": true_pairs[k], "missed": missed_pairs[k]}
                                for k in true_pairs},
    }


def lsh_recall(threshold: float, num_perm: int = 128) -> dict[str, Any]:
    """Bands/rows dedupe uses for segments at `threshold` (datasketch's choice for
    `threshold - LSH_MARGIN`) and the chance that a pair of exact Jaccard J becomes a
    candidate, 1 - (1 - J^r)^b."""
    from dedupe.sketch.lsh import LSH_MARGIN, MIN_LSH_THRESHOLD, lsh_params
    b, r = lsh_params(max(MIN_LSH_THRESHOLD, threshold - LSH_MARGIN), num_perm)
    return {"b": b, "r": r, "p_candidate": {
        f"{j:.2f}": round(1 - (1 - j ** r) ** b, 4)
        for j in sorted({threshold, threshold + 0.05, threshold + 0.1, 0.9})}}


def analyse_documents(out_dir: Path, data_dir: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Missed and false document pairs with their char 5-gram Jaccard / containment (computed
    here on the words of the whole article joined by spaces, as dedupe does).

    A missed pair that passes a threshold was never proposed as a candidate (the run verifies
    every candidate exactly); one below both thresholds is beyond the configured similarity.
    """
    import pyarrow.parquet as pq
    docs = pq.read_table(out_dir / "documents.parquet",
                         columns=["source", "doc_cluster_id"]).to_pylist()
    pred = {d["source"]: d["doc_cluster_id"] for d in docs}
    labels = [json.loads(line) for line in (data_dir / "labels.jsonl").read_text("utf-8").splitlines()
              if line.strip()]
    true = {l["source"]: l["group"] for l in labels if l["type"] == "document"}
    grams: dict[str, set[str]] = {}

    def g(src):
        if src not in grams:
            grams[src] = char_grams((data_dir / "articles" / src).read_text("utf-8"))
        return grams[src]

    jt, ct = config["doc_threshold"], config["doc_containment_threshold"]

    def describe(a, b):
        ga, gb = g(a), g(b)
        small, large = sorted((ga, gb), key=len)
        jac = jaccard(ga, gb)
        con = len(small & large) / len(small) if small else 0.0
        if jac >= jt or con >= ct:
            verdict = "passes a threshold, never proposed as a candidate"
        else:
            verdict = "below both thresholds"
        return {"a": a, "b": b, "jaccard": round(jac, 3), "containment": round(con, 3),
                "verdict": verdict, "grams": [len(ga), len(gb)]}

    def pairs(groups: dict[str, str | None]):
        members = defaultdict(list)
        for s, grp in groups.items():
            if grp is not None:
                members[grp].append(s)
        return {(a, b) for ms in members.values() for i, a in enumerate(sorted(ms))
                for b in sorted(ms)[i + 1:]}

    tp = pairs({s: true[s] for s in true if s in pred})
    pp = pairs({s: pred[s] for s in true if s in pred})
    missed = sorted((describe(a, b) for a, b in tp - pp), key=lambda d: -max(d["jaccard"], d["containment"]))
    false = sorted((describe(a, b) for a, b in pp - tp), key=lambda d: -max(d["jaccard"], d["containment"]))
    # A missed pair may still be in one predicted cluster through others; list whole documents
    # that ended up alone although they have a labelled group.
    isolated = sorted(s for s in true if true[s] is not None and pred.get(s) is None)
    verdicts = Counter(p["verdict"] for p in missed)
    return {"true_pairs": len(tp), "predicted_pairs": len(pp),
            "missed_by_verdict": dict(verdicts),
            "missed_pairs": missed, "false_pairs": false,
            "labelled_duplicates_left_alone": isolated}


def analyse(results: list[dict], dirs: dict[str, Path], out: Path) -> dict[str, Any]:
    analysis = {}
    defaults = _defaults()
    for name in ("default", RECOMMENDED):
        params = COMBINED[name]
        seg_dir = out / "runs" / _slug(DEVSET, params)
        doc_dir = out / "runs" / _slug(NOISE3, params)
        if not (seg_dir / "segments.parquet").is_file() or not (doc_dir / "documents.parquet").is_file():
            print(f"analysis: outputs of '{name}' not found under {out / 'runs'}; run the "
                  "'combined' group first")
            continue
        analysis[name] = {
            "params": params,
            "segments_devset": analyse_segments(seg_dir, dirs[DEVSET] / "labels.jsonl",
                                                {**defaults, **params}),
            "documents_noise3": analyse_documents(doc_dir, dirs[NOISE3], {**defaults, **params}),
            "documents_devset": analyse_documents(seg_dir, dirs[DEVSET], {**defaults, **params}),
            "segment_lsh": lsh_recall({**defaults, **params}["segment_threshold"]),
        }
    return analysis


def print_analysis(analysis: dict[str, Any], examples: int = 5) -> None:
    for name, a in analysis.items():
        seg = a["segments_devset"]
        print(f"\n=== misses of '{name}' ({_fmt_params(a['params'])}) ===")
        print(f"devset: {seg['missed_drops']} drop-labelled segments kept")
        for cat, c in seg["categories"].items():
            print(f"  {c['count']:>4}  {cat}")
            for it in c["items"][:examples]:
                extra = ""
                if "kept_copy" in it:
                    extra = f"  <- kept {it['kept_copy'][:60]!r}  J(n=1..5) {list(it['jaccard_by_n'].values())}"
                elif "commonest_variant" in it:
                    extra = (f"  vs {it['commonest_variant'][:50]!r} "
                             f"J(n=1..5) {list(it['jaccard_to_commonest_by_n'].values())}")
                elif "unrelated_docs_label_group" in it:
                    extra = (f"  [label group: {it['label_group_size']} copies, "
                             f"{it['unrelated_docs_label_group']} unrelated docs]")
                print(f"          {it['source']}:{it['start']} ({it['words']} w) "
                      f"{it['text'][:60]!r}{extra}")
        by_role = Counter(it["role"] for it in seg["lost"])
        print(f"content loss: {len(seg['lost'])} keep-labelled segments removed "
              f"({', '.join(f'{n} as {r}' for r, n in by_role.items())})")
        for it in seg["lost"][:3 * examples]:
            print(f"          {it['source']}:{it['start']} role={it['role']} "
                  f"label={it['label_kind']} {it['text'][:70]!r}")
        print("segment pairs missed by label kind: " + ", ".join(
            f"{k or 'null'} {v['missed']}/{v['true_pairs']}" for k, v in seg["pair_misses_by_kind"].items()))
        for key in ("documents_noise3", "documents_devset"):
            d = a[key]
            print(f"{key}: {len(d['missed_pairs'])}/{d['true_pairs']} true pairs missed "
                  f"({'; '.join(f'{v} {k}' for k, v in d['missed_by_verdict'].items())}), "
                  f"{len(d['false_pairs'])}/{d['predicted_pairs']} predicted pairs false, "
                  f"{len(d['labelled_duplicates_left_alone'])} labelled duplicates left alone")
            for kind in ("missed_pairs", "false_pairs"):
                for p in d[kind][:examples]:
                    print(f"   {kind[:6]} J {p['jaccard']:.3f} C {p['containment']:.3f} "
                          f"grams {p['grams'][0]}/{p['grams'][1]}  {p['a']} ~ {p['b']}")
        lsh = a["segment_lsh"]
        print(f"segment LSH: b={lsh['b']} r={lsh['r']}, P(candidate | J): " + ", ".join(
            f"{j}: {p:.3f}" for j, p in lsh["p_candidate"].items()))


# ----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (bench/out)")
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
    json_path = out / "sweep.json"
    saved: dict[str, Any] = {}
    if args.from_json:
        saved = json.loads(json_path.read_text("utf-8"))
        results = saved["runs"]
    else:
        results = sweep(dirs, out, groups, args.keep_outputs)
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
    analysis = {**saved.get("analysis", {}),
                **({} if args.no_analysis else analyse(results, dirs, out))}
    if analysis:
        print_analysis(analysis)
    payload = {
        "dedupe_version": dedupe.__version__,
        "code_fingerprints": sorted({r.get("code") for r in results if r.get("code")}),
        "targets": {k: {"metric": v[0], "op": v[1], "bound": v[2], "label": v[3]}
                    for k, v in TARGETS.items()},
        "defaults": {k: v for k, v in _defaults().items()
                     if k in {p for ps in GROUP_PARAMS.values() for p in ps}},
        "recommended": {"name": RECOMMENDED, "params": COMBINED[RECOMMENDED]},
        "datasets": {k: str(v) for k, v in dirs.items()},
        "runs": results,
        "analysis": analysis,
    }
    json_path.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    written = plot(results, out)
    print(f"\nwrote {json_path}, {out / 'sweep_tables.md'}"
          + "".join(f", {p}" for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
