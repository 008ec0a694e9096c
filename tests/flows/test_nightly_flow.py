"""The nightly flow: under Prefect's test harness (fast), and as the deployment of prefect.yaml run by
a real server and a `process` worker (slow: `pytest -m slow`, part of `make test`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import RAW, ROOT

NIGHTLY = ROOT / "flows" / "nightly_flow.py"
DAY_1 = 3  # the first three sample articles arrive on day 1, the other two on day 2


def _flow():
    """The flow as the deployment loads it: by entrypoint path, `flows` not being a package."""
    from prefect.flows import load_flow_from_entrypoint

    return load_flow_from_entrypoint(f"{NIGHTLY}:dedupe_nightly")


def _deliver(input_root: Path, day: int) -> None:
    """Copy the articles that have arrived by `day` (1 or 2) into `input_root`."""
    input_root.mkdir(parents=True, exist_ok=True)
    articles = sorted(RAW.glob("*.txt"))
    for path in articles[:DAY_1] if day == 1 else articles:
        if not (input_root / path.name).exists():
            shutil.copy2(path, input_root / path.name)


def _rows(table: Path) -> list[dict]:
    from deltalake import DeltaTable

    return DeltaTable(str(table)).to_pyarrow_table().to_pylist()


def _check_tables(tables: Path) -> None:
    runs = sorted(_rows(tables / "runs"), key=lambda row: row["run_number"])
    assert len(runs) == 2
    assert (runs[0]["inputs_added"], runs[0]["inputs_changed"], runs[0]["inputs_unchanged"]) == (3, 0, 0)
    assert (runs[1]["inputs_added"], runs[1]["inputs_changed"], runs[1]["inputs_unchanged"]) == (2, 0, 3)
    assert len(_rows(tables / "documents")) == 5


# -- the flow under Prefect's test harness --------------------------------------------------------

@pytest.mark.usefixtures("prefect_harness")
def test_two_nightly_runs_add_new_inputs_and_publish_their_artifacts(tmp_path):
    import asyncio

    from prefect.client.orchestration import get_client

    flow = _flow()
    inputs, tables = tmp_path / "in", tmp_path / "tables"
    _deliver(inputs, 1)
    first = flow(input_dir=str(inputs), table_dir=str(tables))
    _deliver(inputs, 2)
    second = flow(input_dir=str(inputs), table_dir=str(tables))
    assert first["run"]["inputs_added"] == 3 and second["run"]["inputs_added"] == 2
    assert second["run"]["inputs_unchanged"] == 3 and second["run_id"] != first["run_id"]
    json.dumps(second)  # the flow's result is plain data
    _check_tables(tables)

    async def latest():
        async with get_client() as client:
            return await client.read_latest_artifacts()

    artifacts = {a.key: a for a in asyncio.run(latest())}
    runs_data = artifacts["dedupe-runs"].data
    rows = json.loads(runs_data) if isinstance(runs_data, str) else runs_data
    assert [row["run_number"] for row in rows] == [second["run"]["run_number"]]
    assert "documents read | 5" in artifacts["dedupe-report"].data

    third = flow(input_dir=str(inputs), table_dir=str(tables))  # nothing new: tables unchanged
    assert (third["run"]["inputs_added"], third["run"]["inputs_unchanged"]) == (0, 5)
    assert len(_rows(tables / "documents")) == 5
    artifacts = {a.key: a for a in asyncio.run(latest())}
    assert "no input added or changed" in artifacts["dedupe-report"].data


@pytest.mark.usefixtures("prefect_harness")
def test_unreadable_input_is_retried_and_a_table_error_is_not(tmp_path, monkeypatch):
    from dedupe.incremental import TableError
    from dedupe.io.readers import InputError
    from dedupe.io.staging import OutputError, staged

    flow = _flow()
    module = flow.fn.__globals__
    calls: list[str] = []
    real_update = module["update"]

    def flaky(input_dir, table_dir, config=None):
        calls.append(table_dir)
        if len(calls) == 1:
            raise InputError("input mount not ready")
        return real_update(input_dir, table_dir, config)

    monkeypatch.setitem(module, "update_tables", module["update_tables"].with_options(retry_delay_seconds=0))
    monkeypatch.setitem(module, "update", flaky)
    inputs = tmp_path / "in"
    _deliver(inputs, 1)
    assert flow(input_dir=str(inputs), table_dir=str(tmp_path / "tables"))["run"]["inputs_added"] == 3
    assert len(calls) == 2

    def damaged(input_dir, table_dir, config=None):
        calls.append(table_dir)
        raise TableError("tables are damaged")

    calls.clear()
    monkeypatch.setitem(module, "update", damaged)
    with pytest.raises(TableError, match="damaged"):
        flow(input_dir=str(inputs), table_dir=str(tmp_path / "tables"))
    assert len(calls) == 1

    def counted(input_dir, table_dir, config=None):
        calls.append(table_dir)
        return real_update(input_dir, table_dir, config)

    calls.clear()
    monkeypatch.setitem(module, "update", counted)
    with staged(tmp_path / "tables"):  # another run holds the tables' lock
        with pytest.raises(OutputError, match=" is in use by another run "):
            flow(input_dir=str(inputs), table_dir=str(tmp_path / "tables"))
    assert len(calls) == 1


@pytest.mark.usefixtures("prefect_harness")
def test_a_bad_config_fails_before_the_task(tmp_path):
    from dedupe.config import ConfigError

    config = tmp_path / "dedupe.toml"
    config.write_text("no_such_option = 1\n")
    with pytest.raises(ConfigError):
        _flow()(input_dir=str(RAW), table_dir=str(tmp_path / "tables"), config_path=str(config))
    assert not (tmp_path / "tables").exists()


# -- the deployment on a real server and worker ----------------------------------------------------

PREFECT = [sys.executable, "-m", "prefect"]
STARTUP_TIMEOUT = 180
RUN_TIMEOUT = 240
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Stack:
    """A Prefect server and worker started for one test, each in its own process group, and stopped
    by their process ids."""

    def __init__(self, root: Path):
        self.root = root
        self.port = _free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.processes: list[subprocess.Popen] = []
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "DO_NOT_TRACK"}
        self.env.update({
            "PREFECT_HOME": str(root / "prefect-home"),
            "PREFECT_API_URL": self.api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_CLI_PROMPT": "false",
            "PREFECT_UI_ENABLED": "false",
            # No cron runs: only the runs this test triggers (a 2 am run would use the default paths).
            "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "COLUMNS": "200",
        })

    def start(self, name: str, command: list[str], cwd: Path) -> subprocess.Popen:
        log = open(self.root / f"{name}.log", "wb")
        process = subprocess.Popen(command, cwd=cwd, env={**self.env, "PWD": str(cwd)}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.processes.append(process)
        return process

    def cli(self, args: list[str], cwd: Path, timeout: float = 120) -> str:
        done = subprocess.run(PREFECT + args, cwd=cwd, env={**self.env, "PWD": str(cwd)}, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def request(self, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.api}{path}", data=data, method="GET" if body is None else "POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def wait_healthy(self, server: subprocess.Popen) -> float:
        start = time.monotonic()
        while time.monotonic() - start < STARTUP_TIMEOUT:
            assert server.poll() is None, f"the server exited:\n{_tail(self.root / 'server.log')}"
            try:
                if self.request("/health") is True:
                    return time.monotonic() - start
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
        pytest.fail(f"no answer from {self.api}/health in {STARTUP_TIMEOUT} s:\n{_tail(self.root / 'server.log')}")

    def wait_for_run(self, flow_run_id: str, log: str = "worker") -> dict:
        start = time.monotonic()
        while time.monotonic() - start < RUN_TIMEOUT:
            run = self.request(f"/flow_runs/{flow_run_id}")
            if (run.get("state") or {}).get("type") in FINAL:
                return run
            time.sleep(1)
        pytest.fail(f"flow run {flow_run_id} not finished in {RUN_TIMEOUT} s:\n{self.diagnostics(flow_run_id, log)}")

    def run_deployment(self, name: str, args: list[str], log: str = "worker") -> dict:
        """`prefect deployment run NAME ARGS`; the flow run, once Completed."""
        out = self.cli(["deployment", "run", name, *args], ROOT)
        match = re.search(r"UUID:\s*([0-9a-f-]{36})", out)
        assert match, out
        run = self.wait_for_run(match.group(1), log)
        assert run["state"]["type"] == "COMPLETED", f"{run['state']}\n{self.diagnostics(match.group(1), log)}"
        return run

    def wait_for_deployment(self, name: str, ready, log: str = "serve") -> dict:
        start = time.monotonic()
        while time.monotonic() - start < STARTUP_TIMEOUT:
            try:
                deployment = self.request(f"/deployments/name/{name}")
                if ready(deployment):
                    return deployment
            except (OSError, ValueError):
                pass
            time.sleep(1)
        pytest.fail(f"deployment {name} not registered in {STARTUP_TIMEOUT} s:\n{_tail(self.root / f'{log}.log')}")

    def diagnostics(self, flow_run_id: str, log: str = "worker") -> str:
        try:
            logs = self.request("/logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "limit": 200})
            run_logs = "\n".join(f"{log['level']} {log['message']}" for log in logs)
        except (OSError, ValueError) as err:
            run_logs = f"(logs unavailable: {err})"
        return f"flow run logs:\n{run_logs}\n{log} log:\n{_tail(self.root / f'{log}.log')}"

    @staticmethod
    def stop_process(process: subprocess.Popen) -> None:
        """SIGTERM to the process's own group (a server's or worker's children too), SIGKILL after 20 s."""
        try:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        for process in reversed(self.processes):
            self.stop_process(process)


