"""`normalize`, `words` and `match_key` on the variation real news copies show."""

from __future__ import annotations

import pytest

from dedupe.text.normalize import match_key, normalize, words

SESSIONS_STRAIGHT = (
    "Attorney General Jeff Sessions said Thursday morning that while he twice met with "
    "Russia's ambassador during the presidential campaign, he did not discuss the election."
)
SESSIONS_CURLY = SESSIONS_STRAIGHT.replace("'", "\u2019")


# --- NFKC -----------------------------------------------------------------------------------

def test_non_breaking_space_becomes_plain_space():
    assert normalize("Jeff\u00a0Sessions") == "jeff sessions"
    assert normalize("Jeff\u00a0Sessions") == normalize("Jeff Sessions")


def test_full_width_letters_and_digits_fold_to_ascii():
    assert normalize("\uff21\uff30 \uff12\uff10\uff11\uff17") == "ap 2017"  # "ＡＰ ２０１７"


def test_fi_ligature_is_expanded():
    assert normalize("\ufb01nancial \ufb01les") == "financial files"
    assert normalize("\ufb01nancial") == normalize("financial")


# --- quotes and dashes ----------------------------------------------------------------------

@pytest.mark.parametrize("quote", ["\u2018", "\u2019", "\u201b", "\u02bc", "`", "\u00b4", "\u2032"])
def test_single_quote_variants_fold_to_apostrophe(quote):
    assert normalize(f"Russia{quote}s ambassador") == "russia's ambassador"


@pytest.mark.parametrize("opening, closing", [("\u201c", "\u201d"), ("\u201e", "\u201c"),
                                              ("\u00ab", "\u00bb"), ("\u201f", "\u2033")])
def test_double_quote_variants_fold_to_straight_quote(opening, closing):
    assert normalize(f"He said {opening}no comment{closing}.") == 'he said "no comment".'


def test_curly_and_straight_quoted_sentences_normalise_identically():
    curly = "\u201cWe\u2019re not done,\u201d she said. \u2018Not yet.\u2019"
    straight = "\"We're not done,\" she said. 'Not yet.'"
    assert normalize(curly) == normalize(straight) == "\"we're not done,\" she said. 'not yet.'"


@pytest.mark.parametrize("dash", ["\u2013", "\u2014", "\u2212", "\u2010", "\u2011", "\u2015", "\ufe58"])
def test_dash_family_folds_to_hyphen_minus(dash):
    assert normalize(f"2016{dash}2017 season") == "2016-2017 season"


# --- entities, invisible characters, whitespace, case ---------------------------------------

def test_html_entities_are_decoded():
    assert normalize("Smith &amp; Wesson") == "smith & wesson"
    # &#8217; is a right single quote, which then folds to the straight apostrophe
    assert normalize("Russia&#8217;s ambassador") == "russia's ambassador"
    assert normalize("Load&nbsp;video") == "load video"
    assert normalize("Q&amp;A &#8212; live") == "q&a - live"


def test_text_without_entities_keeps_its_ampersand():
    assert normalize("AT&T") == "at&t"


def test_zero_width_and_soft_hyphen_are_removed():
    assert normalize("Ses\u200bsions") == "sessions"
    assert normalize("ambas\u00adsador") == "ambassador"
    assert normalize("\ufeffThursday\u200c\u200d\u2060") == "thursday"


def test_whitespace_runs_collapse_and_ends_are_trimmed():
    assert normalize("  Jeff \t\tSessions\n\n said \u3000 Thursday  ") == "jeff sessions said thursday"


def test_casefold_handles_german_sharp_s():
    assert normalize("STRASSE") == normalize("Straße") == "strasse"
    assert normalize("Größe") == "grösse"


def test_empty_and_whitespace_only_text():
    assert normalize("") == ""
    assert normalize(" \t\u00a0\n") == ""


# --- words and match_key --------------------------------------------------------------------

def test_words_drop_punctuation():
    assert words(normalize("Sessions, 70, said: \u201cNo.\u201d")) == ["sessions", "70", "said", "no"]


def test_match_key_of_seed_caption_pair_is_equal():
    assert SESSIONS_STRAIGHT != SESSIONS_CURLY
    assert match_key(SESSIONS_STRAIGHT) == match_key(SESSIONS_CURLY)
    assert match_key(SESSIONS_STRAIGHT).startswith("attorney general jeff sessions said thursday")


def test_match_key_ignores_punctuation_and_spacing():
    a = "Photo:  AP Photo/Evan Vucci -- Getty Images."
    b = "PHOTO \u2014 AP photo / Evan\u00a0Vucci, Getty images"
    assert match_key(a) == match_key(b) == "photo ap photo evan vucci getty images"


def test_match_key_still_distinguishes_different_words():
    assert match_key("Load video") != match_key("Load videos")
    assert match_key("Jeff Sessions said") != match_key("Sessions Jeff said")


def test_punctuation_only_text_keys_to_itself():
    assert match_key("|") == "|"
    assert match_key("***") == "***"
    assert match_key("|") != match_key("***")
    assert match_key(" | ") == match_key("|")


# --- dotted abbreviations -------------------------------------------------------------------

def test_dotted_abbreviation_is_one_word_however_it_is_dotted():
    assert words(normalize("PROPERTY OF THE U.S. HOUSE")) == ["property", "of", "the", "us", "house"]
    assert match_key("PROPERTY OF THE US. HOUSE") == match_key("PROPERTY OF THE U.S. HOUSE")
    assert words(normalize("at 9 a.m. in Columbia, S.C.")) == ["at", "9", "am", "in", "columbia", "sc"]


def test_dots_between_longer_words_or_digits_still_split():
    assert words(normalize("www.djreprints.com costs 3.5 e.g.")) == ["www", "djreprints", "com",
                                                                       "costs", "3", "5", "eg"]
    assert words(normalize("a.b1 U.S.-led")) == ["a", "b1", "us", "led"]


@pytest.mark.parametrize("text", [
    "  The U.S.  House\tvoted, 52-48.  ", "***   |", "", "Photo: AP Photo/Evan Vucci",
    "A.M. or a.m.?", "MIXED case\n\nlines", "x",
])
def test_ascii_fast_path_gives_the_normalised_key(text):
    from dedupe.text.normalize import key_and_words, normalize, words

    norm = normalize(text)
    tokens = words(norm)
    assert key_and_words(text) == ((" ".join(tokens) if tokens else norm), tokens)


def test_texts_whose_other_characters_only_separate_words_are_read_as_ascii():
    from dedupe.text.ascii import ascii_words_only, spaced
    from dedupe.text.normalize import words

    separated = ["\u00a35m for the team", "\u2022 Item", "\u00a9 2017 News", "\U0001F600 x", "a\u3000b", "plain"]
    for text in separated:
        assert ascii_words_only(text)
        assert spaced(text).isascii() and len(spaced(text)) == len(text)
        assert words(spaced(text).lower()) == words(text.casefold())
    # a letter or digit outside ASCII, or a mark that case folding turns into one: not these
    for text in ["caf\u00e9", "\u00b2", "\u0130stanbul", "x\u0345y", "\u00df"]:
        assert not ascii_words_only(text), text
