"""Scoring a pipeline output directory against hand labels (docs/labels.md, docs/schema.md).

Segment labels are joined to `segments.parquet` on (source, start), the source coming from
`documents.parquet` through `doc_id`; document labels are joined on `source`. Labels with no
counterpart in the output are not scored but counted and listed as missing, so a mismatch in
segmentation or sources shows up in the report instead of quietly shrinking the denominators.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pyarrow.parquet as pq

from .labels import Labels, SegmentLabel
from .metrics import PairScores, adjusted_rand_index, pair_scores

DOCUMENT_COLUMNS = ("doc_id", "source", "doc_cluster_id")
SEGMENT_COLUMNS = ("doc_id", "start", "end", "text", "cluster_id", "role", "kept")
REMOVAL_KINDS = ("repeat", "boilerplate", "shared")
"""Kinds always reported for removal recall (other kinds only when labelled `drop`)."""
MAX_LISTED = 20


class OutputError(ValueError):
    """The output directory lacks a file or column, or its tables contradict each other."""


@dataclass(frozen=True)
class SegmentRef:
    """A labelled segment, by its label's offsets."""

    source: str
    start: int
    end: int


@dataclass(frozen=True)
class RemovalRecall:
    """Share of segments of one kind labelled `drop` that were removed (1.0 when there are none)."""

    kind: str | None
    expected_drop: int
    removed: int
    recall: float


@dataclass(frozen=True)
class LostSegment:
    """A segment labelled `keep` that the pipeline removed, with what the pipeline said about it."""

    source: str
    start: int
    end: int
    text: str
    role: str | None
    cluster_id: str | None


@dataclass(frozen=True)
class SegmentEvaluation:
    """Segment-level scores over the labelled segments found in the output."""

    labelled: int
    matched: int
    missing: tuple[SegmentRef, ...]
    end_mismatches: int
    """Matched segments whose `end` in the output differs from the label's."""
    pairs: PairScores
    removal: tuple[RemovalRecall, ...]
    expected_keep: int
    content_loss: float
    """Share of `expected_keep` segments that were removed (0.0 when there are none)."""
    lost: tuple[LostSegment, ...]


@dataclass(frozen=True)
class DocumentEvaluation:
    """Document-level scores over the labelled documents found in the output."""

    labelled: int
    matched: int
    missing: tuple[str, ...]
    ari: float
    pairs: PairScores


@dataclass(frozen=True)
class Evaluation:
    """Everything `evaluate_output` measured."""

    output_dir: str
    labels_path: str
    segments: SegmentEvaluation
    documents: DocumentEvaluation

    def to_dict(self) -> dict[str, Any]:
        """JSON-able nested dict; keys in field order, lists in a deterministic order."""
        return _jsonable(self)


@dataclass(frozen=True)
class _PredictedSegment:
    end: int
    text: str
    cluster_id: str | None
    role: str | None
    kept: bool | None


def evaluate_output(output_dir: str | Path, labels: Labels) -> Evaluation:
    """Score the `documents.parquet` and `segments.parquet` in `output_dir` against `labels`."""
    output_dir = Path(output_dir)
    documents = _read_columns(output_dir / "documents.parquet", DOCUMENT_COLUMNS)
    segments = _read_columns(output_dir / "segments.parquet", SEGMENT_COLUMNS)
    source_of = _sources_by_doc_id(output_dir / "documents.parquet", documents)
    predicted = _segments_by_key(output_dir / "segments.parquet", segments, source_of)
    doc_clusters = dict(zip(documents["source"], documents["doc_cluster_id"]))
    return Evaluation(
        output_dir=str(output_dir),
        labels_path=str(labels.path),
        segments=_evaluate_segments(labels.segments, predicted),
        documents=_evaluate_documents(labels, doc_clusters),
    )


def _read_columns(path: Path, columns: Sequence[str]) -> dict[str, list[Any]]:
    if not path.is_file():
        raise OutputError(f"{path}: not found (expected pipeline output)")
    names = pq.read_schema(path).names
    absent = [c for c in columns if c not in names]
    if absent:
        raise OutputError(f"{path}: missing column(s) {', '.join(absent)} (see docs/schema.md)")
    table = pq.read_table(path, columns=list(columns))
    return {c: table.column(c).to_pylist() for c in columns}


def _sources_by_doc_id(path: Path, documents: dict[str, list[Any]]) -> dict[str, str]:
    source_of: dict[str, str] = {}
    seen_sources: set[str] = set()
    for doc_id, source in zip(documents["doc_id"], documents["source"]):
        if doc_id in source_of:
            raise OutputError(f"{path}: duplicate doc_id {doc_id!r}")
        if source in seen_sources:
            raise OutputError(f"{path}: duplicate source {source!r}")
        source_of[doc_id] = source
        seen_sources.add(source)
    return source_of


def _segments_by_key(
    path: Path, segments: dict[str, list[Any]], source_of: dict[str, str]
) -> dict[tuple[str, int], _PredictedSegment]:
    predicted: dict[tuple[str, int], _PredictedSegment] = {}
    rows = zip(*(segments[c] for c in SEGMENT_COLUMNS))
    for doc_id, start, end, text, cluster_id, role, kept in rows:
        source = source_of.get(doc_id)
        if source is None:
            raise OutputError(f"{path}: doc_id {doc_id!r} is not in documents.parquet")
        key = (source, start)
        if key in predicted:
            raise OutputError(f"{path}: two segments of {source!r} start at {start}")
        predicted[key] = _PredictedSegment(end, text, cluster_id, role, kept)
    return predicted


