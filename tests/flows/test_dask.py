"""The Dask engine: the flow's prepare pass as Prefect tasks on a real Dask cluster gives the local
engine's bytes, survives a killed worker, and listens on 127.0.0.1 only.

The cluster tests start a real `dask scheduler` and two `dask worker` processes on 127.0.0.1 and
stop them by PID (slow: `pytest -m slow`, part of `make test`). Their input is the development
benchmark when the research corpora are beside the project, and otherwise variants of the five
sample articles (exact and near copies, repeats), cut into many small partitions either way.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

import dedupe
from dedupe.cli import load_flows_module
from dedupe.config import Config
from tests.conftest import RAW, ROOT, SHARED

OUTPUTS = ("documents.parquet", "segments.parquet", "clusters.parquet", "report.json")
CORPORA = SHARED / "corpora"
DASK = Path(sys.executable).with_name("dask")


def _hashes(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in OUTPUTS}


def _sample_variants(root: Path) -> Path:
    """Eight copies of each sample article: as is, exact, and with paragraphs dropped or moved."""
    for n, path in enumerate(sorted(RAW.glob("*.txt"))):
        paragraphs = path.read_text(encoding="utf-8").split("\n")
        for copy in range(8):
            body = list(paragraphs)
            if copy >= 2:
                del body[(copy * 3) % len(body)]
            if copy >= 5:
                body.append(body.pop(1))
            target = root / f"outlet-{copy}" / f"{n}-{path.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(body), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> tuple[Path, Path, int]:
    """(input, the local engine's output, batch_docs): the development benchmark when available."""
    root = tmp_path_factory.mktemp("dask-bench")
    if (CORPORA / "bbc").is_dir():
        built = subprocess.run([sys.executable, str(ROOT / "bench" / "devset" / "make_devset.py"), "--out",
                                str(root / "devset"), "--corpora", str(CORPORA), "--quiet"],
                               capture_output=True, text=True, timeout=600)
        assert built.returncode == 0, built.stderr
        inputs, batch_docs = root / "devset" / "articles", 8
    else:
        inputs, batch_docs = _sample_variants(root / "variants"), 1
    local = root / "local"
    dedupe.run(inputs, local, Config(batch_docs=batch_docs))
    return inputs, local, batch_docs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dask_cluster(logs: Path, workers: int = 2) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A `dask scheduler` and `workers` single-threaded `dask worker` processes on 127.0.0.1,
    healthy when yielded (every worker registered), stopped by PID afterwards."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                       "--no-dashboard"], stdout=subprocess.DEVNULL,
                                      stderr=open(logs / "scheduler.log", "w")))
        for i in range(workers):
            procs.append(subprocess.Popen([str(DASK), "worker", address, "--name", f"w{i}", "--nthreads", "1",
                                           "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"],
                                          stdout=subprocess.DEVNULL, stderr=open(logs / f"w{i}.log", "w")))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address, procs[1:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for proc in procs:
            proc.wait(timeout=30)


def _run_on(address: str, inputs: Path, out: Path, batch_docs: int, tmp_path: Path) -> subprocess.Popen:
    config = tmp_path / "dask.toml"
    config.write_text(f"batch_docs = {batch_docs}\n")
    return subprocess.Popen([sys.executable, "-m", "dedupe", "run", "--engine", "dask", "--scheduler", address,
                             "--input", str(inputs), "--output", str(out), "--config", str(config), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_real_dask_cluster_gives_the_local_engines_bytes(bench, tmp_path):
    inputs, local, batch_docs = bench
    with dask_cluster(tmp_path / "logs") as (address, _):
        run = _run_on(address, inputs, tmp_path / "out", batch_docs, tmp_path)
        _, err = run.communicate(timeout=600)
    assert run.returncode == 0, err[-3000:]
    assert _hashes(tmp_path / "out") == _hashes(local)
    # the partitions ran on the workers, not in the driver
    ran = sum((tmp_path / "logs" / f"w{i}.log").read_text().count("prepare-partition-") for i in range(2))
    assert ran >= 2


@pytest.mark.slow
def test_without_a_scheduler_a_local_cluster_gives_the_local_engines_bytes(tmp_path):
    """`--engine dask` alone: the flow starts a LocalCluster of --workers processes itself."""
    inputs = _sample_variants(tmp_path / "variants")
    config = tmp_path / "c.toml"
    config.write_text("batch_docs = 4\n")
    dedupe.run(inputs, tmp_path / "local", Config(batch_docs=4))
    run = subprocess.run([sys.executable, "-m", "dedupe", "run", "--engine", "dask", "--workers", "2", "--input",
                          str(inputs), "--output", str(tmp_path / "out"), "--config", str(config), "-v"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert _hashes(tmp_path / "out") == _hashes(tmp_path / "local")
    log = run.stdout + run.stderr
    assert "partitions prepared by path" in log and "segment LSH:" in log  # the work went to the cluster


@pytest.mark.slow
def test_a_worker_killed_while_signing_does_not_fail_the_run(bench, tmp_path):
    inputs, local, batch_docs = bench
    out = tmp_path / "out"
    with dask_cluster(tmp_path / "logs") as (address, workers):
        run = _run_on(address, inputs, out, batch_docs, tmp_path)
        done_at_kill = None
        deadline = time.monotonic() + 600
        while run.poll() is None and time.monotonic() < deadline:
            done = len(list(out.glob(".*/parts/0*")))
            if done_at_kill is None and done:
                os.kill(workers[1].pid, signal.SIGKILL)  # during the signing stage
                done_at_kill = done
            time.sleep(0.02)
        _, err = run.communicate(timeout=60)
        assert workers[1].wait(timeout=30) == -signal.SIGKILL
    assert run.returncode == 0, err[-3000:]
    assert done_at_kill is not None
    total = -(-sum(1 for _ in inputs.rglob("*.txt")) // batch_docs)
    assert done_at_kill < total  # killed mid-stage, with partitions still to prepare
    assert _hashes(out) == _hashes(local)


def test_the_local_cluster_listens_on_127_0_0_1_only():
    """The LocalCluster that `--engine dask` starts without a scheduler address: every socket its
    scheduler (this process: its comm and HTTP health port) and workers listen on is bound to
    127.0.0.1."""
    import psutil
    from distributed import LocalCluster

    runner = load_flows_module("dedupe_flow").dask_task_runner("", 2)
    before = {c.laddr for c in psutil.Process().net_connections("inet") if c.status == psutil.CONN_LISTEN}
    with LocalCluster(**runner.cluster_kwargs) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert len(cluster.workers) == 2
        procs = [psutil.Process()] + psutil.Process().children(recursive=True)
        listening = {(p.pid, c.laddr) for p in procs for c in p.net_connections("inet")
                     if c.status == psutil.CONN_LISTEN} - {(os.getpid(), a) for a in before}
        assert listening and all(addr.ip == "127.0.0.1" for _, addr in listening), listening


def test_the_dask_runner_uses_a_given_scheduler_as_given():
    runner = load_flows_module("dedupe_flow").dask_task_runner("tls://dask.example.org:8786", 0)
    assert runner.address == "tls://dask.example.org:8786" and not runner.cluster_kwargs


class _Logger:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str, *args) -> None:
        self.warnings.append(message % args)


def test_a_remote_scheduler_without_a_prefect_server_is_warned_about(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    warn = load_flows_module("dedupe_flow")._warn_if_unreachable
    for scheduler, warned in (("tcp://10.0.0.5:8786", True), ("tls://dask.example.org:8786", True),
                              ("tcp://127.0.0.1:8786", False), ("", False)):
        logger = _Logger()
        warn(scheduler, logger)
        assert bool(logger.warnings) == warned, scheduler
    logger = _Logger()
    warn("tcp://10.0.0.5:8786", logger)
    assert "set PREFECT_API_URL" in logger.warnings[0] and "tcp://10.0.0.5:8786" in logger.warnings[0]
