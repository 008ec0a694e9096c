"""Shared fixtures. The Prefect harness is opt-in (only the flow tests use it): importing
prefect.testing costs seconds and starting its server ~20 s."""

from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
SHARED = ROOT.parent / "shared"

# Prefect state never goes to the shared ~/.prefect, even for tests that only load the flows.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="dedupe-prefect-home-"))


@pytest.fixture(autouse=True)
def _dedupe_logger_restored():
    """The command configures the `dedupe` logger (its own handler and level, no propagation):
    undone after each test, so that a later test's `caplog` still sees the library's records."""
    logger = logging.getLogger("dedupe")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


@pytest.fixture(scope="session")
def seed_output(tmp_path_factory) -> Path:
    """The pipeline's output on the five sample articles in raw/ (run once per session)."""
    import dedupe

    out = tmp_path_factory.mktemp("seed-output")
    dedupe.run(RAW, out)
    return out


@pytest.fixture(scope="session")
def prefect_harness():
    from dedupe.cli import load_flows_module

    load_flows_module("settings").configure_prefect()  # offline settings before Prefect loads
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def write_articles(root: Path, articles: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def build_corpus(tmp_path: Path, docs, known=(), config=None):
    """The corpus stage on the given documents, inline, with `known` lines as boilerplate history."""
    from dedupe.config import Config
    from dedupe.corpus import build
    from dedupe.engines.local import InlineEngine
    from dedupe.history import KnownTexts
    from dedupe.io.stores import DocumentStore, DocumentWriter

    config = config or Config()
    stage = tmp_path / f"stage{len(list(tmp_path.glob('stage*')))}"
    stage.mkdir()
    writer = DocumentWriter(stage / "input.parquet", config.batch_docs)
    for doc in docs:
        writer.add(doc)
    writer.close()
    known = tuple(known)
    return build(stage, DocumentStore(stage / "input.parquet"), config, KnownTexts(known, (True,) * len(known)),
                 InlineEngine())


def copy_raw(dest: Path) -> Path:
    shutil.copytree(RAW, dest)
    return dest


# One long sentence, for near-duplicate variants (`variant`).
BASE = ("The finance minister said on Tuesday that the budget would include new spending on "
        "schools and hospitals across the country next year while opposition leaders argued the "
        "plan relied on optimistic growth forecasts and warned that borrowing costs could rise "
        "sharply if investors lost confidence in the government's fiscal rules").split()


def variant(words: list[str], changes: int) -> str:
    """`words` with `changes` words substituted, spread over the text."""
    out = list(words)
    for k in range(changes):  # spread substitutions over the text
        i = (k * 7 + 3) % len(out)
        out[i] = f"x{k}"
    return " ".join(out)


# Short unrelated stories, for articles that must not match each other.
STORIES = [
    "Rail workers walked out at dawn after talks over pay collapsed late on Sunday.\n"
    "Commuters queued for replacement buses while unions promised further action in March.",
    "Farmers in the east reported the smallest wheat harvest in a decade.\n"
    "A dry spring and late frosts cut yields, and bread prices are expected to climb.",
    "Voters in the coastal district elected an independent candidate by 312 votes.\n"
    "Turnout reached a record high despite heavy rain across the constituency.",
    "Flood barriers were raised along the river as water levels rose overnight.\n"
    "Emergency crews evacuated two care homes and opened a shelter in the town hall.",
    "The city museum reopened its Egyptian gallery after a four-year restoration.\n"
    "Curators said a painted coffin had been cleaned of centuries of soot.",
    "The home side came from two goals down to win in stoppage time.\n"
    "Their captain scored twice, including a free kick that left the keeper rooted.",
    "The central bank held interest rates but signalled cuts later in the year.\n"
    "Economists said inflation had fallen faster than the bank had forecast.",
]


def synthetic_articles(root: Path, articles: int = 1200, seed: int = 0) -> Path:
    """Articles of pseudo-words with exact and near copies, quoted passages and a repeated line,
    as plain text files under `root`: from about 1,000 articles every kernel's compiled path is
    taken on them."""
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
