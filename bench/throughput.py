#!/usr/bin/env python3
"""Throughput and peak memory of `dedupe` against a naive datasketch script, on a synthetic
news corpus built from the real articles in ../shared/corpora.

    .venv/bin/python bench/throughput.py                                # 200k paragraphs, all stages
    .venv/bin/python bench/throughput.py --paragraphs 20000             # quick
    .venv/bin/python bench/throughput.py --skip-naive                   # naive on a 20k sample only
    .venv/bin/python bench/throughput.py --sizes 100000,1000000         # pipeline only, per size
    .venv/bin/python bench/throughput.py --profile 50000 [--serial]     # cProfile of the pipeline
    .venv/bin/python bench/throughput.py --quiet-wait 120               # shared machine: wait for quiet

Stages, each timed in a fresh subprocess so that peak memory is per stage (VmHWM of the process,
plus the sampled PSS of its whole process tree, which includes the pipeline's worker pool):

    naive      lower-case + \\w+ words, word 5-gram strings, datasketch.MinHash(num_perm=128,
               seed=1).update(shingle.encode()) per shingle, MinHashLSH(threshold=0.7) insert
               + query for every paragraph (what a user's datasketch script does)
    pipeline   dedupe.run(jsonl_dir, out_dir, dedupe.Config()) end to end (read, normalise,
               segment, sign, LSH, verify, cluster, write Parquet)
    normalize  dedupe.text.normalize.normalize + words for every paragraph (input of `signatures`)
    signatures dedupe.sketch.sets.word_shingle_sets (word hashing, 5-gram shingles, MinHash) alone on
               the words of every paragraph, in one process (includes loading the compiled
               kernels, about 1 s)
    floor      lower-case + re.findall(r"\\w+") over every paragraph (tokenise-only floor)

The corpus (see `build_corpus`) is written as JSONL shards under bench/out/throughput/ (git-
ignored), streamed so that 1M paragraphs need little memory, and reused when the same size,
seed and generator version are asked for again. Stdlib + numpy (+ datasketch for the naive
baseline, dedupe for the library stages).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPORA = Path(os.environ.get("DEDUPE_CORPORA", REPO_ROOT.parent / "shared" / "corpora"))
OUT_ROOT = REPO_ROOT / "bench" / "out" / "throughput"
DEFAULT_JSON = REPO_ROOT / "bench" / "out" / "throughput.json"
DEFAULT_SIZES_JSON = REPO_ROOT / "bench" / "out" / "throughput-sizes.json"
GENERATOR_VERSION = 1        # bump when the corpus recipe changes (invalidates cached corpora)

# ----------------------------------------------------------------------------------------------
# Corpus recipe
# ----------------------------------------------------------------------------------------------
KIND_RATES = (("original", 0.75), ("exact", 0.10), ("near", 0.10), ("furniture", 0.05))
ARTICLE_PARAGRAPHS = (8, 16)     # paragraphs per article, uniform (mean 12)
SHARD_ARTICLES = 5000            # articles per JSONL shard
RING = 20000                     # exact/near copies are taken from the last RING paragraphs
COPY_SAME_ARTICLE = 0.15         # ... or, this often, from the article being written (a repeat)
ORIGINAL_MODES = (("as_is", 0.50), ("resentence", 0.25), ("splice", 0.25))
FIXED_WORDS = 150                # most frequent word forms are never remapped between epochs
BAND = 64                        # word forms are permuted within bands of similar frequency
NEAR_OPS = (("words", 0.7), ("quotes", 0.5), ("credit", 0.4))
CREDITS = (" (Reuters)", " (AP)", " \u2014 Associated Press", " Photo: Getty Images",
           " (Photo: AFP)", " Picture: PA", " Reporting by Staff; Editing by Desk")
CAPTION_CREDITS = ("(Photo: Getty Images)", "(AP Photo)", "Photo: Reuters", "(Image: AFP)",
                   "Picture: PA", "EPA", "(Staff Photographer)")
N_CAPTIONS = 600
FURNITURE_ZIPF = 1.1
UI_STRINGS = (
    "Advertisement", "Advertisement Continue reading the main story",
    "Story continues below advertisement", "Open Image Modal", "Load video", "Image caption",
    "Image copyright Getty Images", "Media playback is unsupported on your device",
    "Share this article", "Share on Facebook | Share on Twitter | Share via Email",
    "Tweet with a location", "Top of Page", "Story Continued Below", "Read more", "Most Read",
    "Related Coverage", "Photo", "Hide caption", "toggle caption AP", "Skip Ad", "***",
    "Sign up for our newsletter to get the day's top stories delivered to your inbox.",
    "Click here to subscribe for unlimited digital access.",
    "Follow us on Facebook and Twitter for the latest updates.",
    "We use cookies to give you the best experience. By continuing to use the site you agree "
    "to our use of cookies.",
    "Copyright 2017 The Associated Press. All rights reserved. This material may not be "
    "published, broadcast, rewritten or redistributed.",
    "Comments are closed for this story.", "Please enable JavaScript to view the comments.",
    "By loading the video, you agree to YouTube's privacy policy.", "Learn more",
)

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\u201c\u2018A-Z0-9])"
                       r"|(?<=[.!?][\"'\u201d\u2019)])\s+(?=[\"'(\u201c\u2018A-Z0-9])")
_LETTERS = re.compile(r"[^\W\d_]+")
_BLOCKS = re.compile(r"\n[ \t\u00a0]*\n")
_WS = re.compile(r"\s+")


class CorporaMissing(Exception):
    pass


def _clean(par: str) -> str:
    return _WS.sub(" ", par.replace("\x00", " ")).strip()


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def load_sources(corpora: Path) -> list[list[str]]:
    """Articles as lists of paragraphs: multinews-dev (non-empty lines) and bbc (blank-line
    blocks, title line included as the first paragraph)."""
    multinews, bbc = corpora / "multinews-dev", corpora / "bbc"
    if not multinews.is_dir() or not bbc.is_dir():
        raise CorporaMissing(f"corpora not found: expected {multinews} and {bbc} "
                             "(set --corpora or $DEDUPE_CORPORA)")
    articles = []
    for path in sorted(multinews.glob("story-*/article-*.txt")):
        text = _decode(path.read_bytes())
        articles.append([p for p in (_clean(x) for x in text.splitlines()) if p])
    for path in sorted(bbc.glob("*/*.txt")):
        text = _decode(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")
        articles.append([p for p in (_clean(x) for x in _BLOCKS.split(text)) if p])
    articles = [a for a in articles if a]
    if not articles:
        raise CorporaMissing(f"no articles found under {corpora}")
    return articles


class Sources:
    """The real paragraphs, split into sentences, with the vocabulary for epoch remapping."""

    def __init__(self, articles: list[list[str]], seed: int) -> None:
        self.articles = articles
        self.par_article: list[int] = []
        self.par_index: list[int] = []
        self.sentences: list[list[list[str]]] = []      # [article][paragraph] -> sentences
        self.article_sentences: list[list[str]] = []    # [article] -> all sentences
        for a, pars in enumerate(articles):
            per_par = [[s for s in _SENTENCE.split(p) if s] for p in pars]
            self.sentences.append(per_par)
            self.article_sentences.append([s for sents in per_par for s in sents])
            for i in range(len(pars)):
                self.par_article.append(a)
                self.par_index.append(i)
        counts = Counter(w for pars in articles for p in pars for w in _LETTERS.findall(p))
        rng = np.random.default_rng([seed, 0xC0FFEE])
        vocab = sorted(counts)
        order = rng.permutation(len(vocab))            # random tie-break within a frequency
        vocab = [vocab[i] for i in order]
        vocab.sort(key=lambda w: -counts[w])
        self.vocab = vocab
        # Remappable forms, grouped by a crude word-class proxy (capitalised or not, suffix) so
        # that names swap with names and "-ing" forms with "-ing" forms; frequency order kept.
        groups: dict[tuple, list[str]] = {}
        for w in vocab[FIXED_WORDS:]:
            groups.setdefault(_word_class(w), []).append(w)
        self.word_groups = [groups[k] for k in sorted(groups)]
        self.seed = seed
        self.n_paragraphs = len(self.par_article)
        self.n_words = sum(counts.values())
        self.text_bytes = sum(len(p.encode()) for pars in articles for p in pars)
        # Short real sentences as photo captions.
        short = [s for sents in self.article_sentences for s in sents
                 if 6 <= len(s.split()) <= 20]
        pick = rng.choice(len(short), size=min(N_CAPTIONS, len(short)), replace=False)
        self.captions = [f"{short[i]} {CAPTION_CREDITS[k % len(CAPTION_CREDITS)]}"
                         for k, i in enumerate(sorted(pick.tolist()))]
        self.article_words = None  # filled lazily: per-article word list for near-copy edits

    def epoch_map(self, epoch: int) -> dict[str, str] | None:
        """Epoch 0 is the real text; epoch e > 0 permutes word forms within bands of similar
        frequency (the FIXED_WORDS most frequent forms stay), so a re-used paragraph gets new
        word 5-grams while word frequencies, lengths and layout stay those of real news."""
        if epoch == 0:
            return None
        rng = np.random.default_rng([self.seed, epoch])
        mapping: dict[str, str] = {}
        for group in self.word_groups:
            for lo in range(0, len(group), BAND):
                band = group[lo: lo + BAND]
                perm = rng.permutation(len(band))
                mapping.update(zip(band, (band[i] for i in perm)))
        return mapping

    def words_of(self, a: int) -> list[str]:
        if self.article_words is None:
            self.article_words = {}
        w = self.article_words.get(a)
        if w is None:
            w = [x for p in self.articles[a] for x in _LETTERS.findall(p)] or ["news"]
            if len(self.article_words) > 4096:
                self.article_words.clear()
            self.article_words[a] = w
        return w


_SUFFIXES = ("ing", "ed", "ly", "tion", "s")


def _word_class(w: str) -> tuple:
    lower = w.lower()
    suffix = next((x for x in _SUFFIXES if lower.endswith(x) and len(lower) > len(x) + 2), "")
    return (w.isupper() and len(w) > 1, w[:1].isupper(), suffix)


def _choice(rng: np.random.Generator, table) -> str:
    r = rng.random()
    acc = 0.0
    for name, p in table:
        acc += p
        if r < acc:
            return name
    return table[-1][0]


def _apply_map(text: str, mapping: dict[str, str] | None) -> str:
    if not mapping:
        return text
    return _LETTERS.sub(lambda m: mapping.get(m.group(), m.group()), text)


def _original(src: Sources, p: int, rng: np.random.Generator, mapping) -> str:
    a, i = src.par_article[p], src.par_index[p]
    mode = _choice(rng, ORIGINAL_MODES)
    text = src.articles[a][i]
    if mode == "resentence":
        sents = list(src.sentences[a][i])
        pool = src.article_sentences[a]
        borrowed = pool[int(rng.integers(len(pool)))]
        if len(sents) >= 2:
            sents[int(rng.integers(len(sents)))] = borrowed
            if rng.random() < 0.5:
                sents = [sents[j] for j in rng.permutation(len(sents))]
        else:
            sents.append(borrowed)
        text = " ".join(sents)
    elif mode == "splice" and len(src.articles[a]) > 1:
        j = int(rng.integers(len(src.articles[a]) - 1))
        j += j >= i
        first, second = text.split(), src.articles[a][j].split()
        text = " ".join(first[: max(1, len(first) // 2)] + second[len(second) // 2:])
    return _apply_map(text, mapping)


def _flip_quotes(text: str) -> str:
    if any(c in text for c in "\u2018\u2019\u201c\u201d"):
        return (text.replace("\u2018", "'").replace("\u2019", "'")
                .replace("\u201c", '"').replace("\u201d", '"'))
    out, open_ = [], True
    for ch in text:
        if ch == '"':
            out.append("\u201c" if open_ else "\u201d")
            open_ = not open_
        elif ch == "'":
            out.append("\u2019")
        else:
            out.append(ch)
    return "".join(out)


def _near(text: str, rng: np.random.Generator, vocab: list[str], mapping) -> str:
    ops = [name for name, p in NEAR_OPS if rng.random() < p] or ["words"]
    out = text
    if "words" in ops:
        toks = out.split()
        for _ in range(int(rng.integers(1, 4))):
            k = int(rng.integers(len(toks))) if toks else 0
            r = rng.random()
            word = vocab[int(rng.integers(len(vocab)))]
            word = mapping.get(word, word) if mapping else word
            if r < 0.5 and toks:
                toks[k] = word
            elif r < 0.75 and len(toks) > 1:
                del toks[k]
            else:
                toks.insert(k, word)
        out = " ".join(toks)
    if "quotes" in ops:
        out = _flip_quotes(out)
    if "credit" in ops:
        out += CREDITS[int(rng.integers(len(CREDITS)))]
    return out if out != text else text + CREDITS[0]


def generate(src: Sources, n: int, seed: int):
    """Yield (articles of paragraphs, kind counts) lazily: a list of paragraphs per article.

    The first k paragraphs do not depend on n, so a prefix of a bigger corpus is a smaller one.
    """
    rng = np.random.default_rng(seed)
    ring: deque[str] = deque(maxlen=RING)
    pool = list(UI_STRINGS) + src.captions
    ranks = np.arange(1, len(pool) + 1, dtype=np.float64)
    weights = ranks ** -FURNITURE_ZIPF
    furniture_cdf = np.cumsum(weights / weights.sum())
    order = rng.permutation(src.n_paragraphs)
    pos, epoch, mapping = 0, 0, None
    made = 0
    kinds = Counter()
    while made < n:
        size = min(int(rng.integers(ARTICLE_PARAGRAPHS[0], ARTICLE_PARAGRAPHS[1] + 1)), n - made)
        article: list[str] = []
        for _ in range(size):
            kind = _choice(rng, KIND_RATES)
            if kind in ("exact", "near") and not ring:
                kind = "original"
            if kind == "original":
                if pos == len(order):
                    pos, epoch = 0, epoch + 1
                    order = rng.permutation(src.n_paragraphs)
                    mapping = src.epoch_map(epoch)
                p = int(order[pos])
                pos += 1
                text = _original(src, p, rng, mapping)
                ring.append(text)
            elif kind == "furniture":
                text = pool[int(np.searchsorted(furniture_cdf, rng.random(), side="right"))]
            else:
                if article and rng.random() < COPY_SAME_ARTICLE:
                    base = article[int(rng.integers(len(article)))]
                else:
                    base = ring[int(rng.integers(len(ring)))]
                if kind == "exact":
                    text = base
                else:
                    a = src.par_article[int(rng.integers(src.n_paragraphs))]
                    text = _near(base, rng, src.words_of(a), mapping)
                    ring.append(text)
            text = _clean(text) or "***"
            article.append(text)
            kinds[kind] += 1
        made += len(article)
        yield article, kinds, epoch


def build_corpus(corpora: Path, n: int, seed: int, *, force: bool = False, log=print) -> Path:
    """Write (or reuse) the n-paragraph corpus for `seed`; returns its directory."""
    out = OUT_ROOT / f"corpus-n{n}-seed{seed}"
    meta_path = out / "meta.json"
    if not force and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("generator_version") == GENERATOR_VERSION and meta.get("paragraphs") == n:
            log(f"corpus: reusing {out.relative_to(REPO_ROOT)}")
            return out
    t0 = time.perf_counter()
    src = Sources(load_sources(corpora), seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "jsonl").mkdir(parents=True)
    text_bytes = jsonl_bytes = n_articles = 0
    fh, shard = None, 0
    kinds: Counter = Counter()
    epoch = 0
    distinct: set[int] = set()
    try:
        for article, kinds, epoch in generate(src, n, seed):
            if n_articles % SHARD_ARTICLES == 0:
                if fh:
                    fh.close()
                fh = open(out / "jsonl" / f"part-{shard:04d}.jsonl", "w", encoding="utf-8")
                shard += 1
            line = json.dumps({"text": "\n".join(article)}, ensure_ascii=False) + "\n"
            fh.write(line)
            jsonl_bytes += len(line.encode())
            text_bytes += sum(len(p.encode()) for p in article)
            distinct.update(hash(p) for p in article)
            n_articles += 1
    finally:
        if fh:
            fh.close()
    meta = {
        "generator_version": GENERATOR_VERSION, "paragraphs": n, "seed": seed,
        "articles": n_articles, "shards": shard, "text_bytes": text_bytes,
        "text_mb": round(text_bytes / 1e6, 2), "jsonl_mb": round(jsonl_bytes / 1e6, 2),
        "distinct_paragraphs": len(distinct), "kinds": dict(sorted(kinds.items())),
        "epochs": epoch + 1,
        "source": {"articles": len(src.articles), "paragraphs": src.n_paragraphs,
                   "words": src.n_words, "text_mb": round(src.text_bytes / 1e6, 2)},
        "build_seconds": round(time.perf_counter() - t0, 1),
        "build_peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    log(f"corpus: wrote {out.relative_to(REPO_ROOT)} ({n} paragraphs, {n_articles} articles, "
        f"{meta['text_mb']} MB text, {meta['build_seconds']} s)")
    return out


def iter_paragraphs(corpus_dir: Path, limit: int | None = None):
    count = 0
    for path in sorted((corpus_dir / "jsonl").glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                for par in json.loads(line)["text"].split("\n"):
                    if limit is not None and count >= limit:
                        return
                    count += 1
                    yield par


# ----------------------------------------------------------------------------------------------
# Stages (run inside a child process)
# ----------------------------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    """Peak RSS of this process (VmHWM). Not ru_maxrss: Linux carries that across fork+exec,
    so a child would report at least its parent's RSS at the time it was started."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TreeSampler(threading.Thread):
    """Samples the memory of a process and all its descendants (worker pools) every `interval`
    seconds: the peak of the summed PSS (proportional set size: shared pages split between the
    processes sharing them, so the sum is not inflated by fork copy-on-write sharing)."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_mb = 0.0
        self.max_procs = 0
        self._cpu: dict[int, float] = {}        # pid -> last seen utime + stime (s)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._stop_event = threading.Event()

    @property
    def cpu_seconds(self) -> float:
        """CPU time of every process seen in the tree (sampled: misses a worker's last interval)."""
        return sum(self._cpu.values())

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = self._tree()
            total = sum(_pss_kb(p) for p in pids) / 1024
            self.peak_mb = max(self.peak_mb, total)
            self.max_procs = max(self.max_procs, len(pids))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        stats = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            pid = int(entry)
            children.setdefault(int(fields[1]), []).append(pid)
            stats[pid] = fields
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(children.get(p, ()))
            if p in stats:
                cpu = (int(stats[p][11]) + int(stats[p][12])) / self._tick
                self._cpu[p] = max(self._cpu.get(p, 0.0), cpu)
        return out


def _busy_cpu_seconds() -> float:
    """CPU time all processes on the machine have used (from /proc/stat), in seconds."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return float("nan")


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return 0


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def stage_naive(paragraphs: list[str]) -> dict:
    from datasketch import MinHash, MinHashLSH

    word = re.compile(r"\w+")
    t0 = time.perf_counter()
    sketches = []
    for text in paragraphs:
        w = word.findall(text.lower())
        shingles = {" ".join(w[i: i + 5]) for i in range(max(1, len(w) - 4))} if w else set()
        m = MinHash(num_perm=128, seed=1)
        for s in shingles:
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
    import dataclasses

    import dedupe

    if out_dir.exists():
        shutil.rmtree(out_dir)
    config = dedupe.Config()
    if serial:
        config = dataclasses.replace(config, workers=1)
    t0 = time.perf_counter()
    if profile:
        import cProfile

        prof = cProfile.Profile()
        report = prof.runcall(dedupe.run, corpus_dir / "jsonl", out_dir, config)
        prof.dump_stats(profile)
    else:
        report = dedupe.run(corpus_dir / "jsonl", out_dir, config)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "config_workers": getattr(config, "workers", None),
            "documents": report.documents, "segments": report.segments,
            "segments_removed": report.segments_removed,
            "clusters_by_kind": report.clusters_by_kind, "skipped": len(report.skipped)}


def _signature_api():
    """The library's batched shingle + MinHash function, as (name, fn(word_lists, config))."""
    from dedupe.sketch.sets import word_shingle_sets

    return ("dedupe.sketch.sets.word_shingle_sets([' '.join(words) ...], 5, num_perm, seed)",
            lambda wl, cfg: word_shingle_sets([" ".join(w) for w in wl], 5, cfg.num_perm, cfg.seed))


def stage_signatures(paragraphs: list[str]) -> dict:
    """normalize + words, then the library's batched shingle + MinHash stage on all of them."""
    import dedupe
    from dedupe.text.normalize import normalize, words

    t0 = time.perf_counter()
    word_lists = [words(normalize(p)) for p in paragraphs]
    t1 = time.perf_counter()
    res = {"normalize_seconds": t1 - t0}
    api, fn = _signature_api()
    config = dedupe.Config()
    t2 = time.perf_counter()
    _, sigs = fn(word_lists, config)
    t3 = time.perf_counter()
    res.update(seconds=t3 - t2, api=api, signature_shape=list(sigs.shape))
    return res


def stage_floor(paragraphs: list[str]) -> dict:
    word = re.compile(r"\w+")
    t0 = time.perf_counter()
    n = 0
    for text in paragraphs:
        n += len(word.findall(text.lower()))
    return {"seconds": time.perf_counter() - t0, "words": n}


def child_main(args: argparse.Namespace) -> int:
    stage, corpus_dir = args._child, Path(args._corpus)
    base = {"stage": stage, "pid": os.getpid()}
    if stage == "pipeline":
        import dedupe  # noqa: F401  (import cost outside the timed region)

        base["library"] = library_fingerprint()   # the state of dedupe/ this process imported
        rss0 = _peak_rss_mb()
        cpu0 = _cpu_seconds()
        res = stage_pipeline(corpus_dir, Path(args._outdir),
                             Path(args._profile) if args._profile else None, args._serial)
        meta = json.loads((corpus_dir / "meta.json").read_text())
        res.update(paragraphs=meta["paragraphs"], text_bytes=meta["text_bytes"])
    else:
        if stage == "naive":
            import datasketch  # noqa: F401
        elif stage == "signatures":
            import dedupe.match  # noqa: F401
            import dedupe.text.normalize  # noqa: F401

            base["library"] = library_fingerprint()
        paragraphs = list(iter_paragraphs(corpus_dir, args._limit))
        rss0 = _peak_rss_mb()
        cpu0 = _cpu_seconds()
        fn = {"naive": stage_naive, "signatures": stage_signatures, "floor": stage_floor}[stage]
        res = fn(paragraphs)
        res.update(paragraphs=len(paragraphs), text_bytes=sum(len(p.encode()) for p in paragraphs))
    res.update(base, cpu_seconds=_cpu_seconds() - cpu0, rss_before_mb=rss0, peak_rss_mb=_peak_rss_mb())
    Path(args._result).write_text(json.dumps(res))
    return 0


# ----------------------------------------------------------------------------------------------
# Parent: orchestration and reporting
# ----------------------------------------------------------------------------------------------
def library_fingerprint() -> dict:
    """Which state of dedupe/ was measured (it is being refactored): a digest of its sources."""
    import hashlib

    digest = hashlib.sha256()
    newest = 0.0
    files = sorted((REPO_ROOT / "dedupe").rglob("*.py"))
    for path in files:
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    return {"sha256": digest.hexdigest()[:16], "files": len(files),
            "newest_mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(newest))}


def machine_info() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {}
    for mod in ("numpy", "datasketch", "pyarrow", "xxhash"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            versions[mod] = None
    return {"nproc": os.cpu_count(), "nproc_usable": len(os.sched_getaffinity(0)),
            "cpu_model": model, "mem_total_gb": mem, "python": platform.python_version(),
            "platform": platform.platform(), "versions": versions}


QUIET_WAIT = 0.0          # set from --quiet-wait
QUIET_CORES = 0.3


def wait_for_quiet(max_wait: float, log=print) -> dict:
    """Wait (up to max_wait s) until other processes use less than QUIET_CORES cores."""
    t0 = time.perf_counter()
    while True:
        b0 = _busy_cpu_seconds()
        time.sleep(2.0)
        others = (_busy_cpu_seconds() - b0) / 2.0
        waited = time.perf_counter() - t0
        if others < QUIET_CORES or waited >= max_wait:
            if waited > 2.5:
                log(f"  waited {waited:.0f} s for a quiet machine (others now use {others:.1f} cores)")
            return {"waited_seconds": waited, "others_cores_at_start": others}


def run_child(stage: str, corpus_dir: Path, *, limit: int | None = None, outdir: Path | None = None,
              profile: Path | None = None, serial: bool = False, log=print) -> dict:
    OUT_ROOT.mkdir(parents=True, exist_ok=True)
    quiet = wait_for_quiet(QUIET_WAIT, log) if QUIET_WAIT > 0 else None
    result = OUT_ROOT / f".result-{stage}-{os.getpid()}.json"
    result.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", stage,
           "--_corpus", str(corpus_dir), "--_result", str(result)]
    if limit is not None:
        cmd += ["--_limit", str(limit)]
    if outdir is not None:
        cmd += ["--_outdir", str(outdir)]
    if profile is not None:
        cmd += ["--_profile", str(profile)]
    if serial:
        cmd += ["--_serial"]
    log(f"  running {stage}" + (f" on the first {limit} paragraphs" if limit else "") + " ...")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()
    busy0 = _busy_cpu_seconds()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    sampler.stop()
    wall = time.perf_counter() - t0
    busy = _busy_cpu_seconds() - busy0
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
    _derive(res)
    log(f"  {stage}: {_fmt(res.get('seconds'), 1)} s, peak RSS {res['peak_rss_mb']:.0f} MB, "
        f"process tree peak {sampler.peak_mb:.0f} MB in {sampler.max_procs} process(es)"
        + (f" ({res['error']})" if res.get("error") else ""))
    return res


def _derive(res: dict) -> None:
    sec = res.get("seconds")
    res["text_mb"] = res["text_bytes"] / 1e6
    res["peak_mb"] = max(res.get("peak_rss_mb") or 0, res.get("tree_peak_pss_mb") or 0)
    if sec:
        res["paragraphs_per_s"] = res["paragraphs"] / sec
        res["mb_per_s"] = res["text_mb"] / sec


def _fmt(x, digits=0) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    sep = "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), sep] + [line(r) for r in rows])


LABELS = {
    "naive": "(a) naive datasketch (MinHash per paragraph + LSH insert/query)",
    "pipeline": "(b) dedupe.run end to end (read .. write Parquet)",
    "normalize": "(c0) normalize + words (input of c)",
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
        rows.append([LABELS[key].format(api=api), f"{s['paragraphs']:,}", _fmt(s.get("seconds"), 2),
                     _fmt(rate), _fmt(s.get("mb_per_s"), 2), ratio, _fmt(s.get("peak_rss_mb")),
                     (f"{tree:,.0f} ({procs})" if tree else "-"), _fmt(s.get("rss_before_mb")),
                     _fmt(s.get("tree_cpu_seconds"), 1), _fmt(s.get("others_cpu_cores"), 1)])
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
    stages["naive"] = run_child("naive", corpus_dir, limit=naive_n if naive_n < n else None)
    stages["pipeline"] = run_child("pipeline", corpus_dir, outdir=OUT_ROOT / f"run-n{n}-seed{args.seed}",
                                   serial=args.serial)
    sig = run_child("signatures", corpus_dir)
    if sig.get("normalize_seconds") is not None:
        norm = {k: sig[k] for k in ("paragraphs", "text_bytes")}
        norm["seconds"] = sig["normalize_seconds"]
        _derive(norm)
        stages["normalize"] = norm
    stages["signatures"] = sig
    stages["floor"] = run_child("floor", corpus_dir)

    headers = ["stage", "paragraphs", "seconds", "paragraphs/s", "MB/s", "vs naive",
               "peak RSS MB", "tree PSS MB (procs)", "RSS before MB", "CPU s", "others' load"]
    table = _table(headers, stage_rows(stages))
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
    prints = {s["library"]["sha256"] for s in stages.values() if s.get("library")}
    prints.add(library_fingerprint()["sha256"])
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
    out = {"machine": machine, "library": library_fingerprint(),
           "corpus": {**meta, "dir": str(corpus_dir)},
           "naive_sample": naive_n, "stages": stages,
           "signature_fraction_of_floor_mb_per_s": frac, "table": table, "notes": notes,
           "command": " ".join(sys.argv)}
    _write_json(args.json or DEFAULT_JSON, out)
    if any(s.get("seconds") is None for s in stages.values()):
        return 1
    return 0


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
        res = run_child("pipeline", corpus_dir, outdir=OUT_ROOT / f"run-n{n}-seed{args.seed}",
                        serial=args.serial)
        res.update(size=n, corpus_text_mb=meta["text_mb"], corpus_build_seconds=meta["build_seconds"],
                   corpus_build_peak_rss_mb=meta["build_peak_rss_mb"])
        results.append(res)
    base = results[0].get("peak_mb") if results[0].get("seconds") is not None else None
    rows = []
    for r in results:
        ok = r.get("seconds") is not None
        r["peak_ratio_to_first"] = r["peak_mb"] / base if ok and base else None
        rows.append([f"{r['size']:,}", f"{r['corpus_text_mb']:.1f}", _fmt(r.get("seconds"), 1),
                     _fmt(r.get("paragraphs_per_s")), _fmt(r.get("peak_rss_mb")),
                     _fmt(r.get("tree_peak_pss_mb")) + f" ({r.get('tree_max_processes', '-')})",
                     _fmt(r.get("peak_mb") if ok else None), _fmt(r.get("tree_cpu_seconds"), 1),
                     _fmt(r.get("others_cpu_cores"), 1),
                     f"{r['peak_ratio_to_first']:.2f}" if r.get("peak_ratio_to_first") else "n/a",
                     f"{r['size'] / sizes[0]:.1f}"])
    table = _table(["paragraphs", "text MB", "seconds", "paragraphs/s", "main RSS MB",
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
    _write_json(args.json or DEFAULT_SIZES_JSON,
                {"machine": machine, "library": library_fingerprint(), "sizes": results, "checks": checks, "table": table,
                 "command": " ".join(sys.argv)})
    return 0 if all(checks.values()) else 1


def main_profile(args: argparse.Namespace) -> int:
    import pstats

    n = args.profile
    try:
        corpus_dir = build_corpus(args.corpora, n, args.seed, force=args.regen)
    except CorporaMissing as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    prof = OUT_ROOT / f"pipeline-n{n}{'-serial' if args.serial else ''}.prof"
    res = run_child("pipeline", corpus_dir, outdir=OUT_ROOT / f"run-n{n}-seed{args.seed}", profile=prof,
                    serial=args.serial)
    if res.get("seconds") is None:
        return 1
    print(f"\ncProfile of dedupe.run on {n:,} paragraphs, Config(workers="
          f"{res.get('config_workers')}) ({res['seconds']:.1f} s under the profiler, others' load "
          f"{res.get('others_cpu_cores', 0):.1f} cores); stats in {prof.relative_to(REPO_ROOT)}")
    if res.get("tree_max_processes", 1) > 1:
        print("note: work done in the pool's worker processes is not profiled; it shows as "
              "time waiting in `acquire` (use --serial)")
    print()
    stats = pstats.Stats(str(prof))
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


def _write_json(path: Path, data: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"finished": time.strftime("%Y-%m-%d %H:%M:%S"), **data}, indent=2, default=str) + "\n"
    path.write_text(text)
    # Keep every result: the library changes between runs, and the default path is reused.
    history = OUT_ROOT / "history"
    history.mkdir(parents=True, exist_ok=True)
    (history / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(text)
    try:
        shown = path.resolve().relative_to(REPO_ROOT)
    except ValueError:
        shown = path
    print(f"wrote {shown}")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paragraphs", type=int, default=200_000, help="corpus size (default 200000)")
    ap.add_argument("--seed", type=int, default=3, help="corpus seed (default 3)")
    ap.add_argument("--json", type=Path, default=None,
                    help=f"result file (default {DEFAULT_JSON.relative_to(REPO_ROOT)}, or "
                         f"{DEFAULT_SIZES_JSON.relative_to(REPO_ROOT)} with --sizes)")
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
    # internal: child process of one stage
    for name in ("_child", "_corpus", "_result", "_outdir", "_profile"):
        ap.add_argument(f"--{name}", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_limit", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--_serial", action="store_true", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    global QUIET_WAIT
    QUIET_WAIT = args.quiet_wait
    if args._child:
        return child_main(args)
    if args.profile:
        return main_profile(args)
    if args.sizes:
        return main_sizes(args)
    return main_stages(args)


if __name__ == "__main__":
    sys.exit(main())
