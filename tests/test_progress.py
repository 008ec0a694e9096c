"""Progress of long loops goes to a tracker only when a caller installs one."""

from __future__ import annotations

import dedupe
from dedupe.config import Config
from dedupe.progress import reporting, track
from tests.conftest import RAW, synthetic_articles


def test_a_run_reports_its_long_loops_to_the_installed_tracker(tmp_path):
    seen = []

    def tracker(items, total, description):
        count = 0
        for item in items:
            count += 1
            yield item
        seen.append((description, total, count))

    with reporting(tracker):
        dedupe.run(RAW, tmp_path / "out", Config(batch_docs=2, workers=1))
        assert seen == [("read", 5, 5), ("segment and sign", 3, 3), ("write", 3, 3)]
        seen.clear()  # on the pool, six row groups go out as twelve pieces: progress counts row groups
        dedupe.run(synthetic_articles(tmp_path / "in", articles=60, seed=5), tmp_path / "pooled",
                   Config(batch_docs=10, workers=2))
        assert seen == [("read", 60, 60), ("segment and sign", 6, 6), ("write", 6, 6)]


def test_without_a_tracker_nothing_is_wrapped():
    items = [1, 2, 3]
    assert track(items, 3, "x") is items
