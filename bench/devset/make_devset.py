#!/usr/bin/env python3
"""Build the labelled development benchmark for `dedupe evaluate` from real news articles.

Reads the research-licensed corpora in ../shared/corpora at run time (never copied into the
repository) and writes

    OUT/articles/multinews/story-NNN/article-K.txt   all Multi-News dev articles, with planted
                                                     caption repeats and site boilerplate
    OUT/articles/bbc/<topic>/NNN.txt                 a sample of BBC articles (incl. all exact
                                                     duplicate files)
    OUT/articles/syndicated/<topic>/NNN-K.txt        edited / OCR-noised copies of BBC articles
    OUT/labels.jsonl                                 segment + document labels (docs/labels.md)

Label `source`s are relative to OUT/articles (the input root of `dedupe run OUT/articles`).
Output is byte-identical for a given --seed (and size options). Stdlib + numpy only.
See bench/devset/README.md for the rates and the labelling rules.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPORA = REPO_ROOT.parent / "shared" / "corpora"
DEFAULT_OUT = REPO_ROOT / "bench" / "devset" / "out"
MARKER = ".devset-build"  # written into OUT so a re-run may safely replace OUT/articles

# ----------------------------------------------------------------------------------------------
# Rates (documented in README.md)
# ----------------------------------------------------------------------------------------------
REPEAT_ARTICLE_RATE = 0.15      # share of multinews articles that get a planted caption repeat
REPEAT_SECOND_INSTANCE = 0.20   # ... of those, share with a second, independent repeated caption
REPEAT_TRIPLE = 0.15            # share of planted captions printed three times instead of twice
REPEAT_USE_EXISTING = 0.50      # reuse an existing short paragraph (else invent from a sentence)
REPEAT_ADJACENT = 0.55          # next copy right after the previous one (else 1-4 paras later)
REPEAT_VARIANTS = (("exact", 0.20), ("quotes", 0.25), ("spaces", 0.15), ("punct", 0.15),
                   ("credit", 0.25))
REPEAT_SECOND_VARIANT = 0.25    # a copy gets a second, different variation on top
CAPTION_WORDS = (6, 35)
CREDITS = (" Photo: AAP", " (Reuters)", " Getty Images", " (AP Photo)", " Photo: Getty Images",
           " (Photo: AFP)", " EPA", " Picture: PA", " (Image: Getty)")

BOILERPLATE_VARIATION = 0.35    # share of boilerplate insertions printed with a small variation
SITES = ("The Daily Courier", "Metro Herald", "The Evening Post", "Channel 7 News",
         "Tribune Online", "The Weekly Ledger")
DOMAINS = ("dailycourier.com", "metroherald.com", "eveningpost.co.uk", "7news.com",
           "tribuneonline.net", "weeklyledger.com")

# (id, lines, share of articles, position, max copies per article, variations)
# lines: one boilerplate block = one or more consecutive paragraphs; each line is its own group.
BOILERPLATE = (
    ("advertisement", ("Advertisement",), 0.30, "any", 3, ("case", "punct")),
    ("story-continues", ("Story continues below advertisement",), 0.15, "any", 2,
     ("case", "punct")),
    ("share", ("Share this article",), 0.25, "top", 1, ("case", "punct")),
    ("share-buttons", ("Share on Facebook | Share on Twitter | Share via Email",), 0.12, "top", 1,
     ("case", "punct")),
    ("open-image-modal", ("Open Image Modal",), 0.10, "caption", 2, ("case",)),
    ("scroll-video", ("Scroll down for video",), 0.10, "top", 1, ("case", "punct")),
    ("youtube-consent", ("By loading the video, you agree to YouTube's privacy policy.",
                         "Learn more", "Load video"), 0.06, "any", 2, ("punct", "quotes")),
    ("cookies", ("We use cookies to give you the best experience on {site}. By continuing to "
                 "use the site you agree to our use of cookies.",), 0.20, "top", 1,
     ("case", "site", "punct")),
    ("newsletter", ("Sign up for our newsletter to get the day's top stories from {site} "
                    "delivered to your inbox.",), 0.18, "end", 1, ("site", "punct", "quotes")),
    ("subscribe", ("Click here to subscribe to {site} for unlimited digital access.",), 0.12,
     "end", 1, ("site", "case", "punct")),
    ("related", ("Related: More news from {site} \u00bb",), 0.15, "end", 1,
     ("site", "case", "punct")),
    ("copyright", ("Copyright \u00a9 {year} {site}. All rights reserved. This material may not "
                   "be published, broadcast, rewritten or redistributed.",), 0.25, "end", 1,
     ("year", "site", "case")),
    ("follow", ("Follow {site} on Facebook and Twitter for the latest updates.",), 0.10, "end",
     1, ("site", "punct")),
    ("news-tip", ("Have a news tip? Email us at tips@{domain}.",), 0.06, "end", 1,
     ("site", "case")),
    ("comments-closed", ("Comments are closed for this story.",), 0.05, "end", 1,
     ("case", "punct")),
)

BBC_SAMPLE = 400
SYNDICATE = 60
SYN_COPIES = ((1, 0.55), (2, 0.30), (3, 0.15))
SYN_NOISE = ((0.0, 0.25), (0.01, 0.25), (0.03, 0.25), (0.05, 0.25))
SYN_HEADLINE, SYN_DATELINE, SYN_CUT, SYN_INSERT = 0.50, 0.40, 0.50, 0.40
# --reprints: OCR'd, abridged reprints (old newspapers, wire copy cut on the desk)
REPRINT_NOISE = (0.03, 0.10)   # each copy's character noise, uniform in this range
REPRINT_KEEP_MIN = 0.5         # the ending is cut to keep at least this share of body paragraphs
REPRINT_DROP_INNER = 0.15      # each remaining inner paragraph is dropped with this probability
HEADLINE_PREFIXES = ("UPDATE 1-", "UPDATE 2-", "UK: ", "BBC: ", "ANALYSIS-")
HEADLINE_SUFFIXES = (" - report", " | World News", " (update)", " - BBC", ": latest")
DATELINES = ("LONDON (BBC News) - ", "LONDON - ", "London, England -- ", "LONDON: ",
             "LONDON, (BBC) \u2014 ")
OCR_CONFUSIONS = (("rn", "m"), ("m", "rn"), ("l", "1"), ("1", "l"), ("I", "l"), ("e", "c"),
                  ("c", "e"), ("o", "0"), ("O", "0"), ("S", "5"), ("cl", "d"), ("d", "cl"),
                  ("h", "b"), ("n", "h"), ("u", "v"), ("i", "l"), ("a", "o"), ("B", "8"))
JACCARD_MIN = 0.5
JACCARD_RARE_DF = 20            # candidate pairs come from 3-grams in <= this many documents

# Natural near-duplicate paragraphs inside one article (README "Natural near-duplicate repeats").
# Deliberately independent of the tool's MinHash word shingles: a character-level
# difflib ratio on lightly normalised text, plus a word-level check of WHERE the two copies differ.
NEAR_MIN_WORDS = 5              # both paragraphs need >= 5 words
NEAR_RATIO = 0.8                # difflib.SequenceMatcher ratio on near_norm() text
NEAR_CONTAIN_WORDS = 6          # ... or the shorter (>= 6 words) is a substring of the longer
NEAR_CONTAIN = 0.85             # ... covering >= 85 % of its characters (date prefix, credit)
NEAR_INNER_MAX = 3              # words inserted/deleted strictly inside the shared text
NEAR_TAIL_REPLACE_EQ = 10       # a different ending (credit, attribution) needs >= 10 equal words
NEAR_LATER_ADDS = (3, 0.15)     # the later copy adds <= max(3 words, 15 % of its words)

# Site furniture: lines that are never article content. A paragraph whose norm_key equals one of
# these (or is one of them repeated, "Advertisement Advertisement") is boilerplate/drop even when
# it occurs only once. The generator's own list; it is not taken from the dedupe package.
FURNITURE = (
    "Advertisement",
    "Advertisement Continue reading the main story",
    "Comments",
    "Continue reading the main story",
    "Read more",
    "Related Coverage",
    "Share",
    "Share this article",
    "Story continued below",
    "Story continues below",
    "Story continues below advertisement",
)
# Furniture lines that end in a per-article link, matched on the text before it.
FURNITURE_PREFIXES = (
    "Read or Share this story:",
)


# ----------------------------------------------------------------------------------------------
# Text helpers
# ----------------------------------------------------------------------------------------------
class _KeyTable(dict):
    """str.translate table for norm_key, filled lazily: punctuation (P*) and symbols (S*) ->
    space (curly quotes, dashes and straight quotes are punctuation, so they fold together),
    format characters (Cf: zero-width space, soft hyphen) -> removed, the rest unchanged."""

    def __missing__(self, code: int):
        cat = unicodedata.category(chr(code))
        value = " " if cat[0] in "PS" else "" if cat == "Cf" else code
        self[code] = value
        return value


_KEY_TABLE = _KeyTable()


def norm_key(text: str) -> str:
    """Matching key of a paragraph: NFKC, casefold, punctuation (incl. straight/curly quotes and
    dashes) and symbols removed, format characters removed, whitespace collapsed. Paragraphs
    that are only punctuation (e.g. "___") fall back to their whitespace-collapsed raw text."""
    s = " ".join(unicodedata.normalize("NFKC", text).casefold().translate(_KEY_TABLE).split())
    return s if s else "raw:" + " ".join(text.split())


def words(text: str) -> list[str]:
    return norm_key(text).split()


def paragraphs_of(text: str) -> list[str]:
    """Non-empty lines, stripped (the corpora have one paragraph per line)."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # one BBC file is cp1252 (a pound sign)
    return text.replace("\r\n", "\n").replace("\r", "\n")


