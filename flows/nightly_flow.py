"""The nightly Prefect flow: one incremental run of `dedupe.incremental.update` into Delta tables.

The deployment `dedupe-nightly/nightly` (prefect.yaml, `flows/serve.py`) names it by file path,
`flows/nightly_flow.py:dedupe_nightly`. Prefect's offline settings are applied by whoever starts
Prefect (`flows/settings.py`), not by importing this file.

The flow is thin: one task calls the library, which reads only the inputs that are new or
changed since the last run and commits to the tables under `table_dir` (documents/, segments/,
clusters/, runs/). The task passes paths and small dicts only and is not cached (its inputs are
directories whose content changes between runs). It is retried only when the input could not be
read (a mount not ready yet, a file being replaced): a bad configuration, a damaged table or a
table in use by another run fails at once.
"""

from __future__ import annotations

import json
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from dedupe.config import from_mapping, load_config
from dedupe.incremental import TableError, update
from dedupe.io.readers import InputError
from dedupe.io.staging import OutputError

OUTPUT_TABLES = ("documents", "segments", "clusters")
RETRIES = 2
RETRY_DELAY_SECONDS = 10


def _error(state: Any) -> BaseException | None:
    """The exception a failed task run state carries."""
    if isinstance(state.data, BaseException):
        return state.data
    try:
        state.result()
    except BaseException as err:  # noqa: BLE001 - we only classify it
        return err
    return None


def retry_on_input_error(task: Any, task_run: Any, state: Any) -> bool:
    """Retry when the input could not be read (InputError, OSError); never on a table error or
    a table locked by another run, where a retry cannot help."""
    error = _error(state)
    if isinstance(error, (TableError, OutputError)):
        return False
    return isinstance(error, (InputError, OSError))


@task(name="update-tables", cache_policy=NO_CACHE, retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS,
      retry_condition_fn=retry_on_input_error, tags=["dedupe", "nightly"])
def update_tables(input_dir: str, table_dir: str, config: dict[str, Any]) -> dict[str, Any]:
    """`dedupe.incremental.update` on paths; returns the run's row and report as plain data."""
    result = update(input_dir, table_dir, from_mapping(config))
    report = result.report  # None when nothing was new
    return {"run_id": result.run_id, "run": _plain(result.run),
            "markdown": report.to_markdown() if report is not None else _nothing_new(result.run),
            "summary": report.summary() if report is not None else "nothing new"}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """The row as JSON values (timestamps as ISO 8601 text)."""
    return json.loads(json.dumps(row, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def _nothing_new(run: dict[str, Any]) -> str:
    return (f"# Deduplication report\n\nRun {run.get('run_number')}: no input added or changed since the last run; "
            "the tables are unchanged.\n")


def _count(run: dict[str, Any], key: str) -> int:
    return int(run.get(key) or 0)


def _seconds(run: dict[str, Any]) -> float:
    return float(run.get("seconds_total") or 0.0)


def _rows_written(run: dict[str, Any]) -> str:
    """`documents +3 ~0 -0, segments ...`: rows inserted, updated and deleted per output table."""
    parts = [f"{t} +{_count(run, t + '_inserted')} ~{_count(run, t + '_updated')} -{_count(run, t + '_deleted')}"
             for t in OUTPUT_TABLES if f"{t}_inserted" in run]
    return ", ".join(parts) or "no rows"


@flow(name="dedupe-nightly", flow_run_name="nightly: {input_dir} -> {table_dir}", log_prints=False)
def dedupe_nightly(input_dir: str = "raw", table_dir: str = "tables",
                   config_path: str | None = None) -> dict[str, Any]:
    """Add the articles below `input_dir` that are new or changed since the last run to the Delta
    tables under `table_dir`; publish the run's `runs` row and its report as artifacts."""
    logger = get_run_logger()
    # Checked here, before the task: a bad configuration is not worth a retry. It crosses the task
    # boundary as its plain mapping (Prefect inspects task arguments).
    settings = load_config(config_path).to_dict()
    done = update_tables(input_dir, table_dir, settings)
    run = done["run"]
    logger.info("run %s (%s): inputs %d added, %d changed, %d unchanged, %d skipped",
                run.get("run_number"), done["run_id"], _count(run, "inputs_added"), _count(run, "inputs_changed"),
                _count(run, "inputs_unchanged"), _count(run, "inputs_skipped"))
    logger.info("rows written: %s; %.1f s; tables under %s", _rows_written(run), _seconds(run), table_dir)
    logger.info("dedupe: %s", done["summary"])
    # The report has its own artifact: the table shows the run's counts, versions and timings.
    row = {key: value for key, value in run.items() if not key.startswith("report_")}
    create_table_artifact([row], key="dedupe-runs",
                          description=f"This run's row of the runs table ({table_dir}/runs)")
    create_markdown_artifact(done["markdown"], key="dedupe-report",
                             description="Inputs read, clusters by kind, removals")
    return {"table_dir": table_dir, "run_id": done["run_id"], "run": run, "summary": done["summary"]}