@pytest.mark.slow
def test_the_deployment_runs_nightly_on_a_server_and_a_process_worker():
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    nightly = {d["name"]: d for d in spec["deployments"]}["nightly"]
    pool = nightly["work_pool"]["name"]
    root = Path(tempfile.mkdtemp(prefix="dedupe-nightly-e2e-")).resolve()
    stack = Stack(root)
    timings: dict[str, float] = {}
    try:
        inputs, tables, elsewhere = root / "in", root / "tables", root / "worker-cwd"
        elsewhere.mkdir()
        t0 = time.monotonic()
        server = stack.start("server", PREFECT + ["server", "start", "--host", "127.0.0.1", "--port", str(stack.port)], root)
        timings["server start"] = stack.wait_healthy(server)
        t = time.monotonic()
        stack.cli(["work-pool", "create", pool, "--type", "process"], root)
        stack.cli(["--no-prompt", "deploy", "--all"], ROOT)  # from the project root, as the README says
        deployment = stack.request(f"/deployments/name/dedupe-nightly/{nightly['name']}")
        assert deployment["work_pool_name"] == pool and deployment["parameters"] == nightly["parameters"]
        assert deployment["job_variables"]["env"]["DEDUPE_PROJECT_DIR"] == str(ROOT)
        [schedule] = deployment["schedules"]
        assert schedule["schedule"]["cron"] == "0 2 * * *" and schedule["active"]
        timings["pool + deploy"] = time.monotonic() - t
        # Started away from the project: the pull step must find it.
        worker = stack.start("worker", PREFECT + ["worker", "start", "--pool", pool], elsewhere)

        for day in (1, 2):
            _deliver(inputs, day)
            t = time.monotonic()
            run = stack.run_deployment(f"dedupe-nightly/{nightly['name']}",
                                       ["--param", f"input_dir={inputs}", "--param", f"table_dir={tables}"])
            assert run["parameters"]["input_dir"] == str(inputs)
            timings[f"run {day}"] = time.monotonic() - t

        _check_tables(tables)
        artifacts = stack.request("/artifacts/filter", {"artifacts": {"key": {"any_": ["dedupe-runs"]}}})
        assert len(artifacts) == 2

        # Without a worker: flows/serve.py takes the deployment over, paths given relative to its cwd.
        stack.stop_process(worker)
        t = time.monotonic()
        stack.start("serve", [sys.executable, str(ROOT / "flows" / "serve.py"), "--input", "../in",
                              "--table", "../served-tables"], elsewhere)
        served = stack.wait_for_deployment(f"dedupe-nightly/{nightly['name']}",
                                           lambda d: d["parameters"].get("table_dir") == str(root / "served-tables"))
        assert served["parameters"]["input_dir"] == str(inputs) and served["work_pool_name"] is None
        [schedule] = served["schedules"]
        assert (schedule["schedule"]["cron"], schedule["schedule"]["timezone"]) == (
            nightly["schedules"][0]["cron"], nightly["schedules"][0]["timezone"])
        stack.run_deployment(f"dedupe-nightly/{nightly['name']}", [], log="serve")
        [row] = _rows(root / "served-tables" / "runs")
        assert row["inputs_added"] == 5 and len(_rows(root / "served-tables" / "documents")) == 5
        timings["serve + run"] = time.monotonic() - t
        timings["total"] = time.monotonic() - t0
        print("timings:", {k: round(v, 1) for k, v in timings.items()})
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)
