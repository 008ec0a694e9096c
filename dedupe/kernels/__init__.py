"""Compiled inner loops for large batches, and the one rule that decides when to use them.

The numpy code paths are the reference; each kernel in `compiled.py` computes the same values
bit for bit (tests compare them), fused into one pass, so which path a call takes changes its
speed only. The kernels come compiled ahead of time when the package was installed with a C
compiler (`aot.py`): then every call runs compiled and numba is never imported. Otherwise numba
compiles them at run time, and it is imported only when a call first needs it: a call runs
compiled when it is large (`use_compiled`) or the kernels are loaded already, so a run on a
handful of files never loads the compiler.

DEDUPE_KERNELS chooses: `auto` (the default: ahead of time when current, else numba's JIT),
`jit` (numba's JIT even when the ahead-of-time module is there) or `numpy` (no compiled code;
DEDUPE_NO_NUMBA=1 is the same). `warmup.py` (`dedupe warmup`) makes a fresh environment ready.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

import numpy as np

from ..text import ascii

MIN_WORK = 200_000
"""Inner-loop steps (shingles, words, set elements; see each caller) from which a call runs
compiled in a process that has not loaded the kernels yet: below it, loading them (about 0.6 s
from the cache) would cost more than numpy's per-call overhead saves."""
_LOADED = __name__ + ".compiled"  # in sys.modules once a kernel was called (or preloaded)
CHAR_SHINGLE_BLOCK = 4096  # positions whose n-gram hashes `char_shingles` sums at a time


CHOICES = ("auto", "jit", "numpy")


def choice() -> str:
    """The kernels asked for: DEDUPE_KERNELS (`auto`, `jit`, `numpy`), `numpy` when
    DEDUPE_NO_NUMBA=1. Raises ConfigError for another value."""
    if os.environ.get("DEDUPE_NO_NUMBA") == "1":
        return "numpy"
    value = os.environ.get("DEDUPE_KERNELS", "auto").strip().lower() or "auto"
    if value not in CHOICES:
        from ..config import ConfigError

        raise ConfigError(f"DEDUPE_KERNELS={value!r}: expected one of {', '.join(CHOICES)}")
    return value


@lru_cache(maxsize=1)
def ahead_of_time():
    """The kernels compiled ahead of time (`aot.py`), when chosen (`auto`) and current; else None."""
    if choice() != "auto":
        return None
    from . import aot

    return aot.load()


@lru_cache(maxsize=1)
def available() -> bool:
    """Compiled kernels are in use: ahead of time, or numba is installed (and neither is
    turned off by DEDUPE_KERNELS=numpy or DEDUPE_NO_NUMBA=1)."""
    if choice() == "numpy":
        return False
    if ahead_of_time() is not None:
        return True
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


_thread = threading.local()  # `forced`: set while this thread loads kernels (`_forced`)


def use_compiled(work: int) -> bool:
    """Whether a call of about `work` inner-loop steps runs compiled: from MIN_WORK on, or at
    any size once this process has the kernels (a pool worker forked ready, or a process that
    ran a large call), and always with the kernels compiled ahead of time; either path gives
    the same values."""
    if ahead_of_time() is not None:
        return True
    return (work >= MIN_WORK or getattr(_thread, "forced", False) or _LOADED in sys.modules) and available()


@contextmanager
def _forced() -> Iterator[None]:
    """Every call of this thread runs compiled inside the block, however small."""
    _thread.forced = True
    try:
        yield
    finally:
        _thread.forced = False


# Two short articles: a pass over them loads (and warms) what the prepare pass uses.
SAMPLE_ARTICLES = ["Storm closes the coast road\nThe coast road was closed on Monday after the storm, "
                   "officials said, and will reopen next week.\nPhoto: Getty Images",
                   "Council votes on the budget\nThe council voted 7-2 on Tuesday to approve the budget "
                   "for next year.\nPhoto: Getty Images"]