_SENT_SPLIT = re.compile(r"(?<=[.!?])[\"'\u201d\u2019]?\s+(?=[\"'\u201c\u2018]?[A-Z])")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT_SPLIT.split(text) if s.strip()]


def curlify(s: str) -> str:
    out = []
    for i, ch in enumerate(s):
        prev = s[i - 1] if i else " "
        opening = prev.isspace() or prev in "([{\u2014-"
        if ch == '"':
            out.append("\u201c" if opening else "\u201d")
        elif ch == "'":
            out.append("\u2018" if opening else "\u2019")
        else:
            out.append(ch)
    return "".join(out)


_STRAIGHTEN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def swap_quotes(s: str) -> str | None:
    """Straight quotes -> curly, or curly -> straight; None when the text has no quotes."""
    if any(c in s for c in "'\""):
        return curlify(s)
    if any(c in s for c in "\u2018\u2019\u201c\u201d"):
        return s.translate(_STRAIGHTEN)
    return None


def pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def weighted(rng: np.random.Generator, table):
    values = [v for v, _ in table]
    p = np.array([w for _, w in table], dtype=float)
    return values[int(rng.choice(len(values), p=p / p.sum()))]


# ----------------------------------------------------------------------------------------------
# Data model
# ----------------------------------------------------------------------------------------------
@dataclass
class Para:
    text: str
    plant: tuple[str, str] | None = None   # (planted group id, "repeat" | "boilerplate")
    link: str | None = None                # union key tying a syndicated copy to its original
    natural: bool = False                  # a paragraph of the source corpus (not inserted)


@dataclass
class Article:
    source: str                            # relative to OUT/articles
    corpus: str                            # multinews | bbc | syndicated
    story: str                             # multinews story folder, or the bbc file it copies
    paras: list[Para]
    original_text: str = ""                # before planting (for near-duplicate detection)
    meta: dict = field(default_factory=dict)


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


# ----------------------------------------------------------------------------------------------
# Multi-News: load + plant caption repeats and boilerplate
# ----------------------------------------------------------------------------------------------
def load_multinews(root: Path, limit_stories: int | None) -> list[Article]:
    stories = sorted(d for d in os.listdir(root) if (root / d).is_dir() and d.startswith("story-"))
    if limit_stories is not None:
        stories = stories[:limit_stories]
    out = []
    for story in stories:
        for name in sorted(f for f in os.listdir(root / story) if f.endswith(".txt")):
            text = read_text(root / story / name)
            paras = paragraphs_of(text)
            if not paras:
                continue
            out.append(Article(f"multinews/{story}/{name}", "multinews", story,
                               [Para(p, natural=True) for p in paras],
                               original_text="\n\n".join(paras)))
    return out


def vary_copy(text: str, rng: np.random.Generator, stats: Counter) -> str:
    """A later copy of a caption: one (sometimes two) realistic variations."""
    names = [v for v, _ in REPEAT_VARIANTS]
    first = weighted(rng, REPEAT_VARIANTS)
    chosen = [first]
    if first != "exact" and rng.random() < REPEAT_SECOND_VARIANT:
        chosen.append(pick(rng, [n for n in names if n not in ("exact", first)]))
    out = text
    applied = []
    for name in chosen:
        new = apply_caption_variant(name, out, rng)
        if new is None:  # not applicable (no quotes): fall back to another variation
            name = pick(rng, [n for n in ("spaces", "punct", "credit") if n not in chosen])
            new = apply_caption_variant(name, out, rng)
        out = new
        applied.append(name)
    stats["+".join(applied)] += 1
    return out


def apply_caption_variant(name: str, text: str, rng: np.random.Generator) -> str | None:
    if name == "exact":
        return text
    if name == "quotes":
        return swap_quotes(text)
    if name == "spaces":
        positions = [i for i, c in enumerate(text) if c == " "]
        if not positions:
            return text  # single word: nothing to change
        k = min(len(positions), int(rng.integers(1, 4)))
        chosen = set(int(i) for i in rng.choice(positions, size=k, replace=False))
        filler = pick(rng, ("  ", "\u00a0", "  ", " \u00a0"))
        return "".join(filler if i in chosen else c for i, c in enumerate(text))
    if name == "punct":
        if text[-1] in ".!?":
            return text[:-1] if rng.random() < 0.6 else text[:-1] + pick(rng, ("..", ":", " ."))
        return text + pick(rng, (".", ".", ":"))
    if name == "credit":
        return text + pick(rng, CREDITS)
    raise ValueError(name)


def plant_repeats(articles: list[Article], rng: np.random.Generator, key_count: Counter,
                  stats: Counter) -> None:
    used_keys: set[str] = set()
    gid = 0
    for art in articles:
        if rng.random() >= REPEAT_ARTICLE_RATE:
            continue
        n_inst = 2 if rng.random() < REPEAT_SECOND_INSTANCE else 1
        for _ in range(n_inst):
            caption, first_idx = choose_caption(art, rng, key_count, used_keys, stats)
            if caption is None:
                stats["articles without a usable caption"] += 1
                continue
            gid += 1
            g = f"rep-{gid}"
            used_keys.add(norm_key(caption))
            n_copies = 3 if rng.random() < REPEAT_TRIPLE else 2
            stats[f"captions printed {n_copies}x"] += 1
            if first_idx is None:  # invented caption: insert the first copy as a new paragraph
                pos = int(rng.integers(1, len(art.paras) + 1))
                art.paras.insert(pos, Para(caption, plant=(g, "repeat")))
                first_idx = pos
            else:
                art.paras[first_idx].plant = (g, "repeat")
            prev = first_idx
            for _c in range(n_copies - 1):
                gap = 0 if rng.random() < REPEAT_ADJACENT else int(rng.integers(1, 5))
                stats["copy right after" if gap == 0 else "copy 1-4 paragraphs later"] += 1
                pos = min(prev + 1 + gap, len(art.paras))
                art.paras.insert(pos, Para(vary_copy(caption, rng, stats), plant=(g, "repeat")))
                prev = pos
        stats["articles with planted repeats"] += 1


