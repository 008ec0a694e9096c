"""The pipeline as stage functions that pass paths, and `run`, which chains them.

    ingest   input tree -> staging/input.parquet + staging/skipped.json
    clean    staging -> staging/{documents,segments,clusters}.parquet + report.json
    publish  staging -> output directory (atomic renames)

The Prefect flow (`flows/`) calls the same three functions as tasks; `run` calls them directly
for notebooks and other orchestrators.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .boilerplate import known_keys
from .config import Config
from .corpus import Corpus
from .matching import match_documents, match_segments
from .model import Document, Skip
from .policy import decide
from .readers import InputError, read_inputs
from .report import Report
from .shingles import TokenHasher
from .writers import (OUTPUT_FILES, clusters_table, documents_table, publish, segments_table,
                      staging_dir, write_table)

INPUT_SCHEMA = pa.schema([("doc_id", pa.string()), ("source", pa.string()),
                          ("title", pa.string()), ("text", pa.string())])
REPORT_FILES = ("report.json", "report.md")


def ingest(input_dir: str | Path, stage: str | Path, config: Config) -> Path:
    """Read every input below `input_dir` into `stage`; returns the staged input table's path.

    Raises InputError when the input cannot be read at all, or when `config.strict` is set and
    any input was skipped (nothing is written to the output in either case).
    """
    stage = Path(stage)
    docs: list[Document] = []
    skips: list[Skip] = []
    for item in read_inputs(input_dir, config):
        (docs if isinstance(item, Document) else skips).append(item)
    if skips and config.strict:
        listing = "\n".join(f"  {s.source}: {s.reason}" for s in skips)
        raise InputError(f"{len(skips)} input(s) could not be read (strict mode):\n{listing}")
    if not docs:
        listing = "".join(f"\n  {s.source}: {s.reason}" for s in skips)
        raise InputError(f"no readable documents in {input_dir}{listing}")
    path = stage / "input.parquet"
    table = pa.Table.from_pydict({
        "doc_id": [d.doc_id for d in docs], "source": [d.source for d in docs],
        "title": [d.title for d in docs], "text": [d.text for d in docs],
    }, schema=INPUT_SCHEMA)
    pq.write_table(table, path)
    (stage / "skipped.json").write_text(
        json.dumps([{"source": s.source, "reason": s.reason} for s in skips], ensure_ascii=False))
    return path


def clean(stage: str | Path, config: Config) -> Report:
    """Find duplicates in the staged input and write the output tables next to it."""
    stage = Path(stage)
    table = pq.read_table(stage / "input.parquet").to_pydict()
    docs = [Document(*row) for row in zip(table["doc_id"], table["source"], table["title"], table["text"])]
    skips = [Skip(**s) for s in json.loads((stage / "skipped.json").read_text())]

    corpus = Corpus.build(docs, config.segmentation)
    hasher = TokenHasher()
    doc_matches = match_documents(corpus, config, hasher)
    seg_matches = match_segments(corpus, known_keys(config), config, hasher)
    decisions = decide(corpus, seg_matches, doc_matches, config)

    write_table(documents_table(corpus, decisions), stage / "documents.parquet")
    write_table(segments_table(corpus, decisions), stage / "segments.parquet")
    write_table(clusters_table(decisions), stage / "clusters.parquet")
    report = Report.build(corpus, decisions, skips)
    (stage / "report.json").write_text(report.to_json(), encoding="utf-8")
    (stage / "report.md").write_text(report.to_markdown(), encoding="utf-8")
    return report


def publish_outputs(stage: str | Path, output_dir: str | Path) -> None:
    publish(Path(stage), Path(output_dir), OUTPUT_FILES + REPORT_FILES)


def run(input_dir: str | Path, output_dir: str | Path, config: Config | None = None) -> Report:
    """Clean the articles below `input_dir` and write the results to `output_dir`.

    The previous contents of `output_dir` stay intact unless the whole run succeeds.
    """
    config = config or Config()
    output_dir = Path(output_dir)
    if not Path(input_dir).is_dir():
        # Checked before creating any staging directory next to the output.
        read_inputs(input_dir, config).__next__()
    stage = staging_dir(output_dir)
    try:
        ingest(input_dir, stage, config)
        report = clean(stage, config)
        publish_outputs(stage, output_dir)
        return report
    finally:
        import shutil
        shutil.rmtree(stage, ignore_errors=True)
