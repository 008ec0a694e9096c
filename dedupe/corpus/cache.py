"""Prepared batches kept between runs: a batch whose texts a run prepared once is not prepared
again (segmenting, keys, templates, near copies and signatures: about half of a run).

`prepare.prepare_batch` is a pure function of the batch's texts and the config, so its result
is stored under a digest of both (and of the library's version and the batch's layout) and read
back instead of being computed. Nightly runs (`incremental`) stage the archive in read order:
when the day's inputs sort after the earlier ones (dated folders), every earlier batch is found
here; inputs that sort in between shift the batches after them, which are prepared again. A run keeps only the entries
it used, so the cache holds what the current archive needs.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

from .. import __version__
from ..config import Config
from .prepare import FORMAT, PreparedBatch, prepare_batch


class PreparedCache:
    """Prepared batches in a folder, one file per batch digest. Safe to share with worker
    processes (it is a path); each file is written whole (written aside, then renamed)."""

    def __init__(self, folder: Path, config: Config) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._config = hashlib.blake2b(json.dumps([__version__, FORMAT, config.to_dict()], sort_keys=True).encode(),
                                       digest_size=16).digest()

    def digest(self, texts: list[str]) -> str:
        h = hashlib.blake2b(self._config, digest_size=20)
        for text in texts:
            h.update(len(text).to_bytes(8, "little"))
            h.update(text.encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def prepare(self, texts: list[str], config: Config) -> PreparedBatch:
        """`prepare_batch(texts, config)`, from the cache when this batch was prepared before."""
        path = self.folder / f"{self.digest(texts)}.pkl"
        try:
            with open(path, "rb") as fh:
                batch = pickle.load(fh)
            os.utime(path)  # used by this run: kept by `keep_used`
            return batch
        except (OSError, pickle.UnpicklingError, EOFError):
            pass
        batch = prepare_batch(texts, config)
        aside = path.with_suffix(f".{os.getpid()}.tmp")
        with open(aside, "wb") as fh:
            pickle.dump(batch, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(aside, path)
        return batch

    def keep_used(self, since_ns: int) -> None:
        """Remove the entries no batch used since `since_ns` (a time.time_ns() taken before the run)."""
        for path in self.folder.iterdir():
            try:
                if path.stat().st_mtime_ns < since_ns:
                    path.unlink()
            except OSError:
                pass

