"""`dedupe warmup`: make this environment's kernels (and bytecode) ready before the first real run.

The install compiles the kernels ahead of time when it can (`aot.py`); then there is nothing to
do. When that module is missing or not current (installed without a C compiler, kernel sources
edited since, moved to another CPU), warm-up builds it into the package folder if it can write
there, and otherwise compiles every kernel into numba's cache, so that no run compiles.

A fresh environment (a container, a CI job, a process work pool on a new machine) whose kernels
come from numba otherwise compiles them during its first large run: 2-3 s of CPU. Numba caches
compiled code next to `compiled.py` (`dedupe/kernels/__pycache__`), or in `$NUMBA_CACHE_DIR`
when that is set (also where numba goes when the package folder is not writable). Run this once
where that cache persists: in the image after installing, or on a worker's volume.

The JIT kernels are loaded as the main process of a run loads them ahead
(`kernels.load_match_kernels`): each is called through the function a run calls, so it is
compiled for exactly the argument types a run passes it (a test checks that a run then compiles
nothing); a type seen only here would be compiled again by the first run.
"""

from __future__ import annotations

from pathlib import Path

from .signatures import SIGNATURES


def compile_bytecode() -> bool:
    """Write the bytecode of the whole package (its `__pycache__` folders, only what is stale);
    returns whether every module has it now.

    Python writes bytecode as it imports, except where it may not: PYTHONDONTWRITEBYTECODE is
    set (common in container images) or the install folder is read-only. Every process of a
    run (the command, the pool's fork server) then compiles the library from source again,
    40-50 ms each, as its fixed cost. `py_compile` writes it whatever that setting says; a
    read-only folder stays as it is (False)."""
    import compileall

    package = Path(__file__).resolve().parent.parent
    try:
        return bool(compileall.compile_dir(str(package), quiet=2))
    except OSError:
        return False


def kernel_names() -> list[str]:
    """The compiled kernels: the public functions of `compiled.py` (imports numba)."""
    from . import compiled

    return [name for name, value in vars(compiled).items()
            if not name.startswith("_") and hasattr(value, "signatures")]


def warmup() -> tuple[int, str]:
    """Make the kernels ready (see the module docstring); returns (how many, where they are:
    the ahead-of-time module, or numba's cache folder). Raises RuntimeError when no compiled
    kernels are in use (DEDUPE_KERNELS=numpy, or numba missing) or a kernel was not reached."""
    from . import aot, available, choice

    if choice() == "auto":
        ready, _ = aot.status()
        if ready is not None:
            return len(SIGNATURES), ready.__file__
        try:
            return len(SIGNATURES), str(aot.build())
        except Exception:  # noqa: BLE001  (no compiler, or a read-only package folder: numba's JIT instead)
            pass
    if not available():
        raise RuntimeError("numba is not available (not installed, or DEDUPE_KERNELS=numpy / DEDUPE_NO_NUMBA=1): "
                           "nothing to compile")
    return len(jit_warmup()), cache_folder()


def jit_warmup() -> dict[str, int]:
    """Compile (or load from numba's cache) every kernel through numba's JIT in this process
    (`warmup` comes here only when the ahead-of-time module is not in use); returns, per
    kernel, how many type signatures numba now holds. Raises RuntimeError if a kernel was not
    reached."""
    from . import compiled, load_match_kernels

    if not load_match_kernels():
        raise RuntimeError("numba is not available: nothing to compile")
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

