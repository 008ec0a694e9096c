"""In-article repeats that word shingles miss (nearcopy.py): near copies with a few edits and
doubled paragraphs, on small hand-written articles."""

from __future__ import annotations

import random

import pyarrow.parquet as pq

import dedupe
from dedupe.config import Config
from dedupe.text.nearcopy import doubled_links, near_copy, near_copy_links
from dedupe.text.normalize import key_and_words
from tests.conftest import RAW, write_articles

CAPTION = ("Protesters celebrate at the main square soon after the army pulled out of the capital "
           "on Saturday. The deputy chief of the armed forces has ordered the troops... (AP)")
CAPTION_EDITED = ("Protesters celebrate at the main square after the army pulled out of the capital "
                  "on Saturday. The deputy chief of the armed forces has ordered the troops to... (AP)")
TWEET = ("We are not angry because someone posed for one picture. We are angry because we were "
         "told this was normal. We are angry because we were ignored. We are angry because we were "
         "silenced for so long. "
         "\u2014 Jane Doe (@janedoe) December 16, 2017")
QUOTE = ('"We are not angry because someone posed for one picture. We are angry because we were '
         'told this was normal," she continued. "We are angry because we were ignored. We are '
         'angry because we were silenced for so long."')


def w(text: str) -> list[str]:
    return key_and_words(text)[1]


def test_copies_with_a_few_words_inserted_or_deleted_are_near_copies():
    assert near_copy(w(CAPTION), w(CAPTION_EDITED))  # "soon" deleted, "to" inserted
    assert near_copy(w(TWEET), w(QUOTE))  # attribution dropped, "she continued" added
    assert near_copy(w(QUOTE), w(TWEET))
    assert near_copy(w("Send us an e-mail with your photos of the storm"),
                     w("Send us an email with your photos of the storm"))  # re-split word


def test_a_caption_printed_again_with_a_credit_or_dateline_is_linked_to_the_first_print():
    caption = "The rescue teams reached the flooded village late on Tuesday night"
    article = [key_and_words(t) for t in [
        caption, "Officials said more rain was expected.",
        caption + " (Image: Getty)",                   # credit appended: 2 words
        "July 31, 2013 " + caption,                    # dateline prepended: 3 words
        "Photo by staff at the scene " + caption]]     # 6 words: more than a credit
    first, credit, dateline, longer = (article[i][0] for i in (0, 2, 3, 4))
    assert sorted(near_copy_links(article)) == sorted(
        [(credit, first), (dateline, first), (dateline, credit)])


def test_a_substituted_word_is_different_content():
    assert not near_copy(w("9:31 P.M. Rocket sirens sound in Ashkelon and the border towns"),
                         w("3:33 P.M. Rocket sirens sound in Ashkelon and the border towns"))
    assert not near_copy(w("Gallery: scenes from the parade in the city centre, picture 1"),
                         w("Gallery: scenes from the parade in the city centre, picture 2"))


def test_a_copy_with_a_sentence_more_is_not_a_near_copy():
    short = "The pushback reminds me of the early days of the scandal, Herman added."
    longer = short + " There was complete denial, and nobody would listen to us."
    assert not near_copy(w(short), w(longer))
    assert not near_copy(w(longer), w(short))


def test_too_few_equal_words_are_no_evidence():
    assert not near_copy(w("toggle caption Jay Reed/NPR"), w("toggle caption Jay Reed"))


def test_links_pair_the_later_copy_with_the_earlier_one_inside_an_article():
    article = [(k, t) for k, t in map(key_and_words, [CAPTION, "Other news of the day follows here.",
                                                    CAPTION_EDITED])]
    assert near_copy_links(article) == [(article[2][0], article[0][0])]