def _evaluate_segments(
    labels: Sequence[SegmentLabel], predicted: dict[tuple[str, int], _PredictedSegment]
) -> SegmentEvaluation:
    matched = [(label, predicted[label.key]) for label in labels if label.key in predicted]
    missing = sorted(
        (SegmentRef(l.source, l.start, l.end) for l in labels if l.key not in predicted),
        key=lambda r: (r.source, r.start),
    )
    keep = [(label, pred) for label, pred in matched if label.expected == "keep"]
    lost = sorted(
        (_lost(label, pred) for label, pred in keep if _removed(pred)),
        key=lambda s: (s.source, s.start),
    )
    return SegmentEvaluation(
        labelled=len(labels),
        matched=len(matched),
        missing=tuple(missing),
        end_mismatches=sum(1 for label, pred in matched if label.end != pred.end),
        pairs=pair_scores(
            {label.key: label.group for label, _ in matched},
            {label.key: pred.cluster_id for label, pred in matched},
        ),
        removal=_removal_recall(matched),
        expected_keep=len(keep),
        content_loss=len(lost) / len(keep) if keep else 0.0,
        lost=tuple(lost),
    )


def _removed(pred: _PredictedSegment) -> bool:
    # Only an explicit False counts as removed; a null `kept` is not a removal.
    return pred.kept is False


def _lost(label: SegmentLabel, pred: _PredictedSegment) -> LostSegment:
    return LostSegment(label.source, label.start, label.end, pred.text, pred.role, pred.cluster_id)


def _removal_recall(
    matched: Sequence[tuple[SegmentLabel, _PredictedSegment]],
) -> tuple[RemovalRecall, ...]:
    drops = [(label, pred) for label, pred in matched if label.expected == "drop"]
    extra_kinds = sorted(
        {label.kind for label, _ in drops if label.kind not in REMOVAL_KINDS},
        key=lambda k: (k is not None, k or ""),
    )
    results = []
    for kind in (*REMOVAL_KINDS, *extra_kinds):
        of_kind = [pred for label, pred in drops if label.kind == kind]
        removed = sum(1 for pred in of_kind if _removed(pred))
        recall = removed / len(of_kind) if of_kind else 1.0
        results.append(RemovalRecall(kind, len(of_kind), removed, recall))
    return tuple(results)


def _evaluate_documents(
    labels: Labels, doc_clusters: dict[str, str | None]
) -> DocumentEvaluation:
    matched = [doc for doc in labels.documents if doc.source in doc_clusters]
    true_groups = {doc.source: doc.group for doc in matched}
    pred_groups = {doc.source: doc_clusters[doc.source] for doc in matched}
    return DocumentEvaluation(
        labelled=len(labels.documents),
        matched=len(matched),
        missing=tuple(sorted(d.source for d in labels.documents if d.source not in doc_clusters)),
        ari=adjusted_rand_index(true_groups, pred_groups),
        pairs=pair_scores(true_groups, pred_groups),
    )


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def format_table(evaluation: Evaluation) -> str:
    """A plain-text report: one metric per row, then the first content-loss mistakes."""
    seg, doc = evaluation.segments, evaluation.documents
    rows: list[tuple[str, str, str]] = [
        *_pair_rows("segment pairs", seg.pairs),
        *(
            (f"removal recall ({r.kind or 'null'})", _num(r.recall),
             f"{r.removed}/{r.expected_drop} drop-labelled segments removed")
            for r in seg.removal
        ),
        ("content loss", _num(seg.content_loss),
         f"{len(seg.lost)}/{seg.expected_keep} keep-labelled segments removed"),
        ("document ARI", _num(doc.ari), ""),
        *_pair_rows("document pairs", doc.pairs),
        ("segments missing from output", "", f"{len(seg.missing)}/{seg.labelled} labelled"),
        ("segments with another end", "", f"{seg.end_mismatches}/{seg.matched} matched"),
        ("documents missing from output", "", f"{len(doc.missing)}/{doc.labelled} labelled"),
    ]
    lines = [
        f"output {evaluation.output_dir}, labels {evaluation.labels_path}",
        "",
        *_aligned_rows([("metric", "value", "count"), *rows]),
    ]
    lines += _listing(
        "content loss (keep-labelled segments removed)",
        [
            f"{s.source}:{s.start}-{s.end}  role={s.role}  cluster={s.cluster_id}  "
            + _snippet(s.text)
            for s in seg.lost
        ],
    )
    lines += _listing(
        "labelled segments missing from output",
        [f"{r.source}:{r.start}-{r.end}" for r in seg.missing],
    )
    lines += _listing("labelled documents missing from output", list(doc.missing))
    return "\n".join(lines) + "\n"


def _pair_rows(name: str, scores: PairScores) -> list[tuple[str, str, str]]:
    return [
        (f"{name} precision", _num(scores.precision),
         f"{scores.both}/{scores.pred_pairs} predicted pairs"),
        (f"{name} recall", _num(scores.recall), f"{scores.both}/{scores.true_pairs} true pairs"),
        (f"{name} F1", _num(scores.f1), ""),
    ]


def _num(value: float) -> str:
    return f"{value:.4f}"


def _aligned_rows(rows: Sequence[tuple[str, str, str]]) -> list[str]:
    name_width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    return [
        f"{name:<{name_width}}  {value:>{value_width}}  {count}".rstrip()
        for name, value, count in rows
    ]


def _listing(title: str, items: Sequence[str]) -> list[str]:
    if not items:
        return []
    shown = items[:MAX_LISTED]
    header = f"{title}: first {len(shown)} of {len(items)}" if len(items) > len(shown) else (
        f"{title}: {len(items)}"
    )
    return ["", header, *(f"  {item}" for item in shown)]


def _snippet(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")
