"""`dedupe warmup`: compile every kernel once, into numba's cache, before the first real run.

A fresh environment (a container, a CI job, a process work pool on a new machine) otherwise
compiles the kernels during its first large run: 5-7 s on 2 cores. Numba caches compiled code
next to `compiled.py` (`dedupe/kernels/__pycache__`), or in `$NUMBA_CACHE_DIR` when that is set
(also where numba goes when the package folder is not writable). Run this once where that cache
persists: in the image after installing, or on a worker's volume.

The kernels are compiled by the pipeline itself, on a generated corpus large enough for every
kernel's compiled path (`kernels.use_compiled`), so each is compiled for exactly the argument
types a run passes it; a type seen only here would be compiled again by the first run.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

KERNELS = ("minhash", "shingles", "char_shingles", "ascii_words", "hash_words", "unique_rows",
           "intersections", "containment_queries")


def warmup_corpus(root: Path, articles: int = 1200, seed: int = 0) -> Path:
    """Articles of pseudo-words with exact and near copies, quoted passages and a repeated line:
    every stage's compiled path is taken on them. Plain text files under `root`."""
    rng = random.Random(seed)
    vocab = [f"{rng.choice('bcdfghklmnprst')}{rng.choice('aeiou')}{rng.choice('bcdfgklmnprst')}"
             f"{rng.choice('aeiou')}{i}" for i in range(4000)]
    earlier: list[str] = []
    root.mkdir(parents=True, exist_ok=True)
    for a in range(articles):
        paragraphs = []
        for _ in range(10):
            roll = rng.random()
            if earlier and roll < 0.25:  # an exact or near copy of an earlier paragraph
                words = rng.choice(earlier).split()
                if roll < 0.15:
                    words[rng.randrange(len(words))] = rng.choice(vocab)
                paragraphs.append(" ".join(words))
            elif earlier and roll < 0.35:  # a passage quoted inside a longer paragraph
                paragraphs.append(" ".join(rng.choices(vocab, k=12)) + " " + rng.choice(earlier))
            else:
                paragraphs.append(" ".join(rng.choices(vocab, k=rng.randint(40, 90))))
        paragraphs.append("Sign up for our newsletter")
        earlier.extend(paragraphs[:3])
        (root / f"article-{a:05d}.txt").write_text(f"Story {a}\n" + "\n".join(paragraphs), encoding="utf-8")
    return root


def warmup() -> dict[str, int]:
    """Run the pipeline once on the warm-up corpus in this process; returns, per kernel, how many
    type signatures numba now holds (compiled or loaded from its cache). Raises RuntimeError if
    a kernel was not reached (the corpus no longer exercises it)."""
    from .. import pipeline
    from ..config import Config
    from . import available
    from . import compiled

    if not available():
        raise RuntimeError("numba is not available (not installed, or DEDUPE_NO_NUMBA=1): nothing to compile")
    with tempfile.TemporaryDirectory(prefix="dedupe-warmup-") as tmp:
        corpus = warmup_corpus(Path(tmp) / "articles")
        pipeline.run(corpus, Path(tmp) / "out", Config(workers=1))
    counts = {name: len(getattr(compiled, name).signatures) for name in KERNELS}
    missing = [name for name, n in counts.items() if n == 0]
    if missing:
        raise RuntimeError(f"warm-up did not reach the kernels {', '.join(missing)}")
    return counts


def cache_folder() -> str:
    """Where numba keeps the compiled kernels for this installation."""
    from . import compiled

    return str(getattr(getattr(compiled.minhash, "_cache", None), "_cache_path", "numba's cache folder"))


def cache_stats() -> dict[str, tuple[int, int]]:
    """(cache hits, cache misses) of each kernel in this process: a miss is a compilation."""
    from . import compiled

    out = {}
    for name in KERNELS:
        stats = getattr(compiled, name).stats
        out[name] = (sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
    return out