def load_prepare_kernels() -> bool:
    """Load the prepare pass's kernels (compile them, on an empty numba cache) with exactly the
    argument types it passes them, so that each worker of the pool starts with them instead of
    loading them itself: the pool's fork server does this (`engines.preload`). Returns False
    when numba is not in use.

    The kernels are first called in `_PREPARE_ORDER`, then the pass runs once on two short
    articles with every call compiled (any kernel left is loaded with a batch's exact types, and
    what the pass imports on first use is imported). With the kernels compiled ahead of time
    only the pass over the two articles runs.
    With an empty cache the process waiting for the pool meanwhile compiles the three kernels
    this order leaves to the end (`load_match_kernels`), so that nothing is compiled twice and
    the workers are ready sooner."""
    if not available():
        return False
    from ..config import Config
    from ..corpus.prepare import prepare_batch

    if ahead_of_time() is not None:  # nothing to load; the pass still imports things on first use
        prepare_batch(SAMPLE_ARTICLES, Config())  # (np.unique imports numpy.ma, 8 ms)
        return True
    with _forced():
        for load in _PREPARE_ORDER:
            load()
        prepare_batch(SAMPLE_ARTICLES, Config())
    return True


def _match_keys() -> None:
    from ..text.normalize import match_keys

    match_keys(["A few words."])


def _templates() -> None:
    from ..text.templates import template_keys

    template_keys(["One two three 4 five"])


def _hash_words() -> None:
    from ..sketch.hashing import hash_words

    hash_words(["a few words"])


def _minhash() -> None:
    from ..sketch.minhash import minhash_batch

    minhash_batch(np.array([5, 6], dtype=np.uint32), np.array([0, 2], dtype=np.int64), 4, 1)


def _char_shingles() -> None:
    from ..sketch.shingles import char_shingle_hashes

    char_shingle_hashes(["a few words"], 5, 8)


def _intersections() -> None:
    from ..sketch.sets import ShingleSets

    ShingleSets(np.array([5, 6, 5, 6], dtype=np.uint64), np.array([0, 2, 4], dtype=np.int64)).intersections(
        np.array([0]), np.array([1]))


def _unique_rows() -> None:
    from ..sketch.sets import unique_per_set

    unique_per_set(np.array([6, 5], dtype=np.uint64), np.array([0, 2], dtype=np.int64))


def _utf8() -> None:
    from ..io.utf8 import byte_positions, string_array

    data = np.frombuffer(bytearray("ab\u00e9c".encode("utf-8")), dtype=np.uint8)  # writable, as Arrow's
    offsets = np.array([0, 5], dtype=np.int64)
    at = byte_positions(data, offsets, np.array([4]), np.array([0, 0]), np.array([1, 4]))
    string_array(data, at[:1], at[1:])


def _containment_queries() -> None:
    from ..sketch.overlap import overlap_counts

    overlap_counts(np.array([5, 6, 5, 6], dtype=np.uint64), np.array([0, 0, 1, 1], dtype=np.int64), 0.5)


# Each kernel called once through the function a run calls. With an empty cache the two processes
# split the compiling about evenly, 0.8 s each here: the fork server compiles the first three
# prepare kernels, while the main process compiles the set sorting (0.45 s alone), the
# intersections and MinHash, which the fork server then finds in the cache; the main process goes
# on with the containment queries and by then finds the fork server's three cached. The workers
# are forked 0.2 s sooner than when the fork server also compiled MinHash, and nothing is compiled
# twice (whichever process is late for a kernel compiles it itself: the same code, only slower).
_PREPARE_ORDER = (_match_keys, _templates, _hash_words, _char_shingles, _minhash, _intersections, _unique_rows)
_MATCH_ORDER = (_unique_rows, _intersections, _minhash, _containment_queries, _match_keys, _templates, _hash_words,
                _char_shingles, _utf8)


def load_match_kernels() -> bool:
    """Load every kernel the main process calls (the prepare pass's, matching's own and the
    output tables' text cutting), each
    called once through the function a run calls. With an empty cache this process compiles
    the set sorting, the intersections, MinHash and the containment queries while the pool's
    fork server compiles the rest (`load_prepare_kernels`), then loads those from the cache.
    False when numba is not in use."""
    if not available():
        return False
    if ahead_of_time() is not None:
        return True
    with _forced():
        for load in _MATCH_ORDER:
            load()
    return True


_loader: threading.Thread | None = None


def load_in_background() -> threading.Thread | None:
    """`load_match_kernels` in a daemon thread, once per process: a process that waits for its
    workers meanwhile (the prepare pass) then starts matching with numba started and them
    loaded (numba's import and start-up alone take 0.6 s; with an empty cache, compiling them
    about 1 s). Nothing (None) with the kernels compiled ahead of time."""
    global _loader
    if _loader is None and ahead_of_time() is None:
        _loader = threading.Thread(target=_load_quietly, name="dedupe-kernels", daemon=True)
        _loader.start()
    return _loader


