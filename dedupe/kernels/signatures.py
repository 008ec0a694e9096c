"""The argument and return types of every kernel in `compiled.py`, written once (numba's type
syntax), for the ahead-of-time build (`aot.py`) and for the checks on each call into it.

A kernel compiled ahead of time takes exactly these types: unlike numba's JIT dispatcher, which
compiles a new version for new argument types, its entry point reads whatever it is given as
these types (a wrong dtype is read as garbage, or crashes the process). So every call into the
ahead-of-time module is checked first (`checked`), and a mismatch is a TypeError naming the
kernel and the argument. This module does not import numba.
"""

from __future__ import annotations

import re
from numbers import Integral, Real
from typing import Callable

import numpy as np

# kernel -> (return type, argument types); arrays are C-contiguous ("[::1]", "[:, ::1]")
SIGNATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "minhash": ("void", ("uint32[::1]", "int64[::1]", "uint32[::1]", "uint32[::1]", "uint32[:, ::1]")),
    "char_shingles": ("int64", ("uint8[::1]", "int64[::1]", "uint64[:, ::1]", "uint64[::1]", "uint64",
                                "uint64[::1]", "uint64[::1]", "int64[::1]")),
    "ascii_words": ("int64", ("uint8[::1]", "int64[::1]", "boolean[::1]", "uint8[::1]", "uint8[::1]",
                              "int64[::1]")),
    "templates": ("int64", ("uint8[::1]", "int64[::1]", "boolean[::1]", "boolean[::1]", "boolean[::1]",
                            "uint8[::1]", "uint8[::1]", "int64[::1]", "int64[::1]")),
    "unique_rows": ("int64", ("uint64[::1]", "int64[::1]", "uint64[::1]", "int64[::1]", "int64[::1]", "int64[::1]")),
    "intersections": ("void", ("uint64[::1]", "int64[::1]", "int64[::1]", "int64[::1]", "int64[::1]")),
    "hash_words": ("int64", ("uint8[::1]", "int64[::1]", "uint64[::1]")),
    "utf8_positions": ("void", ("uint8[::1]", "int64[::1]", "boolean[::1]", "int64[::1]", "int64[::1]",
                                "int64[::1]")),
    "copy_ranges": ("void", ("uint8[::1]", "int64[::1]", "int64[::1]", "uint8[::1]")),
    "inverted_index": ("int64", ("uint64[::1]", "int32[::1]", "int64", "int32[::1]", "uint64[::1]", "int32[::1]",
                                 "int32[::1]", "int32[::1]", "int32[::1]", "int32[::1]", "int32[::1]", "int64[::1]")),
    "containment_queries": ("UniTuple(int64, 2)", (
        "int64[::1]", "int32[::1]", "int32[::1]", "int32[::1]", "int32[::1]", "int32[::1]", "int64[::1]",
        "float64", "int64", "int64", "int64[::1]", "int64[::1]", "int64[::1]", "int64[::1]", "int64[::1]")),
}

_TYPE = re.compile(r"(\w+)(?:\[([:, 1]+)\])?$")
_DTYPES = {"boolean": np.dtype(np.bool_), "uint8": np.dtype(np.uint8), "int32": np.dtype(np.int32),
           "uint32": np.dtype(np.uint32), "int64": np.dtype(np.int64), "uint64": np.dtype(np.uint64),
           "float64": np.dtype(np.float64)}


def numba_signature(name: str) -> str:
    """The signature of kernel `name` as numba parses it: 'int64(uint8[::1], ...)'."""
    returns, args = SIGNATURES[name]
    return f"{returns}({', '.join(args)})"


def _check_one(kernel: str, position: int, spec: str) -> Callable[[object], None]:
    """A check that an argument has type `spec`: an array of that dtype, number of dimensions
    and C order, or a number of that kind."""
    match = _TYPE.match(spec)
    if match is None or match.group(1) not in _DTYPES:
        raise ValueError(f"kernel {kernel}: cannot read the type {spec!r}")
    dtype, dims = _DTYPES[match.group(1)], match.group(2)

    def fail(value: object, wanted: str) -> None:
        got = (f"{value.dtype}, {value.ndim}-d{'' if value.flags.c_contiguous else ', not C-contiguous'}"
               if isinstance(value, np.ndarray) else type(value).__name__)
        raise TypeError(f"kernel {kernel}: argument {position} must be {wanted}, got {got}")

    if dims is not None:
        ndim = len(dims.split(","))
        wanted = f"a C-contiguous {ndim}-d {dtype} array"

        def check_array(value: object) -> None:
            if not (isinstance(value, np.ndarray) and value.dtype == dtype and value.ndim == ndim
                    and value.flags.c_contiguous):
                fail(value, wanted)
        return check_array
    kind = Integral if dtype.kind in "iu" else Real

    def check_number(value: object) -> None:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, kind):
            fail(value, f"a {dtype} number")
    return check_number


def checked(name: str, fn: Callable) -> Callable:
    """`fn` (kernel `name`, compiled ahead of time) behind a check of every argument."""
    checks = [_check_one(name, i, spec) for i, spec in enumerate(SIGNATURES[name][1])]
    arity = len(checks)

    def call(*args):
        if len(args) != arity:
            raise TypeError(f"kernel {name} takes {arity} arguments, got {len(args)}")
        for check, value in zip(checks, args):
            check(value)
        return fn(*args)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = fn.__doc__
    return call
