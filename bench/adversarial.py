#!/usr/bin/env python3
"""Adversarial corpora: feeds full of near-identical pages, each timed against as many distinct
articles of the same size.

    .venv/bin/python bench/adversarial.py                           # every case (~3-5 min on 2 cores)
    .venv/bin/python bench/adversarial.py --cases template:2000     # one case, one size

Cases (one article per JSONL line; `distinct` twins keep each article's lines and word counts
but draw every word from a vocabulary of 20,000 random pseudo-words, so no two share text):

    template        "Item i" / "Open Image Modal" / "This is article number i ..." (one template)
    footer          one story, ending "Reporting by <a name of its own>; Editing by <one of 6>"
    one-line        every article the same single line
    near-identical  one short three-paragraph article with one random word replaced
    long-page       a page of 2,000 lines, each one sentence with one random word replaced
                    (its size counts lines: 40,000 makes 20 pages)

Each run is `dedupe.run(input, output, dedupe.Config())` in a fresh process, so its peak memory
is its own: peak MB is the larger of the process's VmHWM and the sampled PSS of its process
tree (worker pools). Exit status 1 unless 20,000 template articles take at most 3x the time of
20,000 distinct ones and every case of 50,000 articles peaks below 2 GB (checked when run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from common import OUT, TreeSampler, fmt, library_fingerprint, machine_info, peak_rss_mb, text_table, write_json

DEFAULT_CASES = ("template:20000,template:50000,footer:20000,one-line:10000,near-identical:50000,"
                 "long-page:40000")
DEFAULT_JSON = OUT / "adversarial.json"
MAX_TIME_RATIO = (20_000, 3.0)  # template articles at this size: at most this times distinct
MAX_PEAK_MB = (50_000, 2048)    # any case at this size: peak below this

STORY = ("The city council voted on Tuesday to close the old bridge for repairs next spring.\n"
         "Drivers will be sent through the northern ring road for about six months, officials said.\n"
         "The work is expected to cost twelve million dollars and will be paid from the road budget.")
LINE = "Sign up for our newsletter to get the day's top stories delivered to your inbox every morning."
EDITORS = ("Mark Potter", "Leslie Adler", "Dan Grebler", "Chris Reese", "Sandra Maler", "Peter Cooney")


def _words(rng: np.random.RandomState, n: int) -> np.ndarray:
    """n pseudo-words of 2-4 consonant-vowel syllables (duplicates removed, so at most n)."""
    syllables = np.array([c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"])
    lengths = rng.randint(2, 5, size=n)
    return np.array(list(dict.fromkeys("".join(rng.choice(syllables, k)) for k in lengths)))


def template(i: int, rng: np.random.RandomState) -> str:
    return (f"Item {i}\nOpen Image Modal\nThis is article number {i} of the daily feed. It was made from "
            f"the same template as every other page of this site, and only its number changes from "
            f"one page to the next.")


def footer(i: int, rng: np.random.RandomState) -> str:
    return f"{STORY}\nReporting by {_name(i)}; Editing by {EDITORS[i % len(EDITORS)]}"


def _name(i: int) -> str:
    """A distinct capitalised surname for every i (base-18 digits as consonant-vowel pairs)."""
    letters = []
    while True:
        i, d = divmod(i, 18)
        letters.append("bcdfghjklmnprstvwz"[d] + "aeiou"[(d + i) % 5])
        if i == 0:
            break
    return "".join(letters).capitalize() + "son"


def one_line(i: int, rng: np.random.RandomState) -> str:
    return LINE


def near_identical(i: int, rng: np.random.RandomState) -> str:
    words = STORY.replace("\n", " \n ").split(" ")
    spots = [k for k, w in enumerate(words) if w != "\n"]
    words[spots[rng.randint(len(spots))]] = _name(rng.randint(1_000_000)).lower()
    return " ".join(words).replace(" \n ", "\n")


PAGE_LINES = 2_000


def long_page(i: int, rng: np.random.RandomState) -> str:
    lines = []
    for _ in range(PAGE_LINES):
        words = LINE.split(" ")
        words[rng.randint(len(words))] = _name(rng.randint(1_000_000)).lower()
        lines.append(" ".join(words))
    return f"Page {i}\n" + "\n".join(lines)


CASES: dict[str, Callable[[int, np.random.RandomState], str]] = {
    "template": template, "footer": footer, "one-line": one_line, "near-identical": near_identical,
    "long-page": long_page}
ARTICLES_PER = {"long-page": PAGE_LINES}  # cases whose size counts lines


def distinct_twin(text: str, vocab: np.ndarray, rng: np.random.RandomState) -> str:
    """`text` with every word replaced by a random vocabulary word: same lines and word counts."""
    return "\n".join(" ".join(rng.choice(vocab, len(line.split()))) for line in text.split("\n"))


def write_corpus(case: str, n: int, distinct: bool, root: Path, seed: int) -> Path:
    """n articles of `case` (or their distinct twins; n lines for a case of ARTICLES_PER) as JSONL
    under root; returns the folder."""
    rng = np.random.RandomState(seed)
    vocab = _words(np.random.RandomState(seed + 1), 20_000) if distinct else None
    folder = root / f"{case}-{n}-{'distinct' if distinct else 'case'}"
    folder.mkdir(parents=True)
    with open(folder / "articles.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n // ARTICLES_PER.get(case, 1)):
            text = CASES[case](i, rng)
            fh.write(json.dumps({"text": distinct_twin(text, vocab, rng) if distinct else text}) + "\n")
    return folder


# ----------------------------------------------------------------------------------------------
# In the child: one run
# ----------------------------------------------------------------------------------------------
def child(corpus: Path, out: Path, result: Path) -> int:
    import dedupe

    t0 = time.perf_counter()
    report = dedupe.run(corpus, out, dedupe.Config())
    seconds = time.perf_counter() - t0
    top = report.top_clusters[0] if report.top_clusters else {}
    result.write_text(json.dumps({
        "seconds": seconds, "peak_rss_mb": peak_rss_mb(), "documents": report.documents,
        "segments_removed": report.segments_removed, "documents_dropped": report.documents_dropped,
        "clusters_by_kind": report.clusters_by_kind, "largest_segment_cluster": top.get("size")}))
    return 0


# ----------------------------------------------------------------------------------------------
# In the parent
# ----------------------------------------------------------------------------------------------
def measure(corpus: Path, work: Path) -> dict:
    """Run `child` on `corpus` in a fresh process; its result with the process tree's peak PSS."""
    result = work / f"result-{corpus.name}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(corpus), str(work / f"out-{corpus.name}"),
           str(result)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, stderr = proc.communicate()
    sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{corpus.name} failed (exit {proc.returncode}): {stderr.strip()[-500:]}")
    res = json.loads(result.read_text())
    res["tree_peak_pss_mb"] = sampler.peak_mb
    res["peak_mb"] = max(res["peak_rss_mb"], sampler.peak_mb)
    return res