def choose_caption(art: Article, rng: np.random.Generator, key_count: Counter,
                   used_keys: set[str], stats: Counter) -> tuple[str | None, int | None]:
    lo, hi = CAPTION_WORDS

    def usable(text: str) -> bool:
        k = norm_key(text)
        return (lo <= len(text.split()) <= hi and key_count[k] == 0 and k not in used_keys
                and not k.startswith("raw:"))

    existing = [i for i, p in enumerate(art.paras)
                if p.plant is None and lo <= len(p.text.split()) <= hi
                and key_count[norm_key(p.text)] == 1 and norm_key(p.text) not in used_keys]
    if existing and rng.random() < REPEAT_USE_EXISTING:
        stats["captions reused from a short paragraph"] += 1
        i = existing[int(rng.integers(len(existing)))]
        return art.paras[i].text, i
    cands = []
    for p in art.paras:
        if p.plant is not None:
            continue
        sents = sentences(p.text)
        if len(sents) < 2:
            continue
        cands.extend(s for s in sents if usable(s))
    if not cands:
        if existing:
            stats["captions reused from a short paragraph"] += 1
            i = existing[int(rng.integers(len(existing)))]
            return art.paras[i].text, i
        return None, None
    stats["captions invented from a sentence"] += 1
    return cands[int(rng.integers(len(cands)))], None


def vary_boilerplate(text: str, kinds: tuple[str, ...], rng: np.random.Generator) -> str:
    kind = pick(rng, kinds)
    if kind == "case":
        return pick(rng, (str.upper, str.lower, str.title))(text)
    if kind == "punct":
        if text[-1] in ".!?\u00bb":
            return text[:-1].rstrip()
        return text + pick(rng, (".", ":", " \u00bb", " \u203a"))
    if kind == "quotes":
        return swap_quotes(text) or text
    if kind == "site":
        return text  # handled by the template fill (a different site / domain)
    if kind == "year":
        return text
    raise ValueError(kind)


def fill(template: str, site_i: int, year: int) -> str:
    return template.format(site=SITES[site_i], domain=DOMAINS[site_i], year=year)


def plant_boilerplate(articles: list[Article], rng: np.random.Generator, stats: Counter,
                      inserted: Counter) -> None:
    for art in articles:
        for bid, lines, rate, where, max_copies, kinds in BOILERPLATE:
            if rng.random() >= rate:
                continue
            n = 1 if max_copies == 1 else int(rng.integers(1, max_copies + 1))
            for _ in range(n):
                vary = rng.random() < BOILERPLATE_VARIATION
                kind = pick(rng, kinds) if vary else None
                site_i = int(rng.integers(1, len(SITES))) if kind == "site" else 0
                year = int(rng.integers(2012, 2020)) if kind == "year" else 2017
                block = []
                for line in lines:
                    text = fill(line, site_i, year)
                    if kind in ("case", "punct", "quotes"):
                        text = vary_boilerplate(text, (kind,), rng)
                    block.append(Para(text, plant=(f"bp-{bid}-{lines.index(line)}",
                                                   "boilerplate")))
                pos = boilerplate_position(art, where, rng)
                art.paras[pos:pos] = block
                inserted[bid] += 1
                stats["boilerplate paragraphs inserted"] += len(block)
                if vary:
                    stats["boilerplate insertions varied"] += 1
        if any(p.plant and p.plant[1] == "boilerplate" for p in art.paras):
            stats["articles with planted boilerplate"] += 1


def boilerplate_position(art: Article, where: str, rng: np.random.Generator) -> int:
    n = len(art.paras)  # insert before index pos; never before the first line (the "title")
    if n <= 1 or where == "any":
        return int(rng.integers(1, n + 1))
    if where == "top":
        return int(rng.integers(1, min(3, n) + 1))
    if where == "end":
        return int(rng.integers(max(1, n - 2), n + 1))
    if where == "caption":  # right before a short, caption-like paragraph when there is one
        short = [i for i in range(1, n) if art.paras[i].plant is None
                 and 4 <= len(art.paras[i].text.split()) <= 35]
        if short:
            return short[int(rng.integers(len(short)))]
        return int(rng.integers(1, n + 1))
    raise ValueError(where)


# ----------------------------------------------------------------------------------------------
# BBC: sample + syndicated copies
# ----------------------------------------------------------------------------------------------
def load_bbc(root: Path) -> dict[str, list[str]]:
    out = {}
    for topic in sorted(d for d in os.listdir(root) if (root / d).is_dir()):
        for name in sorted(f for f in os.listdir(root / topic) if f.endswith(".txt")):
            paras = paragraphs_of(read_text(root / topic / name))
            if paras:
                out[f"{topic}/{name}"] = paras
    return out


def bbc_exact_groups(bbc: dict[str, list[str]]) -> list[list[str]]:
    by_text = defaultdict(list)
    for key, paras in bbc.items():
        by_text[" ".join(" ".join(paras).split())].append(key)
    return sorted(sorted(v) for v in by_text.values() if len(v) > 1)


