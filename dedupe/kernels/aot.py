"""The kernels compiled ahead of time: one extension module, `dedupe/kernels/_aot`, built when the
package is installed (`setup.py`) or by `dedupe warmup`, from the very functions of `compiled.py`.

A process that finds it current imports it in under a millisecond and never imports numba: no
JIT start-up (0.3-0.4 s of CPU in every process that runs a kernel, the pool's fork server
included), and no compilation in a fresh environment (2 s of CPU with an empty numba cache).
Without it (no C compiler at install, DEDUPE_KERNELS=jit) numba compiles the same functions at
run time, caching them (`warmup.py`); either way the values are the numpy reference's, bit for
bit (tests compare all three).

The module is built with numba's AOT compiler (`numba.pycc`: pending deprecation in numba,
still shipped in 0.68; nothing at run time depends on it) for this machine's CPU, and is used
only while it is current: `build_info()`, compiled into it, must equal the digest of the kernel
sources and the CPU fingerprint of the process loading it. A module built from other sources
(an edited `compiled.py`) or on another CPU (an image built elsewhere: host instructions could
be missing here) is ignored, and the kernels compile with numba instead. Its entry points
release the GIL, as the JIT kernels do (`nogil`), and every call into it is type-checked
(`signatures.checked`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import platform
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Iterator

from .signatures import SIGNATURES, checked, numba_signature

MODULE = "_aot"
HERE = Path(__file__).resolve().parent
SOURCES = (HERE / "compiled.py", HERE / "signatures.py", HERE / "aot.py", HERE.parent / "sketch" / "hashing.py")
_BITS = (1 << 62) - 1  # digests kept to 62 bits: an int64 the module returns


def source_digest() -> int:
    """Digest of the kernel sources (the kernels, their types, the hash mixing, this build)."""
    h = hashlib.sha256()
    for path in SOURCES:
        h.update(path.read_bytes())
    return int.from_bytes(h.digest()[:8], "little") & _BITS


@lru_cache(maxsize=1)
def cpu_fingerprint() -> int:
    """Digest of what this CPU can run: the machine and, on Linux, the first processor's model
    and flags in /proc/cpuinfo (read only up to them); elsewhere `platform.processor()` (which
    on Linux would start a `uname -p` process: 8 ms of every run)."""
    parts = [platform.machine()]
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key = line.split(":", 1)[0].strip().lower()
                if key in ("model name", "flags", "features", "cpu part", "isa"):
                    parts.append(line.strip())
                if key in ("flags", "features"):
                    break
    except OSError:
        parts.append(platform.processor())
    return int.from_bytes(hashlib.sha256("\n".join(parts).encode()).digest()[:8], "little") & _BITS


def module_path(folder: Path = HERE) -> Path:
    """Where the module of this Python lives in `folder`: `_aot` plus the extension suffix."""
    from importlib.machinery import EXTENSION_SUFFIXES

    return folder / (MODULE + EXTENSION_SUFFIXES[0])


def build(target: Path | None = None) -> Path:
    """Compile every kernel of `compiled.py` ahead of time into the extension module `target`
    (by default `module_path()`); returns its path. Needs numba and a C compiler; raises on
    failure (the callers fall back to numba's JIT). The module is written next to `target` and
    renamed over it when complete: a failed build leaves what was there."""
    target = Path(target) if target is not None else module_path()
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc's pending-deprecation notice
        from numba.pycc import CC
    from . import compiled

    cc = CC(MODULE)
    cc.output_dir = str(target.parent)
    cc.output_file = partial.name
    cc.target_cpu = "host"  # SIMD for the MinHash loop (3x); the CPU fingerprint guards the host
    cc.verbose = False
    for name in SIGNATURES:
        cc.export(name, numba_signature(name))(getattr(compiled, name).py_func)
    info = (source_digest(), cpu_fingerprint())

    def build_info():
        return info[0], info[1]
    cc.export("build_info", "UniTuple(int64, 2)()")(build_info)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _entry_points_release_the_gil():
            cc.compile()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


@contextmanager
def _entry_points_release_the_gil() -> Iterator[None]:
    """pycc compiles with default flags, whose Python entry points hold the GIL; the kernels
    run in threads side by side (containment queries), as numba's `nogil` JIT kernels do."""
    import numba.pycc.compiler as pycc_compiler

    base = pycc_compiler.Flags

    class Flags(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.release_gil = True

    pycc_compiler.Flags = Flags
    try:
        yield
    finally:
        pycc_compiler.Flags = base


def status(path: Path | None = None) -> tuple[SimpleNamespace | None, str]:
    """(the checked kernels, why) of the module at `path` (by default the package's own):
    the kernels when it is current, else None and the reason it is not used."""
    if path is None:
        try:
            module = importlib.import_module(f"{__package__}.{MODULE}")
        except ImportError:
            return None, "not built"
    else:
        module = _import_from(path)
        if module is None:
            return None, f"cannot be imported from {path}"
    try:
        built_from, built_on = module.build_info()
    except Exception:  # noqa: BLE001  (not a module this build made)
        return None, f"not a kernels module: {module.__file__}"
    try:
        digest = source_digest()
    except OSError as err:  # an install without its .py sources: nothing to check against
        return None, f"kernel sources not readable ({err.strerror}): {module.__file__} not checked, not used"
    if built_from != digest:
        return None, f"stale: {module.__file__} was built from other kernel sources"
    if built_on != cpu_fingerprint():
        return None, f"built on another CPU: {module.__file__}"
    kernels = SimpleNamespace(**{name: checked(name, getattr(module, name)) for name in SIGNATURES})
    kernels.__file__ = module.__file__
    return kernels, f"compiled ahead of time ({module.__file__})"


def _import_from(path: Path) -> ModuleType | None:
    spec = importlib.util.spec_from_file_location(MODULE, path)
    if spec is None or spec.loader is None:
        return None
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except ImportError:
        return None
    return module


@lru_cache(maxsize=1)
def load() -> SimpleNamespace | None:
    """The package's ahead-of-time kernels when current (`status`), else None; once per process."""
    return status()[0]
