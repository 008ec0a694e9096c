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
differs, never the object. The engine removes its folder when it closes; a folder that a killed
run left behind is removed by the next engine that starts, once it has not changed for ten
minutes (`folder`).
"""

from __future__ import annotations

import itertools
import os
import pickle
import shutil
import tempfile
import time
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


PREFIX = "dedupe-transfer-"


def folder() -> str:
    """A new private folder for one engine's parcels: under /dev/shm when it is a writable
    directory (a tmpfs: the files never reach a disk), else in the temporary directory. Its
    name carries this process's id, and the folders of processes that no longer exist (a run
    killed before it could remove its own) are removed first: on a tmpfs they hold memory."""
    if os.path.isdir(SHARED_MEMORY) and os.access(SHARED_MEMORY, os.W_OK):
        try:
            return _new_folder(SHARED_MEMORY)
        except OSError:
            pass
    return _new_folder(tempfile.gettempdir())


def _new_folder(base: str) -> str:
    _remove_orphans(base)
    return tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base)


ORPHAN_AGE = 600  # seconds without a parcel coming or going before a folder can be an orphan


def _remove_orphans(base: str) -> None:
    """Remove the parcel folders in `base` whose process has ended and that have not changed
    for ORPHAN_AGE seconds. (The age also spares a live run in another PID namespace that
    shares this /dev/shm, such as another container of a pod: its folder changes with every
    batch.)"""
    try:
        names = [n for n in os.listdir(base) if n.startswith(PREFIX)]
    except OSError:
        return
    now = time.time()
    for name in names:
        pid = name[len(PREFIX):].split("-", 1)[0]
        path = os.path.join(base, name)
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if now - os.stat(path).st_mtime < ORPHAN_AGE:
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            remove(path)
        except OSError:  # gone meanwhile, or alive and another user's
            pass


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
