"""The Prefect flow end to end under Prefect's test harness (a temporary local API)."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import RAW, ROOT, copy_raw


def _flow():
    """The flow as a deployment loads it: by entrypoint path, `flows` not being a package."""
    from prefect.flows import load_flow_from_entrypoint

    return load_flow_from_entrypoint(f"{ROOT / 'flows' / 'dedupe_flow.py'}:dedupe_flow")


@pytest.mark.usefixtures("prefect_harness")
def test_flow_run_writes_the_same_outputs_as_the_plain_function(tmp_path, seed_output):
    dedupe_flow = _flow()
    out = tmp_path / "parquet"
    result = dedupe_flow(input_dir=str(RAW), output_dir=str(out))
    for name in ("documents.parquet", "segments.parquet", "clusters.parquet", "report.json"):
        assert (out / name).read_bytes() == (seed_output / name).read_bytes(), name
    assert os.readlink(out / ".current") == f".versions/{result['version']}"
    assert not list(out.glob(".staging-*")) and (out / ".lock").read_text() == ""
    report = json.loads(result["report"])
    assert report["documents"] == 5 and report["segments_removed"] == 23
    assert report["removed_by_role"] == {"boilerplate": 10, "repeat": 13}


@pytest.mark.usefixtures("prefect_harness")
def test_flow_publishes_a_report_artifact_and_honours_config(tmp_path):
    from prefect.client.orchestration import get_client

    dedupe_flow = _flow()
    config = tmp_path / "dedupe.toml"
    config.write_text('repeat_action = "keep"\n')
    out = tmp_path / "parquet"
    result = dedupe_flow(input_dir=str(copy_raw(tmp_path / "raw")), output_dir=str(out),
                         config_path=str(config))
    assert json.loads(result["report"])["removed_by_role"] == {"boilerplate": 10}

    async def latest_report():
        async with get_client() as client:
            return await client.read_latest_artifacts()

    import asyncio

    artifacts = {a.key: a for a in asyncio.run(latest_report())}
    assert "documents read | 5" in artifacts["dedupe-report"].data
    assert "dedupe-top-clusters" in artifacts


@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_checks_the_output_first_and_takes_its_lock(tmp_path):
    from dedupe.io.staging import OutputError, staged

    dedupe_flow = _flow()
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    with pytest.raises(OutputError, match="^output is not a directory: "):
        dedupe_flow(input_dir=str(RAW), output_dir=str(afile))
    out = tmp_path / "parquet"
    with staged(out):
        with pytest.raises(OutputError, match=" is in use by another run "):
            dedupe_flow(input_dir=str(RAW), output_dir=str(out))


@pytest.mark.usefixtures("prefect_harness")
def test_a_failed_flow_run_removes_its_staging_and_releases_the_lock(tmp_path, monkeypatch):
    from dedupe import pipeline

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash while clustering")

    monkeypatch.setattr(pipeline, "clean", crash)
    out = tmp_path / "parquet"
    with pytest.raises(RuntimeError, match="simulated crash"):
        _flow()(input_dir=str(RAW), output_dir=str(out))
    assert not list(out.glob(".staging-*")) and (out / ".lock").read_text() == ""


@pytest.mark.usefixtures("prefect_harness")
def test_the_dedupe_command_runs_the_flow_it_loads_by_path(tmp_path, seed_output, capsys):
    from dedupe.cli import main

    out = tmp_path / "parquet"
    assert main(["run", "--input", str(RAW), "--output", str(out)]) == 0  # engine prefect
    assert "wrote" in capsys.readouterr().out
    for name in ("documents.parquet", "segments.parquet", "clusters.parquet"):
        assert (out / name).read_bytes() == (seed_output / name).read_bytes(), name


def test_the_flow_module_imports_nothing_of_its_own_and_sets_no_environment(tmp_path):
    import subprocess
    import sys

    code = ("import os, sys\nbefore = dict(os.environ)\n"
            "from prefect.flows import load_flow_from_entrypoint\n"
            f"flow = load_flow_from_entrypoint({str(ROOT / 'flows' / 'dedupe_flow.py')!r} + ':dedupe_flow')\n"
            "print(flow.name, 'flows' in sys.modules, sorted(set(os.environ) - set(before)))")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DO_NOT_TRACK"))}
    env["PREFECT_HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "dedupe-news False []"
