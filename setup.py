"""The install's one build step: the kernels compiled ahead of time (`dedupe/kernels/aot.py`).

Everything else is declared in pyproject.toml. The step is optional: without a C compiler the
install goes on, says so, and the library compiles the kernels with numba when a run first
needs them (slower to start, the same results).
"""

import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class BuildKernels(build_ext):
    """Builds `dedupe.kernels._aot` with numba's AOT compiler instead of from C sources."""

    def build_extension(self, ext: Extension) -> None:
        target = Path(self.get_ext_fullpath(ext.name))
        target.unlink(missing_ok=True)  # a failed build must not ship an earlier one
        sys.path.insert(0, str(ROOT))
        try:
            from dedupe.kernels.aot import build

            build(target)
        except Exception as err:  # noqa: BLE001  (optional: numba's JIT does the same at run time)
            reason = (str(err).strip().splitlines() or [""])[0]
            print(f"dedupe: the kernels were not compiled ahead of time ({type(err).__name__}: {reason}); "
                  "numba will compile them on first use", file=sys.stderr)
        finally:
            sys.path.remove(str(ROOT))


setup(ext_modules=[Extension("dedupe.kernels._aot", sources=[], optional=True)], cmdclass={"build_ext": BuildKernels})
