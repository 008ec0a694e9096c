"""Local engines: the calling thread, or worker processes on this machine."""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext, ForkServerProcess
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from ..config import Config
from . import in_order, transfer

T = TypeVar("T")
R = TypeVar("R")

MIN_BATCHES_FOR_POOL = 4  # below this, starting worker processes costs more than it saves
PRELOAD = ["dedupe.engines.preload"]  # what the fork server imports before forking workers


class InlineEngine:
    """Runs every item in the calling thread. `by_path=True` makes the pipeline hand it
    partitions by path, as a cluster engine gets them (tests use it to check the partition
    parts without a cluster)."""

    def __init__(self, by_path: bool = False) -> None:
        self.by_path = by_path

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)

    def __enter__(self) -> "InlineEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class ProcessEngine:
    """Runs items in `workers` worker processes, at most `window` items in flight (memory stays
    bounded however long the stream), results in input order. Large items and results travel
    as files (`transfer.py`), not through the pool's pipes.

    Workers start with the forkserver method: forking a process that runs threads (Prefect's,
    the pipeline's writer threads) can deadlock the child. They import the library only, never
    the caller's script (see `_LibraryProcess`), so `fn` must live in an importable module."""

    by_path = False

    def __init__(self, workers: int, window: int = 4) -> None:
        self.workers = workers
        self.window = window
        self._pool: ProcessPoolExecutor | None = None
        self._folder: str | None = None  # the parcels' folder
        self._starting: threading.Thread | None = None

    def __enter__(self) -> "ProcessEngine":
        self._folder = transfer.folder()
        self._pool = ProcessPoolExecutor(self.workers, mp_context=_context())
        # The pool starts a worker at a submit that finds none idle, and the submit waits for it
        # (for the fork server, too, when it is still loading): started here, in a thread, the
        # workers are ready by the first batch, and the caller goes on meanwhile.
        self._starting = threading.Thread(target=_start_workers, args=(self._pool, self.workers),
                                          name="dedupe-pool-start", daemon=True)
        self._starting.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        if self._folder is not None:
            transfer.remove(self._folder)  # after the workers: none writes a parcel any more
            self._folder = None

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        if self._pool is None or self._folder is None:
            raise RuntimeError("ProcessEngine.map outside its `with` block")
        pool, into = self._pool, self._folder
        task = partial(transfer.call, fn, into)
        for result in in_order(lambda item: pool.submit(task, transfer.put(item, into)), items, self.window):
            yield transfer.take(result)


def _start_workers(pool: ProcessPoolExecutor, n: int) -> None:
    """Make the pool start its `n` workers, by giving each an empty task."""
    try:
        for _ in range(n):
            pool.submit(int)
    except RuntimeError:  # the pool was shut down meanwhile
        pass


class _LibraryProcess(ForkServerProcess):
    """A worker process started without the caller's `__main__`.

    multiprocessing re-runs the main script in every worker it spawns (or fails to, for
    `python -`), so a script calling `dedupe.run` without an `if __name__ == "__main__":` guard
    would start the run again inside the worker, and the pool breaks. Hiding the script while a
    worker starts makes the worker import what the pickled function names, and nothing else."""

    def start(self) -> None:
        with _caller_script_hidden():
            super().start()


class _LibraryContext(ForkServerContext):
    Process = _LibraryProcess


def _context() -> _LibraryContext:
    """Worker processes forked by a fork server that preloads the library (`preload.py`). The
    fork server is one per process; one started earlier without the preload is used as is."""
    context = _LibraryContext()
    context.set_forkserver_preload(PRELOAD)
    return context


def prestart() -> None:
    """Start the fork server of `ProcessEngine`'s workers now, without waiting for it: it imports
    the library and loads the kernels (`preload.py`) while the caller goes on (reading the
    input), and the pool started later forks ready workers from it."""
    _context()
    with _caller_script_hidden():
        forkserver.ensure_running()


@contextmanager
def _caller_script_hidden() -> Iterator[None]:
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {key: main.__dict__[key] for key in ("__file__", "__spec__") if key in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update(saved)


def workers(config: Config) -> int:
    """Worker processes a run uses: `config.workers`, or one per CPU when it is 0."""
    return config.workers or os.cpu_count() or 1


_prestarted = False


def prestart_for(input_dir: str | os.PathLike, config: Config) -> bool:
    """When a local run of `config` on `input_dir` will probably use worker processes
    (`local_engine`: its files hold more than MIN_BATCHES_FOR_POOL batches of 2 KB articles),
    start the fork server (`prestart`) and this process's kernel loading
    (`kernels.load_in_background`) now, while the input is read. Returns whether they run; once
    started they stay for the process, so a later call does not list the input again."""
    global _prestarted
    if config.engine != "local" or workers(config) < 2:
        return False
    if not _prestarted and _holds_more_than(Path(input_dir), MIN_BATCHES_FOR_POOL * config.batch_docs * 2000):
        from .. import kernels

        prestart()
        kernels.load_in_background()
        _prestarted = True
    return _prestarted


def _holds_more_than(folder: Path, limit: int) -> bool:
    """Whether the input files below `folder` (`io.readers.walk`, the run's own listing) hold
    more than `limit` bytes; the listing stops there. Never an error: the run lists and reads
    the input itself, and reports what it cannot."""
    from ..io.readers import InputError, walk

    total = 0
    try:
        for entry in walk(folder):
            if entry.reason is None:
                total += entry.path.stat().st_size
                if total > limit:
                    return True
    except (InputError, OSError):
        pass
    return False


def local_engine(config: Config, n_batches: int) -> InlineEngine | ProcessEngine:
    """Worker processes when there are several workers and enough batches to pay for starting
    them; the calling thread otherwise."""
    n = workers(config)
    if n < 2 or n_batches <= MIN_BATCHES_FOR_POOL:
        return InlineEngine()
    return ProcessEngine(n)
