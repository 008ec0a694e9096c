"""The synthetic news corpus of the throughput benchmark: `build_corpus(corpora, n, seed)`.

N paragraphs drawn from the real articles in ../shared/corpora (originals, exact and near
copies, site furniture; see bench/README.md, "The corpus"), written as JSONL shards under
bench/out/throughput/corpus-nN-seedS/ with a meta.json, streamed so that 1M paragraphs need
little memory, and reused when the same size, seed and generator version are asked for again.
The same size and seed always give byte-identical files. Stdlib + numpy; the source articles
are split into paragraphs the way dedupe reads them (`io.readers.clean_text`,
`text.segment.spans`).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import Counter, deque
from pathlib import Path
from typing import Iterator

import numpy as np

from common import THROUGHPUT, peak_rss_mb, shown
from dedupe.io.readers import clean_text
from dedupe.text.segment import spans

GENERATOR_VERSION = 1        # bump when the corpus recipe changes (invalidates cached corpora)

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
_WS = re.compile(r"\s+")


class CorporaMissing(Exception):
    """The source corpora are not where they were looked for."""


def _clean(par: str) -> str:
    """One paragraph on one line: NULs and whitespace runs to single spaces, ends trimmed."""
    return _WS.sub(" ", par.replace("\x00", " ")).strip()


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _paragraphs(raw: bytes, mode: str) -> list[str]:
    """The non-empty paragraphs of a source file, segmented as dedupe segments it in `mode`."""
    text = clean_text(_decode(raw))
    return [p for p in (_clean(text[start:end]) for start, end in spans(text, mode)) if p]


def load_sources(corpora: Path) -> list[list[str]]:
    """Articles as lists of paragraphs: multinews-dev (non-empty lines) and bbc (blank-line
    blocks, title line included as the first paragraph)."""
    multinews, bbc = corpora / "multinews-dev", corpora / "bbc"
    if not multinews.is_dir() or not bbc.is_dir():
        raise CorporaMissing(f"corpora not found: expected {multinews} and {bbc} "
                             "(set --corpora or $DEDUPE_CORPORA)")
    articles = [_paragraphs(path.read_bytes(), "line")
                for path in sorted(multinews.glob("story-*/article-*.txt"))]
    articles += [_paragraphs(path.read_bytes(), "blank_line") for path in sorted(bbc.glob("*/*.txt"))]
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
    out = THROUGHPUT / f"corpus-n{n}-seed{seed}"
    meta_path = out / "meta.json"
    if not force and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("generator_version") == GENERATOR_VERSION and meta.get("paragraphs") == n:
            log(f"corpus: reusing {shown(out)}")
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
        "build_peak_rss_mb": round(peak_rss_mb(), 1),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    log(f"corpus: wrote {shown(out)} ({n} paragraphs, {n_articles} articles, "
        f"{meta['text_mb']} MB text, {meta['build_seconds']} s)")
    return out


def iter_paragraphs(corpus_dir: Path, limit: int | None = None) -> Iterator[str]:
    """The paragraphs of a built corpus in order (the first `limit` of them)."""
    count = 0
    for path in sorted((corpus_dir / "jsonl").glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                for par in json.loads(line)["text"].split("\n"):
                    if limit is not None and count >= limit:
                        return
                    count += 1
                    yield par
