"""Byte classes of ASCII text as 256-entry tables, for the tokenisers that work on bytes (the
compiled `kernels.ascii_words`, the array pass of `templates.template_keys`): what the regex
`\\w` matches in ASCII ([A-Za-z0-9_]), letters, capitals, digits, and the lower-case map."""

import numpy as np

_BYTE = np.arange(256)
UPPER = (_BYTE >= ord("A")) & (_BYTE <= ord("Z"))
LETTER = UPPER | ((_BYTE >= ord("a")) & (_BYTE <= ord("z")))
DIGIT = (_BYTE >= ord("0")) & (_BYTE <= ord("9"))
WORD = LETTER | DIGIT | (_BYTE == ord("_"))
LOWER = np.where(UPPER, _BYTE + 32, _BYTE).astype(np.uint8)
