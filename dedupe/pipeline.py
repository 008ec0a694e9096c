"""The pipeline as stage functions that pass paths, and `run`, which chains them.

    ingest   input tree -> staging/input.parquet + staging/skipped.json (streamed)
    clean    staging -> staging/{documents,segments,clusters}.parquet + report.json
             (one streaming pass to segment and sign, in worker processes; matching on
             compact arrays; one streaming pass to write)
    publish  staging -> output directory (atomic renames)

The Prefect flow (`flows/`) calls the same three functions as tasks; `run` calls them directly
for notebooks and other orchestrators.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .boilerplate import known_keys
from .config import Config
from .corpus import Corpus, build as build_corpus
from .matching import DocumentMatches, SegmentMatches, match_documents, match_segments
from .model import Document, Skip
from .policy import decide
from .readers import InputError, discover, read_inputs
from .report import Report
from .store import DocumentStore, DocumentWriter
from .writers import OUTPUT_FILES, publish, staging_dir, write_outputs
REPORT_FILES = ("report.json", "report.md")
MIN_BATCHES_FOR_POOL = 4  # below this, starting worker processes costs more than it saves


def ingest(input_dir: str | Path, stage: str | Path, config: Config) -> Path:
    """Read every input below `input_dir` into `stage` (streamed); returns the staged file.

    Raises InputError when the input cannot be read at all, or when `config.strict` is set and
    any input was skipped (nothing is written to the output in either case).
    """
    stage = Path(stage)
    path = stage / "input.parquet"
    writer = DocumentWriter(path, config.batch_docs)
    skips: list[Skip] = []
    try:
        for item in read_inputs(input_dir, config):
            if isinstance(item, Document):
                writer.add(item)
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
    (stage / "skipped.json").write_text(
        json.dumps([{"source": s.source, "reason": s.reason} for s in skips], ensure_ascii=False))
    return path


def clean(stage: str | Path, config: Config) -> Report:
    """Find duplicates in the staged input and write the output tables next to it."""
    stage = Path(stage)
    docs = DocumentStore(stage / "input.parquet")
    skips = [Skip(**s) for s in json.loads((stage / "skipped.json").read_text())]
    settings = config.to_dict()
    with _executor(config, docs.count) as executor:
        corpus = build_corpus(stage, docs, known_keys(config), settings, executor)
    doc_matches, seg_matches = _match(corpus, config)
    doc_ids = [i for _, data in docs.iter_batches(("doc_id",)) for i in data["doc_id"]]
    decisions = decide(corpus, seg_matches, doc_matches, config, doc_ids)
    write_outputs(stage, corpus, decisions, doc_ids)
    report = Report.build(corpus, decisions, skips)
    (stage / "report.json").write_text(report.to_json(), encoding="utf-8")
    (stage / "report.md").write_text(report.to_markdown(), encoding="utf-8")
    return report


def _match(corpus: Corpus, config: Config) -> tuple[DocumentMatches, SegmentMatches]:
    """Document matching, segment LSH and segment containment side by side in three threads
    when there are workers.

    They read disjoint parts of the corpus (documents vs keys vs passage sets) and spend most of
    their time in numpy sorts and compiled kernels, which release the GIL, so every core is used."""
    if _workers(config) < 2:
        return match_documents(corpus, config), match_segments(corpus, config)
    with ThreadPoolExecutor(2, thread_name_prefix="dedupe-match") as pool:
        documents = pool.submit(match_documents, corpus, config)
        segments = match_segments(corpus, config, pool)
        return documents.result(), segments


def _workers(config: Config) -> int:
    return config.workers or os.cpu_count() or 1


@contextmanager
def _executor(config: Config, n_docs: int) -> Iterator[Executor | None]:
    """A process pool for the prepare pass when there are enough batches to pay for starting it."""
    workers = _workers(config)
    if workers < 2 or n_docs <= MIN_BATCHES_FOR_POOL * config.batch_docs:
        yield None
        return
    # forkserver: forking a process that runs threads (Prefect's) can deadlock the child.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        yield pool


def publish_outputs(stage: str | Path, output_dir: str | Path) -> None:
    publish(Path(stage), Path(output_dir), OUTPUT_FILES + REPORT_FILES)


def run(input_dir: str | Path, output_dir: str | Path, config: Config | None = None) -> Report:
    """Clean the articles below `input_dir` and write the results to `output_dir`.

    The previous contents of `output_dir` stay intact unless the whole run succeeds.
    """
    config = config or Config()
    output_dir = Path(output_dir)
    discover(Path(input_dir))  # a missing input fails before any staging directory exists
    stage = staging_dir(output_dir)
    try:
        ingest(input_dir, stage, config)
        report = clean(stage, config)
        publish_outputs(stage, output_dir)
        return report
    finally:
        shutil.rmtree(stage, ignore_errors=True)
