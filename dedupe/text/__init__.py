"""Text: how an article is split and what counts as the same words.

- `normalize.py`: folding for matching (NFKC, entities, quotes, dashes, case) and match keys;
- `segment.py`: segment spans (lines or blank-line blocks);
- `templates.py`: segments with names and numbers masked (site furniture with a varying name);
- `nearcopy.py`: in-article near copies and doubled paragraphs;
- `boilerplate.py`: the known-boilerplate lines (shipped list and the user's).

Original text is never changed: these functions only derive keys from it.
"""
