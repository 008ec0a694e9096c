"""Where work runs: the seam between the pipeline and the processes that do its batch work.

An `Engine` maps a pure function over a stream of items and yields the results in input order,
holding at most a bounded window of items in flight. The pipeline hands it the prepare pass
(`corpus.prepare.prepare_batch` over batches of article texts); because the function is pure
and results come back in order, the output does not depend on which engine ran it or with how
many workers.

Local engines (`engines.local`) run in the calling thread or a pool of worker processes on this
machine and receive the batches' texts (a pool's large items and results travel as files,
`engines.transfer`). An engine whose workers run elsewhere sets `by_path`:
the pipeline then hands it partitions of the staged input (`corpus.partitions`) and the segment
LSH's band ranges and hash buckets (`match.buckets`); each task reads its inputs from the stage
folder and writes its results as Parquet parts next to them, so only paths cross the network.
The Dask engine lives with the Prefect flows (`flows/dedupe_flow.py`, `TaskEngine`), since it
runs these as Prefect tasks through prefect-dask's `DaskTaskRunner`.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Iterable, Iterator, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Engine(Protocol):
    """Runs batch work. Engines are context managers: leaving one releases its workers.

    An engine may set `by_path = True` to receive partition references instead of texts, and
    `workers` (its worker processes, when more than one) to get a few row groups cut into
    pieces so that every worker has work to the end of the prepare pass."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """fn(item) for every item, yielded in the order of `items`. `fn` must be picklable
        (a module-level function, or a partial of one) and its arguments too."""
        ...

    def __enter__(self) -> "Engine": ...

    def __exit__(self, *exc: object) -> None: ...


def in_order(submit: Callable[[T], Any], items: Iterable[T], window: int) -> Iterator[Any]:
    """The results of `submit(item)` futures (anything with `.result()`), yielded in the order
    of `items`, with at most `window` submitted and not yet yielded: memory stays bounded however
    long the stream. What an engine over a pool or a task runner does in its `map`."""
    pending: deque = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
