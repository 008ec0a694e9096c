"""Progress of long loops, reported to whoever asked for it (the command line's progress bar).

Library code wraps its long loops in `track(items, total, description)`, which does nothing
unless a caller installed a tracker with `reporting(...)`: the library never draws anything
itself, and a notebook or a Prefect flow sees no bars unless it asks for them.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
Tracker = Callable[[Iterable, "int | None", str], Iterable]
"""tracker(items, total, description) -> the same items, reporting as they pass."""

_tracker: Tracker | None = None


def track(items: Iterable[T], total: int | None, description: str) -> Iterable[T]:
    """`items`, reported to the installed tracker as they pass (unchanged when there is none)."""
    return items if _tracker is None else _tracker(items, total, description)


@contextmanager
def reporting(tracker: Tracker) -> Iterator[None]:
    """Report the library's long loops to `tracker` inside the block."""
    global _tracker
    previous, _tracker = _tracker, tracker
    try:
        yield
    finally:
        _tracker = previous
