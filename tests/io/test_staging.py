"""The output lifecycle (`io/staging.py`): publishing atomic as a set, the lock, stale staging,
signals, and the up-front output checks, on real file systems (a private mount namespace for
read-only mounts)."""

from __future__ import annotations

import functools
import logging
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from dedupe.io.staging import OutputError, check_output, publish, staged
from tests.conftest import ROOT

NAMES = ("documents.parquet", "segments.parquet", "report.json")


class Stopped(Exception):
    """The process stopping at a given rename."""


def full_set(tag: str) -> dict[str, str]:
    return {name: f"{tag} {name}" for name in NAMES}


def publish_set(out, tag: str) -> str:
    with staged(out) as stage:
        for name, text in full_set(tag).items():
            (stage / name).write_text(text)
        return publish(stage, out, NAMES)


def seen(out) -> dict[str, str | None]:
    """What a reader of the published names sees."""
    return {name: (out / name).read_text() if (out / name).exists() else None for name in NAMES}


def versions(out) -> set[str]:
    return {p.name for p in (out / ".versions").glob("*")}


def hidden_leftovers(out) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".staging-"))


def prepare(out, before: str) -> dict[str, str | None]:
    """An output as the previous run left it; returns what readers see in it."""
    if before == "published":
        publish_set(out, "old")
    elif before == "written by an older version":  # real files, no links
        out.mkdir()
        for name, text in full_set("old").items():
            (out / name).write_text(text)
    return seen(out)


