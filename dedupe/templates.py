"""Two cheap, exact signals computed per article while it is segmented.

- `template_key`: a segment with names and numbers masked. Site furniture repeats with the site
  name or year changed ("Copyright © 2017 The Evening Post. All rights reserved." / "... Channel
  7 News ..."); as a template it is one string, so its frequency across articles shows.
- `extensions`: pairs of segments of one article where one is the other with at most
  `MAX_EXTRA_WORDS` words added at the start or end: a caption printed again with a credit
  ("... (Image: Getty)") or a dateline ("July 31, 2013 ...") that word shingles alone miss.
"""

from __future__ import annotations

import xxhash

from .normalize import words

MIN_TEMPLATE_LITERALS = 4  # fewer literal words ("Photo: Getty Images") is not a template
MAX_EXTRA_WORDS = 3
MIN_BASE_WORDS = 5


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


class ExtensionFinder:
    """Feeds the segments of one article in order; `add` returns the earlier segment's key that
    the new one extends (or is extended by) by at most MAX_EXTRA_WORDS words at one end."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._trimmed: dict[str, str] = {}  # an earlier key with 1..k words cut off -> that key

    def add(self, key: str, tokens: list[str]) -> str | None:
        """`key` must be `tokens` joined by single spaces."""
        found = None
        if key in self._trimmed and self._trimmed[key] != key:
            found = self._trimmed[key]  # an earlier, longer copy
        n = len(tokens)
        left, right = 0, len(key)  # key is the tokens joined by single spaces: cut by slicing
        for k in range(1, MAX_EXTRA_WORDS + 1):
            if n - k < MIN_BASE_WORDS:
                break
            left = key.index(" ", left) + 1
            right = key.rindex(" ", 0, right)
            for cut in (key[:right], key[left:]):  # without the last k words, the first k
                if found is None and cut in self._keys:
                    found = cut  # an earlier, shorter copy
                self._trimmed.setdefault(cut, key)
        self._keys.add(key)
        return found
