"""dedupe: near-duplicate and boilerplate cleaning for news text.

    >>> import dedupe
    >>> report = dedupe.run("raw", "parquet")            # doctest: +SKIP

The library is organised by stage (see the README, "How it works"):

    io/          readers, staging, on-disk stores, output tables
    text/        normalisation, segments, templates, near copies, known boilerplate
    sketch/      hashing, shingles, MinHash, exact set measures, LSH, containment candidates
    corpus/      the prepare pass and corpus assembly
    match/       segment and document matches
    policy.py    roles, kinds, what is removed
    report.py    the run report
    pipeline.py  the stages and the staging lifecycle; `run`
    engines/     where batch work runs          history/   what input is matched against
    kernels/     compiled loops and the rule for when they run
    evaluation/  accuracy against labels        cli.py     the `dedupe` command

Heavy modules (numpy, pyarrow, datasketch) are imported on first use, so `dedupe --help`
starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from .engines import Engine
    from .history import History
    from .report import Report

__all__ = ["Config", "ConfigError", "load_config", "run"]
__version__ = "0.1.0"


def run(input_dir: Any, output_dir: Any, config: Config | None = None, *,
        history: "History | None" = None, engine: "Engine | None" = None) -> "Report":
    """Clean the articles below `input_dir` and write the Parquet outputs to `output_dir`."""
    from .pipeline import run as _run

    return _run(input_dir, output_dir, config, history=history, engine=engine)
