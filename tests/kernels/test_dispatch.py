"""When a call runs compiled is a pure function of its work size and DEDUPE_NO_NUMBA."""

from __future__ import annotations

import numpy as np
import pytest

from dedupe import kernels
from dedupe.sketch.hashing import hash_words


@pytest.fixture
def fresh_availability(monkeypatch):
    kernels.available.cache_clear()
    yield monkeypatch
    kernels.available.cache_clear()


def test_the_answer_does_not_depend_on_what_ran_before():
    small, large = kernels.MIN_WORK - 1, kernels.MIN_WORK
    before = (kernels.use_compiled(small), kernels.use_compiled(large))
    if kernels.available():  # compile and run a kernel, then ask again
        counts, out = np.zeros(1, dtype=np.int64), np.empty(4, dtype=np.uint64)
        kernels.hash_words(np.frombuffer(b"a b", dtype=np.uint8), counts, out)
    assert (kernels.use_compiled(small), kernels.use_compiled(large)) == before
    assert before == (False, kernels.available())


def test_dedupe_no_numba_keeps_every_call_on_numpy(fresh_availability):
    fresh_availability.setenv("DEDUPE_NO_NUMBA", "1")
    assert not kernels.available()
    assert not kernels.use_compiled(10 ** 12)
    text = " ".join(["word"] * (kernels.MIN_WORK * 7))  # large enough to be compiled otherwise
    hashes, offsets = hash_words([text])
    assert offsets.tolist() == [0, kernels.MIN_WORK * 7] and len(set(hashes.tolist())) == 1
