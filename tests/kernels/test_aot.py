"""The kernels compiled ahead of time (`dedupe/kernels/aot.py`): declared types, checked calls, a
build that is used only where and from what it was built, and runs that never import numba."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from dedupe import kernels
from dedupe.kernels import aot
from dedupe.kernels.signatures import SIGNATURES, checked, numba_signature
from dedupe.sketch.minhash import minhash_batch
from dedupe.sketch.sets import unique_per_set
from tests.conftest import ROOT

AHEAD = kernels.ahead_of_time()
needs_aot = pytest.mark.skipif(AHEAD is None, reason="the kernels are not compiled ahead of time here")
needs_numba = pytest.mark.skipif(kernels.choice() == "numpy", reason="compiled kernels turned off")


@needs_numba
def test_every_kernel_has_declared_types():
    from dedupe.kernels.warmup import kernel_names

    assert set(SIGNATURES) == set(kernel_names())


JIT_TYPES = """
import json, pathlib, tempfile
import dedupe
from dedupe.config import Config
from dedupe.kernels import compiled, load_match_kernels
from dedupe.kernels.warmup import kernel_names
from tests.conftest import synthetic_articles
load_match_kernels()
with tempfile.TemporaryDirectory() as tmp:
    corpus = synthetic_articles(pathlib.Path(tmp) / "in", articles=1100, seed=3)
    dedupe.run(corpus, pathlib.Path(tmp) / "out", Config(workers=1))
print(json.dumps({name: [str(t) for sig in getattr(compiled, name).signatures for t in sig] for name in kernel_names()}))
"""


@needs_numba
def test_the_declared_types_are_the_ones_a_run_passes():
    """What numba's JIT compiles for a whole run is exactly the declared types (up to arrays that
    are read-only at the call): the module compiled ahead of time takes what every call passes."""
    from numba.core import types
    from numba.core.sigutils import normalize_signature

    env = dict(os.environ, DEDUPE_KERNELS="jit")
    out = subprocess.run([sys.executable, "-c", JIT_TYPES], capture_output=True, text=True, timeout=600, env=env,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    for name in SIGNATURES:
        declared, _ = normalize_signature(numba_signature(name))
        as_passed = [str(t.copy(readonly=True)) if isinstance(t, types.Array) else str(t) for t in declared]
        writable = [str(t) for t in declared]
        assert len(seen[name]) == len(declared), name  # one signature: nothing compiled twice
        assert all(s in (a, w) for s, a, w in zip(seen[name], as_passed, writable)), (name, seen[name])


def test_calls_into_the_module_are_checked_against_the_declared_types():
    calls = []
    fn = checked("unique_rows", lambda *args: calls.append(args) or 7)
    good = (np.zeros(4, np.uint64), np.array([0, 4]), np.empty(4, np.uint64), np.empty(2, np.int64),
            np.empty(128, np.int64), np.empty(9, np.int64))
    assert fn(*good) == 7 and len(calls) == 1
    bad = [
        ((good[0].astype(np.int64),) + good[1:], "argument 0 must be a C-contiguous 1-d uint64 array, got int64, 1-d"),
        ((np.zeros(8, np.uint64)[::2],) + good[1:], "got uint64, 1-d, not C-contiguous"),
        (good[:5], "takes 6 arguments, got 5"),
        (good[:4] + ([0] * 128,) + good[5:], "argument 4 must be a C-contiguous 1-d int64 array, got list"),
    ]
    for args, message in bad:
        with pytest.raises(TypeError, match="kernel unique_rows"):
            fn(*args)
        try:
            fn(*args)
        except TypeError as err:
            assert message in str(err)
    scalar = checked("char_shingles", lambda *args: 0)
    arrays = dict(buf=np.zeros(3, np.uint8), offsets=np.array([0, 3]), u64=np.zeros(2, np.uint64))
    ok = (arrays["buf"], arrays["offsets"], np.zeros((5, 256), np.uint64), arrays["u64"], np.uint64(8),
          arrays["u64"], arrays["u64"], arrays["offsets"])
    assert scalar(*ok) == 0
    with pytest.raises(TypeError, match="argument 4 must be a uint64 number, got float"):
        scalar(*(ok[:4] + (8.0,) + ok[5:]))
    with pytest.raises(TypeError, match="argument 2 must be a C-contiguous 2-d uint64 array, got uint64, 1-d"):
        scalar(*(ok[:2] + (arrays["u64"],) + ok[3:]))
    counted = checked("inverted_index", lambda *args: 0)
    i32, u64 = np.zeros(2, np.int32), np.zeros(2, np.uint64)
    ok = (u64, i32, 5, i32, u64, i32, i32, i32, i32, i32, i32, np.zeros(2, np.int64))
    assert counted(*ok) == 0
    with pytest.raises(TypeError, match="argument 2 must be a int64 number, got float"):
        counted(*(ok[:2] + (5.0,) + ok[3:]))
    assert len(calls) == 1  # nothing wrong ever reached the module


@pytest.mark.slow
@needs_numba
def test_a_build_is_used_only_from_its_own_sources_and_on_its_own_cpu(tmp_path, monkeypatch):
    target = aot.build(tmp_path / aot.module_path().name)
    assert target.exists() and not list(tmp_path.glob(".*partial"))
    ready, why = aot.status(target)
    assert ready is not None and why == f"compiled ahead of time ({target})"
    rng = np.random.default_rng(11)
    sizes = rng.integers(0, 50, 400)
    offsets = np.zeros(401, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    values = rng.integers(0, 3000, int(offsets[-1])).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    monkeypatch.setattr(kernels, "MIN_WORK", 10 ** 12)  # the numpy reference
    expected_sets = unique_per_set(values, offsets)
    expected_sigs = minhash_batch((values >> np.uint64(32)).astype(np.uint32), offsets, 64, 3)
    monkeypatch.setattr(kernels, "_compiled", lambda: ready)
    monkeypatch.setattr(kernels, "ahead_of_time", lambda: ready)
    got_sets = unique_per_set(values, offsets)
    assert all(np.array_equal(a, b) for a, b in zip(got_sets, expected_sets))
    assert np.array_equal(minhash_batch((values >> np.uint64(32)).astype(np.uint32), offsets, 64, 3), expected_sigs)

    real_digest = aot.source_digest
    digest = real_digest()
    monkeypatch.setattr(aot, "source_digest", lambda: digest ^ 1)  # compiled.py edited since
    assert aot.status(target) == (None, f"stale: {target} was built from other kernel sources")
    monkeypatch.setattr(aot, "source_digest", lambda: digest)
    cpu = aot.cpu_fingerprint()
    monkeypatch.setattr(aot, "cpu_fingerprint", lambda: cpu ^ 1)  # an image moved to another machine
    assert aot.status(target) == (None, f"built on another CPU: {target}")
    monkeypatch.setattr(aot, "cpu_fingerprint", lambda: cpu)
    monkeypatch.setattr(aot, "source_digest", real_digest)
    monkeypatch.setattr(aot, "SOURCES", (tmp_path / "missing.py",))  # installed without .py files
    ready, why = aot.status(target)
    assert ready is None and why.startswith("kernel sources not readable")


FAILED_BUILD = """
import sys
from pathlib import Path
from dedupe.kernels import aot
target = Path(sys.argv[1])
try:
    aot.build(target)
