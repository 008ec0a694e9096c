"""End-to-end properties of `dedupe.run`: determinism, atomic output, Parquet round-trip."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

import dedupe
from dedupe import pipeline
from dedupe.config import Config
from dedupe.io.tables import CLUSTERS_SCHEMA, DOCUMENTS_SCHEMA, OUTPUT_FILES, SEGMENTS_SCHEMA
from tests.conftest import RAW, write_articles

ALL_FILES = OUTPUT_FILES + ("report.json", "report.md")


def test_two_runs_give_byte_identical_files(tmp_path, seed_output):
    dedupe.run(RAW, tmp_path / "again")
    for name in ALL_FILES:
        assert (tmp_path / "again" / name).read_bytes() == (seed_output / name).read_bytes(), name


def test_output_does_not_depend_on_batch_size_or_workers(tmp_path, seed_output):
    # one document per batch, prepared by two worker processes, vs the default single batch
    dedupe.run(RAW, tmp_path / "small", Config(batch_docs=1, workers=2))  # 5 batches: pool used
    for name in OUTPUT_FILES + ("report.json",):
        assert (tmp_path / "small" / name).read_bytes() == (seed_output / name).read_bytes(), name


def test_schemas_are_the_documented_ones(seed_output):
    assert pq.read_schema(seed_output / "documents.parquet").remove_metadata() == DOCUMENTS_SCHEMA
    assert pq.read_schema(seed_output / "segments.parquet").remove_metadata() == SEGMENTS_SCHEMA
    assert pq.read_schema(seed_output / "clusters.parquet").remove_metadata() == CLUSTERS_SCHEMA


def test_round_trip_segments_rebuild_the_original_and_cleaned_text(seed_output):
    docs = pq.read_table(seed_output / "documents.parquet").to_pylist()
    segs = pq.read_table(seed_output / "segments.parquet").to_pylist()
    for doc in docs:
        original = (RAW / doc["source"]).read_text(encoding="utf-8")
        mine = [s for s in segs if s["doc_id"] == doc["doc_id"]]
        assert [s["segment"] for s in mine] == list(range(len(mine)))
        for s in mine:
            assert original[s["start"]:s["end"]] == s["text"]
        kept = [s["text"] for s in mine if s["kept"]]
        assert [line.strip() for line in doc["text"].split("\n") if line.strip()] == kept
        assert doc["chars_removed"] == sum(len(s["text"]) for s in mine if not s["kept"])


def test_every_cluster_id_in_the_map_is_described(seed_output):
    segs = pq.read_table(seed_output / "segments.parquet").to_pylist()
    clusters = pq.read_table(seed_output / "clusters.parquet").to_pylist()
    described = {c["cluster_id"]: c for c in clusters}
    used = [s["cluster_id"] for s in segs if s["cluster_id"]]
    assert set(used) == {c["cluster_id"] for c in clusters if c["level"] == "segment"}
    for cid, c in described.items():
        if c["level"] == "segment":
            assert used.count(cid) == c["size"]


def test_a_crash_leaves_the_previous_output_intact(tmp_path, seed_output, monkeypatch):
    out = tmp_path / "out"
    dedupe.run(RAW, out)
    before = {name: (out / name).read_bytes() for name in ALL_FILES}

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash while clustering")

    monkeypatch.setattr(pipeline, "clean", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        dedupe.run(RAW, out)
    assert {name: (out / name).read_bytes() for name in ALL_FILES} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging left behind


def test_skipped_inputs_are_reported_and_nothing_is_lost(tmp_path):
    inp = write_articles(tmp_path / "in", {
        "a.txt": "Title A\n\nFirst paragraph of a.\n",
        "empty.txt": "",
        "notes.csv": "x,y\n",
        "feed.jsonl": '{"text": "Title J\\nBody of j."}\n{broken\n',
    })
    (inp / "bad.txt").write_bytes(b"Caf\xe9 au lait\n")
    report = dedupe.run(inp, tmp_path / "out")
    docs = pq.read_table(tmp_path / "out" / "documents.parquet").column("source").to_pylist()
    assert docs == ["a.txt", "feed.jsonl:1"]
    skipped = {s["source"]: s["reason"] for s in report.skipped}
    assert set(skipped) == {"bad.txt", "empty.txt", "feed.jsonl:2", "notes.csv"}
    assert "invalid UTF-8 at line 1" in skipped["bad.txt"]
    assert "invalid JSON" in skipped["feed.jsonl:2"]
    assert '"feed.jsonl:2"' in (tmp_path / "out" / "report.json").read_text()


def test_strict_mode_stops_before_writing(tmp_path):
    inp = write_articles(tmp_path / "in", {"a.txt": "A\n\nBody.\n", "empty.txt": ""})
    with pytest.raises(dedupe_input_error(), match="empty.txt: empty file"):
        dedupe.run(inp, tmp_path / "out", Config(strict=True))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_missing_input_directory_is_a_clear_error(tmp_path):
    with pytest.raises(dedupe_input_error(), match="input directory not found: .*nowhere"):
        dedupe.run(tmp_path / "nowhere", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


def dedupe_input_error():
    from dedupe.io.readers import InputError

    return InputError
