"""When a call runs compiled: its work size, whether the process has the kernels, DEDUPE_NO_NUMBA."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from dedupe import kernels
from dedupe.sketch.hashing import hash_words


@pytest.fixture
def fresh_availability(monkeypatch):
    kernels.available.cache_clear()
    yield monkeypatch
    kernels.available.cache_clear()


ASK = """
import numpy as np
from dedupe import kernels
small = kernels.MIN_WORK - 1
before = [kernels.use_compiled(small), kernels.use_compiled(small + 1)]
if kernels.available():  # run a kernel, then ask again
    kernels.hash_words(np.frombuffer(b"a b", dtype=np.uint8), np.zeros(1, dtype=np.int64), np.empty(4, dtype=np.uint64))
print(before + [kernels.use_compiled(small), kernels.available()])
"""


def test_small_calls_run_compiled_once_the_process_has_the_kernels():
    """A fresh process keeps small calls on numpy (loading numba would cost more); once it has
    the kernels, every call runs compiled."""
    out = subprocess.run([sys.executable, "-c", ASK], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    small_before, large, small_after, available = eval(out.stdout.strip().splitlines()[-1])
    assert (small_before, large, small_after) == (False, available, available)


def test_dedupe_no_numba_keeps_every_call_on_numpy(fresh_availability):
    fresh_availability.setenv("DEDUPE_NO_NUMBA", "1")
    assert not kernels.available()
    assert not kernels.use_compiled(10 ** 12)
    text = " ".join(["word"] * (kernels.MIN_WORK * 7))  # large enough to be compiled otherwise
    hashes, offsets = hash_words([text])
    assert offsets.tolist() == [0, kernels.MIN_WORK * 7] and len(set(hashes.tolist())) == 1


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
    out = subprocess.run([sys.executable, "-c", START, process], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(blas_checked), "2"]
