"""Leader linking: the verified links of a large LSH bucket in O(n * L) checks, not n^2 / 2.

A bucket of texts sharing a band value (template pages, one footer with different names) can
hold thousands of texts; all its pairs would be millions of candidates. Instead each member is
verified against at most L leaders of its bucket and linked to the first that verifies (leader
clustering in id order). Union-find over the links then groups a bucket of near-identical texts
as all its pairs would: every member is linked to the first leader.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..sketch.arrays import distinct
from ..sketch.lsh import Buckets

MAX_LEADERS = 8


def leader_links(buckets: Buckets, verify: Callable[[np.ndarray], np.ndarray],
                 max_leaders: int = MAX_LEADERS) -> np.ndarray:
    """Verified links (leader, member), leader < member, of every bucket.

    Members are taken in ascending id order: each is checked against the bucket's leaders in
    the order they were made and linked to the first that verifies; one that verifies against
    none becomes the next leader, up to `max_leaders` (after that it stays unlinked in this
    bucket: it is still a candidate in the bands where its bucket is small). Computed in
    rounds: round k makes every bucket's k-th leader (its smallest member not yet linked) and
    checks all its remaining members against it in one `verify` call, which maps (M, 2) pairs to
    a boolean mask. So at most `max_leaders` * (bucket size) pairs are verified, each distinct
    pair once per round. Returns sorted unique (M, 2) int64 pairs.
    """
    members, bucket = buckets.members, buckets.labels()  # ascending inside each bucket
    n = int(members.max()) + 1 if len(members) else 1
    links = []
    for _ in range(max_leaders):
        first = np.ones(len(bucket), dtype=bool)  # the first pending member of each bucket leads
        first[1:] = bucket[1:] != bucket[:-1]
        rest = ~first
        if not rest.any():
            break
        keys = members[first][np.cumsum(first) - 1][rest] * n + members[rest]
        checked, inverse = np.unique(keys, return_inverse=True)  # a bucket found in several bands
        ok = verify(np.stack([checked // n, checked % n], axis=1))
        links.append(checked[ok])
        members, bucket = members[rest][~ok[inverse]], bucket[rest][~ok[inverse]]
    found = distinct(np.concatenate(links)) if links else np.empty(0, dtype=np.int64)
    return np.stack([found // n, found % n], axis=1)
