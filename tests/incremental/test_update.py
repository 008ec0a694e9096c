"""Nightly runs into Delta tables (dedupe/incremental): only new work is read, the tables always
equal a full run, and a killed or concurrent run never damages them."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

import dedupe
from dedupe.incremental import export, update
from dedupe.incremental.nightly import FAULT_ENV, RUNS, table_paths
from dedupe.io.staging import OutputError
from tests.conftest import RAW, ROOT, SHARED, write_articles

SEEDS = sorted(RAW.glob("*.txt"))
FILES = ("documents.parquet", "segments.parquet", "clusters.parquet")


def _hashes(directory: Path) -> dict[str, str]:
    return {name: hashlib.sha256((directory / name).read_bytes()).hexdigest() for name in FILES}


def _add(root: Path, files: dict[str, str | bytes]) -> None:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))


def _runs(table: Path) -> list[dict]:
    return sorted(DeltaTable(str(table / RUNS)).to_pyarrow_table().to_pylist(), key=lambda r: r["run_number"])


def _equals_full_run(tmp_path: Path, inputs: Path, table: Path) -> None:
    export(table, tmp_path / "export")
    dedupe.run(inputs, tmp_path / "full")
    assert _hashes(tmp_path / "export") == _hashes(tmp_path / "full")


def test_two_days_equal_one_full_run_and_only_new_inputs_are_read(tmp_path):
    inputs, table = tmp_path / "in", tmp_path / "tables"
    _add(inputs, {f"day1/{p.name}": p.read_text(encoding="utf-8") for p in SEEDS[:3]})
    first = update(inputs, table).run
    assert (first["inputs_added"], first["inputs_unchanged"], first["documents_inserted"]) == (3, 0, 3)
    _add(inputs, {f"day2/{p.name}": p.read_text(encoding="utf-8") for p in SEEDS[3:]})
    second = update(inputs, table).run
    assert (second["inputs_added"], second["inputs_unchanged"], second["documents_inserted"]) == (2, 3, 2)
    # day 2 changed day-1 decisions (a boilerplate line, a cluster's size): rows were updated
    assert second["segments_updated"] > 0 and second["clusters_updated"] > 0
    _equals_full_run(tmp_path, inputs, table)
    docs = DeltaTable(str(table / "documents")).to_pyarrow_table()
    assert sorted(set(docs.column("run_id").to_pylist())) == [first["run_id"], second["run_id"]]


def test_a_rerun_with_nothing_new_commits_only_its_runs_row(tmp_path):
    inputs, table = tmp_path / "in", tmp_path / "tables"
    _add(inputs, {p.name: p.read_text(encoding="utf-8") for p in SEEDS})
    update(inputs, table)
    versions = {name: DeltaTable(str(path)).version() for name, path in table_paths(table).items()}
    os.utime(inputs / SEEDS[0].name)  # touched, not changed: hashed, not read again
    again = update(inputs, table).run
    assert again["inputs_unchanged"] == 5 and again["inputs_added"] == again["inputs_changed"] == 0
    assert {name: DeltaTable(str(path)).version() for name, path in table_paths(table).items()} == versions
    assert [r["run_number"] for r in _runs(table)] == [1, 2]


def test_a_changed_input_replaces_its_rows(tmp_path):
    inputs, table = tmp_path / "in", tmp_path / "tables"
    _add(inputs, {p.name: p.read_text(encoding="utf-8") for p in SEEDS})
    update(inputs, table)
    shortened = "\n".join(SEEDS[4].read_text(encoding="utf-8").splitlines()[:6]) + "\n"
    _add(inputs, {SEEDS[4].name: shortened})
    run = update(inputs, table).run
    assert (run["inputs_changed"], run["documents_updated"]) == (1, 1)
    assert run["segments_deleted"] > 0
    _equals_full_run(tmp_path, inputs, table)


CREDIT = "Photo: Reuters/Andrew Kelly"


def _article(i: int, extra: str = "") -> str:
    words = [f"w{i}x{j}" for j in range(60)]
    body = "\n".join(" ".join(words[k:k + 12]) for k in range(0, 60, 12))
    return f"Story number {i}\n{body}\n{CREDIT}\n{extra}"


def test_a_credit_seen_yesterday_is_removed_today_under_yesterdays_cluster_id(tmp_path):
    inputs, table = tmp_path / "in", tmp_path / "tables"
    _add(inputs, {f"day1/{i}.txt": _article(i) for i in range(5)})
    update(inputs, table)
    segments = DeltaTable(str(table / "segments")).to_pyarrow_table().to_pylist()
    (day1_id,) = {s["cluster_id"] for s in segments if s["text"] == CREDIT}
    _add(inputs, {"day2/9.txt": _article(9)})
    update(inputs, table)
    today = [s for s in DeltaTable(str(table / "segments")).to_pyarrow_table().to_pylist()
             if s["doc_id"] == "day2/9.txt" and s["text"] == CREDIT]
    assert today and today[0]["role"] == "boilerplate" and not today[0]["kept"]
    assert today[0]["cluster_id"] == day1_id


def test_a_syndicated_copy_arriving_a_day_later_points_at_the_original(tmp_path):
    inputs, table = tmp_path / "in", tmp_path / "tables"
    original = SEEDS[0].read_text(encoding="utf-8")
    _add(inputs, {"day1/original.txt": original, "day1/other.txt": SEEDS[1].read_text(encoding="utf-8")})
    update(inputs, table)
    copy = "UPDATE 1-" + "\n".join(original.splitlines()[:-4]) + "\n"
    _add(inputs, {"day2/copy.txt": copy})
    update(inputs, table)
    docs = {d["doc_id"]: d for d in DeltaTable(str(table / "documents")).to_pyarrow_table().to_pylist()}
    assert not docs["day2/copy.txt"]["kept"]
    assert docs["day2/copy.txt"]["duplicate_of"] == "day1/original.txt"
    assert docs["day1/original.txt"]["kept"]


def test_bad_input_is_recorded_and_loses_nothing(tmp_path):
    inputs, table = tmp_path / "in", tmp_path / "tables"
    _add(inputs, {p.name: p.read_text(encoding="utf-8") for p in SEEDS[:4]})
    update(inputs, table)
    _add(inputs, {"bad.txt": b"caf\xe9 \xff\xfe broken", "good.txt": SEEDS[4].read_text(encoding="utf-8")})
    run = update(inputs, table).run
    assert run["inputs_skipped"] == 1 and run["inputs_added"] == 2
    assert [s["source"] for s in json.loads(run["skipped"])] == ["bad.txt"]
    assert "bad.txt" in run["report_md"]
    assert DeltaTable(str(table / "documents")).to_pyarrow_table().num_rows == 5


def test_a_second_run_on_the_same_tables_is_refused_with_the_holder_named(tmp_path):
    inputs, table = tmp_path / "in", tmp_path / "tables"
    _add(inputs, {p.name: p.read_text(encoding="utf-8") for p in SEEDS})
    update(inputs, table)
    fd = os.open(table / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.pwrite(fd, b"pid 4242 on host-a since 2026-11-30T02:00:00\n", 0)
        with pytest.raises(OutputError, match="in use by another run.*pid 4242 on host-a"):
            update(inputs, table)
    finally:
        os.close(fd)
    # the holder died without clearing the file: the lock is free, and the next run takes it over
    assert update(inputs, table).run["run_number"] == 2


def _killed_run(inputs: Path, table: Path, after: str) -> int:
    code = ("import sys; from dedupe.incremental import update; "
            "update(sys.argv[1], sys.argv[2])")
    env = dict(os.environ, **{FAULT_ENV: after})
    proc = subprocess.run([sys.executable, "-c", code, str(inputs), str(table)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode


@pytest.mark.parametrize("after", ["scan", "archive", "inputs", "documents", "segments", "clusters"])
def test_a_killed_run_leaves_the_last_complete_run_and_the_next_run_completes(tmp_path, after):
    inputs, table = tmp_path / "in", tmp_path / "tables"
    _add(inputs, {p.name: p.read_text(encoding="utf-8") for p in SEEDS[:3]})
    update(inputs, table)
    before = {name: DeltaTable(str(path)).to_pyarrow_table().sort_by(
        [(c, "ascending") for c in DeltaTable(str(path)).to_pyarrow_table().column_names[:2]])
        for name, path in table_paths(table).items()}
    _add(inputs, {p.name: p.read_text(encoding="utf-8") for p in SEEDS[3:]})
    assert _killed_run(inputs, table, after) == -9
    # every table is readable, and the last complete run's versions hold what it wrote
    last = _runs(table)[-1]
    assert last["run_number"] == 1
    for name, path in table_paths(table).items():
        old = DeltaTable(str(path), version=last[f"{name}_version"]).to_pyarrow_table()
        assert old.sort_by([(c, "ascending") for c in old.column_names[:2]]).equals(before[name])
    run = update(inputs, table).run  # rolls back, then does the day's work once
    assert (run["run_number"], run["inputs_added"], run["inputs_unchanged"]) == (2, 2, 3)
    assert [r["run_number"] for r in _runs(table)] == [1, 2]
    _equals_full_run(tmp_path, inputs, table)


def test_a_killed_first_run_leaves_nothing_behind(tmp_path):
    inputs, table = tmp_path / "in", tmp_path / "tables"
    _add(inputs, {p.name: p.read_text(encoding="utf-8") for p in SEEDS})
    assert _killed_run(inputs, table, "segments") == -9
    assert (table / "segments").exists() and not (table / RUNS).exists()
    assert update(inputs, table).run["run_number"] == 1
    _equals_full_run(tmp_path, inputs, table)


CORPORA = SHARED / "corpora"


@pytest.mark.skipif(not (CORPORA / "bbc").is_dir(), reason=f"research corpora not available at {CORPORA}")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_day_splits_of_the_development_benchmark_equal_one_full_run(tmp_path, seed):
    devset = tmp_path / "devset"
    built = subprocess.run([sys.executable, str(ROOT / "bench" / "devset" / "make_devset.py"), "--out", str(devset),
                            "--corpora", str(CORPORA), "--quiet"], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    files = sorted(p.relative_to(devset / "articles") for p in (devset / "articles").rglob("*.txt"))
    rng = random.Random(seed)
    days = [[] for _ in range(rng.randint(2, 4))]
    for f in files:
        days[rng.randrange(len(days))].append(f)
    inputs, table = tmp_path / "in", tmp_path / "tables"
    for day in days:
        for f in day:
            (inputs / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(devset / "articles" / f, inputs / f)
        assert update(inputs, table).run["inputs_added"] == len(day)
    _equals_full_run(tmp_path, inputs, table)


def test_a_document_id_used_twice_is_skipped_as_a_full_run_skips_it(tmp_path):
    inputs, table = tmp_path / "in", tmp_path / "tables"
    config = dedupe.Config(id_field="id")
    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    _add(inputs, {"b.jsonl": "".join(json.dumps({"id": f"n{i}", "text": t}) + "\n" for i, t in enumerate(texts[:3]))})
    update(inputs, table, config)
    # a later file that sorts first and reuses id n1: the full run keeps a.jsonl's, skips b.jsonl's
    _add(inputs, {"a.jsonl": "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in (("n1", texts[3]), ("n9", texts[4])))})
    run = update(inputs, table, config).run
    assert [s["source"] for s in json.loads(run["skipped"])] == ["b.jsonl:2"]
    export(table, tmp_path / "export")
    dedupe.run(inputs, tmp_path / "full", config)
    assert _hashes(tmp_path / "export") == _hashes(tmp_path / "full")


def test_batches_prepared_by_earlier_runs_are_not_prepared_again(tmp_path):
    """Dated folders sort after the archive: the earlier batches are read from the cache, the
    new one is prepared and stored, and the tables still equal a full run."""
    inputs, table = tmp_path / "in", tmp_path / "tables"
    config = dedupe.Config(batch_docs=2)
    _add(inputs, {f"2026-11-29/{p.name}": p.read_text(encoding="utf-8") for p in SEEDS[:4]})
    update(inputs, table, config)
    cache = table / "_dedupe" / "prepared"
    first = {p.name for p in cache.iterdir()}
    assert len(first) == 2
    _add(inputs, {f"2026-11-30/{SEEDS[4].name}": SEEDS[4].read_text(encoding="utf-8")})
    update(inputs, table, config)
    second = {p.name for p in cache.iterdir()}
    assert len(second) == 3 and first < second
    export(table, tmp_path / "export")
    dedupe.run(inputs, tmp_path / "full", config)
    assert _hashes(tmp_path / "export") == _hashes(tmp_path / "full")
