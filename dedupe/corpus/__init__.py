"""The corpus stage: from staged documents to the `Corpus` that matching works on.

- `keys.py`: segments with their match keys, article match texts, document sketches;
- `prepare.py`: the pure per-batch pass (what an engine runs);
- `assembly.py`: assembly of the batches into one `Corpus`, with the known texts of history.
"""

from .assembly import build

__all__ = ["build"]
