"""End-to-end properties of `dedupe.run`: determinism, atomic output, Parquet round-trip, and
the output lifecycle under kills, signals, a concurrent run, mounts and unusable outputs."""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import subprocess
import sys

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import dedupe
from dedupe import pipeline
from dedupe.cli import main
from dedupe.config import Config
from dedupe.io.staging import OutputError
from dedupe.io.tables import CLUSTERS_SCHEMA, DOCUMENTS_SCHEMA, OUTPUT_FILES, SEGMENTS_SCHEMA
from tests.conftest import RAW, ROOT, write_articles
from tests.io.test_staging import dedupe_log, in_namespace  # noqa: F401 (a fixture)

ALL_FILES = OUTPUT_FILES + ("report.json", "report.md")

# A run that stops before publishing, once its staging directory holds every output file, and
# waits for its standard input to close.
BLOCKED_RUN = """
import signal, sys
import dedupe
from dedupe import pipeline

# Ctrl-C raises KeyboardInterrupt, as in an interactive process, even when the test runner was
# started in the background of a non-interactive shell (which passes SIGINT on ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)

publish_outputs = pipeline.publish_outputs

def blocked(stage, output_dir):
    print("staged", flush=True)
    sys.stdin.read()
    return publish_outputs(stage, output_dir)

pipeline.publish_outputs = blocked
dedupe.run(sys.argv[1], sys.argv[2])
"""

# A run whose process dies (no cleanup at all) just before or just after switching `.current`.
DIES_AT_SWITCH = """
import os, sys
from pathlib import Path
import dedupe

replace = os.replace

def dying(src, dst):
    if Path(dst).name == ".current":
        if sys.argv[3] == "after":
            replace(src, dst)
        os._exit(9)
    replace(src, dst)

os.replace = dying
dedupe.run(sys.argv[1], sys.argv[2])
"""


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
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert_released(out)


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
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".lock"]
    assert_released(tmp_path / "out")


def test_missing_input_directory_is_a_clear_error(tmp_path):
    with pytest.raises(dedupe_input_error(), match="input directory not found: .*nowhere"):
        dedupe.run(tmp_path / "nowhere", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []


def dedupe_input_error():
    from dedupe.io.readers import InputError

    return InputError


def assert_released(out):
    """The run that ended left no staging directory and released the lock."""
    assert not list(out.glob(".staging-*"))
    assert (out / ".lock").read_text() == ""


def files(out) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in ALL_FILES}


@pytest.fixture
def previous_output(tmp_path):
    """An output published before, that the run under test would change."""
    out = tmp_path / "out"
    dedupe.run(RAW, out, Config(repeat_action="keep"))
    return out


