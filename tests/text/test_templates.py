"""Templates: names and numbers masked, one key per text, for the whole batch at once."""

from __future__ import annotations

import random

from dedupe.text.templates import template_key, template_keys
from tests.conftest import RAW

FURNITURE = [
    "Copyright © 2017 The Evening Post. All rights are reserved on this site.",
    "Copyright © 2019 Channel 7 News. All rights are reserved on this site.",
    "Photo: Getty Images", "", " ", "A", "***",
    "  Leading spaces, And Caps 2019 x1 _under 9am A1b B2 and more words",
    "U.S. House votes on the bill today", "e.g. this is it, said the man", "the 3rd of May we will see all",
    "__init__ is a Word here now ok", "one two three four", "One two three four", "1 2 3 a b c d",
    "a\tb c d e", "Tab\tand\x1cseparators in a line", "Don\u2019t miss the \u201cBig Game\u201d \u2014 Sunday 8pm",
    "Caf\u00e9 owner Jos\u00e9 says it is open now", "\u00bd price for the next ten days only", "Two\nlines of text here",
    "It\u2019s U.S. policy, the president said", "Mr. Smith and Dr. Jones met the press",
]


def noise(n: int, seed: int = 0) -> list[str]:
    """Short random texts of letters, capitals, digits, separators and a few non-ASCII characters."""
    rng = random.Random(seed)
    alphabet = "aAbBzZ019_ .,\t'-#\u2019\u201c\u00e9\u00a0\u00b2"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def test_the_batch_gives_each_text_its_own_template_key():
    lines = [line for path in sorted(RAW.glob("*.txt")) for line in path.read_text("utf-8").split("\n")]
    texts = FURNITURE + lines + noise(3000)
    assert template_keys(texts) == [template_key(t) for t in texts]
    assert template_keys([]) == []


def test_site_furniture_with_the_name_or_year_changed_is_one_template():
    keys = template_keys(FURNITURE[:3])
    assert keys[0] == keys[1] != 0  # the site name and the year are masked
    assert keys[2] == 0  # "Photo: Getty Images": too few literal words to be a template
