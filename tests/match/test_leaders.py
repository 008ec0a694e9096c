"""`leader_links`: leader clustering in id order inside each large bucket, verified, with at most
`max_leaders` checks per member."""

from __future__ import annotations

import numpy as np

from dedupe.match.leaders import MAX_LEADERS, leader_links
from dedupe.sketch.lsh import Buckets


def _counting(verify):
    """`verify`, recording how many pairs it was asked about."""
    asked = []

    def counted(pairs: np.ndarray) -> np.ndarray:
        asked.append(len(pairs))
        return verify(pairs)

    return counted, asked


def _sequential(buckets: Buckets, ok, max_leaders: int) -> set[tuple[int, int]]:
    """The definition, one member at a time: check the leaders in the order they were made, link
    to the first that verifies, else become a leader while there are fewer than max_leaders."""
    links = set()
    for lo, hi in zip(buckets.offsets[:-1].tolist(), buckets.offsets[1:].tolist()):
        leaders: list[int] = []
        for m in buckets.members[lo:hi].tolist():
            leader = next((x for x in leaders if ok(x, m)), None)
            if leader is not None:
                links.add((leader, m))
            elif len(leaders) < max_leaders:
                leaders.append(m)
    return links


def test_rounds_equal_sequential_leader_clustering():
    rng = np.random.RandomState(4)
    family = rng.randint(0, 12, size=400)  # verified: same family, or a random extra relation
    extra = {(int(a), int(b)) for a, b in rng.randint(0, 400, size=(2_000, 2))}

    def ok(a: int, b: int) -> bool:
        return family[a] == family[b] or (a, b) in extra

    verify = lambda pairs: np.array([ok(a, b) for a, b in pairs.tolist()], dtype=bool)  # noqa: E731
    members = [np.sort(rng.choice(400, size=k, replace=False)) for k in (40, 120, 400, 60)]
    buckets = Buckets.of(np.concatenate(members + members[:2]), [len(m) for m in members + members[:2]])
    for max_leaders in (1, 3, MAX_LEADERS):
        got = {tuple(p) for p in leader_links(buckets, verify, max_leaders).tolist()}
        assert got == _sequential(buckets, ok, max_leaders)


def test_near_identical_bucket_costs_one_check_per_member():
    n = 20_000
    buckets = Buckets.of(np.arange(n, dtype=np.int64), [n])
    verify, asked = _counting(lambda pairs: np.ones(len(pairs), dtype=bool))
    links = leader_links(buckets, verify)
    assert sum(asked) == n - 1  # not n (n - 1) / 2
    assert np.array_equal(links, np.stack([np.zeros(n - 1, np.int64), np.arange(1, n)], axis=1))


def test_unrelated_bucket_costs_at_most_max_leaders_checks_per_member():
    n = 5_000
    buckets = Buckets.of(np.arange(n, dtype=np.int64) * 3, [n])
    verify, asked = _counting(lambda pairs: np.zeros(len(pairs), dtype=bool))
    assert len(leader_links(buckets, verify)) == 0
    assert len(asked) == MAX_LEADERS and sum(asked) <= MAX_LEADERS * n


def test_a_bucket_found_in_several_bands_is_verified_once_per_round():
    members = np.arange(100, 400, dtype=np.int64)
    buckets = Buckets.of(np.tile(members, 25), [len(members)] * 25)
    verify, asked = _counting(lambda pairs: pairs[:, 0] % 2 == pairs[:, 1] % 2)  # same parity
    links = leader_links(buckets, verify)
    assert asked == [len(members) - 1, len(members) // 2 - 1]  # the odd ones fail 100, 101 leads them
    assert len(links) == len(members) - 2
    assert set(links[:, 0].tolist()) == {100, 101}


def test_no_buckets_no_links():
    assert leader_links(Buckets.empty(), lambda pairs: np.ones(len(pairs), bool)).shape == (0, 2)