def start_blocked_run(out) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", BLOCKED_RUN, str(RAW), str(out)], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if child.stdout.readline() != "staged\n":
        child.kill()
        pytest.fail(f"the blocked run did not start: {child.communicate()[1]}")
    return child


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_process_killed_at_the_switch_leaves_the_old_set_or_the_new_one(where, previous_output, seed_output):
    old = files(previous_output)
    done = subprocess.run([sys.executable, "-c", DIES_AT_SWITCH, str(RAW), str(previous_output), where],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    assert files(previous_output) == (old if where == "before" else files(seed_output))
    dedupe.run(RAW, previous_output)
    assert files(previous_output) == files(seed_output)
    assert_released(previous_output)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_run_removes_its_staging_and_keeps_the_previous_output(signum, previous_output):
    old = files(previous_output)
    child = start_blocked_run(previous_output)
    assert len(list(previous_output.glob(".staging-*"))) == 1
    child.send_signal(signum)
    child.communicate()
    assert child.returncode == (143 if signum == signal.SIGTERM else -signal.SIGINT)
    assert files(previous_output) == old
    assert_released(previous_output)


def test_staging_and_lock_left_by_kill_9_are_removed_by_the_next_run(previous_output, seed_output, dedupe_log):
    child = start_blocked_run(previous_output)
    child.kill()
    child.communicate()
    dead = f"pid {child.pid} on {socket.gethostname()}"
    assert (previous_output / ".lock").read_text().strip() == dead
    assert [(p / "owner").read_text().strip() for p in previous_output.glob(".staging-*")] == [dead]
    dedupe.run(RAW, previous_output)
    assert files(previous_output) == files(seed_output)
    assert_released(previous_output)
    assert sum(dead in r.getMessage() for r in dedupe_log.records) == 2  # the lock, the staging


def test_a_second_run_into_the_same_output_is_refused_and_the_first_completes(previous_output, seed_output, capsys):
    child = start_blocked_run(previous_output)
    try:
        code = main(["run", "--engine", "local", "--input", str(RAW), "--output", str(previous_output)])
    finally:
        child.communicate("")  # let the first run publish
    assert code == 2 and child.returncode == 0
    assert capsys.readouterr().err == (f"dedupe: error: output {previous_output} is in use by another run "
                                       f"(pid {child.pid} on {socket.gethostname()}); wait for it to finish "
                                       "or choose another output\n")
    assert files(previous_output) == files(seed_output)


def test_an_output_that_is_a_file_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    afile = tmp_path / "parquet"
    afile.write_text("keep me")
    monkeypatch.setattr(pipeline, "ingest", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(OutputError, match="^output is not a directory: "):
        dedupe.run(RAW, afile)
    assert main(["run", "--engine", "local", "--input", str(RAW), "--output", str(afile)]) == 2
    assert capsys.readouterr().err == f"dedupe: error: output is not a directory: {afile}\n"
    assert afile.read_text() == "keep me" and list(tmp_path.iterdir()) == [afile]


def test_an_unwritable_output_is_one_line_and_status_2(tmp_path):
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    code = "import sys\nfrom dedupe.cli import main\nsys.exit(main(sys.argv[1:]))"
    done = in_namespace([f"mount -t tmpfs -o ro tmpfs {readonly}"], code,
                        "run", "--engine", "local", "--input", RAW, "--output", readonly / "out")
    assert done.returncode == 2
    assert done.stderr == (f"dedupe: error: output directory is not writable: {readonly / 'out'} "
                           f"(it would be created in {readonly}, which is not writable)\n")


@pytest.mark.parametrize("case", ["output is a mount point", "read-only parent"])
def test_runs_into_a_mount_point_publish_without_writing_beside_it(tmp_path, case, seed_output):
    parent = tmp_path / "parent"
    out = parent / "out"
    out.mkdir(parents=True)
    if case == "output is a mount point":
        mounts = [f"mount -t tmpfs tmpfs {out}"]
    else:
        mounts = [f"mount -t tmpfs tmpfs {parent}", f"mkdir {out}", f"mount -t tmpfs tmpfs {out}",
                  f"mount -o remount,ro {parent}"]
    code = ("import hashlib, json, sys\nfrom pathlib import Path\nimport dedupe\nfrom dedupe.config import Config\n"
            "out = Path(sys.argv[2])\n"
            "dedupe.run(sys.argv[1], out, Config(repeat_action='keep'))\n"
            "dedupe.run(sys.argv[1], out)\n"
            "print(json.dumps({'entries': sorted(p.name for p in out.parent.iterdir()) + sorted(p.name for p in out.iterdir()),"
            " 'hashes': {n: hashlib.sha256((out / n).read_bytes()).hexdigest() for n in sys.argv[3:]}}))\n")
    done = in_namespace(mounts, code, RAW, out, *ALL_FILES)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["entries"] == ["out", ".current", ".lock", ".versions", *sorted(ALL_FILES)]
    assert found["hashes"] == {name: hashlib.sha256(data).hexdigest() for name, data in files(seed_output).items()}


def test_the_output_inside_the_input_is_not_read_back(tmp_path):
    inp = write_articles(tmp_path / "in", {"a.txt": "Title A\n\nBody of a.\n", "b.txt": "Title B\n\nBody of b.\n"})
    first = dedupe.run(inp, inp / "out")
    second = dedupe.run(inp, inp / "out")
    assert first.to_json() == second.to_json()
    assert pq.read_table(inp / "out" / "documents.parquet").column("source").to_pylist() == ["a.txt", "b.txt"]


def test_staging_and_versions_are_invisible_to_globs_over_dated_outputs(tmp_path):
    history = tmp_path / "history"
    for day in ("run_date=2024-01-01", "run_date=2024-01-02"):
        dedupe.run(RAW, history / day, Config(repeat_action="keep"))
        dedupe.run(RAW, history / day)
    killed = history / "run_date=2024-01-02" / ".staging-killed"  # as a kill -9 leaves it
    killed.mkdir()
    (killed / "segments.parquet").write_bytes((history / "run_date=2024-01-02" / "segments.parquet").read_bytes())
    found = sorted(p.relative_to(history).as_posix() for p in history.glob("*/*.parquet"))
    assert found == [f"{day}/{name}" for day in ("run_date=2024-01-01", "run_date=2024-01-02")
                     for name in sorted(OUTPUT_FILES)]
    segments = ds.dataset([str(p) for p in sorted(history.glob("*/segments.parquet"))], format="parquet",
                          partitioning="hive", partition_base_dir=str(history)).to_table()
    per_day = pq.read_metadata(history / "run_date=2024-01-01" / "segments.parquet").num_rows
    counts = segments.group_by("run_date").aggregate([("segment", "count")]).to_pylist()
    assert sorted(counts, key=lambda row: row["run_date"]) == [
        {"run_date": day, "segment_count": per_day} for day in ("2024-01-01", "2024-01-02")]
