"""The `dedupe` command.

    dedupe run --input DIR --output DIR [--config FILE] [--engine prefect|local]
    dedupe evaluate --labels FILE --output DIR [--input DIR --config FILE] [--json FILE]

`--engine prefect` (the default) runs the Prefect flow that deployments name,
`flows/dedupe_flow.py:dedupe_flow`, loaded by file path from the project's `flows/` folder (or
$DEDUPE_FLOWS_DIR): the library itself never imports Prefect. `--engine local` calls
`dedupe.run` directly.

Imports are deferred so `dedupe --help` does not pay for Prefect, pyarrow or datasketch.
Errors in the input or configuration print one clear line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dedupe", description="Near-duplicate and boilerplate "
                                     "cleaner for news text: cleaned articles and a cluster map in Parquet.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="clean the articles in a directory tree")
    run.add_argument("--input", required=True, type=Path, help="directory of .txt/.jsonl/.parquet inputs")
    run.add_argument("--output", required=True, type=Path, help="directory for the Parquet outputs")
    run.add_argument("--config", type=Path, help="TOML file of settings (see README, Configuration)")
    run.add_argument("--engine", choices=("prefect", "local"), default="prefect",
                     help="run as a Prefect flow (default) or as a plain function call")
    ev = sub.add_parser("evaluate", help="score an output against labels (see docs/labels.md)")
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

    try:
        if args.command == "run":
            return _run(args)
        return _evaluate(args)
    except (ConfigError, InputError) as err:
        print(f"dedupe: error: {err}", file=sys.stderr)
        return 2


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

    config = load_config(args.config)  # validate before starting anything heavy
    if args.engine == "local":
        from .pipeline import run

        report = run(args.input, args.output, config)
        print(report.to_markdown())
        return 0
    from .io.readers import discover

    discover(args.input)  # a missing input directory fails here, before Prefect starts
    load_flows_module("settings").configure_prefect()  # offline defaults, before Prefect loads
    dedupe_flow = load_flows_module("dedupe_flow").dedupe_flow
    result = dedupe_flow(input_dir=str(args.input), output_dir=str(args.output),
                         config_path=str(args.config) if args.config else None)
    print(f"wrote {args.output}/documents.parquet, segments.parquet, clusters.parquet, report.json")
    return 0 if result else 1


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