def _load_quietly() -> None:
    try:
        load_match_kernels()
    except Exception:  # noqa: BLE001  (a kernel that failed here is loaded, or fails, when called)
        pass


_own_process = False


def own_process() -> None:
    """Declare that this process runs only the library (the `dedupe` command, the worker pool's
    fork server and workers), so numba may start without its BLAS check (`_compiled`)."""
    global _own_process
    _own_process = True


def _compiled():
    """The kernels: compiled ahead of time when in use, else `compiled.py` through numba's JIT."""
    ready = ahead_of_time()
    if ready is not None:
        return ready
    if _own_process and "numba.np.arraymath" not in sys.modules:
        _import_numba_arraymath_without_scipy()
    from . import compiled

    return compiled


def _import_numba_arraymath_without_scipy() -> None:
    """Import numba's numpy support with scipy's BLAS reported missing.

    numba's first compile or cache load imports `numba.np.arraymath`, which imports
    scipy.linalg only to note whether BLAS exists (0.15 s, a quarter of numba's start-up); the
    answer only chooses how numba's own np.convolve/np.correlate multiply (np.dot checks again
    when it is used). No kernel uses either, but a user's jitted code in the same process
    might, so this is done only in processes that run nothing else (`own_process`)."""
    name = "scipy.linalg.cython_blas"
    blocked = name not in sys.modules
    if blocked:
        sys.modules[name] = None  # makes `import scipy.linalg.cython_blas` raise ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    except ImportError:  # numba missing: `available()` said so already
        pass
    finally:
        if blocked and sys.modules.get(name, 0) is None:
            del sys.modules[name]


