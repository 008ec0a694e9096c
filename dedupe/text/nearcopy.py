"""Repeats inside one article that word shingles miss: near copies and doubled paragraphs.

Runs per article on the match keys of its segments (words after normalisation), while the
article is segmented, and returns pairs of keys (the corpus' `extensions`): they join one
near-duplicate group, and inside an article the later of the two is dropped as a repeat of the
earlier. Two relations:

- `near_copy`: the two texts are one passage with a few words inserted or deleted in either
  copy ("soon after" / "after", `, she continued,`, a tweet quoted without its attribution).
  Word 4-gram shingles break at every edit, so a short passage with two or three edits falls
  well below the Jaccard threshold although nothing but those few words differs. The rule is
  symmetric (dropping either copy loses at most a few words), because the pair is a relation
  between two texts that also applies in other articles that hold both, in either order.
  A caption printed again with a credit ("... (Image: Getty)") or a dateline ("July 31, 2013
  ...") added is such a copy, with the words inserted at one end.
  A substituted word is never an edit: "9:31 P.M. Rocket sirens ..." / "3:33 P.M. Rocket
  sirens ..." and "a gallery caption for photo 1" / "... photo 2" are different content.
- doubled paragraphs (`doubled_links`): a paragraph that is two other paragraphs of the same
  article glued together (a reprint notice printed as one paragraph and then as its two
  sentences; a caption printed twice in one line) is a copy of its longer piece. Only whole
  paragraphs that the article also prints separately count as pieces, so the glued paragraph
  holds nothing the article does not print elsewhere.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

MIN_SHARED_WORDS = 5  # fewer equal words is too little evidence ("toggle caption Jay Reed")
MAX_EDIT_WORDS = 3
MAX_EDIT_SHARE = 0.15
MIN_PIECE_WORDS = 5
MAX_WORDS = 80  # longer copies with a few edits keep a Jaccard above the threshold anyway
RESPLIT_SLACK = 2  # distinct words a re-split ("e mail" / "email") adds to either side
MAX_SCREENED = 256  # earlier segments of similar length a segment is screened against
MAX_ALIGNED = 16  # alignments per segment: an article of 1,000 template lines stays linear
SCREEN_CHUNK = 1 << 20  # screened pairs held at once (a few arrays of 8 bytes each)


def edit_budget(n_words):
    """Words a copy of `n_words` words (a count, or an array of counts) may have that the other
    copy lacks."""
    return np.maximum(MAX_EDIT_WORDS, (MAX_EDIT_SHARE * np.asarray(n_words)).astype(np.int64))


def near_copy(a: list[str], b: list[str]) -> bool:
    """Whether word lists `a` and `b` are one passage with a few insertions or deletions.

    The word alignment (difflib, no junk heuristic) may only insert or delete words, or
    re-split them with the same letters ("e mail" / "email"); no word is substituted. Each copy
    may hold at most `edit_budget(len)` words the other lacks, and at least MIN_SHARED_WORDS
    words are equal.
    """
    if a == b:
        return True
    budget_a, budget_b = edit_budget(len(a)), edit_budget(len(b))
    if len(a) - len(b) > budget_a or len(b) - len(a) > budget_b:
        return False
    only_a = only_b = equal = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            equal += i2 - i1
        elif tag == "delete":
            only_a += i2 - i1
        elif tag == "insert":
            only_b += j2 - j1
        elif "".join(a[i1:i2]) == "".join(b[j1:j2]):
            equal += min(i2 - i1, j2 - j1)  # the same letters split differently
        else:
            return False
        if only_a > budget_a or only_b > budget_b:
            return False
    return equal >= MIN_SHARED_WORDS


@dataclass(frozen=True)
class KeyTable:
    """Distinct match keys and their word hashes (`sketch.hashing.hash_words`: key i's are
    words[offsets[i]:offsets[i+1]]); the links below name keys by their position here. The
    prepare pass hashes a batch's keys once, for these links and for its signatures."""

    keys: list[str]
    words: np.ndarray
    offsets: np.ndarray

    @staticmethod
    def of(keys: list[str]) -> "KeyTable":
        from ..sketch.hashing import hash_words

        return KeyTable(keys, *hash_words(keys))


def key_ids(keys: Sequence[str]) -> tuple[list[int], KeyTable]:
    """Each key's position in a table of the distinct keys (first-seen order), and the table."""
    index: dict[str, int] = {}
    ids = [index.setdefault(key, len(index)) for key in keys]
    return ids, KeyTable.of(list(index))