except Exception as err:
    print("failed:", type(err).__name__)
print(target.read_text(), sorted(p.name for p in target.parent.iterdir()))
"""


@pytest.mark.slow
@needs_numba
def test_a_build_without_a_c_compiler_fails_and_leaves_what_was_there(tmp_path):
    """setup.py goes on without the module (the JIT compiles the kernels instead); a failed
    rebuild (`dedupe warmup`) keeps the module that was there."""
    target = tmp_path / aot.module_path().name
    target.write_text("the earlier module")
    env = dict(os.environ, CC=str(tmp_path / "no-such-compiler"))
    out = subprocess.run([sys.executable, "-c", FAILED_BUILD, str(target)], capture_output=True, text=True,
                         timeout=600, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("failed: ")
    assert lines[-1] == f"the earlier module {[target.name]!r}"


@needs_aot
def test_the_module_releases_the_gil_while_a_kernel_runs():
    """The containment queries run in threads side by side: another thread gets to run Python
    while a long kernel call is in progress. (Switching threads every microsecond, the kernel's
    thread enters it at once; had it kept the GIL, this thread would count a few hundred steps
    before and none during the call: 400 against 1.8 million here.)"""
    rng = np.random.default_rng(2)
    values = rng.integers(0, 2 ** 63, 3_000_000).astype(np.uint64)
    offsets = np.array([0, len(values)], dtype=np.int64)
    out, out_offsets, stack = np.empty_like(values), np.empty(2, np.int64), np.empty(128, np.int64)
    counts = np.empty((1 << 22) + 1, np.int64)
    started, done = threading.Event(), threading.Event()

    def sort():
        started.set()
        AHEAD.unique_rows(values, offsets, out, out_offsets, stack, counts)
        done.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        thread = threading.Thread(target=sort)
        thread.start()
        started.wait()
        steps = 0
        while not done.is_set():
            steps += 1
        thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert steps > 100_000
    assert np.all(out[1:out_offsets[1]] > out[:out_offsets[1] - 1])


RUN = """
import sys
from pathlib import Path
import dedupe
from dedupe.config import Config
from tests.conftest import synthetic_articles
corpus = synthetic_articles(Path(sys.argv[1]) / "in", articles=1100, seed=9)
dedupe.run(corpus, Path(sys.argv[1]) / "out", Config(workers=2))
print(sorted(m for m in sys.modules if m.split(".")[0] in ("numba", "llvmlite")))
"""


@needs_aot
def test_a_run_on_the_ahead_of_time_kernels_never_imports_numba_and_equals_the_jit_run(tmp_path):
    outputs = {}
    for choice in ("auto", "jit"):
        env = dict(os.environ, DEDUPE_KERNELS=choice)
        out = subprocess.run([sys.executable, "-c", RUN, str(tmp_path / choice)], capture_output=True, text=True,
                             timeout=600, env=env, cwd=ROOT)
        assert out.returncode == 0, out.stderr
        imported = eval(out.stdout.strip().splitlines()[-1])
        assert (imported == []) == (choice == "auto"), imported
        outputs[choice] = tmp_path / choice / "out"
    for name in ("documents.parquet", "segments.parquet", "clusters.parquet", "report.json"):
        assert (outputs["auto"] / name).read_bytes() == (outputs["jit"] / name).read_bytes(), name


@needs_aot
def test_warmup_finds_the_ahead_of_time_kernels_ready():
    run = subprocess.run([sys.executable, "-m", "dedupe", "warmup"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"dedupe: {len(SIGNATURES)} kernels ready in {Path(AHEAD.__file__)} (")
