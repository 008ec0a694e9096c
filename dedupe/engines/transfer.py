"""Large items and results between the caller and its worker processes, through files.

A process pool sends every argument and result as one pickle through a pipe of 64 KB: a
prepared batch of 512 articles (7.5 MB, mostly arrays) crosses it in over a hundred
write/read round trips, each waking the other side, and the caller's reading thread needs the
GIL back after each one while the caller's main thread is busy. The worker waits for all of it
before it takes its next batch: 20 ms per batch, a sixth of the prepare pass at 60k paragraphs.

`put` pickles an object with protocol 5, its arrays as out-of-band buffers, into one file in the
engine's folder (`folder()`: in memory where the system has a tmpfs at /dev/shm) and returns a
`Parcel` naming it; `take` reads the file back, each array straight into its own buffer (no
copy after the read), and deletes the file. Objects smaller than INLINE_MAX, and any object
whose file cannot be written (a full tmpfs), travel in the pipe as before: only the speed
differs, never the object.
"""

from __future__ import annotations

import itertools
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

INLINE_MAX = 256 << 10  # bytes: below this a pickle crosses the pipe in a few round trips
SHARED_MEMORY = "/dev/shm"

_names = itertools.count()


@dataclass(frozen=True)
class Parcel:
    """An object pickled into `path`: the in-band pickle, then each out-of-band buffer, of the
    given sizes."""

    path: str
    sizes: tuple[int, ...]


def folder() -> str:
    """A new private folder for one engine's parcels: under /dev/shm when it is a writable
    directory (a tmpfs: the files never reach a disk), else in the temporary directory."""
    base = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) and os.access(SHARED_MEMORY, os.W_OK) else None
    try:
        return tempfile.mkdtemp(prefix="dedupe-transfer-", dir=base)
    except OSError:
        return tempfile.mkdtemp(prefix="dedupe-transfer-")


def remove(path: str) -> None:
    """Remove an engine's folder and any parcel left in it (a failed or abandoned run)."""
    shutil.rmtree(path, ignore_errors=True)


def put(obj: Any, into: str) -> Any:
    """`obj` as a Parcel in folder `into`, or `obj` itself when it is small or its file cannot
    be written."""
    buffers: list[pickle.PickleBuffer] = []
    try:
        head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
        raws = [b.raw() for b in buffers]
    except (pickle.PicklingError, AttributeError, TypeError, ValueError, BufferError):
        return obj  # the pool pickles it the usual way (and reports what cannot be pickled)
    sizes = (len(head), *(r.nbytes for r in raws))
    if sum(sizes) < INLINE_MAX:
        return obj
    path = os.path.join(into, f"{os.getpid()}-{next(_names)}")
    try:
        with open(path, "wb") as fh:
            fh.write(head)
            for raw in raws:
                fh.write(raw)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass
        return obj
    return Parcel(path, sizes)


def take(obj: Any) -> Any:
    """The object a `put` gave (a Parcel is read and its file deleted; anything else is
    returned as is)."""
    if not isinstance(obj, Parcel):
        return obj
    # One buffer per array, read straight into it: an array the caller keeps holds its own
    # memory, not the whole parcel's. (numpy's, not bytearrays: those are zeroed first.)
    parts = [np.empty(size, dtype=np.uint8) for size in obj.sizes]
    with open(obj.path, "rb", buffering=0) as fh:
        for part in parts:
            _read_into(fh, part, obj.path)
    os.unlink(obj.path)
    return pickle.loads(parts[0], buffers=parts[1:])


def _read_into(fh, part: np.ndarray, path: str) -> None:
    view, done = memoryview(part), 0
    while done < len(part):
        n = fh.readinto(view[done:])
        if not n:
            raise EOFError(f"{path}: the parcel ends early")
        done += n


def call(fn: Callable[[Any], Any], into: str, item: Any) -> Any:
    """In a worker: fn of the item a `put` gave, its result `put` back."""
    return put(fn(take(item)), into)
