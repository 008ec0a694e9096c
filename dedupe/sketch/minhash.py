r"""Batched MinHash signatures, bit-identical to datasketch's ``affine32`` scheme.

datasketch 2.x (``scheme="affine32"``) turns a 32-bit input hash h into permuted values

.. math::  \pi_k(h) = a_k \cdot \mathrm{fmix32}(h) + b_k \bmod 2^{32}, \quad k = 1..P

with odd :math:`a_k` and :math:`b_k` drawn from ``numpy.random.RandomState(seed)``, and a
signature keeps :math:`\min_{h \in S} \pi_k(h)` per k. We take the permutations from
datasketch itself and evaluate the same formula for a whole batch of shingles as one
(chunk x P) uint32 matrix, reduced per segment with ``np.minimum.reduceat`` (large batches run
the same formula as one fused compiled loop, `kernels.minhash`). Any row can be
wrapped as ``LeanMinHash(seed=seed, hashvalues=row, scheme="affine32")``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import kernels
from .hashing import fmix32

SCHEME = "affine32"
EMPTY = np.uint32(0xFFFFFFFF)
_CHUNK = 8192  # shingles per matrix: a 8192 x 128 uint32 buffer (4 MB) stays in cache


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) uint32 permutation parameters datasketch 2.x draws for (num_perm, seed) in
    the affine32 scheme (`MinHash._init_permutations`), without importing datasketch (and
    scipy) in every worker process; a test checks they equal datasketch's."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def minhash_batch(hashes32: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """Signatures of many shingle sets at once.

    Args:
        hashes32: uint32 shingle hashes, sets concatenated.
        offsets: int64 array of length S+1; set s is hashes32[offsets[s]:offsets[s+1]].

    Returns:
        (S, num_perm) uint32 array; the row of an empty set is all 0xFFFFFFFF, as datasketch's.
    """
    a, b = permutations(num_perm, seed)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_sets = len(offsets) - 1
    sig = np.full((n_sets, num_perm), EMPTY, dtype=np.uint32)
    total = len(hashes32)
    if total == 0:
        return sig
    if kernels.use_compiled(total):
        kernels.minhash(np.asarray(hashes32, dtype=np.uint32), offsets, a, b, sig)
        return sig
    owner = np.repeat(np.arange(n_sets, dtype=np.int64), np.diff(offsets))
    mixed = fmix32(np.asarray(hashes32, dtype=np.uint32))
    buf = np.empty((_CHUNK, num_perm), dtype=np.uint32)
    with np.errstate(over="ignore"):
        for lo in range(0, total, _CHUNK):
            hi = min(lo + _CHUNK, total)
            block = buf[: hi - lo]
            np.multiply(mixed[lo:hi, None], a[None, :], out=block)
            block += b[None, :]
            own = owner[lo:hi]
            firsts = np.flatnonzero(np.r_[True, own[1:] != own[:-1]])
            reduced = np.minimum.reduceat(block, firsts, axis=0)
            rows = own[firsts]
            sig[rows] = np.minimum(sig[rows], reduced)
    return sig


def lean_minhash(row: np.ndarray, seed: int):
    """Wrap one signature row as a datasketch `LeanMinHash`."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=seed, hashvalues=row, scheme=SCHEME)
