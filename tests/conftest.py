"""Shared fixtures. The Prefect harness is opt-in (only the flow tests use it): importing
prefect.testing costs seconds and starting its server ~20 s."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
SHARED = ROOT.parent / "shared"

# Prefect state never goes to the shared ~/.prefect, even for tests that only load the flows.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="dedupe-prefect-home-"))


@pytest.fixture(scope="session")
def seed_output(tmp_path_factory) -> Path:
    """The pipeline's output on the five sample articles in raw/ (run once per session)."""
    import dedupe

    out = tmp_path_factory.mktemp("seed-output")
    dedupe.run(RAW, out)
    return out


@pytest.fixture(scope="session")
def prefect_harness():
    from dedupe.cli import load_flows_module

    load_flows_module("settings").configure_prefect()  # offline settings before Prefect loads
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def write_articles(root: Path, articles: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def copy_raw(dest: Path) -> Path:
    shutil.copytree(RAW, dest)
    return dest
