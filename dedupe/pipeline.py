"""The pipeline: stage functions that pass paths, and `run`, which chains them.

    ingest   input tree -> stage/input.parquet + stage/skipped.json      (io.readers, streamed)
    clean    stage -> stage/{documents,segments,clusters}.parquet + report.{json,md}
               corpus.build    segment, key and sign every batch          (on an engine)
               match.match     verified segment and document matches
               policy.decide   a role per segment, a kind per cluster
               io.tables       the three tables, one streaming pass
    publish  stage -> a new version of the output, switched in by one atomic rename

`run` and the Prefect flow (`flows/`) first check the paths (`check_paths`), then call the same
three functions inside the one output lifecycle (`io.staging.staged`: the output's lock, a hidden
staging directory inside it), so a failed or killed run leaves the previous output intact and
readers see the old set of files or the new one, never a mix.

Two seams choose where things live: a `History` (what the input is matched against besides
itself; `RunOnlyHistory` by default) and an `Engine` (where batch work runs; local processes by
default).
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator

from .config import Config, ConfigError
from .corpus import build as build_corpus
from .corpus.cache import PreparedCache
from .engines import Engine
from . import kernels
from .engines.local import local_engine, prestart_for, workers
from .history import History
from .history.run_only import RunOnlyHistory
from .io.readers import DocumentTable, InputError, check_input, read_inputs
from .io.staging import check_output, publish, staged
from .io.stores import DocumentStore, DocumentWriter
from .io.tables import OUTPUT_FILES, write_outputs
from .match import match
from .model import Document, Skip
from .policy import decide
from .report import Report

log = logging.getLogger("dedupe")

REPORT_FILES = ("report.json", "report.md")
PUBLISHED_FILES = OUTPUT_FILES + REPORT_FILES


def check_paths(input_dir: str | Path, output_dir: str | Path) -> None:
    """Fail with one clear line before any work: InputError when the input is missing, not a
    directory or holds no input files; OutputError when the output is a file or cannot be written
    (it, or the nearest existing folder it would be created in). Nothing is created."""
    check_input(Path(input_dir))  # not excluding the output: `ingest` warns once when it lies inside
    check_output(output_dir)


def ingest(input_dir: str | Path, stage: str | Path, config: Config,
           exclude: str | Path | None = None) -> Path:
    """Read every input below `input_dir` into `stage` (streamed); returns the staged file.
    `exclude` is a folder not to read (the output directory, when it lies inside the input).

    Raises InputError when the input cannot be read at all, or when `config.strict` is set and
    any input was skipped (nothing is written to the output in either case).
    """
    stage = Path(stage)
    path = stage / "input.parquet"
    writer = DocumentWriter(path, config.batch_docs)
    skips: list[Skip] = []
    try:
        with _stage("read"):
            prestart_for(input_dir, config)  # the worker pool's fork server loads while this reads
            for item in read_inputs(input_dir, config, Path(exclude) if exclude is not None else None, tables=True):
                if isinstance(item, Document):
                    writer.add(item)
                elif isinstance(item, DocumentTable):  # a JSONL file read whole
                    writer.add_table(item.table)
                else:
                    skips.append(item)
    finally:
        writer.close()
    if skips and config.strict:
        listing = "\n".join(f"  {s.source}: {s.reason}" for s in skips)
        raise InputError(f"{len(skips)} input(s) could not be read (strict mode):\n{listing}")
    if writer.count == 0:
        listing = "".join(f"\n  {s.source}: {s.reason}" for s in skips)
        raise InputError(f"no readable documents in {input_dir}{listing}")
    write_skips(stage, skips)
    log.info("read %d documents from %s (%d inputs skipped)", writer.count, input_dir, len(skips))
    return path


def write_skips(stage: Path, skips: list[Skip]) -> None:
    """The staged skip records that `clean` puts in the report."""
    (stage / "skipped.json").write_text(
        json.dumps([{"source": s.source, "reason": s.reason} for s in skips], ensure_ascii=False))


def clean(stage: str | Path, config: Config, history: History | None = None,
          engine: Engine | None = None, prepared: PreparedCache | None = None) -> Report:
    """Find duplicates in the staged input and write the output tables and report next to it.

    `history` defaults to this run plus the config's known boilerplate; `engine` to local
    worker processes when the input is large enough to pay for them; `prepared` keeps prepared
    batches between runs (`corpus.cache`)."""
    if engine is None and config.engine != "local":
        raise ConfigError(f"engine = {config.engine!r} runs only through the Prefect flow of `dedupe run "
                          f"--engine {config.engine}`: set engine = \"local\" here (or, from Python, pass an engine)")
    stage = Path(stage)
    docs = DocumentStore(stage / "input.parquet")
    skips = [Skip(**s) for s in json.loads((stage / "skipped.json").read_text())]
    history = history or RunOnlyHistory(config)
    with _stage("segment and sign"), \
            (nullcontext(engine) if engine is not None else local_engine(config, docs.row_groups)) as running:
        if getattr(running, "workers", 1) > 1:  # a local pool: this process mostly waits for it,
            kernels.load_in_background()        # so it loads what matching will need meanwhile
        built = build_corpus(stage, docs, config, history.known_texts(), running, prepared)
    # (a local pool is closed here, before matching needs the memory; a caller's engine stays
    # open, and one that takes paths runs the segment LSH too)
    log.info("%d segments of %d documents, %d distinct texts", built.n_occurrences, built.n_docs, built.n_texts)
    with _stage("match"):
        doc_matches, seg_matches = match(built, config, threads=workers(config), engine=engine)
    with _stage("decide"):
        doc_ids = [i for _, data in docs.iter_batches(("doc_id",)) for i in data["doc_id"]]
        decisions = decide(built, seg_matches, doc_matches, config, doc_ids)
    with _stage("write"):
        cluster_texts = write_outputs(stage, built, decisions, doc_ids)
    report = Report.build(built, decisions, skips, cluster_texts)
    log.info("%s", report.summary())
    (stage / "report.json").write_text(report.to_json(), encoding="utf-8")
    (stage / "report.md").write_text(report.to_markdown(), encoding="utf-8")
    return report


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Log a stage's start (debug) and its wall time (info)."""
    log.debug("%s ...", name)
    start = time.perf_counter()
    yield
    log.info("%s: %.1f s", name, time.perf_counter() - start)


def publish_outputs(stage: str | Path, output_dir: str | Path) -> str:
    """Publish the staged tables and report as the new set of `output_dir`; returns its version."""
    return publish(Path(stage), Path(output_dir), PUBLISHED_FILES)


def run(input_dir: str | Path, output_dir: str | Path, config: Config | None = None, *,
        history: History | None = None, engine: Engine | None = None) -> Report:
    """Clean the articles below `input_dir` and write the results to `output_dir`.

    The previous contents of `output_dir` stay intact unless the whole run succeeds; a second
    run into the same output while this one lasts is refused (OutputError).
    """
    config = config or Config()
    check_paths(input_dir, output_dir)
    with staged(output_dir) as stage:
        ingest(input_dir, stage, config, exclude=output_dir)
        report = clean(stage, config, history, engine)
        publish_outputs(stage, output_dir)
        return report
