"""`dedupe warmup`: compile every kernel once, into numba's cache, before the first real run.

A fresh environment (a container, a CI job, a process work pool on a new machine) otherwise
compiles the kernels during its first large run: 2-3 s of CPU. Numba caches compiled code
next to `compiled.py` (`dedupe/kernels/__pycache__`), or in `$NUMBA_CACHE_DIR` when that is set
(also where numba goes when the package folder is not writable). Run this once where that cache
persists: in the image after installing, or on a worker's volume.

The kernels are loaded as the main process of a run loads them ahead (`kernels.load_match_kernels`):
each is called through the function a run calls, so it is compiled for exactly the argument types
a run passes it (a test checks that a run then compiles nothing); a type seen only here would be
compiled again by the first run.
"""

from __future__ import annotations



def kernel_names() -> list[str]:
    """The compiled kernels: the public functions of `compiled.py` (imports numba)."""
    from . import compiled

    return [name for name, value in vars(compiled).items()
            if not name.startswith("_") and hasattr(value, "signatures")]


def warmup() -> dict[str, int]:
    """Compile (or load from numba's cache) every kernel in this process; returns, per kernel,
    how many type signatures numba now holds. Raises RuntimeError if a kernel was not reached."""
    from . import compiled, load_match_kernels

    if not load_match_kernels():
        raise RuntimeError("numba is not available (not installed, or DEDUPE_NO_NUMBA=1): nothing to compile")
    counts = {name: len(getattr(compiled, name).signatures) for name in kernel_names()}
    missing = [name for name, n in counts.items() if n == 0]
    if missing:
        raise RuntimeError(f"warm-up did not reach the kernels {', '.join(missing)}")
    return counts


def cache_folder() -> str:
    """Where numba keeps the compiled kernels for this installation."""
    from . import compiled

    return str(getattr(getattr(compiled.minhash, "_cache", None), "_cache_path", "numba's cache folder"))


def cache_stats() -> dict[str, tuple[int, int]]:
    """(cache hits, cache misses) of each kernel in this process: a miss is a compilation."""
    from . import compiled

    out = {}
    for name in kernel_names():
        stats = getattr(compiled, name).stats
        out[name] = (sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
    return out
