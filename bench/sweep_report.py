"""The accuracy sweep's report: one table per group (plain text or Markdown), the whole
configurations ranked by targets met, and the PNG plots (when matplotlib is installed)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from common import markdown_table, text_table
from sweep_grid import (ALL_GROUPS, COMBINED, DEVSET, DOC_SHINGLES, DOC_SIZES, DOC_THRESHOLDS, FLAGS,
                        GROUP_PARAMS, NOISE3, SEG_SHINGLES, defaults, fmt_params)

TITLES = {"segments": "Segment level: shingle_size x segment_threshold (devset)",
          "boilerplate": "Boilerplate: boilerplate_min_docs (devset)",
          "documents": "Document level: doc_shingles x doc_shingle_size x doc_threshold (devset-noise3)",
          "containment": "Document level: doc_containment_threshold (devset-noise3)",
          "combined": "Whole configurations (both devsets)"}


def _pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}"


def flags(targets: dict[str, bool | None] | None) -> str:
    if not targets:
        return "error"
    return "".join(FLAGS[n] if ok else ("·" if ok is None else "-") for n, ok in targets.items())


def tables(results: list[dict], markdown: bool = False) -> str:
    """The results of each group as one table, then the legend of the targets column."""
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
                flags(r["targets"]), "reused" if r["reused"] else f"{r['seconds']:.1f}",
            ])
        if markdown:
            blocks.append(f"**{TITLES[group]}**\n\n" + markdown_table(header, body, left=2))
        else:
            blocks.append(f"{TITLES[group]}\n" + text_table(header, body, left=2))
    legend = ("targets: L loss<=0.1%  R repeat>=99%  B boilerplate>=97%  F pair F1>=0.97  "
              "A ARI>=0.95 (noise3 only); '-' missed, '·' not measured on this dataset")
    return "\n\n".join(blocks) + "\n\n" + legend + "\n"


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
        lines.append(f"  {name:<22} {sum(bool(v) for v in met.values())}/5 {flags(met)}  "
                     f"{fmt_params(COMBINED.get(name, {}))}")
    return "\n".join(lines)


def plot(results: list[dict], out: Path) -> list[Path]:
    """OUT/sweep_segments.png and OUT/sweep_documents.png, for the groups that ran."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("sweep: matplotlib is not installed, so no PNG plots were written (the tables and "
              "sweep.json are complete). Install it with: .venv/bin/pip install matplotlib")
        return []

    def save(fig, path: Path) -> Path:
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path

    written = []
    seg = [r for r in results if r["group"] == "segments" and r["metrics"]]
    if seg:
        written.append(save(_plot_segments(plt, seg), out / "sweep_segments.png"))
    docs = [r for r in results if r["group"] == "documents" and r["metrics"]]
    if docs:
        cont = sorted((r["params"]["doc_containment_threshold"], r["metrics"]) for r in results
                      if r["group"] == "containment" and r["metrics"])
        written.append(save(_plot_documents(plt, docs, cont), out / "sweep_documents.png"))
    return written


def _plot_segments(plt, seg: list[dict]):
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.6))
    panels = (("repeat_recall", "in-article repeat removal recall", 0.99),
              ("boilerplate_recall", "boilerplate removal recall", 0.97),
              ("pair_f1", "segment pair F1", 0.97))
    default = {k: defaults()[k] for k in GROUP_PARAMS["segments"]}
    at_default = [r["metrics"] for r in seg if all(r["params"][k] == v for k, v in default.items())]
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
        if at_default:
            ax.scatter([100 * at_default[0]["content_loss"]], [100 * at_default[0][key]], s=220,
                       marker="*", facecolors="none", edgecolors="black", zorder=5,
                       label=f"default ({fmt_params(default)})")
        ax.axhline(100 * bound, color="grey", ls="--", lw=1)
        ax.axvline(0.1, color="grey", ls=":", lw=1)
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlim(left=-0.001, right=1.0)
        ax.set_xlabel("content loss, % of keep-labelled segments (symlog)")
        ax.set_ylabel(f"{label}, %")
        ax.set_title(f"{label}\n(dashed: target {100 * bound:g} %, dotted: loss 0.1 %)", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(title="points labelled by segment_threshold", fontsize=7.5, title_fontsize=8,
                   loc="lower right")
    fig.suptitle("Segment sweep on the devset: content loss vs removal recall per shingle size")
    return fig


def _plot_documents(plt, docs: list[dict], cont: list[tuple[float, dict]]):
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.6))
    styles = {"char": "-", "word": "--"}
    for kind in DOC_SHINGLES:
        for n in DOC_SIZES:
            pts = sorted((r["params"]["doc_threshold"], r["metrics"]) for r in docs
                         if r["params"]["doc_shingles"] == kind and r["params"]["doc_shingle_size"] == n)
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
    if cont:
        axes[0].text(0.02, 0.02, "char 5-grams @ doc_threshold 0.5, containment " + ", ".join(
            f"{c:g}: ARI {m['doc_ari']:.3f}" for c, m in cont), transform=axes[0].transAxes,
            fontsize=7.5)
    fig.suptitle("Document sweep on devset-noise3 (every syndicated copy at 3 % OCR noise)")
    return fig