def test_a_paragraph_glued_from_two_other_paragraphs_links_to_its_longer_piece():
    notice = "Reprints: This copy is for your personal, non-commercial use only."
    order = ("To order presentation-ready copies for distribution to your colleagues, use the "
             "Order Reprints tool at the bottom of any article.")
    article = [key_and_words(t) for t in (f"{notice} {order}", "Scroll down for video", order, notice)]
    assert doubled_links(article) == [(article[0][0], article[2][0])]
    # only one piece printed on its own: the glued paragraph holds text found nowhere else
    assert doubled_links([key_and_words(t) for t in (f"{notice} {order}", order)]) == []


def _run(tmp_path, text: str):
    out = tmp_path / "out"
    dedupe.run(write_articles(tmp_path / "in", {"a.txt": text}), out, Config())
    return pq.read_table(out / "segments.parquet").to_pylist()


def test_pipeline_drops_the_later_near_copy_and_keeps_substituted_lines(tmp_path):
    lines = ["Title of the story", CAPTION, "The army said its troops had returned to barracks.",
             "9:31 P.M. Rocket sirens sound in Ashkelon and the border towns",
             TWEET, "She has spoken about it before in several interviews.", QUOTE,
             "3:33 P.M. Rocket sirens sound in Ashkelon and the border towns", CAPTION_EDITED]
    segs = _run(tmp_path, "\n".join(lines) + "\n")
    removed = {s["segment"]: (s["role"], s["kept_segment"]) for s in segs if not s["kept"]}
    assert removed == {6: ("repeat", 4), 8: ("repeat", 1)}


def test_an_article_of_template_lines_costs_a_bounded_number_of_alignments(monkeypatch):
    from dedupe.text import nearcopy

    calls = []
    real = nearcopy.near_copy
    monkeypatch.setattr(nearcopy, "near_copy", lambda a, b: calls.append(1) or real(a, b))
    lines = [f"item {i} this is article number {i} of the template page with the same words"
             for i in range(3000)]
    segments = [(line, line.split(" ")) for line in lines]
    assert near_copy_links(segments) == []  # numbers differ: substitutions, never near copies
    assert len(calls) <= nearcopy.MAX_ALIGNED * len(lines)  # not 3000**2 / 2
    doubled = lines[0] + " " + lines[1]
    assert doubled_links(segments + [(doubled, doubled.split(" "))]) == [(doubled, lines[0])]


def test_a_batch_of_articles_links_each_article_as_alone():
    """`batch_links` windows and screens the whole batch at once: no pair crosses articles, and
    each article gets the links it gets alone (near copies, then doubled paragraphs)."""
    from dedupe.corpus.keys import segment_keys
    from dedupe.text.nearcopy import batch_links

    caption = "Police officers stand guard outside the building on Tuesday morning in the city"
    notice = "This article was amended on 3 May to correct the name of the minister"
    order = "An earlier version said the order came from the ministry of the interior"
    articles = [p.read_text("utf-8") for p in sorted(RAW.glob("*.txt"))] + [
        f"{caption}\nOther text here\n{caption} (Image: Getty)",
        f"{notice} {order}\n{notice}\n{order}",
        f"{caption} (Image: Getty)\nNothing to see in this one at all",  # a copy only across articles
    ]
    seg_doc, _, _, keys, counts = segment_keys(articles, "line")
    expected = []
    for d in range(len(articles)):
        article = [(k, k.split(" ")) for k, n, doc in zip(keys, counts, seg_doc) if doc == d and n]
        expected += near_copy_links(article) + doubled_links(article)
    got = batch_links(seg_doc, keys, counts)
    assert sorted(got) == sorted(expected)
    key = [key_and_words(t)[0] for t in (caption, f"{caption} (Image: Getty)", f"{notice} {order}", notice, order)]
    assert sorted(got) == sorted([(key[1], key[0]), (key[2], max(key[3], key[4], key=len))])  # none across articles