def sample_bbc(bbc: dict[str, list[str]], groups: list[list[str]], n: int,
               rng: np.random.Generator) -> list[str]:
    n_groups = min(len(groups), n // 4)
    idx = sorted(int(i) for i in rng.choice(len(groups), size=n_groups, replace=False))
    chosen = [k for i in idx for k in groups[i]]
    in_groups = {k for g in groups for k in g}
    rest = [k for k in bbc if k not in in_groups]
    k = max(0, min(len(rest), n - len(chosen)))
    chosen += [rest[int(i)] for i in rng.choice(len(rest), size=k, replace=False)]
    return sorted(chosen)


def ocr_noise(text: str, rate: float, rng: np.random.Generator) -> str:
    """Character noise on letters/digits: OCR confusions (rn->m, l->1, e->c, ...), random
    letter substitutions, deletions and insertions; `rate` = expected share of alphanumerics."""
    if rate <= 0:
        return text
    out = []
    i = 0
    letters = "abcdefghijklmnopqrstuvwxyz"
    while i < len(text):
        ch = text[i]
        if ch.isalnum() and rng.random() < rate:
            op = rng.random()
            if op < 0.5:
                conf = [(a, b) for a, b in OCR_CONFUSIONS if text.startswith(a, i)]
                if conf:
                    a, b = conf[int(rng.integers(len(conf)))]
                    out.append(b)
                    i += len(a)
                    continue
                op = 0.6  # no confusion for this character: substitute instead
            if op < 0.7:
                out.append(pick(rng, letters))
            elif op < 0.85:
                pass  # deletion
            else:
                out.append(ch)
                out.append(pick(rng, letters))
            i += 1
            continue
        out.append(ch)
        i += 1
    noisy = "".join(out).strip()
    return noisy or text


def make_syndicated(bbc: dict[str, list[str]], sample: list[str], rng: np.random.Generator,
                    n_originals: int, taken_keys: set[str], stats: Counter,
                    noise_rates: tuple[tuple[float, float], ...] | None,
                    reprints: bool = False) -> list[Article]:
    """Edited, OCR-noised copies of BBC articles; each copy's noise rate is drawn from
    `noise_rates`, (rate, weight) pairs (default SYN_NOISE). With `reprints`, every copy is
    also abridged (`abridge`), and its noise rate is drawn uniformly from REPRINT_NOISE unless
    `noise_rates` is given."""
    eligible = [k for k in sample if len(bbc[k]) >= 5]  # title + >= 4 paragraphs
    n_originals = min(n_originals, len(eligible))
    originals = sorted(eligible[int(i)] for i in
                       rng.choice(len(eligible), size=n_originals, replace=False))
    sampled = set(sample)
    # paragraphs a copy may gain: from unsampled BBC articles of the same topic, unique keys
    donors = defaultdict(list)
    all_keys = Counter(norm_key(p) for paras in bbc.values() for p in paras)
    for key, paras in bbc.items():
        if key in sampled:
            continue
        for p in paras[1:]:
            k = norm_key(p)
            if 15 <= len(p.split()) <= 60 and all_keys[k] == 1 and k not in taken_keys:
                donors[key.split("/")[0]].append(p)
    used_donor: set[str] = set()
    copies = []
    for orig in originals:
        topic, name = orig.split("/")
        n_copies = weighted(rng, SYN_COPIES)
        for c in range(1, n_copies + 1):
            paras = [(p, j) for j, p in enumerate(bbc[orig])]
            edits = []
            while not edits:
                if rng.random() < SYN_HEADLINE:
                    edits.append("headline")
                if rng.random() < SYN_DATELINE:
                    edits.append("dateline")
                if rng.random() < SYN_CUT:
                    edits.append("cut")
                if rng.random() < SYN_INSERT:
                    edits.append("insert")
            if "headline" in edits:
                title = paras[0][0]
                style = int(rng.integers(4))
                if style == 0:
                    title = pick(rng, HEADLINE_PREFIXES) + title
                elif style == 1:
                    title = title + pick(rng, HEADLINE_SUFFIXES)
                elif style == 2:
                    title = title.upper()
                else:
                    title = " ".join(w[:1].upper() + w[1:] for w in title.split())
                paras[0] = (title, 0)
            if "dateline" in edits:
                paras[1] = (pick(rng, DATELINES) + paras[1][0], 1)
            if "cut" in edits:
                cut = int(rng.integers(1, 3))
                paras = paras[:-cut]
                stats[f"copies with last {cut} paragraph(s) cut"] += 1
            if "insert" in edits:
                pool = [p for p in donors[topic] if p not in used_donor]
                if pool:
                    extra = pool[int(rng.integers(len(pool)))]
                    used_donor.add(extra)
                    pos = int(rng.integers(2, len(paras) + 1))
                    paras.insert(pos, (extra, None))
                else:
                    edits.remove("insert")
            if reprints:
                paras = abridge(paras, rng, stats)
            if reprints and noise_rates is None:
                noise = round(float(rng.uniform(*REPRINT_NOISE)), 3)
            else:
                noise = weighted(rng, noise_rates or SYN_NOISE)
            stats[f"copies with {int(noise * 100)}% OCR noise"] += 1
            for e in edits:
                stats[f"copies with edit: {e}"] += 1
            out = []
            for text, j in paras:
                noisy = ocr_noise(text, noise, rng)
                out.append(Para(noisy, link=None if j is None else f"syn:{orig}:{j}"))
            stem = name[:-4]
            copies.append(Article(f"syndicated/{topic}/{stem}-{c}.txt", "syndicated",
                                  f"bbc/{orig}", out,
                                  meta={"original": f"bbc/{orig}", "noise": noise,
                                        "edits": edits}))
    stats["syndicated originals"] = len(originals)
    stats["syndicated copies"] = len(copies)
    return copies


def abridge(paras: list[tuple[str, int | None]], rng: np.random.Generator,
            stats: Counter) -> list[tuple[str, int | None]]:
    """A reprint's paragraphs: the title, then the body with its ending cut (at least
    REPRINT_KEEP_MIN of it kept) and each inner paragraph of what is left (not the first,
    not the last) dropped with probability REPRINT_DROP_INNER."""
    title, body = paras[:1], paras[1:]
    keep = int(rng.integers(int(np.ceil(REPRINT_KEEP_MIN * len(body))), len(body) + 1))
    if keep < len(body):
        stats["copies abridged: ending cut"] += 1
    body = body[:keep]
    inner = [i for i in range(1, len(body) - 1) if rng.random() < REPRINT_DROP_INNER]
    if inner:
        stats["copies abridged: inner paragraphs dropped"] += 1
        body = [p for i, p in enumerate(body) if i not in set(inner)]
    return title + body


# ----------------------------------------------------------------------------------------------
# Near-duplicate documents (word 3-gram Jaccard)
# ----------------------------------------------------------------------------------------------
def shingles(text: str) -> set[str]:
    w = words(text)
    return {" ".join(w[i:i + 3]) for i in range(len(w) - 2)}


def jaccard_pairs(texts: list[str], threshold: float) -> list[tuple[int, int, float]]:
    sets = [shingles(t) for t in texts]
    index = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            index[sh].append(i)
    cand = set()
    for docs in index.values():
        if 2 <= len(docs) <= JACCARD_RARE_DF:
            for a in range(len(docs)):
                for b in range(a + 1, len(docs)):
                    cand.add((docs[a], docs[b]))
    out = []
    for a, b in sorted(cand):
        na, nb = len(sets[a]), len(sets[b])
        if min(na, nb) < threshold * max(na, nb):  # J <= min/max: cannot reach the threshold
            continue
        inter = len(sets[a] & sets[b])
        j = inter / (len(sets[a]) + len(sets[b]) - inter)
        if j >= threshold:
            out.append((a, b, j))
    return out


# ----------------------------------------------------------------------------------------------
# Natural near-duplicate paragraphs inside one article, and site furniture
# ----------------------------------------------------------------------------------------------
_NEAR_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-"})


def near_norm(text: str) -> str:
    """Text for the character ratio: NFKC, casefold, curly quotes -> straight, dashes -> '-',
    format characters removed, whitespace collapsed. Other punctuation is kept."""
    s = unicodedata.normalize("NFKC", text).casefold().translate(_NEAR_FOLD)
    s = "".join(c for c in s if unicodedata.category(c) != "Cf")
    return " ".join(s.split())


def _word_opcodes(wa: list[str], wb: list[str]) -> list[tuple]:
    """Word-level difflib opcodes; a 'replace' that only re-splits the same letters
    ("u s" vs "us" from "U.S." / "US.") counts as equal."""
    ops = []
    for op in difflib.SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes():
        tag, i1, i2, j1, j2 = op
        if tag == "replace" and "".join(wa[i1:i2]) == "".join(wb[j1:j2]):
            tag = "equal"
        if ops and ops[-1][0] == tag == "equal":
            ops[-1] = ("equal", ops[-1][1], i2, ops[-1][3], j2)
        else:
            ops.append((tag, i1, i2, j1, j2))
    return ops


def near_check(e_norm: str, e_words: list[str], l_norm: str,
               l_words: list[str]) -> tuple[str | None, str | None]:
    """Is the later paragraph L a near-duplicate repeat of the earlier paragraph E (same
    article)? Returns (similarity, rejection): similarity is None when gate 1 fails, rejection
    is None when gate 2 accepts. e_norm/l_norm: near_norm() text; *_words: the
    norm_key words (punctuation-free). Two gates (README "Natural near-duplicate repeats"):

    1. similarity: the shorter text (>= 6 words) is a substring of the longer covering >= 85 %
       of its characters, or difflib ratio >= 0.8 (autojunk off: with it, every frequent
       character of a string >= 200 characters is ignored and the ratio becomes meaningless);
    2. shape, on the word alignment: the copies may differ at the edges (a dateline, date or
       "FILE -" prefix, a photo credit or tweet attribution at the end) and by <= 3 words
       inserted or deleted inside, but must not start differently (a 'replace' at the start:
       list items, timestamps, names of a charge sheet), must not swap a word inside
       (templates: "Click to share on Twitter" / "... on Facebook", different numbers), may end
       differently only after >= 10 equal words, and L may add at most max(3 words, 15 %)
       over E, so dropping the later copy loses no content beyond a credit or a dateline.
    """
    if min(len(e_words), len(l_words)) < NEAR_MIN_WORDS or e_words == l_words:
        return None, None
    short, long_ = (e_norm, l_norm) if len(e_norm) <= len(l_norm) else (l_norm, e_norm)
    if len(short) < (2 / 3) * len(long_):  # ratio <= 2*short/(short+long) < 0.8
        return None, None
    if len(short.split()) >= NEAR_CONTAIN_WORDS and short in long_ \
            and len(short) >= NEAR_CONTAIN * len(long_):
        similar = f"contained {len(short) / len(long_):.2f}"
    else:
        sm = difflib.SequenceMatcher(None, e_norm, l_norm, autojunk=False)
        if sm.real_quick_ratio() < NEAR_RATIO or sm.quick_ratio() < NEAR_RATIO:
            return None, None
        r = sm.ratio()
        if r < NEAR_RATIO:
            return None, None
        similar = f"ratio {r:.2f}"
    ops = _word_opcodes(e_words, l_words)
    if len(ops) == 1:
        return similar, (None if ops[0][0] == "equal" else "no shared words")
    head = ops[0] if ops[0][0] != "equal" else None
    tail = ops[-1] if ops[-1][0] != "equal" else None
    inner = [o for o in ops[1:-1] if o[0] != "equal"]
    if head and head[0] == "replace":
        return similar, "different start"
    if any(o[0] == "replace" for o in inner):
        return similar, "word swapped inside"
    if sum(max(i2 - i1, j2 - j1) for _, i1, i2, j1, j2 in inner) > NEAR_INNER_MAX:
        return similar, f"> {NEAR_INNER_MAX} words inserted/deleted inside"
    equal = sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag == "equal")
    if tail and tail[0] == "replace" and equal < NEAR_TAIL_REPLACE_EQ:
        return similar, f"different end after < {NEAR_TAIL_REPLACE_EQ} equal words"
    added = sum(j2 - j1 for tag, _, _, j1, j2 in ops if tag != "equal")
    if added > max(NEAR_LATER_ADDS[0], NEAR_LATER_ADDS[1] * len(l_words)):
        return similar, f"later copy adds {added} of {len(l_words)} words"
    return similar, None


