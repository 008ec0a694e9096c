"""Prefect as the user configured it: only missing settings are filled in."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import RAW, ROOT

SETTINGS = ROOT / "flows" / "settings.py"


def _prefect_env(home) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "DO_NOT_TRACK"}
    env["PREFECT_HOME"] = str(home)
    return env


def _resolved(env: dict[str, str], cwd) -> dict:
    """Apply flows/settings.py, then ask Prefect itself what it resolved (a fresh process)."""
    code = (f"import importlib.util, json, os\n"
            f"spec = importlib.util.spec_from_file_location('s', {str(SETTINGS)!r})\n"
            "s = importlib.util.module_from_spec(spec); spec.loader.exec_module(s)\n"
            "applied = s.configure_prefect()\n"
            "from prefect.settings import get_current_settings\n"
            "st = get_current_settings()\n"
            "print(json.dumps({'applied': applied, 'api_url': st.api.url, 'home': str(st.home),\n"
            "                  'analytics': st.server.analytics_enabled}))\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_user_profile_with_an_api_url_is_honoured(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "profiles.toml").write_text(
        'active = "mine"\n\n[profiles.mine]\nPREFECT_API_URL = "http://127.0.0.1:4299/api"\n'
        'PREFECT_SERVER_ANALYTICS_ENABLED = "true"\n')
    resolved = _resolved(_prefect_env(home), tmp_path)
    assert resolved["api_url"] == "http://127.0.0.1:4299/api"
    assert resolved["analytics"] is True  # the profile says so: not overridden
    assert resolved["home"] == str(home)
    assert "PREFECT_SERVER_ANALYTICS_ENABLED" not in resolved["applied"]
    assert resolved["applied"]["DO_NOT_TRACK"] == "1"


def test_without_a_profile_only_the_offline_defaults_are_added(tmp_path):
    resolved = _resolved(_prefect_env(tmp_path / "home"), tmp_path)
    assert resolved["api_url"] is None and resolved["analytics"] is False
    assert set(resolved["applied"]) == {"PREFECT_SERVER_ANALYTICS_ENABLED", "DO_NOT_TRACK",
                                        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
                                        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "PREFECT_LOGGING_EXTRA_LOGGERS"}
    assert not (tmp_path / ".prefect").exists()  # nothing in the working directory


def test_an_unwritable_prefect_home_is_one_line_before_prefect_starts(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = _prefect_env(blocker / "home")  # below a regular file: cannot be created, even as root
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Title\nBody.\n")
    done = subprocess.run([sys.executable, "-m", "dedupe", "run", "--input", str(tmp_path / "in"),
                           "--output", str(tmp_path / "out")], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"dedupe: error: Prefect's home {blocker / 'home'} is not writable")
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_read_only_working_directory_does_not_matter(tmp_path):
    """Prefect's state no longer goes to ./.prefect: a run from a read-only folder works."""
    cwd = tmp_path / "ro"
    cwd.mkdir()
    if subprocess.run(["chattr", "+i", str(cwd)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported on this file system")
    try:
        (tmp_path / "in").mkdir()
        (tmp_path / "in" / "a.txt").write_text("Title\nBody.\nLoad video\n")
        env = _prefect_env(tmp_path / "home")
        check = ("import importlib.util\n"
                 f"spec = importlib.util.spec_from_file_location('s', {str(SETTINGS)!r})\n"
                 "s = importlib.util.module_from_spec(spec); spec.loader.exec_module(s)\n"
                 "s.configure_prefect(); s.check_prefect_home(); print('ok')\n")
        done = subprocess.run([sys.executable, "-c", check], env=env, cwd=cwd, capture_output=True, text=True)
        assert done.stdout.strip() == "ok", done.stderr
        done = subprocess.run([sys.executable, "-m", "dedupe", "run", "--engine", "local", "-q", "--input",
                               str(tmp_path / "in"), "--output", str(tmp_path / "out")],
                              env=env, cwd=cwd, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "out" / "documents.parquet").exists() and list(cwd.iterdir()) == []
    finally:
        subprocess.run(["chattr", "-i", str(cwd)])


@pytest.mark.slow
def test_the_readme_run_command_runs_the_flow_and_exits_in_order(tmp_path):
    """`dedupe run` as `make run` calls it: the flow on its temporary API server, and an exit in
    the interpreter's order (the command skips it only for local runs): the run's last logs
    drain into the API before the exit handlers stop the server, with no 'Error logging to
    API' after it."""
    done = subprocess.run([sys.executable, "-m", "dedupe", "run", "--input", str(RAW), "--output",
                           str(tmp_path / "out")], env=_prefect_env(tmp_path / "home"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("dedupe: wrote ") and (tmp_path / "out" / "documents.parquet").exists()
    log = done.stdout + done.stderr
    assert "Stopping temporary server" in log
    assert "Error logging to API" not in log and "Traceback" not in log, log[-3000:]
