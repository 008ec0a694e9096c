"""Imported by the fork server of the local worker pool (`local.prestart`) before it forks any
worker: every worker then starts with the library imported, the prepare pass's kernels loaded
and its first-use imports done, which each would otherwise do itself (about 0.9 s of CPU per
worker), and an empty numba cache is filled once instead of once per worker.

The fork server outlives the pool until the calling process exits, and then, with numba loaded,
would spend 0.3 s tearing it down while still holding the caller's stdout and stderr (a caller
reading them waits for that). So it ends at once, as its forked workers already do."""

import atexit
import gc
import os
import sys

from .. import kernels
from ..corpus import prepare  # noqa: F401


def _imported_by_fork_server() -> bool:
    """Whether `multiprocessing.forkserver.main` is importing this module (its preload step)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "main" and frame.f_globals.get("__name__") == "multiprocessing.forkserver":
            return True
        frame = frame.f_back
    return False


if _imported_by_fork_server():
    atexit.register(os._exit, 0)  # runs before the earlier-registered handlers, which it skips
kernels.own_process()  # the fork server and its workers run only the library
try:
    kernels.load_prepare_kernels()
except Exception:  # noqa: BLE001  (the fork server must start anyway: workers load kernels themselves)
    pass
if _imported_by_fork_server():
    # What is loaded now lives as long as the process: out of every collection from here on
    # (which also keeps its pages shared with the forked workers: a collection writes to each
    # object it walks). A batch allocates many short-lived containers and few cycles, and the
    # default threshold (700) collected about forty times a batch: 5-8% of a worker's CPU.
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
