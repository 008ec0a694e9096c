"""Nightly incremental runs into Delta Lake tables (`update`) and snapshots of them (`export`).

- `nightly.py`: one run (`update`): roll back an unfinished run, read the new and changed inputs, clean
  them with everything read before, merge the difference, append the `runs` row;
- `inputs.py`: which inputs changed since the last run (size, mtime, SHA-256);
- `delta.py`: the Delta tables: versions, rollback, row-level merges;
- `export.py`: the tables as today's three Parquet files, at any completed run.
"""

from .export import export
from .nightly import TableError, UpdateResult, recover, update

__all__ = ["TableError", "UpdateResult", "export", "recover", "update"]
