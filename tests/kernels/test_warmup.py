"""`dedupe warmup`: after it, a fresh process runs the pipeline without compiling anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dedupe.kernels.signatures import SIGNATURES

RUN_AND_REPORT = """
import json, sys, tempfile
from pathlib import Path
import dedupe
from dedupe.config import Config
from dedupe.kernels.warmup import cache_stats
from tests.conftest import synthetic_articles
with tempfile.TemporaryDirectory() as tmp:
    corpus = synthetic_articles(Path(tmp) / "in", articles=1100, seed=7)  # not the warm-up's own corpus
    dedupe.run(corpus, Path(tmp) / "out", Config(workers=1))
print(json.dumps(cache_stats()))
"""


@pytest.mark.slow
def test_after_warmup_a_fresh_process_compiles_nothing(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), DEDUPE_KERNELS="jit")
    warm = subprocess.run([sys.executable, "-m", "dedupe", "warmup"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.startswith(f"dedupe: {len(SIGNATURES)} kernels ready in " + str(tmp_path / "numba"))
    run = subprocess.run([sys.executable, "-c", RUN_AND_REPORT], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(stats) == len(SIGNATURES)
    assert all(misses == 0 and hits >= 1 for hits, misses in stats.values()), stats  # loaded, not compiled


def test_warmup_without_numba_is_one_clear_line(tmp_path):
    env = dict(os.environ, DEDUPE_NO_NUMBA="1")
    run = subprocess.run([sys.executable, "-m", "dedupe", "warmup"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip() == ("dedupe: error: numba is not available (not installed, or DEDUPE_KERNELS=numpy "
                                  "/ DEDUPE_NO_NUMBA=1): nothing to compile")


PRELOADED = """
import json, pathlib
import dedupe
from dedupe.kernels import compiled, warmup
from dedupe.config import Config
from dedupe.kernels import LOAD
assert LOAD()
before = {name: len(getattr(compiled, name).signatures) for name in warmup.kernel_names()}
from tests.conftest import synthetic_articles
corpus = synthetic_articles(pathlib.Path(TMP) / "in", articles=1100, seed=3)
dedupe.run(corpus, pathlib.Path(TMP) / "out", Config(workers=1))  # every stage large enough to run compiled
after = {name: len(getattr(compiled, name).signatures) for name in warmup.kernel_names()}
print(json.dumps([before, after]))
"""


@pytest.mark.parametrize("load,kernels", [
    ("load_prepare_kernels", {"minhash", "char_shingles", "ascii_words", "templates", "hash_words", "unique_rows",
                              "intersections"}),
    ("load_match_kernels", {"minhash", "char_shingles", "ascii_words", "templates", "hash_words", "unique_rows",
                            "inverted_index", "containment_queries", "intersections", "utf8_positions",
                            "copy_ranges"}),
])
def test_preloaded_kernels_are_the_ones_a_run_calls(tmp_path, load, kernels):
    """What the pool's fork server (`load_prepare_kernels`) and the waiting main process
    (`load_match_kernels`) load ahead is each kernel with the argument types a run passes: the
    run adds no signature to them (nothing is compiled twice)."""
    code = PRELOADED.replace("TMP", repr(str(tmp_path))).replace("LOAD", load)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, DEDUPE_KERNELS="jit"))
    assert out.returncode == 0, out.stderr
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert {name for name, n in before.items() if n} == kernels
    assert all(after[name] == before[name] for name in kernels)
    assert all(after.values())  # the run reached every kernel


def test_warmup_writes_the_package_bytecode_where_python_would_not(tmp_path):
    """With PYTHONDONTWRITEBYTECODE set (as in many container images) imports never write
    bytecode, so every process would compile the library again: warm-up writes it."""
    import importlib.util
    from pathlib import Path

    import dedupe

    source = Path(dedupe.__file__).parent / "report.py"
    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    imported = subprocess.run([sys.executable, "-c", "import dedupe.report"], env=env, capture_output=True,
                              text=True, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert not cached.exists()  # the import compiled it and kept nothing
    warm = subprocess.run([sys.executable, "-m", "dedupe", "warmup"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert warm.returncode == 0, warm.stderr
    assert "bytecode could not be written" not in warm.stdout
    assert cached.exists() and cached.stat().st_size > 0
