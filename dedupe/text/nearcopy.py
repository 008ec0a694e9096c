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

MIN_SHARED_WORDS = 5  # fewer equal words is too little evidence ("toggle caption Jay Reed")
MAX_EDIT_WORDS = 3
MAX_EDIT_SHARE = 0.15
MIN_PIECE_WORDS = 5
MAX_WORDS = 80  # longer copies with a few edits keep a Jaccard above the threshold anyway
RESPLIT_SLACK = 2  # distinct words a re-split ("e mail" / "email") adds to either side
MAX_SCREENED = 256  # earlier segments of similar length a segment is screened against
MAX_ALIGNED = 16  # alignments per segment: an article of 1,000 template lines stays linear


def edit_budget(n_words: int) -> int:
    """Words a copy of `n_words` words may have that the other copy lacks."""
    return max(MAX_EDIT_WORDS, int(MAX_EDIT_SHARE * n_words))


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


def near_copy_links(segments: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """(later key, earlier key) of the distinct segments of one article that are near copies
    (see `near_copy`) but not equal. `segments`: (match key, words) in article order.

    Only segments whose word counts are within the edit budget of each other are compared
    (a window over the segments sorted by length), and only after a cheap shared-vocabulary
    screen, so an article costs about one alignment per plausible pair. Each segment is screened
    against at most MAX_SCREENED of the nearest in length and aligned at most MAX_ALIGNED times,
    so an article of a thousand near-identical lines (a template page) stays linear; real
    articles never reach either bound."""
    seen: dict[str, list[str]] = {}
    for key, tokens in segments:
        if MIN_SHARED_WORDS <= len(tokens) <= MAX_WORDS:
            seen.setdefault(key, tokens)
    items = list(seen.items())  # first-seen order
    order = sorted(range(len(items)), key=lambda i: (len(items[i][1]), i))
    sizes = [len(items[i][1]) for i in order]
    budgets = [edit_budget(n) + RESPLIT_SLACK for n in sizes]
    vocab = [set(items[i][1]) for i in order]
    out = []
    for pos in range(1, len(order)):
        reach = sizes[pos] - edit_budget(sizes[pos])  # the longer copy's budget bounds the difference
        vj, budget_j = vocab[pos], budgets[pos]
        other, lowest, aligned = pos - 1, max(0, pos - MAX_SCREENED), 0
        while other >= lowest and sizes[other] >= reach and aligned < MAX_ALIGNED:
            vi = vocab[other]
            # cheap screen before the alignment: each copy's own distinct words fit its budget
            shared = len(vi & vj)
            if len(vi) - shared <= budgets[other] and len(vj) - shared <= budget_j:
                aligned += 1
                i, j = sorted((order[other], order[pos]))
                if near_copy(items[i][1], items[j][1]):
                    out.append((items[j][0], items[i][0]))
            other -= 1
    return out


def doubled_links(segments: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """(paragraph key, key of its longer piece) for each paragraph of one article whose words
    are X + Y, where X and Y (each >= MIN_PIECE_WORDS words, possibly equal) are also whole
    paragraphs of the article. `segments`: (match key, words) in article order."""
    keys = dict.fromkeys(key for key, tokens in segments if len(tokens) >= MIN_PIECE_WORDS)
    by_first: dict[str, list[str]] = {}
    for key in keys:
        by_first.setdefault(key.split(" ", 1)[0], []).append(key)
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


def article_links(segments: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    """Pairs of keys of one article's segments that are one repeated passage (both relations
    above); the pairs are unordered facts about two texts."""
    return near_copy_links(segments) + doubled_links(segments)
