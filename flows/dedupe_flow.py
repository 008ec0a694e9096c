"""The Prefect flow: ingest -> clean -> publish, thin tasks over `dedupe.pipeline`.

A deployment names it by file path, `flows/dedupe_flow.py:dedupe_flow`; the `dedupe run`
command (engine `prefect`, the default) loads it the same way. Prefect's offline settings are
applied by whoever starts Prefect (`flows/settings.py`), not by importing this file.

Tasks take and return paths and small dicts only (Prefect inspects task arguments; large
objects would cost seconds), and are not cached: the inputs are directories whose content
changes between runs.

Where the work runs is the config's `engine` (a deployment sets it in `overrides`):
- `local`: the clean task prepares batches in worker processes of this machine;
- `dask`: a subflow on prefect-dask's `DaskTaskRunner` runs `clean` with its batch work as
  Prefect tasks on a Dask cluster (the one at `scheduler`, or a `LocalCluster` of `workers`
  processes bound to 127.0.0.1): the prepare pass, one task per partition of the staged input
  (`dedupe.corpus.partitions`), and the segment LSH, one task per band range and per hash bucket
  (`dedupe.match.buckets`). Tasks pass paths; the stage folder (inside the output folder) must be
  visible to every worker. Union-find, document matching, the policy and the writers run in this
  process. The output is byte-identical to the local engine's whatever the number of
  partitions, buckets and workers.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from dedupe import pipeline
from dedupe.config import from_mapping, load_config
from dedupe.engines import in_order
from dedupe.engines.local import workers
from dedupe.io.staging import staged


@task(cache_policy=NO_CACHE)
def ingest(input_dir: str, stage: str, config: dict[str, Any], output_dir: str) -> str:
    return str(pipeline.ingest(input_dir, stage, from_mapping(config), exclude=output_dir))


@task(cache_policy=NO_CACHE)
def clean(stage: str, config: dict[str, Any]) -> dict[str, Any]:
    return _summary(pipeline.clean(stage, from_mapping(config)))


@task(name="part", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def run_part(fn: Callable[[Any], Any], part: Any) -> Any:
    """fn(part) on whichever worker the task runner picks: a partition of the prepare pass
    (`corpus.partitions.prepare_partition`, run name `prepare-partition-N`), a range of band
    values or a hash bucket of the segment LSH (`match.buckets`, `lsh-bands-N`, `lsh-bucket-N`).
    Each writes Parquet parts and returns their paths. A task whose worker died is run again by
    Dask; a task that raised, by these retries."""
    return fn(part)


class TaskEngine:
    """The library's `Engine` over Prefect tasks: each item is one `part` task (named for the
    item's `label`) submitted to the flow's task runner, at most `window` in flight, results in
    input order."""

    by_path = True  # the pipeline hands it partitions and hash buckets, and gets back paths

    def __init__(self, window: int) -> None:
        self.window = window

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return in_order(lambda item: run_part.with_options(task_run_name=item.label).submit(fn, item),
                        items, self.window)

    def __enter__(self) -> "TaskEngine":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def dask_task_runner(scheduler: str, workers: int) -> Any:
    """prefect-dask's runner: the cluster at `scheduler` as given, or a LocalCluster of `workers`
    single-threaded processes whose every port (scheduler, workers, the scheduler's HTTP health
    port) is bound to 127.0.0.1."""
    from prefect_dask import DaskTaskRunner

    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")  # workers inherit it; the user's value wins
    logging.getLogger("distributed").setLevel(os.environ["DASK_LOGGING__DISTRIBUTED"].upper())
    if scheduler:
        return DaskTaskRunner(address=scheduler)
    return DaskTaskRunner(cluster_kwargs={
        "n_workers": workers, "threads_per_worker": 1, "processes": True,
        "host": "127.0.0.1", "dashboard_address": None})


@flow(name="dedupe-clean-dask")
def clean_on_dask(stage: str, config: dict[str, Any], window: int) -> dict[str, Any]:
    """`clean` with its batch work as Prefect tasks on this subflow's Dask task runner."""
    with _api_for_workers():
        return _summary(pipeline.clean(stage, from_mapping(config), engine=TaskEngine(window)))


@contextmanager
def _api_for_workers() -> Iterator[None]:
    """Task runs on Dask workers report to this flow's API. When that is a temporary local server
    (no PREFECT_API_URL set), its address goes to the workers in the settings that travel with
    each task; otherwise every worker would start a temporary server of its own."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    with get_client(sync_client=True) as client:
        url = str(client.api_url)
    with temporary_settings({PREFECT_API_URL: url}):
        yield


def _warn_if_unreachable(scheduler: str, logger: Any) -> None:
    """A scheduler on another machine with no Prefect server configured: its workers will be
    handed this flow's temporary API on 127.0.0.1, which they cannot reach."""
    from urllib.parse import urlparse

    from prefect.settings import PREFECT_API_URL

    host = urlparse(scheduler).hostname or ""
    if scheduler and not PREFECT_API_URL.value() and host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("dedupe: the Dask scheduler %s is not on this machine, but Prefect runs a temporary "
                       "API server on 127.0.0.1 that its workers cannot reach: set PREFECT_API_URL to a "
                       "Prefect server the workers can reach", scheduler)


def _summary(report: Any) -> dict[str, Any]:
    return {"json": report.to_json(), "markdown": report.to_markdown(),
            "top_clusters": report.top_clusters, "summary": report.summary()}


@task(cache_policy=NO_CACHE)
def publish(stage: str, output_dir: str) -> str:
    return pipeline.publish_outputs(stage, output_dir)


def _window(config: Any) -> int:
    """Tasks in flight: enough to keep every worker busy while the driver reads results."""
    return 2 * workers(config) + 2


# A flow file is loaded by path under a module name workers cannot import: the task above must
# travel to Dask workers by value (its body calls only the installed `dedupe` library).
if __name__ in sys.modules:
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])


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
        if config.engine == "dask":
            _warn_if_unreachable(config.scheduler, logger)
            runner = dask_task_runner(config.scheduler, workers(config))
            report = clean_on_dask.with_options(task_runner=runner)(str(stage), settings, _window(config))
        else:
            report = clean(str(stage), settings)
        version = publish(str(stage), output_dir)
    logger.info("dedupe: %s (version %s)", report["summary"], version)
    create_markdown_artifact(report["markdown"], key="dedupe-report",
                             description="Documents read, clusters by kind, removals")
    if report["top_clusters"]:
        create_table_artifact(report["top_clusters"], key="dedupe-top-clusters",
                              description="Largest segment clusters")
    return {"output_dir": output_dir, "version": version, "report": report["json"]}
