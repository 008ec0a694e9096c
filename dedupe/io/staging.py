"""The staging lifecycle: every run writes into a fresh staging directory, and its files are
moved into the output directory only when the whole run succeeded.

The staging directory sits beside the output directory (same file system), so publishing is an
`os.replace` per file and a crash before it leaves the previous output untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator


def staging_dir(output_dir: Path) -> Path:
    """A fresh directory beside `output_dir`."""
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.staging-", dir=output_dir.parent))


@contextmanager
def staged(output_dir: str | Path) -> Iterator[Path]:
    """A staging directory for one run into `output_dir`, removed when the run ends (published
    or not)."""
    stage = staging_dir(Path(output_dir))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish(staged_dir: Path, output_dir: Path, names: Iterable[str]) -> None:
    """Move the staged files into `output_dir`, each with an atomic rename."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        os.replace(staged_dir / name, output_dir / name)
