"""Large items and results between the caller and the pool's workers travel as files."""

from __future__ import annotations

import os

import numpy as np

from dedupe.config import Config
from dedupe.corpus.prepare import prepare_batch
from dedupe.engines import transfer
from dedupe.engines.local import ProcessEngine
from tests.conftest import RAW


def _texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(RAW.glob("*.txt"))]


def _same_batch(a, b) -> None:
    for name, value in vars(a).items():
        other = getattr(b, name)
        if isinstance(value, np.ndarray):
            assert value.dtype == other.dtype and np.array_equal(value, other), name
        elif hasattr(value, "offsets"):  # ShingleSets
            assert np.array_equal(value.values, other.values) and np.array_equal(value.offsets, other.offsets), name
        else:
            assert value == other, name


def test_a_prepared_batch_goes_through_a_file_and_comes_back_equal(tmp_path):
    batch = prepare_batch(_texts() * 8, Config())
    parcel = transfer.put(batch, str(tmp_path))
    assert isinstance(parcel, transfer.Parcel)
    assert os.path.getsize(parcel.path) == sum(parcel.sizes) > transfer.INLINE_MAX
    back = transfer.take(parcel)
    _same_batch(batch, back)
    assert not os.path.exists(parcel.path)  # read once, then deleted
    # every array owns its memory (keeping one does not keep the whole parcel) and is writable
    assert not np.shares_memory(back.seg_start, back.seg_end)
    back.seg_start[0] = 7


def test_small_or_unwritable_objects_travel_as_they_are(tmp_path):
    small = {"texts": ["a caption"], "ids": np.arange(3)}
    assert transfer.put(small, str(tmp_path)) is small
    big = np.arange(1 << 16)
    assert transfer.put(big, str(tmp_path / "missing")) is big  # no such folder: the pipe, as before
    assert transfer.take(small) is small
    assert list(tmp_path.iterdir()) == []


def _sum_and_echo(item: tuple[np.ndarray, list[str]]) -> tuple[int, np.ndarray, list[str]]:
    values, words = item
    return int(values.sum()), values * 2, words[::-1]


def test_the_process_engine_sends_large_items_as_files_and_removes_its_folder():
    items = [(np.arange(k, k + 100_000, dtype=np.int64), ["w%d" % i for i in range(k % 7)]) for k in range(6)]
    engine = ProcessEngine(2, window=3)
    with engine:
        folder = engine._folder
        results = list(engine.map(_sum_and_echo, items))
        assert os.listdir(folder) == []  # every parcel was taken
    assert not os.path.exists(folder)
    for (values, words), (total, doubled, backwards) in zip(items, results):
        assert total == int(values.sum())
        assert np.array_equal(doubled, values * 2)
        assert backwards == words[::-1]


def test_a_killed_runs_parcel_folder_is_removed_by_the_next_engine(tmp_path, monkeypatch):
    """A run killed before it could clean up leaves its folder (memory, on a tmpfs): the next
    engine's folder() removes the folders of processes that have ended, once they have not
    changed for ORPHAN_AGE, and no other."""
    import subprocess
    import sys

    monkeypatch.setattr(transfer, "SHARED_MEMORY", str(tmp_path))
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f"{transfer.PREFIX}{int(ended.stdout)}-abc"
    alive = tmp_path / f"{transfer.PREFIX}{os.getppid()}-def"  # our parent: alive
    other = tmp_path / "someone-else"
    recent = tmp_path / f"{transfer.PREFIX}{int(ended.stdout)}-ghi"  # changed lately: perhaps alive elsewhere
    for path in (dead, alive, other, recent):
        path.mkdir()
        (path / "parcel").write_bytes(b"x" * 10)
        if path != recent:
            os.utime(path, (1, 1))  # untouched for ages
    mine = transfer.folder()
    assert mine.startswith(str(tmp_path / f"{transfer.PREFIX}{os.getpid()}-"))
    assert not dead.exists() and alive.exists() and other.exists() and recent.exists()
    transfer.remove(mine)