def minhash(h32: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    _compiled().minhash(h32, offsets, a, b, out)


def char_shingles(buf: np.ndarray, offsets: np.ndarray, n: int, byte_hashes: np.ndarray, mult: np.ndarray,
                  salt: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    out = np.empty(max(len(buf), 1), dtype=np.uint64)  # at most one shingle per byte
    out_offsets = np.empty_like(offsets)
    with np.errstate(over="ignore"):
        table = np.ascontiguousarray(byte_hashes[None, :] * mult[:n, None])  # (n, 256), wrapping
    scratch = np.empty(CHAR_SHINGLE_BLOCK, dtype=np.uint64)
    used = _compiled().char_shingles(buf, offsets, table, salt, np.uint64(rate), scratch, out, out_offsets)
    return out[:used].copy(), out_offsets


def ascii_words(buf: np.ndarray, offsets: np.ndarray) -> tuple[str, np.ndarray]:
    """(the words of each text joined by spaces, texts joined by newlines; words per text)."""
    n = len(offsets) - 1
    out = np.empty(len(buf) + n, dtype=np.uint8)  # no text grows: one separator per text
    counts = np.zeros(n, dtype=np.int64)
    used = _compiled().ascii_words(buf, offsets, ascii.LETTER, ascii.WORD_LOWER, out, counts)
    return out[:used].tobytes().decode("ascii"), counts


def templates(buf: np.ndarray, offsets: np.ndarray) -> tuple[bytes, np.ndarray, np.ndarray]:
    """(the templates' bytes; each text's template span in them, (n, 2); literal words per text)."""
    n = len(offsets) - 1
    out = np.empty(len(buf) + n, dtype=np.uint8)
    spans = np.empty(2 * n, dtype=np.int64)
    literals = np.empty(n, dtype=np.int64)
    used = _compiled().templates(buf, offsets, ascii.WORD, ascii.UPPER, ascii.DIGIT, ascii.LOWER, out, spans,
                                 literals)
    return out[:used].tobytes(), spans.reshape(n, 2), literals


def hash_words(buf: np.ndarray, counts: np.ndarray, out: np.ndarray) -> int:
    return _compiled().hash_words(buf, counts, out)


def utf8_positions(data: np.ndarray, starts: np.ndarray, ascii: np.ndarray, text: np.ndarray,
                   chars: np.ndarray) -> np.ndarray:
    out = np.empty(len(text), dtype=np.int64)
    _compiled().utf8_positions(data, starts, ascii, text, chars, out)
    return out


def copy_ranges(data: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    out = np.empty(int((hi - lo).sum()), dtype=np.uint8)
    _compiled().copy_ranges(data, lo, hi, out)
    return out


def inverted_index(hashes: np.ndarray, rows: np.ndarray, n_rows: int, max_df: int) -> tuple[np.ndarray, ...]:
    """(sorted_pos, group_of, group_start, group_size, owner_sorted, query_size) of the entries
    (hashes[e], rows[e]), rows ascending and below n_rows (see `compiled.inverted_index`)."""
    n = len(hashes)
    table = np.full(1 << max(4, int(n + n // 3).bit_length()), -1, dtype=np.int32)  # at most 3/4 full
    # one value per group, at most one group per entry: pages of groups never seen stay untouched
    group_hash, group_size = np.empty(n, np.uint64), np.empty(n, np.int32)
    group_start, cursor = np.empty(n, np.int32), np.empty(n, np.int32)
    sorted_pos, owner_sorted, group_of = np.empty(n, np.int32), np.empty(n, np.int32), np.empty(n, np.int32)
    query_size = np.zeros(n_rows, dtype=np.int64)
    groups = _compiled().inverted_index(hashes, rows, max_df, table, group_hash, group_size, group_start, cursor,
                                        sorted_pos, owner_sorted, group_of, query_size)
    return sorted_pos, group_of, group_start[:groups].copy(), group_size[:groups].copy(), owner_sorted, query_size


def containment_queries(row_offsets, *args, threads: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q, x, shared) of every text q's query, in query order (see `compiled.containment_queries`).
    With `threads` > 1 the queries are cut into that many runs, run side by side (the kernel
    releases the GIL), and joined in order: the same arrays.

    A text walks the postings after its own, so the work per entry falls from the first text to
    the last, about as 1 - u at the fraction u of the entries: run j of k ends where the work
    so far, u - u**2 / 2, reaches j / k of its total, at u = 1 - sqrt(1 - j / k) (measuring the
    work exactly costs a quarter of what the second thread saves at 60k paragraphs)."""
    n = len(row_offsets) - 1
    if threads < 2 or row_offsets[-1] < MIN_WORK:
        return _queries(row_offsets, args, 0, n)
    ends = 1 - np.sqrt(1 - np.arange(1, threads) / threads)
    cuts = np.searchsorted(row_offsets, ends * row_offsets[-1])
    bounds = np.unique(np.r_[0, np.clip(cuts, 0, n), n]).tolist()
    with ThreadPoolExecutor(threads, thread_name_prefix="dedupe-containment") as pool:
        parts = list(pool.map(lambda lo, hi: _queries(row_offsets[:hi + 1], args, lo, n), bounds[:-1], bounds[1:]))
    return tuple(np.concatenate([part[k] for part in parts]) for k in range(3))


def _queries(row_offsets, args, first: int, n_texts: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The queries from `first` to the end of `row_offsets` (texts up to n_texts may be found);
    the outputs grow by doubling when a query's pairs do not fit."""
    end = len(row_offsets) - 1
    counter = np.zeros(max(n_texts, 1), dtype=np.int64)
    touched = np.empty(max(n_texts, 1), dtype=np.int64)
    cap = max(1024, end - first)
    parts = []
    while first < end:
        out = np.empty((3, cap), dtype=np.int64)
        first, m = _compiled().containment_queries(row_offsets, *args, first, counter, touched, out[0], out[1], out[2])
        parts.append(out[:, :m])
        cap *= 2
    got = np.concatenate(parts, axis=1) if parts else np.empty((3, 0), dtype=np.int64)
    return got[0], got[1], got[2]


def unique_rows(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.empty_like(values)
    out_offsets = np.empty_like(offsets)
    stack = np.empty(128, dtype=np.int64)  # quicksort's deferred ranges: 64 levels
    longest = int(np.diff(offsets).max()) if len(offsets) > 1 else 0
    counts = np.empty((1 << max(1, longest - 1).bit_length()) + 1, dtype=np.int64)  # a bucket per value, and one
    used = _compiled().unique_rows(values, offsets, out, out_offsets, stack, counts)
    return out[:used].copy(), out_offsets


def intersections(values: np.ndarray, offsets: np.ndarray, rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
    out = np.empty(len(rows_a), dtype=np.int64)
    _compiled().intersections(values, offsets, rows_a, rows_b, out)
    return out
