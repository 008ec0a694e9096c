"""The Prefect flow: ingest -> clean -> publish, thin tasks over `dedupe.pipeline`.

A deployment names it by file path, `flows/dedupe_flow.py:dedupe_flow`; the `dedupe run`
command (engine `prefect`, the default) loads it the same way. Prefect's offline settings are
applied by whoever starts Prefect (`flows/settings.py`), not by importing this file.

Tasks take and return paths and small dicts only (Prefect inspects task arguments; large
objects would cost seconds), and are not cached: the inputs are directories whose content
changes between runs.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from dedupe import pipeline
from dedupe.config import from_mapping, load_config
from dedupe.io.staging import staged


@task(cache_policy=NO_CACHE)
def ingest(input_dir: str, stage: str, config: dict[str, Any], output_dir: str) -> str:
    return str(pipeline.ingest(input_dir, stage, from_mapping(config), exclude=output_dir))


@task(cache_policy=NO_CACHE)
def clean(stage: str, config: dict[str, Any]) -> dict[str, Any]:
    report = pipeline.clean(stage, from_mapping(config))
    return {"json": report.to_json(), "markdown": report.to_markdown(),
            "top_clusters": report.top_clusters, "summary": report.summary()}


@task(cache_policy=NO_CACHE)
def publish(stage: str, output_dir: str) -> str:
    return pipeline.publish_outputs(stage, output_dir)


@flow(name="dedupe-news", log_prints=False)
def dedupe_flow(input_dir: str = "raw", output_dir: str = "parquet",
                config_path: str | None = None,
                overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Clean the articles below `input_dir` into Parquet files in `output_dir`, with the same
    checks, lock and atomic publish as `dedupe.run` (see `dedupe.pipeline`)."""
    logger = get_run_logger()
    config = load_config(config_path, **(overrides or {}))
    pipeline.check_paths(input_dir, output_dir)
    # Config crosses the task boundary as its plain mapping: Prefect hashes task arguments.
    settings = config.to_dict()
    with staged(output_dir) as stage:
        ingest(input_dir, str(stage), settings, output_dir)
        report = clean(str(stage), settings)
        version = publish(str(stage), output_dir)
    logger.info("dedupe: %s (version %s)", report["summary"], version)
    create_markdown_artifact(report["markdown"], key="dedupe-report",
                             description="Documents read, clusters by kind, removals")
    if report["top_clusters"]:
        create_table_artifact(report["top_clusters"], key="dedupe-top-clusters",
                              description="Largest segment clusters")
    return {"output_dir": output_dir, "version": version, "report": report["json"]}
