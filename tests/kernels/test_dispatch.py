"""When a call runs compiled: the kernels in use (ahead of time, numba's JIT, DEDUPE_KERNELS), its
work size, whether the process has the kernels."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from dedupe import kernels
from dedupe.sketch.hashing import hash_words
from tests.conftest import RAW


@pytest.fixture
def fresh_availability(monkeypatch):
    kernels.available.cache_clear()
    kernels.ahead_of_time.cache_clear()
    yield monkeypatch
    kernels.available.cache_clear()
    kernels.ahead_of_time.cache_clear()


ASK = """
import numpy as np
from dedupe import kernels
small = kernels.MIN_WORK - 1
before = [kernels.use_compiled(small), kernels.use_compiled(small + 1)]
if kernels.available():  # run a kernel, then ask again
    kernels.hash_words(np.frombuffer(b"a b", dtype=np.uint8), np.zeros(1, dtype=np.int64), np.empty(4, dtype=np.uint64))
print(before + [kernels.use_compiled(small), kernels.available()])
"""


def _ask(kernels_choice: str) -> list[bool]:
    env = dict(os.environ, DEDUPE_KERNELS=kernels_choice)
    env.pop("DEDUPE_NO_NUMBA", None)
    out = subprocess.run([sys.executable, "-c", ASK], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    return eval(out.stdout.strip().splitlines()[-1])


def test_small_calls_run_compiled_once_the_process_has_the_jit_kernels():
    """With numba's JIT, a fresh process keeps small calls on numpy (loading numba would cost
    more); once it has the kernels, every call runs compiled."""
    small_before, large, small_after, available = _ask("jit")
    assert (small_before, large, small_after) == (False, available, available)


@pytest.mark.skipif(kernels.ahead_of_time() is None, reason="the kernels are not compiled ahead of time here")
def test_every_call_runs_compiled_with_the_kernels_compiled_ahead_of_time():
    """Loading the ahead-of-time module costs nothing, so even the smallest call uses it."""
    assert _ask("auto") == [True, True, True, True]


@pytest.mark.parametrize("env", [{"DEDUPE_NO_NUMBA": "1"}, {"DEDUPE_KERNELS": "numpy"}])
def test_numpy_only_keeps_every_call_on_numpy(fresh_availability, env):
    for key, value in env.items():
        fresh_availability.setenv(key, value)
    assert kernels.ahead_of_time() is None
    assert not kernels.available()
    assert not kernels.use_compiled(10 ** 12)
    text = " ".join(["word"] * (kernels.MIN_WORK * 7))  # large enough to be compiled otherwise
    hashes, offsets = hash_words([text])
    assert offsets.tolist() == [0, kernels.MIN_WORK * 7] and len(set(hashes.tolist())) == 1


def test_jit_choice_ignores_the_ahead_of_time_module(fresh_availability):
    pytest.importorskip("numba")
    fresh_availability.setenv("DEDUPE_KERNELS", "jit")
    assert kernels.ahead_of_time() is None and kernels.available()
    from dedupe.kernels import compiled

    assert kernels._compiled() is compiled


def test_an_unknown_kernels_choice_is_one_clear_line(tmp_path):
    env = dict(os.environ, DEDUPE_KERNELS="fast")
    run = subprocess.run([sys.executable, "-m", "dedupe", "run", "--engine", "local", "--input", str(RAW),
                          "--output", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip() == "dedupe: error: DEDUPE_KERNELS='fast': expected one of auto, jit, numpy"
    assert not (tmp_path / "out" / "documents.parquet").exists()


START = """
import sys
import numpy as np
from dedupe import kernels
if sys.argv[1] == "own":
    kernels.own_process()
kernels.load_match_kernels()
import numba.np.arraymath
import scipy.linalg.cython_blas  # importable as ever afterwards
print(numba.np.arraymath._HAVE_BLAS, kernels.hash_words(np.frombuffer(b"a b", dtype=np.uint8),
      np.zeros(1, dtype=np.int64), np.empty(4, dtype=np.uint64)))
"""


@pytest.mark.skipif(not kernels.available(), reason="numba not in use")
@pytest.mark.parametrize("process, blas_checked", [("own", False), ("shared", True)])
def test_numba_starts_without_importing_scipy_only_in_a_process_of_its_own(process, blas_checked):
    """In a process that runs only the library (the command, the pool's fork server), numba's
    start-up skips its BLAS check (an import of scipy.linalg); in a caller's process it does
    not, so the caller's own jitted code sees numba as usual. Either way scipy stays importable
    and the kernels run."""
    env = dict(os.environ, DEDUPE_KERNELS="jit")
    out = subprocess.run([sys.executable, "-c", START, process], capture_output=True, text=True, timeout=300,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(blas_checked), "2"]
