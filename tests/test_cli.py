"""The `dedupe` command: clear errors, exit codes, the local engine, evaluate."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dedupe.cli import main
from dedupe.config import ConfigError
from tests.conftest import RAW, write_articles


def test_missing_input_is_one_clear_line_and_status_2(tmp_path, capsys):
    code = main(["run", "--input", str(tmp_path / "nowhere"), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"dedupe: error: input directory not found: {tmp_path / 'nowhere'}"
    assert not (tmp_path / "out").exists()


def test_bad_config_names_the_key(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text("segment_treshold = 0.5\n")
    code = main(["run", "--input", str(RAW), "--output", str(tmp_path / "out"), "--config", str(config)])
    assert code == 2
    assert "unknown config key(s) 'segment_treshold'" in capsys.readouterr().err


def test_scheduler_without_the_dask_engine_is_one_clear_line(tmp_path, capsys):
    code = main(["run", "--input", str(RAW), "--output", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:1"])
    assert (code, capsys.readouterr().err.strip()) == (2, "dedupe: error: --scheduler needs --engine dask")


def test_a_dask_config_in_a_plain_library_run_is_one_clear_line(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('engine = "dask"\n')
    code = main(["run", "--input", str(RAW), "--output", str(tmp_path / "out"), "--config", str(config),
                 "--engine", "local"])  # --engine local overrides the config's engine
    assert code == 0
    import dedupe
    from dedupe.config import load_config

    with pytest.raises(ConfigError, match="runs only through the Prefect flow of `dedupe run --engine dask`"):
        dedupe.run(RAW, tmp_path / "lib", load_config(config))
    assert not (tmp_path / "lib" / "documents.parquet").exists()


def test_local_engine_writes_outputs_and_v_prints_the_report(tmp_path, capsys):
    inp = write_articles(tmp_path / "in", {"a.txt": "Title\nBody.\nLoad video\n"})
    assert main(["run", "-v", "--input", str(inp), "--output", str(tmp_path / "out"), "--engine", "local"]) == 0
    assert "segments removed | 1" in capsys.readouterr().out
    assert (tmp_path / "out" / "segments.parquet").exists()


def test_help_does_not_import_heavy_modules():
    code = ("import sys\nfrom dedupe.cli import _parser\n_parser().format_help()\n"
            "print(sorted(m for m in ('prefect', 'datasketch', 'pyarrow', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_evaluate_scores_an_output(tmp_path, capsys):
    inp = write_articles(tmp_path / "in", {"a.txt": "Title\nA caption\nBody text of the story.\nA caption\n"})
    labels = tmp_path / "labels.jsonl"
    rows = [
        {"type": "segment", "source": "a.txt", "start": 0, "end": 5, "group": None, "kind": None, "expected": "keep"},
        {"type": "segment", "source": "a.txt", "start": 6, "end": 15, "group": "g", "kind": "repeat", "expected": "keep"},
        {"type": "segment", "source": "a.txt", "start": 16, "end": 39, "group": None, "kind": None, "expected": "keep"},
        {"type": "segment", "source": "a.txt", "start": 40, "end": 49, "group": "g", "kind": "repeat", "expected": "drop"},
        {"type": "document", "source": "a.txt", "group": None},
    ]
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out_json = tmp_path / "scores.json"
    assert main(["evaluate", "--labels", str(labels), "--output", str(tmp_path / "out"),
                 "--input", str(inp), "--json", str(out_json)]) == 0
    scores = json.loads(out_json.read_text())
    assert scores["segments"]["content_loss"] == 0.0
    assert scores["segments"]["pairs"]["f1"] == 1.0
    assert scores["run"]["seconds"] > 0 and scores["run"]["peak_rss_mb"] > 0
    assert "run time" in capsys.readouterr().out


def test_prefect_engine_without_the_flows_folder_is_one_clear_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DEDUPE_FLOWS_DIR", str(tmp_path / "no-flows"))
    code = main(["run", "--input", str(RAW), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith(f"dedupe: error: Prefect flow not found at {tmp_path / 'no-flows'}")
    assert "\n" not in err and not (tmp_path / "out").exists()


def test_python_dash_m_dedupe_is_the_command():
    done = subprocess.run([sys.executable, "-m", "dedupe", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("usage: dedupe")


def test_version():
    from dedupe import __version__

    done = subprocess.run([sys.executable, "-m", "dedupe", "--version"], capture_output=True, text=True)
    assert done.stdout.strip() == f"dedupe {__version__}"


def test_exit_codes_are_in_the_help():
    done = subprocess.run([sys.executable, "-m", "dedupe", "run", "--help"], capture_output=True, text=True)
    assert "exit status:" in done.stdout and "130" in done.stdout


def test_final_line_says_what_was_written_where_and_q_silences_it(tmp_path, capsys):
    inp = write_articles(tmp_path / "in", {"a.txt": "Title\nBody.\nLoad video\n", "b.bin": "x"})
    out = tmp_path / "out"
    assert main(["run", "--input", str(inp), "--output", str(out), "--engine", "local"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == (f"dedupe: wrote {out}/{{documents,segments,clusters}}.parquet and report.json: "
                                    "1 documents (1 inputs skipped), 3 segments, 1 removed, "
                                    "0 near-duplicate documents marked")
    assert "dedupe: WARNING: skipped b.bin: unsupported file type" in captured.err
    assert main(["run", "-q", "--input", str(inp), "--output", str(out), "--engine", "local"]) == 0
    assert capsys.readouterr() == ("", "")


def test_an_empty_input_is_one_line_before_prefect_starts(tmp_path):
    (tmp_path / "empty").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    done = subprocess.run([sys.executable, "-m", "dedupe", "run", "--input", str(tmp_path / "empty"),
                           "--output", str(tmp_path / "out")], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"dedupe: error: no input files in {tmp_path / 'empty'} "
                                   "(expected .txt, .jsonl or .parquet files)")
    assert not (tmp_path / "prefect-home").exists()  # Prefect never started


@pytest.mark.parametrize("numba_loaded", [False, True])
def test_the_command_exits_with_main_status_and_flushed_output(tmp_path, numba_loaded):
    """`entry` ends the process at once (skipping the interpreter's and numba's slow teardown):
    the status, the printed lines and the exit handlers must be those of a normal exit."""
    marker = tmp_path / "atexit-ran"
    code = ("import atexit, pathlib, sys\n"
            + ("import numba\n" if numba_loaded else "")
            + f"atexit.register(pathlib.Path({str(marker)!r}).touch)\n"
            "from dedupe.cli import entry\n"
            "sys.argv = ['dedupe', *sys.argv[1:]]\n"
            "entry()\n")
    bad = subprocess.run([sys.executable, "-c", code, "run", "--input", str(tmp_path / "nowhere"),
                          "--output", str(tmp_path / "out")], capture_output=True, text=True)
    assert bad.returncode == 2 and "input directory not found" in bad.stderr
    assert marker.exists()
    marker.unlink()
    good = subprocess.run([sys.executable, "-c", code, "run", "--engine", "local", "--input", str(RAW),
                           "--output", str(tmp_path / "out")], capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("dedupe: wrote ") and marker.exists()


PROBE_BLAS = """
import os, sys
import dedupe.cli as cli
cli.main = lambda: print(os.environ.get("OPENBLAS_NUM_THREADS"), "numpy" in sys.modules) or 0
cli.entry()
"""


@pytest.mark.parametrize("given, seen", [(None, "1"), ("4", "4")])
def test_the_command_keeps_numpys_blas_to_one_thread_unless_the_user_chose(given, seen):
    """OpenBLAS starts a thread per core as numpy loads (CPU that start-up cannot spare); the
    command sets it to one thread before numpy loads, and leaves a user's own setting alone."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    done = subprocess.run([sys.executable, "-c", PROBE_BLAS], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [seen, "True"]  # numpy loaded after the setting, by `kernels`
