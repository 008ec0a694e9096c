"""The output lifecycle: one run at a time per output directory, its work staged inside that
directory, and a publish that readers see as one atomic switch of the whole set of files.

An output directory OUT holds:

    documents.parquet -> .current/documents.parquet    each published name, a fixed link
    .current -> .versions/<version>                    the published set
    .versions/<version>/                               whole sets: the current one and the previous
    .staging-<random>/                                 a running run's work, with its owner
    .lock                                              the run holding OUT, if any

Publishing is atomic as a set because every published name resolves through the one `.current`
link, and a version directory appears whole (one rename of a finished directory) and disappears
whole (one rename into the staging directory, deleted with it): switching `.current` is one
`os.replace`, so at any instant every name shows the old set or every name shows the new one.

Staging lives inside OUT, so no rename crosses a file system (OUT may be a mount point) and
nothing is written to OUT's parent (which may be read-only); its name is hidden, so globs and
hive-partitioned readers over folders of outputs never see it.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

log = logging.getLogger("dedupe")

CURRENT = ".current"
VERSIONS = ".versions"
STAGING_PREFIX = ".staging-"
LOCK = ".lock"
OWNER = "owner"


class OutputError(Exception):
    """The output directory cannot be used: it is a file, it is not writable, or another run
    holds it."""


def _owner() -> str:
    """This process, as recorded in the lock and in its staging directory."""
    return f"pid {os.getpid()} on {socket.gethostname()}"


def check_output(output_dir: str | Path) -> None:
    """Raise OutputError unless `output_dir` is a writable directory or can be created as one."""
    output_dir = Path(output_dir)
    if os.path.lexists(output_dir) and not output_dir.is_dir():
        raise OutputError(f"output is not a directory: {output_dir}")
    existing = next(p for p in (output_dir, *output_dir.parents) if os.path.lexists(p))
    if not existing.is_dir():
        raise OutputError(f"cannot create the output directory {output_dir}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "" if existing == output_dir else f" (it would be created in {existing}, which is not writable)"
        raise OutputError(f"output directory is not writable: {output_dir}{where}")


@contextmanager
def staged(output_dir: str | Path) -> Iterator[Path]:
    """One run into `output_dir`: holds its lock, removes staging left by killed runs, and
    yields a fresh staging directory inside it, removed when the run ends (published or not),
    on SIGTERM and SIGINT too."""
    output_dir = Path(output_dir)
    with _signals_unwind():
        output_dir.mkdir(parents=True, exist_ok=True)
        with _locked(output_dir):
            _remove_stale_staging(output_dir)
            stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=output_dir))
            try:
                (stage / OWNER).write_text(_owner() + "\n")
                yield stage
            finally:
                shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def _signals_unwind() -> Iterator[None]:
    """While a run lasts, SIGTERM and SIGINT raise in the main thread (after any Python handler
    installed before, such as the KeyboardInterrupt of SIGINT) instead of ending the process on
    the spot, so `finally` blocks remove the staging directory and release the lock.

    Only the main thread can set handlers: elsewhere (a Prefect task thread) cleanup relies on
    `finally` and on the next run. Ignored signals stay ignored, handlers set outside Python are
    left alone, and the previous handlers come back when the run ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, object] = {}

    def unwind(signum: int, frame: object) -> None:
        handler = previous[signum]
        if callable(handler):
            handler(signum, frame)
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        handler = signal.getsignal(signum)
        if callable(handler) or handler == signal.SIG_DFL:
            previous[signum] = signal.signal(signum, unwind)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def _locked(output_dir: Path) -> Iterator[None]:
    """Hold `output_dir/.lock` for the run; a second run into the same output is refused with
    the holder named.

    The lock is an flock, which the kernel releases when its holder dies, however it dies (a PID
    check could take a reused PID for the holder). The file names the holder while it runs and is
    emptied when it ends, so a file still naming a holder when the lock is free was left by a run
    that died: it is taken over with a warning."""
    fd = os.open(output_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_fd(fd) or "holder unknown"
            raise OutputError(f"output {output_dir} is in use by another run ({holder}); "
                              "wait for it to finish or choose another output") from None
        except OSError as err:
            raise OutputError(f"cannot lock output {output_dir}: {err.strerror}") from None
        left = _read_fd(fd)
        if left:
            log.warning("taking over the lock of %s left by a run that did not finish (%s)", output_dir, left)
        record = (_owner() + "\n").encode()
        os.pwrite(fd, record, 0)
        os.ftruncate(fd, len(record))
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


def _read_fd(fd: int) -> str:
    return os.pread(fd, 4096, 0).decode(errors="replace").strip()


def _remove_stale_staging(output_dir: Path) -> None:
    """Remove the staging directories of runs that were killed (kill -9, a lost machine). Called
    with the lock held: every run stages only while holding it, so none of them is running."""
    for stale in sorted(output_dir.glob(STAGING_PREFIX + "*")):
        recorded = stale / OWNER
        left_by = recorded.read_text().strip() if recorded.is_file() else "owner unknown"
        log.warning("removing %s, left by a run that did not finish (%s)", stale, left_by)
        shutil.rmtree(stale, ignore_errors=True)


def publish(stage: Path, output_dir: Path, names: Sequence[str]) -> str:
    """Publish the staged files `names` as the output's new set; returns its version.

    Until the switch in step 4 every name shows the old set, after it the new one, wherever the
    process stops:
    1. the staged files become `.versions/<version>` (one directory rename);
    2. names left as real files by an earlier version of the tool become a version of their own;
    3. each name becomes a link through `.current` (still showing the old set);
    4. `.current` switches to the new version (one rename);
    5. versions but the new and the previous one (kept for readers in flight) are removed.
    """
    sealed = stage / "sealed"
    sealed.mkdir()
    for name in names:
        os.replace(stage / name, sealed / name)
    version = _store_version(sealed, output_dir, names)
    _adopt_real_files(stage, output_dir, names)
    _link_names(stage, output_dir, names)
    previous = _current_version(output_dir)
    _link(stage, f"{VERSIONS}/{version}", output_dir / CURRENT)
    _remove_versions(stage, output_dir, keep={version, previous})
    return version


def _current_version(output_dir: Path) -> str | None:
    """The version `.current` names, or None before the first publish."""
    link = output_dir / CURRENT
    return Path(os.readlink(link)).name if link.is_symlink() else None


def _store_version(directory: Path, output_dir: Path, names: Sequence[str]) -> str:
    """Rename the finished `directory` to `.versions/<version>`, the version being a hash of the
    files' names and bytes: the same output gets the same version (a directory that exists
    already holds exactly these files) and the files carry no run id or time."""
    digest = hashlib.sha256()
    for name in names:
        path = directory / name
        digest.update(f"{name}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
    version = digest.hexdigest()[:16]
    target = output_dir / VERSIONS / version
    if not target.exists():
        target.parent.mkdir(exist_ok=True)
        os.replace(directory, target)
    return version


def _adopt_real_files(stage: Path, output_dir: Path, names: Sequence[str]) -> None:
    """An output written by an earlier version of the tool holds real files under the names:
    they become a version (hard links, so no name changes what it shows) and `.current` points at
    it, so that step 3 can turn each name into a link without showing a mix."""
    real = [name for name in names if (output_dir / name).is_file() and not (output_dir / name).is_symlink()]
    if not real or os.path.lexists(output_dir / CURRENT):
        return
    adopted = stage / "adopted"
    adopted.mkdir()
    for name in real:
        try:
            os.link(output_dir / name, adopted / name)
        except OSError:  # a file system without hard links
            shutil.copy2(output_dir / name, adopted / name)
    _link(stage, f"{VERSIONS}/{_store_version(adopted, output_dir, real)}", output_dir / CURRENT)


def _link_names(stage: Path, output_dir: Path, names: Sequence[str]) -> None:
    for name in names:
        path, target = output_dir / name, f"{CURRENT}/{name}"
        if not (path.is_symlink() and os.readlink(path) == target):
            _link(stage, target, path)


def _link(stage: Path, target: str, path: Path) -> None:
    """Make `path` a relative symlink to `target` in one rename (the link is made in the staging
    directory, on the same file system, so a stop leaves no half-made link in the output)."""
    made = stage / f"link-{path.name}"
    os.symlink(target, made)
    os.replace(made, path)


def _remove_versions(stage: Path, output_dir: Path, keep: set[str | None]) -> None:
    """Remove every version not in `keep`, each by one rename into the staging directory, so a
    version directory is never seen half deleted."""
    for path in sorted((output_dir / VERSIONS).iterdir()):
        if path.name not in keep:
            os.replace(path, stage / f"removed-{path.name}")
