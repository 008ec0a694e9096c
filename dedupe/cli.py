"""The `dedupe` command.

    dedupe run --input DIR --output DIR [--config FILE] [--engine prefect|local|dask]
               [--scheduler tcp://HOST:PORT] [--workers N] [-v | -q]
    dedupe update --input DIR --table DIR [--config FILE] [--engine prefect|local] [-v | -q]
    dedupe export --table DIR --output DIR [--run N]
    dedupe warmup
    dedupe evaluate --labels FILE --output DIR [--input DIR --config FILE] [--json FILE]
    dedupe --version

`--engine prefect` (the default) runs the Prefect flow that deployments name,
`flows/dedupe_flow.py:dedupe_flow`, loaded by file path from the project's `flows/` folder (or
$DEDUPE_FLOWS_DIR): the library itself never imports Prefect. `--engine local` calls
`dedupe.run` directly. `--engine dask` runs the same flow with the prepare pass as Prefect tasks
on a Dask cluster (prefect-dask): the one at `--scheduler`, or a LocalCluster of `--workers`
processes on 127.0.0.1. `update` is the nightly run into Delta tables (the flow
`flows/nightly_flow.py:dedupe_nightly`, or `dedupe.incremental.update` with `--engine local`);
`export` writes the tables as `run` writes its output.

Imports are deferred so `dedupe --help` does not pay for Prefect, pyarrow or datasketch.
Problems with the input, the output or the configuration are found before any work (and before
Prefect starts its server) and print one clear line.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib.util
import logging
import os
import sys
import threading
from pathlib import Path
from types import ModuleType

EXIT_CODES = """exit status:
  0    the run finished and its output was published
  1    an unexpected error (a bug: the traceback says where)
  2    bad input, output or configuration, or the output in use by another run (one line
       says what and where); nothing was published
  130  interrupted by Ctrl-C (SIGINT); 143 stopped by SIGTERM: the previous output is intact"""


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="dedupe", description="Near-duplicate and boilerplate "
                                     "cleaner for news text: cleaned articles and a cluster map in Parquet.",
                                     epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"dedupe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    verbosity = argparse.ArgumentParser(add_help=False)
    group = verbosity.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="count", default=0,
                       help="say what each stage does (-vv: debug detail) and print the report")
    group.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    run = sub.add_parser("run", parents=[verbosity], help="clean the articles in a directory tree",
                         epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--input", required=True, type=Path, help="directory of .txt/.jsonl/.parquet inputs")
    run.add_argument("--output", required=True, type=Path, help="directory for the Parquet outputs")
    run.add_argument("--config", type=Path, help="TOML file of settings (see README, Configuration)")
    run.add_argument("--engine", choices=("prefect", "local", "dask"), default="prefect",
                     help="run as a Prefect flow (default), as a plain function call, or as a Prefect flow "
                          "whose prepare pass runs on a Dask cluster")
    run.add_argument("--scheduler", help="with --engine dask: the Dask scheduler's address "
                                         "(default: a LocalCluster on 127.0.0.1)")
    run.add_argument("--workers", type=int, help="worker processes (local pool, or the LocalCluster's size)")
    up = sub.add_parser("update", parents=[verbosity],
                        help="add new and changed inputs to the Delta tables of a table directory",
                        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    up.add_argument("--input", required=True, type=Path, help="directory of .txt/.jsonl/.parquet inputs (the feed's root)")
    up.add_argument("--table", required=True, type=Path, help="directory of the Delta tables (made on the first run)")
    up.add_argument("--config", type=Path, help="TOML file of settings (see README, Configuration)")
    up.add_argument("--engine", choices=("prefect", "local"), default="prefect",
                    help="prefect: run the nightly flow (default); local: no Prefect")
    ex = sub.add_parser("export", parents=[verbosity], help="write the tables as Parquet files, as `run` writes them",
                        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    ex.add_argument("--table", required=True, type=Path, help="directory of the Delta tables")
    ex.add_argument("--output", required=True, type=Path, help="directory for the Parquet files")
    ex.add_argument("--run", type=int, help="the tables as a completed run left them (its run_number; default the last)")
    ev = sub.add_parser("evaluate", parents=[verbosity], help="score an output against labels (see docs/labels.md)",
                        epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.add_parser("warmup", parents=[verbosity], help="make the compiled kernels ready (built ahead of "
                   "time, or into numba's cache) and write the package's bytecode (a container image or a "
                   "worker runs it after installing)")
    ev.add_argument("--labels", required=True, type=Path, help="labels.jsonl (or its directory)")
    ev.add_argument("--output", required=True, type=Path, help="output directory to score")
    ev.add_argument("--input", type=Path, help="if given, run the pipeline on it first (locally)")
    ev.add_argument("--config", type=Path, help="TOML settings for that run")
    ev.add_argument("--json", type=Path, help="also write the scores as JSON here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .config import ConfigError
    from .io.readers import InputError
    from .io.staging import OutputError  # TableError (dedupe update / export) is one too

    _configure_logging(args.verbose, args.quiet)
    try:
        with _progress_bar(enabled=not args.quiet):
            if args.command == "run":
                return _run(args)
            if args.command == "update":
                return _update(args)
            if args.command == "export":
                return _export(args)
            if args.command == "warmup":
                return _warmup(args)
            return _evaluate(args)
    except (ConfigError, InputError, OutputError) as err:
        print(f"dedupe: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dedupe: interrupted; the previous output is intact", file=sys.stderr)
        return 130


def entry() -> None:
    """The `dedupe` command: `main`, then exit with its status.

    A normal interpreter exit frees every object one by one: 0.05-0.1 s after a 60k-paragraph
    run, and with numba loaded 0.15-0.2 s more tearing down its compiler, all memory the
    system reclaims anyway. So a local run ends right after the exit handlers (multiprocessing's,
    logging's) have run and the standard streams are flushed, unless a non-daemon thread is
    still working, which a normal exit would wait for. A run through Prefect exits normally:
    its log worker must drain into the API before the exit handlers stop its temporary server
    (the interpreter's own order), and its 15 s of start-up dwarf the teardown."""
    # numpy's OpenBLAS starts a thread per core when it loads, in every process of a run (this
    # one, the pool's fork server): 0.1-0.15 s of CPU each at start-up, when both cores are busy
    # importing. Nothing here uses BLAS. A value the user set stays.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from . import kernels

    kernels.own_process()  # nothing but the command runs here
    # A run allocates millions of small objects but few cycles; the default thresholds collect
    # (and walk every live object) 400 times at 60k paragraphs, 0.2 s of the main process.
    gc.set_threshold(20_000, 50, 100)
    code = main()
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if not others and "prefect" not in sys.modules:
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    sys.exit(code)


def _configure_logging(verbose: int, quiet: bool) -> None:
    """The library logs to the `dedupe` logger; the command shows warnings (skipped inputs),
    `-v` adds what each stage does, `-vv` debug detail, `-q` errors only."""
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("dedupe: %(levelname)s: %(message)s"))
    logger = logging.getLogger("dedupe")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def _progress_bar(enabled: bool):
    """A progress bar for the library's long loops, on a terminal only (rich comes with Prefect)."""
    from contextlib import nullcontext

    if not (enabled and sys.stderr.isatty()):
        return nullcontext()
    try:
        from rich.progress import track
    except ImportError:
        return nullcontext()
    from .progress import reporting

    return reporting(lambda items, total, description: track(items, total=total, description=description,
                                                             transient=True, console=_stderr_console()))


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def flows_dir() -> Path:
    """The folder holding the Prefect flows: $DEDUPE_FLOWS_DIR, else `flows/` of the checkout
    this package was installed from."""
    return Path(os.environ.get("DEDUPE_FLOWS_DIR") or Path(__file__).resolve().parents[1] / "flows")


def load_flows_module(name: str) -> ModuleType:
    """Load `flows/<name>.py` by file path, as a Prefect deployment entrypoint would."""
    from .io.readers import InputError

    path = flows_dir() / f"{name}.py"
    if not path.is_file():
        raise InputError(f"Prefect flow not found at {path}: run from a checkout of the project, "
                         "set DEDUPE_FLOWS_DIR, or use --engine local")
    spec = importlib.util.spec_from_file_location(f"dedupe_flows_{name}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _run(args: argparse.Namespace) -> int:
    from .config import load_config
    from .engines.local import prestart_for

    config = load_config(args.config, **_engine_overrides(args))  # validate before anything heavy
    prestart_for(args.input, config)  # a large input: the worker pool's fork server loads from now on

    from .pipeline import check_paths

    check_paths(args.input, args.output)  # input and output problems: one line, before Prefect starts
    if args.engine == "local":
        from .pipeline import run

        report = run(args.input, args.output, config)
        summary = report.to_dict()
    else:
        summary = _run_flow(args)
    if args.verbose and not args.quiet:
        from .report import Report

        print(Report(**summary).to_markdown())
    if not args.quiet:
        print(_written(args.output, summary))
    return 0


def _engine_overrides(args: argparse.Namespace) -> dict:
    """Config overrides from --engine, --scheduler and --workers (`prefect` keeps the config's engine)."""
    from .config import ConfigError

    if args.scheduler and args.engine != "dask":
        raise ConfigError("--scheduler needs --engine dask")
    out: dict = {}
    if args.engine in ("local", "dask"):
        out["engine"] = args.engine
    if args.scheduler:
        out["scheduler"] = args.scheduler
    if args.workers is not None:
        out["workers"] = args.workers
    return out


def _run_flow(args: argparse.Namespace) -> dict:
    """The run as the Prefect flow; ConfigError when Prefect could not keep its state."""
    import json

    dedupe_flow = _prefect_flow("dedupe_flow").dedupe_flow
    result = dedupe_flow(input_dir=str(args.input), output_dir=str(args.output),
                         config_path=str(args.config) if args.config else None,
                         overrides=_engine_overrides(args) or None)
    return json.loads(result["report"])


def _prefect_flow(name: str) -> ModuleType:
    """The flows module `name`, loaded after Prefect's offline defaults are set (where the user
    set nothing); ConfigError when Prefect could not keep its state."""
    from .config import ConfigError

    settings = load_flows_module("settings")
    settings.configure_prefect()
    try:
        settings.check_prefect_home()
    except settings.PrefectHomeError as err:
        raise ConfigError(str(err)) from None
    return load_flows_module(name)


def _update(args: argparse.Namespace) -> int:
    from .config import load_config
    from .io.readers import check_input
    from .io.staging import check_output

    config = load_config(args.config)
    check_input(args.input)
    check_output(args.table)
    if args.engine == "local":
        from .incremental import update

        result = update(args.input, args.table, config)
        run, report = result.run, (result.report.to_markdown() if result.report else None)
    else:
        run, report = _update_flow(args)
    if args.verbose and not args.quiet and report:
        print(report)
    if not args.quiet:
        print(_updated(args.table, run))
    return 0


def _update_flow(args: argparse.Namespace) -> tuple[dict, str | None]:
    nightly = _prefect_flow("nightly_flow").dedupe_nightly
    done = nightly(input_dir=str(args.input), table_dir=str(args.table),
                   config_path=str(args.config) if args.config else None)
    return done["run"], done["run"].get("report_md")


def _updated(table: Path, run: dict) -> str:
    """The final line of `update`: what the run read and wrote."""
    written = ", ".join(f"{t} +{run[f'{t}_inserted']} ~{run[f'{t}_updated']} -{run[f'{t}_deleted']}"
                        for t in ("documents", "segments", "clusters"))
    return (f"dedupe: updated {table} (run {run['run_number']}): {run['inputs_added']} inputs added, "
            f"{run['inputs_changed']} changed, {run['inputs_unchanged']} unchanged, "
            f"{run['inputs_skipped']} skipped; rows {written}")


def _export(args: argparse.Namespace) -> int:
    from .incremental import export

    export(args.table, args.output, args.run)
    if not args.quiet:
        print(f"dedupe: wrote {args.output}/{{documents,segments,clusters}}.parquet and report.json "
              f"from {args.table}" + (f" as run {args.run} left it" if args.run else ""))
    return 0


def _written(output: Path, summary: dict) -> str:
    """The final line: what was written where."""
    return (f"dedupe: wrote {output}/{{documents,segments,clusters}}.parquet and report.json: "
            f"{summary['documents']} documents ({len(summary['skipped'])} inputs skipped), "
            f"{summary['segments']} segments, {summary['segments_removed']} removed, "
            f"{summary['documents_dropped']} near-duplicate documents marked")


def _warmup(args: argparse.Namespace) -> int:
    import time

    from .config import ConfigError
    from .kernels.warmup import compile_bytecode, warmup

    start = time.perf_counter()
    bytecode = compile_bytecode()
    try:
        count, where = warmup()
    except RuntimeError as err:
        raise ConfigError(str(err)) from None
    if not args.quiet:
        print(f"dedupe: {count} kernels ready in {where} ({time.perf_counter() - start:.1f} s)")
        if not bytecode:
            print("dedupe: the package's bytecode could not be written (a read-only install): "
                  "each run compiles the library's modules as it imports them")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import json
    import resource
    import time

    from .config import load_config
    from .evaluation.evaluate import evaluate_output, format_table
    from .evaluation.labels import load_labels

    labels = load_labels(args.labels)
    run_info = None
    if args.input:
        from .pipeline import run

        start = time.perf_counter()
        run(args.input, args.output, load_config(args.config))
        # ru_maxrss is in KiB on Linux; worker processes are reported under RUSAGE_CHILDREN.
        run_info = {
            "seconds": round(time.perf_counter() - start, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_rss_workers_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        }
    evaluation = evaluate_output(args.output, labels)
    print(format_table(evaluation))
    if run_info:
        print(f"run time {run_info['seconds']} s, peak memory {run_info['peak_rss_mb']} MB "
              f"(worker processes {run_info['peak_rss_workers_mb']} MB)")
    if args.json:
        scores = evaluation.to_dict()
        scores["run"] = run_info
        args.json.write_text(json.dumps(scores, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