def run_cases(cases: list[tuple[str, int]], seed: int, log=print) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="dedupe-adversarial-") as tmp:
        work = Path(tmp)
        for case, n in cases:
            pair = {}
            for distinct in (False, True):
                corpus = write_corpus(case, n, distinct, work, seed)
                pair["distinct" if distinct else "run"] = res = measure(corpus, work)
                log(f"  {case}{' (distinct)' if distinct else ''} x {n:,}: {res['seconds']:.1f} s, "
                    f"{res['peak_mb']:,.0f} MB")
            rows.append({"case": case, "articles": n, **pair,
                         "time_ratio": pair["run"]["seconds"] / pair["distinct"]["seconds"]})
    return rows


def table(rows: list[dict]) -> str:
    headers = ["case", "articles", "seconds", "peak MB", "distinct s", "distinct MB", "ratio to distinct",
               "docs dropped", "segments removed"]
    body = []
    for r in rows:
        c, d = r["run"], r["distinct"]
        body.append([r["case"], f"{r['articles']:,}", fmt(c["seconds"], 1), fmt(c["peak_mb"]), fmt(d["seconds"], 1),
                     fmt(d["peak_mb"]), f"{r['time_ratio']:.2f}x", fmt(c["documents_dropped"]),
                     fmt(c["segments_removed"])])
    return text_table(headers, body)


def checks(rows: list[dict]) -> list[str]:
    """Failed acceptance checks (see the module docstring), as messages."""
    failed = []
    n, ratio = MAX_TIME_RATIO
    for r in rows:
        if r["case"] == "template" and r["articles"] == n and r["time_ratio"] > ratio:
            failed.append(f"{n:,} template articles took {r['time_ratio']:.2f}x the distinct time (> {ratio}x)")
        if r["articles"] == MAX_PEAK_MB[0] and r["run"]["peak_mb"] >= MAX_PEAK_MB[1]:
            failed.append(f"{r['case']} x {r['articles']:,} peaked at {r['run']['peak_mb']:,.0f} MB")
    return failed


def parse_cases(text: str) -> list[tuple[str, int]]:
    out = []
    for item in text.split(","):
        name, _, size = item.partition(":")
        if name not in CASES or not size.isdigit():
            raise argparse.ArgumentTypeError(f"expected CASE:N with CASE in {', '.join(CASES)}, got {item!r}")
        out.append((name, int(size)))
    return out


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) == 5 and sys.argv[1] == "--child":
        return child(*(Path(a) for a in sys.argv[2:]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=parse_cases, default=parse_cases(DEFAULT_CASES),
                        help=f"comma-separated CASE:ARTICLES (default {DEFAULT_CASES})")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    rows = run_cases(args.cases, args.seed)
    print(table(rows))
    failed = checks(rows)
    for message in failed:
        print(f"FAILED: {message}")
    write_json(args.json, {"machine": machine_info(), "library": library_fingerprint(), "seed": args.seed,
                           "loadavg_after": os.getloadavg(), "rows": rows, "failed": failed})
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
