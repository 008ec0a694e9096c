"""Prefect settings for running fully offline, applied only where the user has set nothing.

Prefect reads its settings from the environment first, then from the active profile
(`$PREFECT_HOME/profiles.toml`, `~/.prefect` by default). A user's choices in either are kept:
a `PREFECT_API_URL` in their profile sends runs to their server, their `PREFECT_HOME` keeps its
state. This module only fills in what neither sets: analytics off (offline, the server would
try a DNS lookup and log an error) and a start-up timeout long enough for the temporary API
server on 2 cores. Project-local state (`PREFECT_HOME=./.prefect`) is chosen by `make run` and the
tests, not here.

Pure Python, no Prefect import: it must run before Prefect loads its settings.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

OFFLINE_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The temporary API server takes 15-28 s to start on 2 cores; the default 20 s fails.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    # The library logs to the `dedupe` logger: through Prefect's handlers, into the flow run's logs.
    "PREFECT_LOGGING_EXTRA_LOGGERS": "dedupe",
}


class PrefectHomeError(RuntimeError):
    """Prefect's home directory cannot be written (its database and logs live there)."""


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def profile_settings() -> dict[str, str]:
    """The settings of the active Prefect profile (empty when there is no profiles file)."""
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or prefect_home() / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    name = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    return {key: str(value) for key, value in profiles.get("profiles", {}).get(name, {}).items()}


def configure_prefect() -> dict[str, str]:
    """Set each offline default that neither the environment nor the active profile sets;
    returns what was set."""
    configured = set(os.environ) | set(profile_settings())
    applied = {key: value for key, value in OFFLINE_DEFAULTS.items() if key not in configured}
    os.environ.update(applied)
    return applied


def check_prefect_home() -> None:
    """PrefectHomeError, in one line, when a temporary API server could not keep its database
    in Prefect's home: the run would otherwise fail inside the server with thousands of lines of
    database errors. Nothing to check when the user points Prefect at a server."""
    if "PREFECT_API_URL" in os.environ or "PREFECT_API_URL" in profile_settings():
        return
    home = prefect_home()
    probe = home / ".dedupe-write-check"
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise PrefectHomeError(f"Prefect's home {home} is not writable ({err.strerror}): set PREFECT_HOME "
                               "to a writable folder, or use --engine local") from None
