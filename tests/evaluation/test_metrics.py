"""Metrics against hand-computed values, and `evaluate_output` on a tiny written output."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dedupe.evaluation.evaluate import OutputError, evaluate_output, format_table
from dedupe.evaluation.labels import load_labels
from dedupe.evaluation.metrics import (
    PairCounts,
    adjusted_rand_index,
    pair_counts,
    pair_counts_from_codes,
    pair_scores,
)


def as_map(labels: list) -> dict[int, object]:
    return dict(enumerate(labels))


# --- pair counts and pairwise scores -------------------------------------------------------


def test_pair_counts_hand_computed() -> None:
    # true: {0,1,2} {3,4}       -> C(3,2) + C(2,2) = 3 + 1 = 4 true pairs
    # pred: {0,1} {2,3,4}       -> C(2,2) + C(3,2) = 1 + 3 = 4 predicted pairs
    # cells: (A,x)={0,1} (A,y)={2} (B,y)={3,4} -> 1 + 0 + 1 = 2 pairs in both
    counts = pair_counts(list("AAABB"), list("xxyyy"))
    assert counts == PairCounts(n_items=5, true_pairs=4, pred_pairs=4, both=2)
    assert counts.total_pairs == 10  # C(5,2)


def test_pair_scores_with_singletons_hand_computed() -> None:
    # items a..g; None = singleton
    # true: g1={a,b,c} g2={d,e} f g      -> 3 + 1 = 4 true pairs
    # pred: p={a,b} q={c,d,f} e g        -> 1 + 3 = 4 predicted pairs
    # both: only (a,b) is in one true and one predicted group -> 1
    # precision = 1/4, recall = 1/4, F1 = 2*(1/16)/(1/2) = 1/4
    true = {"a": "g1", "b": "g1", "c": "g1", "d": "g2", "e": "g2", "f": None, "g": None}
    pred = {"a": "p", "b": "p", "c": "q", "d": "q", "e": None, "f": "q", "g": None}
    scores = pair_scores(true, pred)
    assert (scores.true_pairs, scores.pred_pairs, scores.both) == (4, 4, 1)
    assert scores.precision == pytest.approx(0.25)
    assert scores.recall == pytest.approx(0.25)
    assert scores.f1 == pytest.approx(0.25)


def test_pair_scores_unequal_precision_recall() -> None:
    # true: {0,1,2,3}                    -> C(4,2) = 6 true pairs
    # pred: {0,1} {2,3}                  -> 1 + 1 = 2 predicted pairs, both true -> both = 2
    # precision = 2/2 = 1, recall = 2/6 = 1/3, F1 = 2*(1/3)/(4/3) = 1/2
    scores = pair_scores(as_map(["t"] * 4), as_map(["x", "x", "y", "y"]))
    assert scores.precision == 1.0
    assert scores.recall == pytest.approx(1 / 3)
    assert scores.f1 == pytest.approx(0.5)


def test_none_is_a_singleton_not_a_group() -> None:
    scores = pair_scores(as_map([None, None, None]), as_map([None, None, None]))
    assert (scores.true_pairs, scores.pred_pairs, scores.both) == (0, 0, 0)
    assert (scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0)


def test_no_predicted_pairs_gives_precision_one() -> None:
    # true pair (0,1), nothing predicted: precision 1.0 by definition, recall 0/1 = 0
    scores = pair_scores(as_map(["a", "a", None]), as_map([None, None, None]))
    assert (scores.precision, scores.recall, scores.f1) == (1.0, 0.0, 0.0)


def test_no_true_pairs_gives_recall_one() -> None:
    # predicted pair (0,1), no true pair: recall 1.0 by definition, precision 0/1 = 0
    scores = pair_scores(as_map([None, None, None]), as_map(["x", "x", None]))
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 1.0, 0.0)


def test_disjoint_pairs_give_f1_zero() -> None:
    scores = pair_scores(as_map(["a", "a", "b", "b"]), as_map(["x", "y", "x", "y"]))
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 0.0, 0.0)


def test_group_ids_need_not_match_between_clusterings() -> None:
    scores = pair_scores(as_map([1, 1, 2, 2]), as_map(["b", "b", "a", "a"]))
    assert (scores.precision, scores.recall, scores.f1) == (1.0, 1.0, 1.0)


def test_different_items_are_rejected() -> None:
    with pytest.raises(ValueError, match="1 only in the true one, 1 only in the predicted one"):
        pair_scores({"a": 1, "b": 1}, {"a": 1, "c": 1})
    with pytest.raises(ValueError, match="different items"):
        adjusted_rand_index({"a": 1}, {})


def test_pair_counts_of_a_million_items_without_enumerating_pairs() -> None:
    # 1,000 groups of 1,000 items: 1000 * C(1000,2) = 1000 * 499,500 = 499,500,000 pairs.
    # The prediction splits every group by parity: 2000 groups of 500 -> 2000 * 124,750.
    n = 1_000_000
    true_codes = np.arange(n) % 1000
    pred_codes = np.arange(n) % 2000
    counts = pair_counts_from_codes(true_codes, pred_codes)
    assert counts.true_pairs == 499_500_000
    assert counts.pred_pairs == counts.both == 249_500_000
    scores = pair_scores(dict(enumerate(true_codes.tolist())), dict(enumerate(pred_codes.tolist())))
    assert scores.precision == 1.0
    assert scores.recall == pytest.approx(249_500 / 499_500)


# --- adjusted Rand index -------------------------------------------------------------------


def test_ari_small_example_hand_computed() -> None:
    # true [0,0,1,1], pred [0,0,1,2]; n = 4, C(4,2) = 6
    # sum C(a_i,2) = C(2,2) + C(2,2) = 2;  sum C(b_j,2) = C(2,2) = 1
    # cells: (0,0)=2, (1,1)=1, (1,2)=1  -> index = 1
    # expected = 2 * 1 / 6 = 1/3;  maximum = (2 + 1) / 2 = 3/2
    # ARI = (1 - 1/3) / (3/2 - 1/3) = (2/3) / (7/6) = 4/7
    assert adjusted_rand_index(as_map([0, 0, 1, 1]), as_map([0, 0, 1, 2])) == pytest.approx(4 / 7)
    # symmetric
    assert adjusted_rand_index(as_map([0, 0, 1, 2]), as_map([0, 0, 1, 1])) == pytest.approx(4 / 7)


def test_ari_with_singletons_hand_computed() -> None:
    # Same clusterings as test_pair_scores_with_singletons_hand_computed: n = 7, C(7,2) = 21,
    # sum C(a_i,2) = 4, sum C(b_j,2) = 4, index = 1.
    # expected = 4 * 4 / 21 = 16/21;  maximum = (4 + 4) / 2 = 4
    # ARI = (1 - 16/21) / (4 - 16/21) = (5/21) / (68/21) = 5/68
    true = {"a": "g1", "b": "g1", "c": "g1", "d": "g2", "e": "g2", "f": None, "g": None}
    pred = {"a": "p", "b": "p", "c": "q", "d": "q", "e": None, "f": "q", "g": None}
    assert adjusted_rand_index(true, pred) == pytest.approx(5 / 68)


def test_ari_below_chance_is_negative() -> None:
    # true [0,0,1,1], pred [0,1,0,1]: sums 2 and 2, index 0, C(4,2) = 6
    # expected = 2 * 2 / 6 = 2/3;  maximum = 2
    # ARI = (0 - 2/3) / (2 - 2/3) = (-2/3) / (4/3) = -1/2
    assert adjusted_rand_index(as_map([0, 0, 1, 1]), as_map([0, 1, 0, 1])) == pytest.approx(-0.5)


def test_ari_one_group_against_all_singletons_is_zero() -> None:
    # sum C(a_i,2) = C(4,2) = 6, sum C(b_j,2) = 0, index = 0, expected = 6 * 0 / 6 = 0
    # ARI = (0 - 0) / (3 - 0) = 0
    assert adjusted_rand_index(as_map([1, 1, 1, 1]), as_map([None] * 4)) == 0.0


@pytest.mark.parametrize(
    "labels",
    [
        [],                        # no items
        ["a"],                     # one item
        [None, None, None],        # all singletons
        ["a", "a", "a"],           # one group
        ["a", "a", "b", None],     # a general clustering
    ],
)
def test_ari_of_identical_clusterings_is_one(labels: list) -> None:
    assert adjusted_rand_index(as_map(labels), as_map(labels)) == 1.0


def test_ari_ignores_renaming_and_none_versus_fresh_ids() -> None:
    # None and a group id used by one item only are the same thing: a singleton.
    assert adjusted_rand_index(as_map(["a", "a", None, "b"]), as_map([7, 7, 8, None])) == 1.0


def test_ari_matches_sklearn_when_installed() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(3)
    for _ in range(50):
        n = rng.randint(2, 60)
        true = [rng.randint(0, rng.randint(1, 8)) for _ in range(n)]
        pred = [rng.randint(0, rng.randint(1, 8)) for _ in range(n)]
        expected = metrics.adjusted_rand_score(true, pred)
        assert adjusted_rand_index(as_map(true), as_map(pred)) == pytest.approx(expected)


# --- evaluate_output -----------------------------------------------------------------------

DOCUMENTS_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("doc_cluster_id", pa.string()),
        ("kept", pa.bool_()),
        ("duplicate_of", pa.string()),
        ("n_segments", pa.int32()),
        ("segments_removed", pa.int32()),
        ("chars_removed", pa.int64()),
    ]
)
SEGMENTS_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("segment", pa.int32()),
        ("start", pa.int32()),
        ("end", pa.int32()),
        ("text", pa.string()),
        ("cluster_id", pa.string()),
        ("role", pa.string()),
        ("kept", pa.bool_()),
        ("kept_doc_id", pa.string()),
        ("kept_segment", pa.int32()),
        ("similarity", pa.float64()),
    ]
)

TEXTS = {
    "a/1.txt": "Alpha story\nThe mayor spoke today.\nSubscribe to our newsletter\n"
    "The mayor spoke today.\nShe left.",
    "a/2.txt": "Beta story\nRain is expected.\nSubscribe to our newsletter\n"
    "Rain is expected tomorrow.",
    "a/3.txt": "Alpha story\nThe mayor spoke today.\nShe left.",
}
DOC_IDS = {"a/1.txt": "d1", "a/2.txt": "d2", "a/3.txt": "d3"}

# Per source and line: (cluster_id, role, kept). a/2.txt line 1 and 3 are wrongly clustered and
# line 3 removed (content loss); its boilerplate line 2 is missed (kept).
PREDICTIONS = {
    "a/1.txt": [
        (None, "unique", True),
        ("c1", "first", True),
        ("c2", "boilerplate", False),
        ("c1", "repeat", False),
        (None, "unique", True),
    ],
    "a/2.txt": [
        (None, "unique", True),
        ("c3", "first", True),
        (None, "unique", True),
        ("c3", "repeat", False),
    ],
    "a/3.txt": [(None, "unique", True)] * 3,
}

# Per source and line: (group, kind, expected)
SEGMENT_LABELS = {
    "a/1.txt": [
        (None, None, "keep"),
        ("s1", "repeat", "keep"),
        ("s2", "boilerplate", "drop"),
        ("s1", "repeat", "drop"),
        (None, None, "keep"),
    ],
    "a/2.txt": [
        (None, None, "keep"),
        (None, None, "keep"),
        ("s2", "boilerplate", "drop"),
        (None, None, "keep"),
    ],
}


def line_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def write_output(out: Path) -> None:
    out.mkdir()
    doc_rows, seg_rows = [], []
    for source, text in TEXTS.items():
        doc_id = DOC_IDS[source]
        preds = PREDICTIONS[source]
        removed = [i for i, p in enumerate(preds) if not p[2]]
        spans = line_spans(text)
        doc_rows.append(
            {
                "doc_id": doc_id,
                "source": source,
                "title": text.split("\n")[0],
                "text": "\n".join(text[s:e] for i, (s, e) in enumerate(spans) if i not in removed),
                "doc_cluster_id": None if source == "a/2.txt" else "D1",
                "kept": source != "a/3.txt",
                "duplicate_of": "d1" if source == "a/3.txt" else None,
                "n_segments": len(spans),
                "segments_removed": len(removed),
                "chars_removed": sum(spans[i][1] - spans[i][0] for i in removed),
            }
        )
        for i, ((start, end), (cluster, role, kept)) in enumerate(zip(spans, preds)):
            seg_rows.append(
                {
                    "doc_id": doc_id,
                    "segment": i,
                    "start": start,
                    "end": end,
                    "text": text[start:end],
                    "cluster_id": cluster,
                    "role": role,
                    "kept": kept,
                    "kept_doc_id": doc_id if cluster else None,
                    "kept_segment": i if cluster is None else None,
                    "similarity": 1.0 if cluster else None,
                }
            )
    documents = pa.Table.from_pylist(doc_rows, schema=DOCUMENTS_SCHEMA)
    segments = pa.Table.from_pylist(seg_rows, schema=SEGMENTS_SCHEMA)
    pq.write_table(documents, out / "documents.parquet")
    pq.write_table(segments, out / "segments.parquet")


def write_labels(path: Path) -> None:
    records = []
    for source, rows in SEGMENT_LABELS.items():
        for (start, end), (group, kind, expected) in zip(line_spans(TEXTS[source]), rows):
            records.append(
                {"type": "segment", "source": source, "start": start, "end": end,
                 "group": group, "kind": kind, "expected": expected}
            )
    # A labelled paragraph the output does not have (no segment of a/3.txt starts at 5).
    records.append(
        {"type": "segment", "source": "a/3.txt", "start": 5, "end": 11,
         "group": None, "kind": None, "expected": "keep"}
    )
    records += [
        {"type": "document", "source": "a/1.txt", "group": "g1"},
        {"type": "document", "source": "a/2.txt", "group": None},
        {"type": "document", "source": "a/3.txt", "group": "g1"},
        {"type": "document", "source": "a/4.txt", "group": None},  # not in the output
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture
def evaluation(tmp_path: Path):
    write_output(tmp_path / "parquet")
    write_labels(tmp_path / "labels.jsonl")
    return evaluate_output(tmp_path / "parquet", load_labels(tmp_path / "labels.jsonl"))


def test_evaluate_content_loss(evaluation) -> None:
    seg = evaluation.segments
    # keep-labelled and matched: a/1 lines 0,1,4 and a/2 lines 0,1,3 = 6; a/2 line 3 was removed.
    assert seg.expected_keep == 6
    assert seg.content_loss == pytest.approx(1 / 6)
    start, end = line_spans(TEXTS["a/2.txt"])[3]
    assert len(seg.lost) == 1
    lost = seg.lost[0]
    assert (lost.source, lost.start, lost.end) == ("a/2.txt", start, end)
    assert (lost.text, lost.role, lost.cluster_id) == ("Rain is expected tomorrow.", "repeat", "c3")


def test_evaluate_removal_recall(evaluation) -> None:
    removal = {r.kind: r for r in evaluation.segments.removal}
    assert list(removal) == ["repeat", "boilerplate", "shared"]
    # repeat: a/1 line 3 removed -> 1/1
    assert (removal["repeat"].removed, removal["repeat"].expected_drop) == (1, 1)
    assert removal["repeat"].recall == 1.0
    # boilerplate: a/1 line 2 removed, a/2 line 2 kept -> 1/2
    assert (removal["boilerplate"].removed, removal["boilerplate"].expected_drop) == (1, 2)
    assert removal["boilerplate"].recall == 0.5
    # shared: none labelled -> 0/0, recall 1.0 by convention
    assert (removal["shared"].expected_drop, removal["shared"].recall) == (0, 1.0)


def test_evaluate_segment_pairs_and_missing(evaluation) -> None:
    seg = evaluation.segments
    assert (seg.labelled, seg.matched, seg.end_mismatches) == (10, 9, 0)
    assert [(m.source, m.start, m.end) for m in seg.missing] == [("a/3.txt", 5, 11)]
    # true pairs: s1 (a/1 lines 1,3), s2 (a/1 line 2, a/2 line 2) -> 2
    # predicted among labelled: c1 (a/1 lines 1,3), c3 (a/2 lines 1,3); c2 has one labelled -> 2
    # both: the c1/s1 pair -> 1; precision = recall = F1 = 1/2
    pairs = seg.pairs
    assert (pairs.true_pairs, pairs.pred_pairs, pairs.both) == (2, 2, 1)
    assert (pairs.precision, pairs.recall, pairs.f1) == (0.5, 0.5, 0.5)


def test_evaluate_documents(evaluation) -> None:
    doc = evaluation.documents
    assert (doc.labelled, doc.matched, doc.missing) == (4, 3, ("a/4.txt",))
    # true {a1,a3} + a2; predicted D1={a1,a3} + a2 -> identical
    assert doc.ari == 1.0
    assert (doc.pairs.precision, doc.pairs.recall, doc.pairs.both) == (1.0, 1.0, 1)


def test_evaluation_to_dict_is_json_and_deterministic(evaluation) -> None:
    data = evaluation.to_dict()
    text = json.dumps(data)
    assert json.loads(text) == data
    assert list(data) == ["output_dir", "labels_path", "segments", "documents"]
    assert data["segments"]["lost"][0]["text"] == "Rain is expected tomorrow."
    assert math.isclose(data["segments"]["content_loss"], 1 / 6)


def test_format_table_lists_mistakes(evaluation) -> None:
    table = format_table(evaluation)
    assert "content loss" in table and "0.1667" in table and "1/6" in table
    assert "removal recall (boilerplate)" in table and "1/2" in table
    assert "a/2.txt:" in table and "'Rain is expected tomorrow.'" in table
    assert "a/3.txt:5-11" in table and "a/4.txt" in table


def test_evaluate_missing_output_file(tmp_path: Path) -> None:
    write_labels(tmp_path / "labels.jsonl")
    labels = load_labels(tmp_path / "labels.jsonl")
    with pytest.raises(OutputError, match="documents.parquet: not found"):
        evaluate_output(tmp_path, labels)


def test_evaluate_missing_column(tmp_path: Path) -> None:
    write_output(tmp_path / "parquet")
    write_labels(tmp_path / "labels.jsonl")
    table = pq.read_table(tmp_path / "parquet" / "segments.parquet").drop_columns(["role"])
    pq.write_table(table, tmp_path / "parquet" / "segments.parquet")
    with pytest.raises(OutputError, match="missing column.*role"):
        evaluate_output(tmp_path / "parquet", load_labels(tmp_path / "labels.jsonl"))


def test_against_brute_force_pair_enumeration() -> None:
    # Independent check on small random clusterings: enumerate every pair, then use the
    # pair-confusion form of the ARI, 2(tp*tn - fn*fp) / ((tp+fn)(fn+tn) + (tp+fp)(fp+tn)).
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(0, 25)
        true = [rng.choice([None, 0, 1, 2, 3]) for _ in range(n)]
        pred = [rng.choice([None, "x", "y"]) for _ in range(n)]
        tp = fp = fn = tn = 0
        for i in range(n):
            for j in range(i + 1, n):
                same_true = true[i] is not None and true[i] == true[j]
                same_pred = pred[i] is not None and pred[i] == pred[j]
                tp += same_true and same_pred
                fn += same_true and not same_pred
                fp += same_pred and not same_true
                tn += not same_true and not same_pred
        scores = pair_scores(as_map(true), as_map(pred))
        assert (scores.both, scores.true_pairs, scores.pred_pairs) == (tp, tp + fn, tp + fp)
        denominator = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)
        expected = 2 * (tp * tn - fn * fp) / denominator if denominator else 1.0
        assert adjusted_rand_index(as_map(true), as_map(pred)) == pytest.approx(expected)
