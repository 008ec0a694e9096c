"""Partitions: the prepare pass by path, as a cluster engine runs it, gives the same batches and
the same output as the in-memory pass, however the input is cut."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

import dedupe
from dedupe.config import Config
from dedupe.corpus.partitions import Partition, partitions, prepare_partition, read_partition
from dedupe.corpus.prepare import prepare_batch
from dedupe.engines.local import InlineEngine
from dedupe.io.stores import DocumentStore
from dedupe.pipeline import ingest
from dedupe.sketch.sets import ShingleSets
from tests.conftest import RAW

OUTPUTS = ("documents.parquet", "segments.parquet", "clusters.parquet", "report.json")


def _hashes(out: Path) -> dict[str, str]:
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in OUTPUTS}


def _staged(tmp_path: Path, config: Config) -> Path:
    stage = tmp_path / "stage"
    stage.mkdir()
    return ingest(RAW, stage, config)


def test_a_partition_read_back_equals_the_prepared_batch(tmp_path):
    config = Config(batch_docs=2)
    path = _staged(tmp_path, config)
    store = DocumentStore(path)
    refs = partitions(path, store.row_groups, tasks=2)
    assert [(p.first, p.count) for p in refs] == [(0, 2), (2, 1)]  # 5 articles, 2 per row group
    texts = [data["text"] for _, data in store.iter_batches(("text",))]
    folders = [folder for ref in refs for folder in prepare_partition(ref, config)]
    assert folders == [str(refs[0].folder(0)), str(refs[0].folder(1)), str(refs[1].folder(2))]
    for folder, batch_texts in zip(folders, texts):
        assert sorted(p.name for p in Path(folder).iterdir()) == sorted(
            f"{n}.parquet" for n in ("segments", "keys", "passages", "extensions", "documents", "sample"))
        got, want = read_partition(folder), prepare_batch(batch_texts, config)
        for field in want.__dataclass_fields__:
            a, b = getattr(got, field), getattr(want, field)
            if isinstance(b, ShingleSets):
                assert np.array_equal(a.values, b.values) and np.array_equal(a.offsets, b.offsets)
                assert (a.ids is None) == (b.ids is None)
                assert a.ids is None or np.array_equal(a.ids, b.ids)
            elif isinstance(b, np.ndarray):
                assert a.dtype == b.dtype and np.array_equal(a, b), field
            else:
                assert a == b, field


def test_a_finished_partition_is_not_redone_and_leaves_no_partial_folder(tmp_path):
    config = Config(batch_docs=2)
    ref = partitions(_staged(tmp_path, config), 3)[1]
    [folder] = map(Path, prepare_partition(ref, config))
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert prepare_partition(ref, config) == [str(folder)]  # a second attempt (a retried task)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # nothing left aside


def test_a_partition_is_a_small_picklable_reference(tmp_path):
    import pickle

    ref = Partition(str(tmp_path / "input.parquet"), 7, 2)
    assert pickle.loads(pickle.dumps(ref)) == ref
    assert ref.folder(8) == tmp_path / "parts" / "000008" and ref.label == "prepare-partition-7"


def test_partitions_cut_row_groups_into_runs_of_at_most_eight():
    cut = partitions(Path("/x/input.parquet"), 82, tasks=8)
    assert [p.count for p in cut] == [8] * 10 + [2] and cut[-1].first == 80
    assert [p.count for p in partitions(Path("/x/input.parquet"), 5, tasks=8)] == [1] * 5
    assert [p.count for p in partitions(Path("/x/input.parquet"), 17, tasks=8)] == [3] * 5 + [2]


@pytest.mark.parametrize("batch_docs", [1, 2, 1024])
def test_output_by_partition_equals_the_local_engine(tmp_path, seed_output, batch_docs):
    out = tmp_path / "out"
    dedupe.run(RAW, out, Config(batch_docs=batch_docs), engine=InlineEngine(by_path=True))
    assert _hashes(out) == _hashes(seed_output)
