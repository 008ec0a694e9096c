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


def _found_by_definition(short: Paragraphs, long: Paragraphs) -> bool:
    """`found` without its shortcuts: every paragraph of `short` checked against every
    paragraph of `long` its length allows (paragraphs with a key of the other taken aside)."""
    from rapidfuzz import fuzz

    from dedupe.match.reprints import _LENGTH_RATIO, MIN_FOUND_PARAGRAPHS, PARAGRAPH_SIMILARITY, REPRINT_COVERAGE

    if len(short.keys) < MIN_FOUND_PARAGRAPHS or not long.keys:
        return False
    free = [(w, t) for k, w, t in zip(long.keys, long.weights, long.texts) if k not in short.uids]
    have = count = 0
    for key, weight, text in zip(short.keys, short.weights, short.texts):
        if key in long.uids or any(weight * _LENGTH_RATIO <= w <= weight / _LENGTH_RATIO
                                   and fuzz.ratio(text, t) >= PARAGRAPH_SIMILARITY for w, t in free):
            have += weight
            count += 1
    return have >= REPRINT_COVERAGE * short.length and count >= MIN_FOUND_PARAGRAPHS


def test_found_agrees_with_the_definition_on_random_articles():
    """Length windows, nearest-first alignment and early stops change the cost only."""
    rng = random.Random(4)
    source = [p.lower() for a in ARTICLES for p in _paragraphs(a) if len(p.split()) >= 5]
    for trial in range(150):
        long_texts = rng.sample(source, rng.randint(2, 30))
        short_texts = [ocr(p, rng.choice([0.0, 0.05, 0.15, 0.3]), seed=trial * 100 + i)
                       for i, p in enumerate(rng.sample(long_texts, rng.randint(1, len(long_texts))))]
        short_texts += rng.sample(source, rng.randint(0, 4))  # own paragraphs
        short, long = _p(*short_texts), _p(*long_texts)
        assert found(short, long) == _found_by_definition(short, long), trial


def test_thousands_of_lines_of_one_length_are_found_or_not_as_defined():
    """Two articles of 3,000 near-identical lines (one word changed per line): each line is
    found among the few nearest in length, and the answer is the definition's."""
    base = "the quick brown fox jumps over the lazy dog near the river bank this morning".split()
    rng = random.Random(2)

    def lines(n: int) -> list[str]:
        out = []
        for _ in range(n):
            words = list(base)
            words[rng.randrange(len(words))] = rng.choice(["cat", "owl", "elk", "ram", "yak"])
            out.append(" ".join(words))
        return out

    short, long = _p(*lines(3_000)), _p(*lines(3_000))
    assert found(short, long)
    vocabulary = " ".join(OWN).lower().replace(",", "").replace(".", "").split()
    other = _p(*[" ".join(rng.choices(vocabulary, k=len(base))) for _ in range(3_000)])
    assert not found(other, long)


def test_a_group_of_reprints_is_verified_along_a_spanning_tree(monkeypatch):
    """n copies of one article: the pairs joined through earlier links are not verified again,
    and the links that are found join the same groups as checking every pair would."""
    import dedupe.match.reprints as reprints

    body = [p.lower() for p in _paragraphs(ARTICLES[3]) if len(p.split()) >= 20][:6]
    other = [p.lower() for p in _paragraphs(ARTICLES[1]) if len(p.split()) >= 20][:6]
    paragraphs = {d: _p(*[ocr(p, 0.05, seed=d * 10 + i) for i, p in enumerate(body)]) for d in range(8)}
    paragraphs[8], paragraphs[9] = _p(*other), _p(*other[:4])
    pairs = np.array([(a, b) for a in range(10) for b in range(a + 1, 10)], dtype=np.int64)
    calls = []
    real = reprints.found
    monkeypatch.setattr(reprints, "found", lambda s, l: calls.append(1) or real(s, l))
    ok = reprints.reprint_matches(paragraphs, pairs)
    # of the 28 pairs of copies, 7 are verified (0-1 ... 0-7) and 21 skipped; the 17 pairs with
    # the two unrelated articles are all verified
    assert len(calls) == 7 + 17
    from dedupe.match.unionfind import UnionFind

    linked, everything = UnionFind(10), UnionFind(10)
    linked.union_pairs(pairs[ok])
    everything.union_pairs(pairs[[real(*sorted((paragraphs[a], paragraphs[b]), key=lambda p: p.length))
                                  for a, b in pairs.tolist()]])
    assert linked.roots().tolist() == everything.roots().tolist() == [0] * 8 + [8, 8]


def test_a_paragraph_is_found_beyond_the_nearest_in_length_and_at_the_length_bound():
    """The nearest in length are only tried first: a copy printed with a clause added is found
    behind forty unrelated paragraphs of its own length, and so is one exactly at the length
    bound (60 characters in 100: ratio 75.0, the cutoff)."""
    rng = random.Random(8)

    def noise(n: int) -> str:
        return "".join(rng.choice("qxzjkvw ") for _ in range(n))

    quote = "the mayor said the bridge would reopen in the spring of next year"
    quote_added = quote + " after the repairs to its northern span"  # 65 -> 104 characters: 77
    exact = "a" * 30 + " " + "b" * 29
    exact_bound = exact + " " + "c" * 39  # 60 in 100: 75.0
    fillers = [noise(len(quote)) for _ in range(40)] + [noise(len(exact)) for _ in range(40)]
    short, long = _p(quote, exact), _p(*fillers, quote_added, exact_bound)
    assert _found_by_definition(short, long)
    assert found(short, long)
