"""Reprints (match/reprints.py): OCR-noised, abridged copies of a real article are linked to it;
articles that share passages, a quote or site furniture are not."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dedupe.config import Config
from dedupe.match.documents import match_documents
from dedupe.match.reprints import Paragraphs, found
from dedupe.model import Document
from tests.conftest import RAW, build_corpus

ARTICLES = sorted(RAW.glob("*.txt"))


def _paragraphs(path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ocr(text: str, rate: float, seed: int) -> str:
    """Character noise as OCR makes it: a share `rate` of the letters substituted, dropped or
    doubled."""
    rng = random.Random(seed)
    out = []
    for ch in text:
        if ch.isalpha() and rng.random() < rate:
            op = rng.random()
            if op < 0.6:
                out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))
            elif op < 0.8:
                continue
            else:
                out.append(ch + ch)
        else:
            out.append(ch)
    return "".join(out)


def reprint(paragraphs: list[str], rate: float, seed: int) -> str:
    """The first 60 % of an article with its third paragraph dropped, a new headline, each
    paragraph noised."""
    kept = paragraphs[: max(4, int(len(paragraphs) * 0.6))]
    kept = [kept[0].upper()] + kept[1:2] + kept[3:]
    return "\n".join(ocr(p, rate, seed + i) for i, p in enumerate(kept)) + "\n"


def _docs(texts: list[str]) -> list[Document]:
    return [Document(f"d{i}", f"d{i}.txt", t.split("\n", 1)[0], t) for i, t in enumerate(texts)]


def _clusters(tmp_path, texts, **config):
    config = Config(**config)
    return match_documents(build_corpus(tmp_path, _docs(texts), config=config), config).cluster.tolist()


@pytest.mark.parametrize("rate", [0.06, 0.08, 0.10])
def test_an_ocr_noised_abridged_reprint_joins_its_original_and_nothing_else(tmp_path, rate):
    original = _paragraphs(ARTICLES[0])
    others = [p.read_text(encoding="utf-8") for p in ARTICLES[1:]]
    texts = ["\n".join(original) + "\n", *others, reprint(original, rate, seed=1)]
    clusters = _clusters(tmp_path, texts)
    assert clusters == [0, 1, 2, 3, 4, 0]
    # Below both shingle thresholds: without paragraph-level verification it stays apart.
    assert _clusters(tmp_path, texts, doc_reprints=False) == [0, 1, 2, 3, 4, 5]


OWN = ["The city council will vote on the new transport plan next month, officials said.",
       "Residents have until the end of the week to comment on the proposals online.",
       "The plan includes two new bus routes and a wider cycle lane along the river.",
       "Opposition councillors said the consultation had been far too short.",
       "A spokesperson for the council said every comment would be read and answered.",
       "The first works could start in the spring if the plan is approved."]


def test_articles_sharing_a_few_passages_are_not_reprints(tmp_path):
    """The five sample articles tell one story and quote the same people: no pair among them
    is a reprint, and an article made of two of one article's paragraphs and its own text is
    not one either."""
    texts = [p.read_text(encoding="utf-8") for p in ARTICLES]
    mixed = "\n".join(_paragraphs(ARTICLES[0])[3:5] + OWN) + "\n"
    assert _clusters(tmp_path, texts + [mixed]) == [0, 1, 2, 3, 4, 5]


def test_lines_found_in_many_groups_are_no_evidence(tmp_path):
    """Site furniture repeated across six unrelated pages is not what makes a short page a
    reprint of a long one."""
    furniture = ["Sign up for our daily newsletter to get the best stories first",
                 "We use cookies to improve your experience on our website and app"]
    pages = [_paragraphs(p) for p in ARTICLES]
    longs = ["\n".join(furniture + pages[i][:12]) + "\n" for i in range(5)]
    extra = "\n".join(furniture + pages[2][20:30]) + "\n"
    short = "\n".join(furniture + ["The council meets again on Thursday."]) + "\n"
    clusters = _clusters(tmp_path, longs + [extra, short])
    assert clusters[-1] == 6 and len(set(clusters)) == 7


def _p(*texts: str) -> Paragraphs:
    return Paragraphs([sum(map(ord, t)) * 1_000 + len(t) for t in texts], list(texts))


def test_found_counts_characters_and_needs_two_paragraphs():
    body = [p.lower() for p in _paragraphs(ARTICLES[3]) if len(p.split()) >= 20][:6]
    long = _p(*body)
    assert found(_p(*body[:3]), long)
    assert not found(_p(body[0]), long)  # one paragraph is one quote, not a reprint
    assert not found(_p(body[0], body[1], " ".join(OWN * 3).lower()), long)  # own text outweighs
    assert found(_p(*[ocr(p, 0.08, seed=i) for i, p in enumerate(body[:3])]), long)
    same_story = [p.lower() for p in _paragraphs(ARTICLES[1]) if len(p.split()) >= 20][:3]
    assert not found(_p(*same_story), long)  # other paragraphs on the same story do not align


def test_reprint_links_are_deterministic(tmp_path):
    original = _paragraphs(ARTICLES[3])
    texts = ["\n".join(original) + "\n", reprint(original, 0.08, 5), reprint(original, 0.08, 9)]
    runs = [np.asarray(_clusters(tmp_path, texts)) for _ in range(2)]
    assert runs[0].tolist() == runs[1].tolist() == [0, 0, 0]


def test_an_abridged_reprint_points_at_the_full_article_in_the_output(tmp_path):
    """Through the whole pipeline: the full version is kept, the reprint is dropped with
    `duplicate_of` naming it, and the other articles are untouched."""
    import pyarrow.parquet as pq

    import dedupe
    from tests.conftest import write_articles

    original = _paragraphs(ARTICLES[0])
    articles = {"a/original.txt": "\n\n".join(original) + "\n",
                "b/other.txt": ARTICLES[1].read_text(encoding="utf-8"),
                "c/reprint.txt": reprint(original, 0.08, seed=3).replace("\n", "\n\n")}
    out = tmp_path / "out"
    dedupe.run(write_articles(tmp_path / "in", articles), out)
    rows = {r["source"]: r for r in pq.read_table(out / "documents.parquet").to_pylist()}
    full, copy, other = rows["a/original.txt"], rows["c/reprint.txt"], rows["b/other.txt"]
    assert full["kept"] and full["doc_cluster_id"] is not None and full["duplicate_of"] is None
    assert not copy["kept"] and copy["duplicate_of"] == full["doc_id"]
    assert copy["doc_cluster_id"] == full["doc_cluster_id"]
    assert other["kept"] and other["doc_cluster_id"] is None
