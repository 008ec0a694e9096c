"""Where work runs: engines map a pure function over a stream, in order, with bounded memory."""

from __future__ import annotations

import math

import pytest

import dedupe
from dedupe.config import Config
from dedupe.engines.local import InlineEngine, ProcessEngine, local_engine
from tests.conftest import RAW


class _Counting:
    """An iterable that counts how many items were taken from it."""

    def __init__(self, n: int) -> None:
        self.n, self.taken = n, 0

    def __iter__(self):
        for i in range(self.n):
            self.taken += 1
            yield i


@pytest.mark.parametrize("engine", [InlineEngine(), ProcessEngine(2, window=3)], ids=["inline", "process"])
def test_results_come_back_in_input_order(engine):
    with engine as running:
        assert list(running.map(math.factorial, range(40))) == [math.factorial(i) for i in range(40)]


def test_process_engine_holds_at_most_its_window_in_flight():
    items = _Counting(100)
    with ProcessEngine(2, window=3) as engine:
        results = engine.map(math.isqrt, items)
        assert next(results) == 0
        assert items.taken == 3  # the first result came back after 3 submissions, not 100
        assert list(results) == [math.isqrt(i) for i in range(1, 100)]


def test_process_engine_outside_its_block_is_an_error():
    with pytest.raises(RuntimeError, match="outside its `with` block"):
        next(ProcessEngine(2).map(math.isqrt, [1]))


def test_local_engine_starts_processes_only_when_they_pay():
    assert isinstance(local_engine(Config(workers=1), 100), InlineEngine)
    assert isinstance(local_engine(Config(workers=2), 4), InlineEngine)
    engine = local_engine(Config(workers=2), 5)
    assert isinstance(engine, ProcessEngine) and engine.workers == 2


class RecordingEngine(InlineEngine):
    """An engine of one's own: runs inline and records how many items it ran."""

    def __init__(self) -> None:
        self.items = 0

    def map(self, fn, items):
        for result in super().map(fn, items):
            self.items += 1
            yield result


def test_a_run_uses_the_engine_it_is_given_and_the_output_does_not_change(tmp_path, seed_output):
    engine = RecordingEngine()
    dedupe.run(RAW, tmp_path / "out", Config(batch_docs=2), engine=engine)
    assert engine.items == 3  # five articles in batches of two
    for name in ("documents.parquet", "segments.parquet", "clusters.parquet", "report.json"):
        assert (tmp_path / "out" / name).read_bytes() == (seed_output / name).read_bytes(), name