@pytest.fixture
def dedupe_log(caplog, monkeypatch):
    """Warnings of the `dedupe` logger (the CLI tests turn its propagation off)."""
    monkeypatch.setattr(logging.getLogger("dedupe"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="dedupe")
    return caplog


@pytest.mark.parametrize("before", ["empty", "published", "written by an older version"])
def test_a_publish_stopped_at_any_rename_shows_the_old_set_or_the_new_one(tmp_path, monkeypatch, before):
    real_replace = os.replace
    shown = []
    for stop in range(50):
        out = tmp_path / f"stop{stop}"
        old = prepare(out, before)
        done = []

        def replace(src, dst):
            if len(done) == stop:
                raise Stopped
            done.append(dst)
            real_replace(src, dst)

        with monkeypatch.context() as patch:
            patch.setattr(os, "replace", replace)
            try:
                publish_set(out, "new")
                finished = True
            except Stopped:
                finished = False
        shown.append("new" if seen(out) == full_set("new") else "old")
        assert seen(out) in (old, full_set("new")), f"a mix after {stop} renames"
        assert hidden_leftovers(out) == []
        for version in versions(out):  # whole, or not there
            assert sorted(p.name for p in (out / ".versions" / version).iterdir()) == sorted(NAMES)
        publish_set(out, "new")  # the next run completes
        assert seen(out) == full_set("new")
        if finished:
            break
    assert shown[0] == "old" and shown[-1] == "new"


def test_versions_are_named_by_content_and_the_previous_one_is_kept(tmp_path):
    out = tmp_path / "out"
    a = publish_set(out, "a")
    b = publish_set(out, "b")
    assert a != b and versions(out) == {a, b}
    assert publish_set(out, "a") == a and versions(out) == {a, b}
    c = publish_set(out, "c")
    assert versions(out) == {c, a} and seen(out) == full_set("c")
    assert os.readlink(out / ".current") == f".versions/{c}"
    assert all(os.readlink(out / name) == f".current/{name}" for name in NAMES)


def test_a_second_run_into_the_same_output_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "out"
    holder = f"pid {os.getpid()} on {socket.gethostname()}"
    with staged(out) as stage:
        with pytest.raises(OutputError, match=rf"^output {re.escape(str(out))} is in use by another run "
                                              rf"\({re.escape(holder)}\)"):
            with staged(out):
                pass
        assert stage.is_dir()  # the refused run removed nothing
    assert (out / ".lock").read_text() == "" and hidden_leftovers(out) == []


def test_a_lock_and_staging_left_by_a_dead_run_are_recovered_with_warnings(tmp_path, dedupe_log):
    out = tmp_path / "out"
    stale = out / ".staging-killed"
    stale.mkdir(parents=True)
    (stale / "owner").write_text("pid 4194000 on elsewhere\n")
    (stale / "segments.parquet").write_bytes(b"half written")
    (out / ".lock").write_text("pid 4194000 on elsewhere\n")
    with staged(out) as stage:
        assert hidden_leftovers(out) == [stage.name]
        assert (out / ".lock").read_text().startswith(f"pid {os.getpid()} ")
    warnings = [r.getMessage() for r in dedupe_log.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("pid 4194000 on elsewhere" in w for w in warnings)
    assert "taking over the lock" in warnings[0] and "removing" in warnings[1]


@pytest.mark.parametrize("signum, raised", [(signal.SIGTERM, SystemExit), (signal.SIGINT, KeyboardInterrupt)])
def test_a_signal_unwinds_the_run_removes_its_staging_and_restores_the_handler(tmp_path, signum, raised):
    out = tmp_path / "out"
    # Python's own Ctrl-C handler, as an interactive process has it: a test runner started in
    # the background of a non-interactive shell inherits SIGINT ignored (left alone by design).
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        handler = signal.getsignal(signum)
        with pytest.raises(raised):
            with staged(out) as stage:
                os.kill(os.getpid(), signum)
                time.sleep(60)  # not reached: the handler raises first
        assert not stage.exists() and (out / ".lock").read_text() == ""
        assert signal.getsignal(signum) is handler
    finally:
        signal.signal(signal.SIGINT, inherited)


def test_handlers_are_left_alone_outside_the_main_thread_and_when_ignored(tmp_path):
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with staged(tmp_path / "a"):
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)
    inside = []

    def in_thread():
        with staged(tmp_path / "b"):
            inside.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert inside == [signal.getsignal(signal.SIGINT)]


def test_an_output_that_is_a_file_or_below_one_is_one_clear_line(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    with pytest.raises(OutputError, match=rf"^output is not a directory: {re.escape(str(afile))}$"):
        check_output(afile)
    with pytest.raises(OutputError, match=rf"^cannot create the output directory {re.escape(str(afile / 'out'))}: "
                                          rf"{re.escape(str(afile))} is not a directory$"):
        check_output(afile / "out")
    check_output(tmp_path / "new" / "out")
    assert not (tmp_path / "new").exists()  # checking creates nothing


@functools.lru_cache(maxsize=None)
def namespace_unavailable() -> str | None:
    """Why a private user and mount namespace with tmpfs mounts cannot be had here, or None."""
    try:
        done = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                              capture_output=True, text=True)
    except FileNotFoundError:
        return "unshare is not installed"
    return None if done.returncode == 0 else f"unshare -rm is not permitted here: {done.stderr.strip()}"


def in_namespace(mounts: list[str], code: str, *args: object) -> subprocess.CompletedProcess:
    """Python `code` run after the shell `mounts` in a private mount namespace (as its root), so
    read-only file systems and mount points can be made without privileges on the host."""
    if reason := namespace_unavailable():
        pytest.skip(reason)
    python = shlex.join([sys.executable, "-c", code, *map(str, args)])
    return subprocess.run(["unshare", "-rm", "sh", "-c", " && ".join([*mounts, python])],
                          capture_output=True, text=True, cwd=ROOT)


def test_an_unwritable_output_is_one_clear_line(tmp_path):
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    code = ("import sys\nfrom dedupe.io.staging import OutputError, check_output\n"
            "for path in sys.argv[1:]:\n"
            "    try:\n        check_output(path)\n    except OutputError as err:\n        print(err)\n")
    done = in_namespace([f"mount -t tmpfs -o ro tmpfs {readonly}"], code, readonly, readonly / "out")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"output directory is not writable: {readonly}",
        f"output directory is not writable: {readonly / 'out'} (it would be created in {readonly}, "
        "which is not writable)"]