def near_repeat(e_norm: str, e_words: list[str], l_norm: str, l_words: list[str]) -> str | None:
    """The similarity reason when near_check accepts the pair, else None."""
    similar, rejected = near_check(e_norm, e_words, l_norm, l_words)
    return similar if similar and not rejected else None


def near_repeat_edges(articles: list[Article]) -> tuple[list, list]:
    """(article index, earlier para index, later para index, reason) for the natural paragraphs
    of each article and the planted captions (a caption invented from a sentence can be nearly
    its whole source paragraph, e.g. "Sen. Lindsey Graham ..." split after "Sen."). Two rules:

    - pair: near_repeat(earlier, later), after a cheap prefilter (both >= 5 words, character
      lengths within 2/3, >= 60 % of the smaller word set shared); pairs with equal norm_key
      are skipped (the exact-key grouping already has them);
    - doubled: a paragraph that is two copies printed back to back ("caption caption", or a
      long and a truncated version of one caption): its words split into X + Y, each >= 5 words
      and each equal to (or a near_repeat of) another paragraph of the article. It joins the
      paragraph that matches the longer piece.

    Also returns the pairs that pass the similarity gate but are rejected by the shape gate
    (ai, earlier, later, similarity, rejection), for the hand review.
    """
    edges, rejected = [], []
    for ai, art in enumerate(articles):
        idx = [i for i, p in enumerate(art.paras)
               if p.natural or (p.plant and p.plant[1] == "repeat")]
        if len(idx) < 2:
            continue
        wd = {i: words(art.paras[i].text) for i in idx}
        idx = [i for i in idx if len(wd[i]) >= NEAR_MIN_WORDS]
        nn = {i: near_norm(art.paras[i].text) for i in idx}
        ws = {i: set(wd[i]) for i in idx}
        for x, i in enumerate(idx):
            for j in idx[x + 1:]:
                if wd[i] == wd[j]:
                    continue
                a, b = sorted((len(nn[i]), len(nn[j])))
                if a < (2 / 3) * b:
                    continue
                if len(ws[i] & ws[j]) < 0.6 * min(len(ws[i]), len(ws[j])):
                    continue
                similar, rejection = near_check(nn[i], wd[i], nn[j], wd[j])
                if similar and not rejection:
                    edges.append((ai, i, j, similar))
                elif similar:
                    rejected.append((ai, i, j, similar, rejection))
        # doubled paragraphs
        by_words = defaultdict(list)
        for i in idx:
            by_words[tuple(wd[i])].append(i)
        for p in idx:
            wp = wd[p]
            n = len(wp)
            if n < 2 * NEAR_MIN_WORDS:
                continue
            splits = {k for k in range(NEAR_MIN_WORDS, n - NEAR_MIN_WORDS + 1)
                      if wp[k:k + NEAR_MIN_WORDS] == wp[:NEAR_MIN_WORDS]}
            for q in idx:
                m = len(wd[q])
                if q != p and NEAR_MIN_WORDS <= n - m and m >= NEAR_MIN_WORDS:
                    if wp[:m] == wd[q]:
                        splits.add(m)
                    if wp[n - m:] == wd[q]:
                        splits.add(n - m)

            def partner(piece: list[str]) -> int | None:
                exact = [q for q in by_words.get(tuple(piece), []) if q != p]
                if exact:
                    return exact[0]
                pn = " ".join(piece)
                for q in idx:
                    if q != p and near_repeat(" ".join(wd[q]), wd[q], pn, piece):
                        return q
                return None

            for k in sorted(splits):
                qx, qy = partner(wp[:k]), partner(wp[k:])
                if qx is not None and qy is not None:
                    q = qx if k >= n - k else qy
                    edges.append((ai, min(p, q), max(p, q), f"doubled {k}+{n - k} words"))
                    break
    return edges, rejected


_FURNITURE_KEYS = tuple(norm_key(f).split() for f in FURNITURE)