def near_copy_links(segments: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """(later key, earlier key) of the distinct segments of one article that are near copies
    (see `near_copy`) but not equal. `segments`: (match key, words) in article order. One
    article of `batch_near_copy_links`."""
    return batch_near_copy_links([0] * len(segments), [key for key, _ in segments],
                                 [len(tokens) for _, tokens in segments])


def batch_near_copy_links(doc: Sequence[int], keys: Sequence[str], counts: Sequence[int]) -> list[tuple[str, str]]:
    """`near_copy_links` of every article of a batch at once: segments as parallel sequences
    (document, match key, words), each article's contiguous and in order."""
    ids, table = key_ids(keys)
    return [(table.keys[a], table.keys[b]) for a, b in near_copy_ids(doc, ids, counts, table)]


def near_copy_ids(doc: Sequence[int], ids: Sequence[int], counts: Sequence[int],
                  table: KeyTable) -> list[tuple[int, int]]:
    """`batch_near_copy_links` with keys given by their positions in `table`, and returned so.

    Only segments whose word counts are within the edit budget of each other are compared
    (a window over each article's segments sorted by length), and only after a cheap
    shared-vocabulary screen, so an article costs about one alignment per plausible pair. Each
    segment is screened against at most MAX_SCREENED of the nearest in length and aligned at
    most MAX_ALIGNED times, so an article of a thousand near-identical lines (a template page)
    stays linear; real articles never reach either bound. The windows and the screen are
    array operations over the whole batch (vocabularies as sets of word hashes); only the
    alignments of the pairs that pass are Python."""
    from ..sketch.arrays import ranges
    from ..sketch.sets import ShingleSets, unique_per_set

    doc, ids, counts = (np.asarray(v, dtype=np.int64) for v in (doc, ids, counts))
    ok = (counts >= MIN_SHARED_WORDS) & (counts <= MAX_WORDS)
    # each article's distinct keys in first-seen order (a key's count is the same wherever it is)
    _, first = np.unique(doc[ok] * len(table.keys) + ids[ok], return_index=True)
    first.sort()
    if len(first) < 2:
        return []
    item_doc, item_key, item_n = doc[ok][first], ids[ok][first], counts[ok][first]
    order = np.lexsort((np.arange(len(first)), item_n, item_doc))  # per article by (length, first seen)
    sizes, docs = item_n[order], item_doc[order]
    budget = edit_budget(sizes)
    budgets = budget + RESPLIT_SLACK
    # others of position p: the same article, at least p's length minus its budget, at most
    # MAX_SCREENED back, nearest first
    reach = sizes - budget
    lowest = np.maximum(np.searchsorted(docs * 128 + sizes, docs * 128 + reach),  # sizes <= MAX_WORDS < 128
                        np.arange(len(order)) - MAX_SCREENED)
    span = np.maximum(np.arange(len(order)) - lowest, 0)
    if not span.any():
        return []
    # each key's vocabulary (its distinct word hashes), once per key of the items
    held, item_vocab = np.unique(item_key, return_inverse=True)
    sizes_w = table.offsets[held + 1] - table.offsets[held]
    offsets_w = np.zeros(len(held) + 1, dtype=np.int64)
    np.cumsum(sizes_w, out=offsets_w[1:])
    vocab = ShingleSets(*unique_per_set(table.words[ranges(table.offsets[held], sizes_w)], offsets_w))
    sizes_v = np.diff(vocab.offsets)[item_vocab]
    out = []
    # The screen's pairs in runs of whole positions of about SCREEN_CHUNK pairs: a batch of long
    # template pages has up to MAX_SCREENED pairs per line, too many to hold at once.
    ends = np.cumsum(span)
    cuts = np.searchsorted(ends, np.arange(SCREEN_CHUNK, int(ends[-1]), SCREEN_CHUNK), side="right")
    for first, last in zip(np.r_[0, cuts].tolist(), np.r_[cuts, len(span)].tolist()):
        positions = np.arange(first, last)
        pos = np.repeat(positions, span[first:last])
        if len(pos) == 0:
            continue
        group_start = np.repeat(np.cumsum(span[first:last]) - span[first:last], span[first:last])
        other = pos - 1 - (np.arange(len(pos)) - group_start)  # nearest first
        a, b = order[other], order[pos]
        shared = vocab.intersections(item_vocab[a], item_vocab[b])
        screened = (sizes_v[a] - shared <= budgets[other]) & (sizes_v[b] - shared <= budgets[pos])
        # the first MAX_ALIGNED that pass the screen, per position
        passed = np.concatenate(([0], np.cumsum(screened)))
        aligned = screened & (passed[1:] - passed[group_start] <= MAX_ALIGNED)
        lo, hi = np.minimum(a, b)[aligned], np.maximum(a, b)[aligned]
        out.extend(_near_copy_pairs(table.keys, item_key[lo].tolist(), item_key[hi].tolist()))
    return out


def _near_copy_pairs(keys: list[str], earlier: list[int], later: list[int]) -> list[tuple[int, int]]:
    """(later, earlier) of the pairs of keys (positions in `keys`) that are near copies."""
    out = []
    for i, j in zip(earlier, later):
        if near_copy(keys[i].split(" "), keys[j].split(" ")):
            out.append((j, i))
    return out


def doubled_links(segments: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """(paragraph key, key of its longer piece) for each paragraph of one article whose words
    are X + Y, where X and Y (each >= MIN_PIECE_WORDS words, possibly equal) are also whole
    paragraphs of the article. `segments`: (match key, words) in article order."""
    return _doubled([key for key, tokens in segments if len(tokens) >= MIN_PIECE_WORDS])


def _doubled(pieces: list[str]) -> list[tuple[str, str]]:
    """`doubled_links` of the keys of one article that have at least MIN_PIECE_WORDS words."""
    keys = dict.fromkeys(pieces)
    by_first: dict[str, list[str]] = {}
    for key in keys:
        by_first.setdefault(key.split(" ", 1)[0], []).append(key)
    if len(by_first) == len(keys):  # a glued paragraph opens with the word of its first piece
        return []
    out = []
    for whole in keys:
        # at most MAX_SCREENED heads: an article of template lines with one opening stays linear
        for head in by_first[whole.split(" ", 1)[0]][:MAX_SCREENED]:
            if len(head) >= len(whole) or not whole.startswith(head + " "):
                continue
            tail = whole[len(head) + 1:]
            if tail in keys:
                out.append((whole, max(head, tail, key=len)))
                break
    return out


def batch_links(doc: Sequence[int], keys: Sequence[str], counts: Sequence[int]) -> list[tuple[str, str]]:
    """Pairs of keys of segments of one article that are one repeated passage (both relations
    above), for every article of a batch (segments as in `batch_near_copy_links`); the pairs
    are unordered facts about two texts, so an article printed several times in the batch
    (wire copies) is linked once."""
    ids, table = key_ids(keys)
    return [(table.keys[a], table.keys[b]) for a, b in batch_link_ids(doc, ids, counts, table)]


def batch_link_ids(doc: Sequence[int], ids: Sequence[int], counts: Sequence[int],
                   table: KeyTable) -> list[tuple[int, int]]:
    """`batch_links` with keys given by their positions in `table`, and returned so."""
    doc, ids, counts = _first_of_identical(doc, ids, counts)
    pieces: dict[int, list[int]] = {}
    maybe = _may_hold_doubled(doc, ids, counts, table)
    for d, k, n in zip(doc, ids, counts):
        if n >= MIN_PIECE_WORDS and d in maybe:
            pieces.setdefault(d, []).append(k)
    doubled = []
    for article in pieces.values():
        found = _doubled([table.keys[k] for k in article]) if len(article) >= 2 else []
        if found:  # rare: positions looked up only then
            position = {table.keys[k]: k for k in article}
            doubled += [(position[a], position[b]) for a, b in found]
    return near_copy_ids(doc, ids, counts, table) + doubled


def _may_hold_doubled(doc: Sequence[int], ids: Sequence[int], counts: Sequence[int], table: KeyTable) -> set[int]:
    """The articles that may hold a doubled paragraph (`_doubled`), by what one needs: a
    paragraph of at least 2 * MIN_PIECE_WORDS words whose first word opens another of the
    article's pieces (its head) and whose last word ends another (its tail). Array operations
    over the batch; most articles have none, and skip `_doubled`."""
    doc, ids, counts = (np.asarray(v, dtype=np.int64) for v in (doc, ids, counts))
    ok = counts >= MIN_PIECE_WORDS
    doc, ids, counts = doc[ok], ids[ok], counts[ok]
    if len(doc) < 3:
        return set()
    _, first = np.unique(doc * len(table.keys) + ids, return_index=True)  # each article's pieces once
    doc, ids, counts = doc[first], ids[first], counts[first]
    opening, closing = table.words[table.offsets[ids]], table.words[table.offsets[ids + 1] - 1]

    salt = doc.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # (wrapping) per article

    def shared(word: np.ndarray) -> np.ndarray:
        """Whether another piece of the same article has the same word there (or, rarely, a
        piece elsewhere whose salted hash collides: that only sends an article to `_doubled`)."""
        _, inverse, n = np.unique(word ^ salt, return_inverse=True, return_counts=True)
        return n[inverse] >= 2

    whole = (counts >= 2 * MIN_PIECE_WORDS) & shared(opening) & shared(closing)
    return set(doc[whole].tolist())


def _first_of_identical(doc: Sequence[int], keys: Sequence[int],
                        counts: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
    """The segments of the batch without those of an article whose keys, in order, are those of
    an earlier article: its links are the same pairs."""
    seen: set[tuple[int, ...]] = set()
    out_doc: list[int] = []
    out_keys: list[int] = []
    out_counts: list[int] = []
    start = 0
    for end in range(1, len(doc) + 1):
        if end < len(doc) and doc[end] == doc[start]:
            continue
        article = tuple(keys[start:end])
        if article not in seen:
            seen.add(article)
            out_doc += doc[start:end]
            out_keys += article
            out_counts += counts[start:end]
        start = end
    return out_doc, out_keys, out_counts
