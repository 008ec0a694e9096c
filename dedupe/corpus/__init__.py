"""The corpus stage: from staged documents to the `Corpus` that matching works on.

- `keys.py`: segments with their match keys, article match texts, document sketches;
- `prepare.py`: the pure per-batch pass (what an engine runs);
- `assembly.py`: assembly of the batches into one `Corpus`, with the known texts of history.

`build` is imported on first use: worker processes import only `prepare` (and so not pyarrow).
"""

__all__ = ["build"]


def __getattr__(name: str):
    if name == "build":
        from .assembly import build

        return build
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