def is_furniture(text: str) -> bool:
    """norm_key equals a FURNITURE line, or one such line repeated ("Advertisement Advertisement")."""
    if text.strip().startswith(FURNITURE_PREFIXES):
        return True
    w = norm_key(text).split()
    return any(w and len(w) % len(f) == 0 and w == f * (len(w) // len(f)) for f in _FURNITURE_KEYS)


# ----------------------------------------------------------------------------------------------
# Labelling
# ----------------------------------------------------------------------------------------------
def near_groups(pairs: list[tuple[str, str, float]]) -> list[tuple[list[str], float]]:
    """Connected components of near-duplicate pairs: (sorted members, lowest pair Jaccard)."""
    names = sorted({s for a, b, _ in pairs for s in (a, b)})
    pos = {n: i for i, n in enumerate(names)}
    uf = UnionFind(len(names))
    for a, b, _ in pairs:
        uf.union(pos[a], pos[b])
    groups: dict[int, list[str]] = defaultdict(list)
    for n in names:
        groups[uf.find(pos[n])].append(n)
    out = []
    for members in groups.values():
        ms = set(members)
        out.append((members, min(j for a, b, j in pairs if a in ms)))
    return sorted(out, key=lambda g: g[0][0])


def label_segments(articles: list[Article], doc_story: dict[str, str], summary: dict,
                   near_edges: list = (), near_rejected: list = ()) -> list:
    """(article index, para index) -> (group component id or None, kind, expected)."""
    segs = [(ai, pi) for ai, art in enumerate(articles) for pi in range(len(art.paras))]
    uf = UnionFind(len(segs))
    first_by_key: dict[str, int] = {}
    for si, (ai, pi) in enumerate(segs):
        p = articles[ai].paras[pi]
        keys = ["n:" + norm_key(p.text)]
        if p.plant:
            keys.append("p:" + p.plant[0])
        if p.link:
            keys.append("l:" + p.link)
        for k in keys:
            if k in first_by_key:
                uf.union(first_by_key[k], si)
            else:
                first_by_key[k] = si
    # the original side of a syndication link: bbc paragraph j of the original article
    pos_of = {(articles[ai].source, pi): si for si, (ai, pi) in enumerate(segs)}
    for si, (ai, pi) in enumerate(segs):
        link = articles[ai].paras[pi].link
        if link:
            _, orig, j = link.split(":")
            uf.union(pos_of[(f"bbc/{orig}", int(j))], si)
    # natural near-duplicate repeats inside one article
    # (an edge inside one existing group, e.g. two planted copies of a caption, adds nothing).
    # Merging two groups turns the later of their two first copies (in every article holding
    # both) into a dropped repeat; that is allowed only when the new first copy covers it
    # (near_repeat, or the edge's own pair). Otherwise a caption invented from a sentence would
    # pull in its longer source paragraph and the extra sentences would be labelled `drop`.
    members_of: dict[int, list[int]] = defaultdict(list)
    for si in range(len(segs)):
        members_of[uf.find(si)].append(si)

    def para_of(si: int) -> Para:
        return articles[segs[si][0]].paras[segs[si][1]]

    def covers(first: int, later: int) -> bool:
        a, b = para_of(first).text, para_of(later).text
        return words(a) == words(b) or near_repeat(near_norm(a), words(a), near_norm(b),
                                                   words(b)) is not None

    near_of_seg: dict[int, list[tuple[str, str]]] = defaultdict(list)
    near_used: Counter = Counter()
    near_refused = []
    for ai, pi, pj, why in near_edges:
        a, b = pos_of[(articles[ai].source, pi)], pos_of[(articles[ai].source, pj)]
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        first_a, first_b = {}, {}
        for m in members_of[ra]:
            first_a.setdefault(segs[m][0], m)
        for m in members_of[rb]:
            first_b.setdefault(segs[m][0], m)
        ok = True
        for art_i in sorted(first_a.keys() & first_b.keys()):
            lo, hi = sorted((first_a[art_i], first_b[art_i]))
            if (lo, hi) != (a, b) and not covers(lo, hi):
                ok = False
                near_refused.append((articles[ai].source, pi, pj, why,
                                     f"would drop {articles[art_i].source} para {segs[hi][1]}, "
                                     f"not covered by its first copy para {segs[lo][1]}",
                                     para_of(a).text, para_of(b).text))
                break
        if not ok:
            continue
        uf.union(a, b)
        merged = sorted(members_of.pop(ra) + members_of.pop(rb))
        members_of[uf.find(a)] = merged
        near_of_seg[a].append((articles[ai].source, f"{pi}~{pj} {why}"))
        near_used["doubled" if why.startswith("doubled") else "pair"] += 1

    summary["near_rejected"] = [
        (articles[ai].source, i, j, sim, rej, articles[ai].paras[i].text,
         articles[ai].paras[j].text) for ai, i, j, sim, rej in near_rejected
        if uf.find(pos_of[(articles[ai].source, i)]) != uf.find(pos_of[(articles[ai].source, j)])]
    summary["near_rejected"] += [r for r in near_refused
                                 if uf.find(pos_of[(r[0], r[1])]) != uf.find(pos_of[(r[0], r[2])])]

    comps = defaultdict(list)
    for si in range(len(segs)):
        comps[uf.find(si)].append(si)
    labels: list = [None] * len(segs)
    natural = Counter()
    audit = []
    near_groups_found = []
    furniture_lone: Counter = Counter()
    furniture_groups: Counter = Counter()
    furniture_where: list[tuple[str, str]] = []
    for root, members in comps.items():
        paras = [articles[segs[m][0]].paras[segs[m][1]] for m in members]
        furniture = [p for p in paras if not p.plant and is_furniture(p.text)]
        if len(members) < 2:
            if furniture:  # a lone furniture line: boilerplate without a duplicate group
                labels[members[0]] = (None, "boilerplate", "drop")
                furniture_lone[norm_key(paras[0].text)] += 1
                furniture_where.append((articles[segs[members[0]][0]].source, paras[0].text))
            else:
                labels[members[0]] = (None, None, "keep")
            continue
        arts = [articles[segs[m][0]] for m in members]
        stories = {doc_story[a.source] for a in arts}
        planted = {p.plant[1] for p in paras if p.plant}
        linked = any(p.link for p in paras)
        near = [r for m in members for r in near_of_seg.get(m, [])]
        # a planted caption reaches another article only through a natural near-duplicate of
        # its source paragraph (which has exact copies elsewhere); then the rules below apply
        assert "repeat" not in planted or near or len({a.source for a in arts}) == 1, \
            "planted repeat leaked across articles"
        if "boilerplate" in planted or furniture:
            kind = "boilerplate"
            if not planted and len(stories) >= 2 and not linked:  # keep the audit list complete
                audit.append((kind, len(members), len(stories), paras[0].text))
        elif "repeat" in planted and len({a.source for a in arts}) == 1:
            kind = "repeat"
        elif len(stories) >= 2 and not linked:
            # a paragraph carried by unrelated stories. Multi-News is a web crawl: these are
            # all site furniture (audited list printed below). BBC is clean body text: only a
            # line in >= 3 unrelated articles (e.g. a columnist footer) is boilerplate.
            corpora = {a.corpus for a in arts}
            if corpora == {"multinews"} or len(stories) >= 3:
                kind = "boilerplate"
            else:
                kind = "shared"
            audit.append((kind, len(members), len(stories), paras[0].text))
        elif len({a.source for a in arts}) == 1:
            kind = "repeat"
        else:
            kind = "shared"
        if not planted and not linked and not near:
            natural[kind] += 1
        if furniture:
            furniture_groups[kind] += 1
        if kind == "boilerplate":
            for m in members:
                labels[m] = (root, "boilerplate", "drop")
        else:
            seen_sources = set()
            for m in sorted(members):  # reading order within each article
                src = articles[segs[m][0]].source
                if src in seen_sources:
                    labels[m] = (root, "repeat", "drop")
                else:
                    seen_sources.add(src)
                    labels[m] = (root, kind, "keep")
        if near:
            near_groups_found.append(([(articles[segs[m][0]].source, segs[m][1],
                                        articles[segs[m][0]].paras[segs[m][1]].text,
                                        labels[m][1], labels[m][2]) for m in sorted(members)],
                                      sorted(near)))
    summary["natural_groups"] = natural
    summary["near_groups"] = near_groups_found
    summary["near_edges"] = near_used
    summary["furniture_lone"] = furniture_lone
    summary["furniture_groups"] = furniture_groups
    summary["furniture_where"] = furniture_where
    summary["audit"] = sorted(audit, key=lambda x: (x[0], -x[1], x[3]))
    return [(segs[si], labels[si]) for si in range(len(segs))]


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------
def fail(msg: str) -> None:
    print(f"make_devset: error: {msg}", file=sys.stderr)
    sys.exit(2)


def prepare_out(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            fail(f"--out {out} exists and is not a directory")
        contents = [p for p in out.iterdir()]
        if contents and not (out / MARKER).exists():
            fail(f"--out {out} is a non-empty directory not made by this script "
                 f"(no {MARKER}); refusing to overwrite it")
        if (out / "articles").exists():
            shutil.rmtree(out / "articles")
        for name in ("labels.jsonl",):
            if (out / name).exists():
                (out / name).unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("built by bench/devset/make_devset.py\n", encoding="utf-8")


def noise_rates(value: str) -> tuple[tuple[float, float], ...]:
    """--syn-noise: comma-separated OCR noise rates, drawn with equal weight."""
    try:
        rates = tuple(float(x) for x in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {value!r}") from None
    if not rates or not all(0 <= r < 1 for r in rates):
        raise argparse.ArgumentTypeError(f"noise rates must be in [0, 1): {value!r}")
    return tuple((r, 1.0) for r in rates)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"output directory (default {DEFAULT_OUT.relative_to(REPO_ROOT)})")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--corpora", type=Path,
                    default=Path(os.environ.get("DEDUPE_CORPORA", DEFAULT_CORPORA)),
                    help="folder holding multinews-dev/ and bbc/ (default ../shared/corpora "
                         "next to the repository, or $DEDUPE_CORPORA)")
    ap.add_argument("--limit-stories", type=int, default=None,
                    help="only the first N multinews stories (for quick tests)")
    ap.add_argument("--bbc-sample", type=int, default=BBC_SAMPLE,
                    help=f"BBC articles to sample (default {BBC_SAMPLE}; half are exact-duplicate "
                         "files)")
    ap.add_argument("--syndicate", type=int, default=SYNDICATE,
                    help=f"BBC articles that get syndicated copies (default {SYNDICATE})")
    ap.add_argument("--syn-noise", type=noise_rates, default=None, metavar="RATES",
                    help="OCR noise rates of the syndicated copies, each drawn with equal weight "
                         "(default 0,0.01,0.03,0.05; 0.03 puts 3%% noise on every copy)")
    ap.add_argument("--reprints", action="store_true",
                    help="the OCR'd reprint split: every syndicated copy abridged (ending cut by "
                         "up to half, inner paragraphs dropped with p = 0.15) and noised at "
                         "3-10%% (uniform, unless --syn-noise is given)")
    ap.add_argument("--quiet", action="store_true", help="print only the headline counts")
    args = ap.parse_args(argv)
    for name in ("limit_stories", "bbc_sample", "syndicate"):
        value = getattr(args, name)
        if value is not None and value < (1 if name == "limit_stories" else 0):
            bound = "positive" if name == "limit_stories" else ">= 0"
            ap.error(f"--{name.replace('_', '-')} must be {bound}")
    t0 = time.perf_counter()

    mn_root, bbc_root = args.corpora / "multinews-dev", args.corpora / "bbc"
    missing = [str(p) for p in (mn_root, bbc_root) if not p.is_dir()]
    if missing:
        fail("corpora not found: " + ", ".join(missing) + ". This benchmark is built from the "
             "research-licensed corpora in ../shared/corpora (see its README.md); they are not "
             "part of the repository. Pass --corpora DIR or set $DEDUPE_CORPORA.")

    seq = np.random.SeedSequence(args.seed)
    rng_rep, rng_bp, rng_bbc, rng_syn = (np.random.default_rng(s) for s in seq.spawn(4))
    stats: Counter = Counter()
    bp_inserted: Counter = Counter()

    # --- multinews --------------------------------------------------------------------------
    mn = load_multinews(mn_root, args.limit_stories)
    if not mn:
        fail(f"no articles found in {mn_root}")
    key_count = Counter(norm_key(p.text) for a in mn for p in a.paras)
    plant_repeats(mn, rng_rep, key_count, stats)
    plant_boilerplate(mn, rng_bp, stats, bp_inserted)

    # --- bbc --------------------------------------------------------------------------------
    bbc = load_bbc(bbc_root)
    if not bbc:
        fail(f"no articles found in {bbc_root}")
    exact_groups = bbc_exact_groups(bbc)
    sample = sample_bbc(bbc, exact_groups, args.bbc_sample, rng_bbc)
    bbc_articles = [Article(f"bbc/{k}", "bbc", f"bbc/{k}",
                            [Para(p, natural=True) for p in bbc[k]],
                            original_text="\n\n".join(bbc[k])) for k in sample]
    taken = {norm_key(p.text) for a in mn + bbc_articles for p in a.paras}
    syndicated = make_syndicated(bbc, sample, rng_syn, args.syndicate, taken, stats, args.syn_noise,
                                 reprints=args.reprints)

    articles = sorted(mn + bbc_articles + syndicated, key=lambda a: a.source)
    index_of = {a.source: i for i, a in enumerate(articles)}

    # --- document groups --------------------------------------------------------------------
    duf = UnionFind(len(articles))
    sample_set = set(sample)
    n_exact = 0
    for g in exact_groups:
        members = [f"bbc/{k}" for k in g if k in sample_set]
        if len(members) >= 2:
            n_exact += 1
            for m in members[1:]:
                duf.union(index_of[members[0]], index_of[m])
    for a in syndicated:
        duf.union(index_of[a.meta["original"]], index_of[a.source])
    bbc_pairs = jaccard_pairs([a.original_text for a in bbc_articles], JACCARD_MIN)
    bbc_near = []
    for a, b, j in bbc_pairs:
        ia, ib = index_of[bbc_articles[a].source], index_of[bbc_articles[b].source]
        if " ".join(bbc_articles[a].original_text.split()) != \
                " ".join(bbc_articles[b].original_text.split()):
            bbc_near.append((bbc_articles[a].source, bbc_articles[b].source, j))
        duf.union(ia, ib)
    mn_pairs = jaccard_pairs([a.original_text for a in mn], JACCARD_MIN)
    mn_near = [(mn[a].source, mn[b].source, j) for a, b, j in mn_pairs]
    for sa, sb, _ in mn_near:
        duf.union(index_of[sa], index_of[sb])
    # how similar are the syndicated copies to their originals (for the caveats)
    syn_j = []
    by_source = {a.source: a for a in articles}
    for a in syndicated:
        o = by_source[a.meta["original"]]
        sa, sb = shingles(o.original_text), shingles("\n".join(p.text for p in a.paras))
        syn_j.append((a.meta["noise"], len(sa & sb) / max(1, len(sa | sb))))

    droots = defaultdict(list)
    for i in range(len(articles)):
        droots[duf.find(i)].append(i)
    doc_group_of: dict[str, str | None] = {}
    n_doc_groups = 0
    for i, a in enumerate(articles):  # ids in output order
        members = droots[duf.find(i)]
        if len(members) < 2:
            doc_group_of[a.source] = None
        elif a.source not in doc_group_of:
            n_doc_groups += 1
            for m in members:
                doc_group_of[articles[m].source] = f"d-{n_doc_groups}"
    # "story" of a segment = multinews story folder; for bbc/syndicated the document group
    doc_story = {}
    for a in articles:
        if a.corpus == "multinews":
            doc_story[a.source] = "mn:" + a.story
        else:
            doc_story[a.source] = "doc:" + (doc_group_of[a.source] or a.source)

    # --- segment labels ---------------------------------------------------------------------
    summary: dict = {}
    near_edges, near_rejected = near_repeat_edges(articles)
    seg_labels = label_segments(articles, doc_story, summary, near_edges, near_rejected)
    group_name: dict[int, str] = {}
    records_by_article = defaultdict(list)
    for (ai, pi), (root, kind, expected) in seg_labels:
        gname = None
        if root is not None:
            if root not in group_name:
                group_name[root] = f"s-{len(group_name) + 1}"
            gname = group_name[root]
        records_by_article[ai].append((pi, gname, kind, expected))

    # --- write ------------------------------------------------------------------------------
    prepare_out(args.out)
    art_root = args.out / "articles"
    n_seg = 0
    kind_counts: Counter = Counter()
    group_kinds: dict[str, set] = defaultdict(set)
    group_sizes: Counter = Counter()
    with open(args.out / "labels.jsonl", "w", encoding="utf-8", newline="\n") as lab:
        for ai, art in enumerate(articles):
            paras = [p.text for p in art.paras]
            for p in paras:
                assert p and p == p.strip() and "\n" not in p and "\r" not in p, art.source
            text = "\n\n".join(paras) + "\n"
            path = art_root / art.source
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            assert path.read_bytes().decode("utf-8") == text
            lab.write(json.dumps({"type": "document", "source": art.source,
                                  "group": doc_group_of[art.source]}) + "\n")
            offset = 0
            recs = sorted(records_by_article[ai])
            assert len(recs) == len(paras)
            for (pi, gname, kind, expected), p in zip(recs, paras):
                start = text.index(p, offset)
                assert start == offset, (art.source, pi)
                end = start + len(p)
                assert text[start:end] == p == text[start:end].strip()
                offset = end + 2
                lab.write(json.dumps({"type": "segment", "source": art.source, "start": start,
                                      "end": end, "group": gname, "kind": kind,
                                      "expected": expected}, ensure_ascii=False) + "\n")
                n_seg += 1
                kind_counts[(art.corpus, kind or "null", expected)] += 1
                if gname:
                    group_kinds[gname].add(kind)
                    group_sizes[gname] += 1
    assert all(n >= 2 for n in group_sizes.values())
    elapsed = time.perf_counter() - t0

    # --- summary ----------------------------------------------------------------------------
    by_corpus = Counter(a.corpus for a in articles)
    gk = Counter()
    for g, ks in group_kinds.items():
        gk["boilerplate" if "boilerplate" in ks else "shared" if "shared" in ks else "repeat"] += 1
    print(f"devset written to {args.out} (seed {args.seed}) in {elapsed:.1f} s")
    print(f"articles: {len(articles)} = "
          + ", ".join(f"{k} {v}" for k, v in sorted(by_corpus.items())))
    print(f"segment labels: {n_seg}; segment groups: {len(group_sizes)} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(gk.items()))})")
    print("segments by corpus / kind / expected:")
    for (corpus, kind, expected), n in sorted(kind_counts.items()):
        print(f"  {corpus:<11} {kind:<12} {expected:<5} {n}")
    dsz = Counter(g for g in doc_group_of.values() if g)
    print(f"document groups: {n_doc_groups} covering {sum(dsz.values())} articles "
          f"(bbc exact-duplicate file groups in sample: {n_exact}; syndicated originals: "
          f"{stats['syndicated originals']} with {stats['syndicated copies']} copies; "
          f"bbc near-duplicate pairs (3-gram Jaccard >= {JACCARD_MIN}, not identical): "
          f"{len(bbc_near)}; multinews near-duplicate pairs: {len(mn_near)} in "
          f"{len(near_groups(mn_near))} groups)")
    nat = summary["natural_groups"]
    print("duplicates already in the corpora (exact match on normalised paragraphs): "
          + ", ".join(f"{k} {v} groups" for k, v in sorted(nat.items())))
    ng, ne = summary["near_groups"], summary["near_edges"]
    print(f"natural near-duplicate repeats inside one article: {len(ng)} groups "
          f"({ne['pair']} near-duplicate pairs, {ne['doubled']} doubled paragraphs; "
          + ", ".join(f"{k} {v}" for k, v in sorted(Counter(
              "boilerplate" if any(m[3] == "boilerplate" for m in g) else
              "shared" if any(m[3] == "shared" for m in g) else "repeat"
              for g, _ in ng).items())) + ")")
    print(f"  similar pairs rejected by the shape gate (templates, truncated captions, added "
          f"sentences): {len(summary['near_rejected'])}")
    fl = summary["furniture_lone"]
    print(f"site furniture (FURNITURE list): lone lines labelled boilerplate {sum(fl.values())} ("
          + ", ".join(f"{k!r} {v}" for k, v in sorted(fl.items())) + "); groups with a "
          f"furniture line {sum(summary['furniture_groups'].values())}")
    print("planted (multinews): " + ", ".join(
        f"{k} {stats[k]}" for k in ("articles with planted repeats", "captions printed 2x",
                                    "captions printed 3x", "captions reused from a short paragraph",
                                    "captions invented from a sentence",
                                    "articles with planted boilerplate",
                                    "boilerplate paragraphs inserted",
                                    "boilerplate insertions varied")))
    if not args.quiet:
        variants = {k: v for k, v in stats.items() if k.split("+")[0] in dict(REPEAT_VARIANTS)}
        print("  caption copy variations: "
              + ", ".join(f"{k} {v}" for k, v in sorted(variants.items())))
        print("  copy placement: " + ", ".join(f"{k} {stats[k]}" for k in
                                               ("copy right after", "copy 1-4 paragraphs later")))
        print("  boilerplate insertions per string: "
              + ", ".join(f"{b} {bp_inserted[b]}" for b, *_ in BOILERPLATE))
        print("syndicated copies: " + ", ".join(
            f"{k[len('copies with '):]} {v}" for k, v in sorted(stats.items())
            if k.startswith("copies with")))
        if args.reprints:
            print("  abridged: " + ", ".join(f"{k[len('copies abridged: '):]} {v}" for k, v in
                                             sorted(stats.items()) if k.startswith("copies abridged")))
        for lvl in sorted({int(n * 100) for n, _ in syn_j}):
            js = [j for n, j in syn_j if int(n * 100) == lvl]
            print(f"  3-gram Jaccard copy vs original at {lvl}% noise: "
                  f"min {min(js):.2f} median {float(np.median(js)):.2f} (n={len(js)})")
        print("bbc near-duplicate pairs found in the sample:")
        for sa, sb, j in bbc_near:
            print(f"  {j:.2f} {sa} ~ {sb}")
        print("multinews near-duplicate article groups "
              "(size, min pair Jaccard, first member, text):")
        for members, jmin in near_groups(mn_near):
            head = by_source[members[0]].original_text.split("\n")[0]
            print(f"  {len(members):>3} {jmin:.2f} {members[0]}  {head[:70]!r}")
        print("natural near-duplicate repeat groups (article: para index, kind/expected, "
              "first 60 chars; then the rule that linked them):")
        for members, why in ng:
            print(f"  {members[0][0]}")
            for src, pi, text, kind, expected in members:
                where = "" if src == members[0][0] else f" [{src}]"
                print(f"    {pi:>3} {kind[:5]}/{expected:<4} {text[:60]!r}{where}")
            print("        " + "; ".join(r if src == members[0][0] else f"[{src}] {r}"
                                          for src, r in why))
        print("lone site-furniture lines labelled boilerplate/drop:")
        for src, text in summary["furniture_where"]:
            print(f"  {src}  {text!r}")
        rej = summary["near_rejected"]
        print(f"similar paragraph pairs NOT labelled (pass the similarity gate, fail the shape "
              f"gate; {len(rej)}):")
        for src, i, j, sim, why, ti, tj in rej:
            print(f"  {src} {i}~{j} {sim}: {why}\n      {ti[:60]!r}\n      {tj[:60]!r}")
        print("corpus paragraphs found in several unrelated stories (kind, copies, stories, text):")
        for kind, n, ns, txt in summary["audit"]:
            print(f"  {kind:<11} {n:>3} {ns:>3}  {txt[:90]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
