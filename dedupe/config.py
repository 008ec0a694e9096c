"""One validated place for every setting of a run.

A `Config` is built from defaults, optionally overridden by a TOML file (top-level keys with
the same names as the fields below) and then by keyword overrides. Unknown keys and values out of
range are rejected with a message naming the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

SEGMENTATION_MODES = ("line", "blank_line")
ACTIONS = ("drop", "keep")
DOC_REPRESENTATIVES = ("longest", "first")
DOC_SHINGLES = ("char", "word")
ENGINES = ("local", "dask")
MAX_SHINGLE_SIZE = 32  # n-gram sizes the shingle hashing has multipliers for


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range."""


@dataclass(frozen=True)
class Config:
    """Settings of one run. Defaults are chosen for news text; see README "Configuration"."""

    # Input
    text_field: str = "text"
    """Field (JSONL) or column (Parquet) holding the article text."""
    id_field: str | None = None
    """Optional JSONL field / Parquet column with a unique document id; else ids come from the source."""
    title_field: str | None = "title"
    """Optional field/column with the title; when absent the first line of the text is the title."""
    encoding: str = "utf-8"
    """Text encoding of `.txt` and JSONL files (a Python codec name: `latin-1`, `cp1252`, ...)."""
    segmentation: str = "line"
    """`line`: every non-empty line is a segment; `blank_line`: blocks separated by blank lines."""
    strict: bool = False
    """Stop before writing anything if any input is skipped (instead of recording the skip)."""

    # Shingles and MinHash
    shingle_size: int = 4
    """Word n-gram size for segments. Segments shorter than this are one shingle of all their words."""
    doc_shingles: str = "char"
    """Shingles for whole-document matching: `char` n-grams (robust to OCR noise) or `word` n-grams."""
    doc_shingle_size: int = 5
    """n-gram size for whole-document matching."""
    num_perm: int = 128
    seed: int = 1
    batch_docs: int = 1024
    """Documents per batch of the streaming passes (bounds memory; the output does not depend on it).
    A batch ends sooner when its texts weigh 16M (characters plus 64 per line; `io.stores.BATCH_WEIGHT`)."""
    workers: int = 0
    """Worker processes for segmenting and signing (0 = one per CPU); the output does not depend on it."""
    engine: str = "local"
    """Where batch work runs: `local` (this machine's processes) or `dask` (the prepare pass and the
    segment LSH as Prefect tasks on a Dask cluster; the Prefect flow and `dedupe run --engine dask`).
    Same output."""
    partitions: int = 0
    """With `engine = "dask"`: tasks of the prepare pass, each a run of whole row groups (`batch_docs`
    documents each, at most eight); 0 = four per worker. The output does not depend on it."""
    scheduler: str = ""
    """Dask scheduler address (`tcp://host:8786`, `tls://...`); empty: a LocalCluster of `workers`
    processes on 127.0.0.1."""

    # Matching thresholds
    segment_threshold: float = 0.7
    """Jaccard similarity of word shingles at or above which two segments are near-duplicates."""
    containment_threshold: float = 0.7
    """Share of a passage's shingles found in a longer segment of another article to link them."""
    min_containment_words: int = 8
    """Passages shorter than this are never linked by containment (too little evidence)."""
    doc_threshold: float = 0.5
    """Jaccard similarity (of `doc_shingles`) at or above which two articles are near-duplicates."""
    doc_containment_threshold: float = 0.8
    """Share of the shorter article's shingles found in the longer one that also makes them
    near-duplicates (a syndicated copy with paragraphs cut)."""
    doc_reprints: bool = True
    """Also link reprints that OCR noise and abridgement put below both thresholds: most of the
    shorter article's paragraphs found, each by alignment, in the longer (see match/reprints.py)."""

    # Boilerplate
    boilerplate_min_docs: int = 5
    """A repeated segment found in at least this many unrelated articles is boilerplate."""
    boilerplate_max_words: int = 40
    """Only segments up to this many words are classified as boilerplate by frequency."""
    use_known_boilerplate: bool = True
    """Match segments against the list shipped in `dedupe/data/boilerplate.txt`."""
    boilerplate_extra: tuple[str, ...] = ()
    """More known boilerplate lines (matched after normalisation, like the shipped list)."""
    boilerplate_file: str | None = None
    """A UTF-8 file of further known boilerplate lines, one per line; `#` starts a comment."""

    # Policy
    repeat_action: str = "drop"
    """Later copies of a segment repeated inside one article."""
    boilerplate_action: str = "drop"
    """Every copy of boilerplate."""
    shared_action: str = "keep"
    """Passages shared by several articles."""
    duplicate_doc_action: str = "drop"
    """Articles that near-duplicate another article's representative (`kept = false`)."""
    doc_representative: str = "longest"
    """Which article of a near-duplicate group is kept: `longest` text or `first` by doc_id."""

    def __post_init__(self) -> None:
        _check(self.segmentation in SEGMENTATION_MODES, "segmentation", f"one of {SEGMENTATION_MODES}")
        for name in ("shingle_size", "doc_shingle_size", "min_containment_words",
                     "boilerplate_min_docs", "boilerplate_max_words"):
            _check(_is_int(getattr(self, name)) and getattr(self, name) >= 1, name, "an integer >= 1")
        for name in ("shingle_size", "doc_shingle_size"):
            _check(getattr(self, name) <= MAX_SHINGLE_SIZE, name, f"an integer in 1..{MAX_SHINGLE_SIZE}")
        for name in ("strict", "use_known_boilerplate", "doc_reprints"):  # a string "false" would be truthy
            _check(isinstance(getattr(self, name), bool), name, "true or false")
        _check(_is_int(self.num_perm) and 16 <= self.num_perm <= 1024, "num_perm", "an integer in 16..1024")
        _check(_is_int(self.seed) and self.seed >= 0, "seed", "an integer >= 0")
        _check(_is_int(self.workers) and self.workers >= 0, "workers", "an integer >= 0")
        _check(_is_int(self.batch_docs) and self.batch_docs >= 1, "batch_docs", "an integer >= 1")
        _check(self.engine in ENGINES, "engine", f"one of {ENGINES}")
        _check(_is_int(self.partitions) and self.partitions >= 0, "partitions", "an integer >= 0")
        _check(isinstance(self.scheduler, str) and (self.scheduler == "" or "://" in self.scheduler),
               "scheduler", "a scheduler address such as tcp://127.0.0.1:8786 (or empty)")
        _check(self.doc_shingles in DOC_SHINGLES, "doc_shingles", f"one of {DOC_SHINGLES}")
        for name in ("segment_threshold", "containment_threshold", "doc_threshold",
                     "doc_containment_threshold"):
            value = getattr(self, name)
            _check(isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1,
                   name, "a number in (0, 1]")
        for name in ("repeat_action", "boilerplate_action", "shared_action", "duplicate_doc_action"):
            _check(getattr(self, name) in ACTIONS, name, f"one of {ACTIONS}")
        _check(self.doc_representative in DOC_REPRESENTATIVES, "doc_representative",
               f"one of {DOC_REPRESENTATIVES}")
        _check(isinstance(self.text_field, str) and self.text_field != "", "text_field", "a non-empty string")
        _check(isinstance(self.encoding, str) and _is_codec(self.encoding), "encoding",
               "a text encoding Python knows (utf-8, latin-1, cp1252, ...)")
        _check(isinstance(self.boilerplate_extra, tuple)
               and all(isinstance(s, str) for s in self.boilerplate_extra),
               "boilerplate_extra", "a list of strings")

    def replace(self, **changes: Any) -> "Config":
        return from_mapping({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["boilerplate_extra"] = list(self.boilerplate_extra)
        return out


def _is_codec(name: str) -> bool:
    """A text encoding (not a bytes-to-bytes codec such as zlib, which str.encode refuses)."""
    try:
        "".encode(name)
    except LookupError:
        return False
    return True


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(ok: bool, key: str, expected: str) -> None:
    if not ok:
        raise ConfigError(f"config key {key!r} must be {expected}")


def from_mapping(values: Mapping[str, Any], origin: str = "config") -> Config:
    """Build a Config from a mapping, rejecting unknown keys."""
    names = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"{origin}: unknown config key(s) {', '.join(map(repr, unknown))}; "
                          f"known keys: {', '.join(sorted(names))}")
    clean = dict(values)
    if "boilerplate_extra" in clean and isinstance(clean["boilerplate_extra"], list):
        clean["boilerplate_extra"] = tuple(clean["boilerplate_extra"])
    try:
        return Config(**clean)
    except ConfigError as err:
        raise ConfigError(f"{origin}: {err}") from None
    except TypeError as err:  # a value of the wrong shape reaching a comparison
        raise ConfigError(f"{origin}: {err}") from None


def load_config(path: str | Path | None = None, **overrides: Any) -> Config:
    """Defaults, then the TOML file at `path` (if any), then `overrides`."""
    values: dict[str, Any] = {}
    origin = "config"
    if path is not None:
        path = Path(path)
        origin = str(path)
        try:
            with path.open("rb") as fh:
                values = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: invalid TOML: {err}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return from_mapping(values, origin)
