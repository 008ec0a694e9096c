"""Flat-array helpers shared by the sketching and matching code."""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a 1-d array, by one sort. (numpy 2.4's `np.unique` without
    return_* options hashes instead: about 1 ms for a hundred values and 15x a sort for millions.)"""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The positions starts[k], ..., starts[k] + sizes[k] - 1 of every k, concatenated."""
    ends = np.cumsum(sizes)
    return np.repeat(starts - (ends - sizes), sizes) + np.arange(int(ends[-1]) if len(ends) else 0)
