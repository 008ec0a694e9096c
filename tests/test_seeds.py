"""Exact expected outcomes on the five sample articles (one story, five outlets)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

D0, D1, D2, D3, D4 = ("000_c1bda7c913c1fbed.txt", "001_0f8dea6f116c928e.txt",
                      "002_bdf7c71cacdd55a0.txt", "003_86e27f69b90c4879.txt",
                      "004_7f025a1ae4fbe764.txt")

# (doc, segment) -> (role, segment of the kept copy in the same article, or None)
EXPECTED_REMOVALS = {
    # the caption printed three times
    (D0, 2): ("repeat", 1), (D0, 3): ("repeat", 1),
    # the YouTube consent block, printed twice
    **{(D1, i): ("boilerplate", None) for i in (21, 22, 23, 27, 28, 29)},
    # "Open Image Modal" three times, and the second "Kevin Lamarque / Reuters" credit
    (D2, 8): ("boilerplate", None), (D2, 16): ("boilerplate", None), (D2, 25): ("boilerplate", None),
    (D2, 18): ("repeat", 10),
    # "Scroll down for video", nine captions printed twice (straight vs curly quotes),
    # and the repeated paragraph "Trump has denied knowing..."
    (D3, 5): ("boilerplate", None),
    (D3, 7): ("repeat", 6), (D3, 9): ("repeat", 8), (D3, 31): ("repeat", 30),
    (D3, 53): ("repeat", 52), (D3, 55): ("repeat", 54), (D3, 75): ("repeat", 74),
    (D3, 77): ("repeat", 76), (D3, 91): ("repeat", 90), (D3, 107): ("repeat", 106),
    (D3, 97): ("repeat", 80),
}


@pytest.fixture(scope="module")
def segments(seed_output):
    return pq.read_table(seed_output / "segments.parquet").to_pylist()


@pytest.fixture(scope="module")
def documents(seed_output):
    return {r["doc_id"]: r for r in pq.read_table(seed_output / "documents.parquet").to_pylist()}


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def test_exactly_the_expected_segments_are_removed(segments):
    removed = {(s["doc_id"], s["segment"]): (s["role"], s["kept_segment"])
               for s in segments if not s["kept"]}
    assert removed == EXPECTED_REMOVALS


def test_every_removed_repeat_is_a_copy_of_the_kept_one(segments):
    by_key = {(s["doc_id"], s["segment"]): s for s in segments}
    for (doc, seg), (role, kept_seg) in EXPECTED_REMOVALS.items():
        row = by_key[(doc, seg)]
        if role == "repeat":
            kept = by_key[(doc, kept_seg)]
            assert kept["kept"] and row["kept_doc_id"] == doc
            assert row["cluster_id"] == kept["cluster_id"] is not None
            assert row["similarity"] == 1.0  # equal after normalisation
            assert row["text"].replace("’", "'") == kept["text"].replace("’", "'")


def test_caption_printed_three_times_remains_once(documents):
    text = documents[D0]["text"]
    assert lines(text).count("Jeff Sessions denied meeting with the Russian ambassador") == 1


def test_youtube_consent_block_is_gone(documents):
    text = documents[D1]["text"]
    for phrase in ("By loading the video", "YouTube's privacy policy", "Learn more", "Load video"):
        assert phrase not in text
    assert "Watch Al Franken question Jeff Sessions here:" in text


def test_open_image_modal_gone_and_one_credit_kept(documents):
    text = documents[D2]["text"]
    assert "Open Image Modal" not in text
    assert lines(text).count("Kevin Lamarque / Reuters") == 1
    assert lines(text).count("Zach Gibson via Getty Images") == 1


def test_daily_mail_captions_remain_once(documents):
    text = documents[D3]["text"]
    for prefix in ("Attorney General Jeff Sessions said Thursday morning that while",
                   "Sessions (shown at his confirmation hearing) failed to disclose",
                   "Then-senator Sessions had a private conversation",
                   "Senate Judiciary Committee member Sen. Al Franken",
                   "Despite being asked about contacts between Trump",
                   "Resign: In a series of late night tweets",
                   "House Intelligence Committee chairman Devin Nunes said",
                   "The latest claims about the attorney general will raise further questions about Trump",
                   "Michael Flynn had been interviewed by the FBI \u00a0over claims",
                   "Trump has denied knowing"):
        assert sum(line.startswith(prefix) for line in lines(text)) == 1, prefix
    assert "Scroll down for video" not in text


def test_every_other_paragraph_remains_exactly_once(documents, segments):
    from tests.conftest import RAW

    for doc_id, doc in documents.items():
        original = lines((RAW / doc_id).read_text(encoding="utf-8"))
        removed = sorted(seg for (d, seg) in EXPECTED_REMOVALS if d == doc_id)
        expected = [line for i, line in enumerate(original) if i not in removed]
        assert lines(doc["text"]) == expected
        assert doc["segments_removed"] == len(removed)
        assert doc["n_segments"] == len(original)


def test_sessions_quote_kept_everywhere_in_one_cluster(segments):
    quote = [s for s in segments if "called a surrogate at a time or two" in s["text"]]
    assert {s["doc_id"] for s in quote} == {D0, D1, D2, D3, D4}
    assert all(s["kept"] and s["role"] == "shared" for s in quote)
    assert len({s["cluster_id"] for s in quote}) == 1


def test_cluster_kinds(seed_output, segments):
    clusters = {c["cluster_id"]: c for c in pq.read_table(seed_output / "clusters.parquet").to_pylist()}
    kind_of = {s["text"]: clusters[s["cluster_id"]]["kind"] for s in segments if s["cluster_id"]}
    assert kind_of["Open Image Modal"] == "boilerplate"
    assert kind_of["Jeff Sessions denied meeting with the Russian ambassador"] == "repeat"
    quote = next(t for t in kind_of if t.startswith("“I have been called a surrogate"))
    assert kind_of[quote] == "shared"
    caption = clusters[next(s["cluster_id"] for s in segments if s["doc_id"] == D0 and s["segment"] == 1)]
    assert (caption["size"], caption["n_docs"], caption["representative_doc_id"],
            caption["representative_segment"]) == (3, 1, D0, 1)
    assert not any(c["level"] == "document" for c in clusters.values())  # five different articles