@pytest.mark.parametrize("how", ["script", "stdin"])
def test_a_script_without_a_main_guard_runs_on_the_worker_pool(tmp_path, seed_output, how):
    """multiprocessing re-runs an unguarded main script in its workers; the engine's workers do
    not, so `dedupe.run` works from any script and from `python -`."""
    import subprocess
    import sys

    out = tmp_path / "out"
    script = (f"import dedupe\nprint('script body')\n"
              f"dedupe.run({str(RAW)!r}, {str(out)!r}, dedupe.Config(batch_docs=1, workers=2))\n")
    assert isinstance(local_engine(Config(batch_docs=1, workers=2), 5), ProcessEngine)  # 5 batches: a pool
    path = tmp_path / "job.py"
    path.write_text(script)
    command = [sys.executable, str(path)] if how == "script" else [sys.executable, "-"]
    done = subprocess.run(command, input=None if how == "script" else script, capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "script body\n"  # printed once: no worker ran the script again
    for name in ("documents.parquet", "segments.parquet", "clusters.parquet"):
        assert (out / name).read_bytes() == (seed_output / name).read_bytes(), name


def _worker_state(_: int) -> tuple[bool, bool]:
    import sys

    compiled = sys.modules.get("dedupe.kernels.compiled")
    loaded = "dedupe.kernels._aot" in sys.modules or (compiled is not None and len(compiled.minhash.signatures) == 1)
    return "dedupe.corpus.prepare" in sys.modules and "numpy.ma" in sys.modules, loaded


def test_pool_workers_start_with_the_library_and_kernels_loaded():
    """The fork server preloads `engines.preload`: a worker's first task finds the prepare pass
    imported, what its first batch imports on first use (numpy.ma) too, and its kernels loaded
    (the ahead-of-time module, or numba's; none when off)."""
    from dedupe import kernels

    with ProcessEngine(2) as engine:
        states = list(engine.map(_worker_state, range(4)))
    assert all(imported for imported, _ in states)
    assert all(loaded == kernels.available() for _, loaded in states)


def test_a_few_row_groups_on_a_pool_are_cut_into_pieces_with_the_same_output(tmp_path):
    """Six row groups on two workers go out in pieces: two each (about four per worker), the
    last in four (so the workers finish about together). The output equals the run in the
    calling thread, one batch per row group."""
    from tests.conftest import synthetic_articles

    corpus = synthetic_articles(tmp_path / "in", articles=60, seed=5)
    sizes: list[int] = []  # documents of each batch sent to the pool
    inline = tmp_path / "inline"
    dedupe.run(corpus, inline, Config(batch_docs=10, workers=1))
    pooled = tmp_path / "pooled"
    engine = ProcessEngine(2)
    engine_map = engine.map
    engine.map = lambda fn, items: engine_map(fn, (sizes.append(len(t)) or t for t in items))
    with engine:
        dedupe.run(corpus, pooled, Config(batch_docs=10, workers=2), engine=engine)
    assert sizes == [5] * 10 + [2, 3, 2, 3]
    for name in ("documents.parquet", "segments.parquet", "clusters.parquet", "report.json"):
        assert (pooled / name).read_bytes() == (inline / name).read_bytes(), name


def test_the_fork_server_is_started_early_only_for_an_input_the_pool_will_take(tmp_path, monkeypatch):
    from dedupe import kernels
    from dedupe.engines import local

    started = []
    monkeypatch.setattr(local, "_prestarted", False)
    monkeypatch.setattr(local, "prestart", lambda: started.append("fork server"))
    monkeypatch.setattr(kernels, "load_in_background", lambda: started.append("kernels"))
    small = Config(batch_docs=1, workers=2)  # the pool takes more than 4 batches: 8 KB of articles
    (tmp_path / "in" / "nested").mkdir(parents=True)
    for i in range(3):
        (tmp_path / "in" / "nested" / f"{i}.txt").write_text("x" * 2000)
    (tmp_path / "in" / ".hidden.txt").write_text("x" * 100_000)  # not read, not counted
    assert not local.prestart_for(tmp_path / "in", small)
    assert not local.prestart_for(tmp_path / "missing", small)  # never an error: the run reports it
    assert not local.prestart_for(RAW, Config())
    (tmp_path / "in" / "3.txt").write_text("x" * 4000)
    assert not local.prestart_for(tmp_path / "in", Config(batch_docs=1, workers=1))
    assert not local.prestart_for(tmp_path / "in", Config(batch_docs=1, workers=2, engine="dask"))
    assert started == []
    assert local.prestart_for(tmp_path / "in", small)
    assert started == ["fork server", "kernels"]
    assert local.prestart_for(tmp_path / "missing", small)  # started once per process: not listed again
    assert started == ["fork server", "kernels"]


def _gc_state(_: int) -> tuple[int, int]:
    import gc

    return gc.get_threshold()[0], gc.get_freeze_count()


def test_pool_workers_keep_the_preloaded_library_out_of_collections():
    """The fork server freezes what it preloaded (never collected, pages stay shared with the
    workers) and raises the collection threshold its workers inherit."""
    with ProcessEngine(2) as engine:
        states = list(engine.map(_gc_state, range(2)))
    assert all(threshold == 20_000 and frozen > 10_000 for threshold, frozen in states), states