def test_the_screen_in_small_runs_gives_the_same_links(monkeypatch):
    """The screen holds SCREEN_CHUNK pairs at a time (a batch of long template pages would have
    hundreds of millions): cut into runs of a few pairs, the links are the same, in order."""
    from dedupe.text import nearcopy

    rng = random.Random(3)
    words = "the a police said on tuesday city council vote road bridge night river".split()
    docs, keys, counts = [], [], []
    for d in range(6):
        base = [rng.choice(words) for _ in range(rng.randint(8, 20))]
        for _ in range(40):  # lines: the base with a few words inserted, deleted or substituted
            line = list(base)
            for _ in range(rng.randint(0, 3)):
                op, at = rng.random(), rng.randrange(len(line))
                if op < 0.4:
                    line.insert(at, rng.choice(words))
                elif op < 0.7 and len(line) > 6:
                    del line[at]
                else:
                    line[at] = rng.choice(words)
            docs.append(d)
            keys.append(" ".join(line))
            counts.append(len(line))
    whole = nearcopy.batch_near_copy_links(docs, keys, counts)
    assert len(whole) > 50  # the case exercises the screen and the alignments
    for chunk in (1, 7, 100):
        monkeypatch.setattr(nearcopy, "SCREEN_CHUNK", chunk)
        assert nearcopy.batch_near_copy_links(docs, keys, counts) == whole, chunk


def test_copies_of_an_article_in_a_batch_are_linked_once(monkeypatch):
    """Wire copies: an article printed many times in one batch gives the links it gives alone,
    for the cost of one (its links are pairs of texts, the same for every copy)."""
    from dedupe.corpus.keys import segment_keys
    from dedupe.text import nearcopy

    caption = "Police officers stand guard outside the building on Tuesday morning in the city"
    article = f"{caption}\nOther text here about the council\n{caption} (Image: Getty)"
    other = f"A different article\n{caption} (Image: Getty)\n{caption} (Image: Getty) (Image: Getty)"
    calls = []
    real = nearcopy.near_copy
    monkeypatch.setattr(nearcopy, "near_copy", lambda a, b: calls.append(1) or real(a, b))
    alone = nearcopy.batch_links(*[segment_keys([article, other], "line")[k] for k in (0, 3, 4)])
    once = len(calls)
    seg_doc, _, _, keys, counts = segment_keys([article] * 50 + [other] * 3 + [article], "line")
    assert sorted(set(nearcopy.batch_links(seg_doc, keys, counts))) == sorted(set(alone))
    assert len(alone) == 2 and len(calls) == 2 * once


def test_the_doubled_paragraph_screen_keeps_every_article_that_holds_one():
    """`batch_links` looks for doubled paragraphs only in articles its array screen keeps: on
    random articles with glued paragraphs (and many that only look like they might hold one),
    the batch gives exactly the links of each article alone."""
    from dedupe.corpus.keys import segment_keys
    from dedupe.text.nearcopy import batch_links

    rng = random.Random(11)
    vocab = "the a police said on tuesday city council vote road bridge night river mayor".split()
    articles = []
    for _ in range(300):
        paragraphs = [" ".join(rng.choice(vocab) for _ in range(rng.randint(3, 12)))
                      for _ in range(rng.randint(2, 8))]
        for _ in range(rng.randint(0, 2)):  # a paragraph glued from two others, anywhere
            a, b = rng.sample(range(len(paragraphs)), 2) if len(paragraphs) > 1 else (0, 0)
            paragraphs.insert(rng.randint(0, len(paragraphs)), f"{paragraphs[a]} {paragraphs[b]}")
        articles.append("\n".join(paragraphs))
    seg_doc, _, _, keys, counts = segment_keys(articles, "line")
    near, doubled = [], []
    for d in range(len(articles)):
        article = [(k, k.split(" ")) for k, n, doc in zip(keys, counts, seg_doc) if doc == d and n]
        near += near_copy_links(article)
        doubled += doubled_links(article)
    assert len(doubled) > 20  # the case has some (and the screen passes over about 40% of the articles)
    assert sorted(set(batch_links(seg_doc, keys, counts))) == sorted(set(near + doubled))
