"""Where work runs: the seam between the pipeline and the processes that do its batch work.

An `Engine` maps a pure function over a stream of items and yields the results in input order,
holding at most a bounded window of items in flight. The pipeline hands it the prepare pass
(`corpus.prepare.prepare_batch` over batches of article texts); because the function is pure
and results come back in order, the output does not depend on which engine ran it or with how
many workers.

Today's engines are local (`engines.local`): the calling thread, or a pool of worker
processes on this machine. Another engine (a cluster) is a new module that implements the
same two methods.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Engine(Protocol):
    """Runs batch work. Engines are context managers: leaving one releases its workers."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """fn(item) for every item, yielded in the order of `items`. `fn` must be picklable
        (a module-level function, or a partial of one) and its arguments too."""
        ...

    def __enter__(self) -> "Engine": ...

    def __exit__(self, *exc: object) -> None: ...
