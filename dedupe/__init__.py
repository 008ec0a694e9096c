"""dedupe: near-duplicate and boilerplate cleaning for news text.

    >>> import dedupe
    >>> report = dedupe.run("raw", "parquet")            # doctest: +SKIP

Heavy modules (numpy, pyarrow, datasketch) are imported on first use, so `dedupe --help`
starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from .report import Report

__all__ = ["Config", "ConfigError", "load_config", "run"]
__version__ = "0.1.0"


def run(input_dir: Any, output_dir: Any, config: Config | None = None) -> "Report":
    """Clean the articles below `input_dir` and write the Parquet outputs to `output_dir`."""
    from .pipeline import run as _run

    return _run(input_dir, output_dir, config)
