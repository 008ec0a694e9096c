"""Templates: a segment with names and numbers masked, computed while it is segmented.

Site furniture repeats with the site name or year changed ("Copyright © 2017 The Evening Post.
All rights reserved." / "... Channel 7 News ..."); as a template it is one string, so its
frequency across articles shows.
"""

from __future__ import annotations

import xxhash

from .normalize import words

MIN_TEMPLATE_LITERALS = 4  # fewer literal words ("Photo: Getty Images") is not a template


def template_key(text: str) -> int:
    """Hash of the text with every run of capitalised (not text-initial) or digit-bearing words
    replaced by one placeholder; 0 when fewer than MIN_TEMPLATE_LITERALS literal words remain."""
    out: list[str] = []
    literal = 0
    for i, token in enumerate(words(text)):
        # isalpha() first: most words have no digit, and it is one C call
        variable = (i > 0 and token[0].isupper()) or (not token.isalpha() and any(map(str.isdigit, token)))
        if variable:
            if not out or out[-1] != "#":
                out.append("#")
        else:
            out.append(token.casefold())
            literal += 1
    if literal < MIN_TEMPLATE_LITERALS:
        return 0
    return xxhash.xxh3_64_intdigest(" ".join(out).encode("utf-8")) or 1
