"""Byte classes of ASCII text as 256-entry tables, for the tokenisers that work on bytes (the
compiled `kernels.ascii_words`, the array pass of `templates.template_keys`): what the regex
`\\w` matches in ASCII ([A-Za-z0-9_]), letters, capitals, digits, and the lower-case maps.

`ascii_words_only` tells which other texts those tokenisers take too: texts whose characters
outside ASCII are all separators ("£5", "• Item", "© 2017"), read with those characters
as spaces (`spaced`)."""

import re

import numpy as np

_BYTE = np.arange(256)
UPPER = (_BYTE >= ord("A")) & (_BYTE <= ord("Z"))
LETTER = UPPER | ((_BYTE >= ord("a")) & (_BYTE <= ord("z")))
DIGIT = (_BYTE >= ord("0")) & (_BYTE <= ord("9"))
WORD = LETTER | DIGIT | (_BYTE == ord("_"))
LOWER = np.where(UPPER, _BYTE + 32, _BYTE).astype(np.uint8)
WORD_LOWER = np.where(WORD, LOWER, 0).astype(np.uint8)  # a word byte's lower case, 0 for the others


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SEPARATOR: dict[str, bool] = {}  # non-ASCII character -> whether it only ever separates words


def ascii_words_only(text: str) -> bool:
    """Whether every character of `text` outside ASCII is a separator for the word regexes
    (`\\w` is str.isalnum() or "_"): not alphanumeric, and case folding keeps it so. Such a
    text has the same words, case folded or not, as `spaced(text)`, which is ASCII."""
    if text.isascii():
        return True
    for char in set(_NON_ASCII.findall(text)):
        separator = _SEPARATOR.get(char)
        if separator is None:
            folded = char.casefold()
            separator = _SEPARATOR[char] = not char.isalnum() and (folded == char or not any(map(str.isalnum, folded)))
        if not separator:
            return False
    return True


def spaced(text: str) -> str:
    """`text` with every character outside ASCII replaced by a space."""
    return _NON_ASCII.sub(" ", text)
