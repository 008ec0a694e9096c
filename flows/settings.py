"""Prefect settings for running fully offline on a laptop or CI machine.

Each is set only when the environment does not set it already, so a user pointing
PREFECT_API_URL at a real server, or choosing another PREFECT_HOME, keeps their choice.
"""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE_DEFAULTS = {
    # No telemetry: the server would otherwise try a DNS lookup and log an error offline.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # The ephemeral API server takes 15-28 s to start on 2 cores; the default 20 s fails.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}


def configure_prefect(home: str | Path | None = None) -> None:
    """Apply the offline defaults; state goes to `home` or ./.prefect, never ~/.prefect."""
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("PREFECT_HOME", str(Path(home) if home else Path.cwd() / ".prefect"))
