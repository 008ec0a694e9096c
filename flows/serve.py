"""Serve the nightly flow without a worker: `python flows/serve.py [options]`.

    python flows/serve.py                                   # schedule and parameters of prefect.yaml
    python flows/serve.py --input /data/news --table /data/tables --config dedupe.toml
    python flows/serve.py --cron "30 1 * * *" --timezone Europe/Berlin

Runs the deployment `dedupe-nightly/nightly` in this process until stopped (Ctrl-C; stopping
pauses its schedule). Its schedule, parameters, tags and description come from the deployment of
the same name in `prefect.yaml`, the single source of truth, unless overridden here. Like the
worker's pull step, it works from the project folder: relative paths in prefect.yaml are relative
to it, paths given here to the current directory.

It needs a running Prefect server (`prefect server start`, with `PREFECT_API_URL` pointing at it).
The deployment it creates replaces one registered with `prefect deploy` under the same name: use a
worker or this script, not both.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

FLOWS = Path(__file__).resolve().parent
ROOT = FLOWS.parent
PREFECT_YAML = ROOT / "prefect.yaml"
DEPLOYMENT = "nightly"


class ServeError(ValueError):
    """prefect.yaml has no usable deployment of the given name."""


def deployment_config(name: str = DEPLOYMENT, prefect_file: str | Path = PREFECT_YAML) -> dict[str, Any]:
    """The deployment `name` as prefect.yaml declares it."""
    import yaml

    spec = yaml.safe_load(Path(prefect_file).read_text(encoding="utf-8")) or {}
    for deployment in spec.get("deployments") or []:
        if deployment.get("name") == name:
            return deployment
    raise ServeError(f"{prefect_file} declares no deployment named {name!r}")


def serve_options(name: str = DEPLOYMENT, prefect_file: str | Path = PREFECT_YAML, *,
                  input_dir: str | None = None, table_dir: str | None = None, config_path: str | None = None,
                  cron: str | None = None, timezone: str | None = None) -> dict[str, Any]:
    """What the deployment is served with: entrypoint, name, cron, timezone, parameters, tags and
    description from prefect.yaml, each given argument replacing its value. Pure: reads the file,
    imports nothing of Prefect."""
    deployment = deployment_config(name, prefect_file)
    crons = [s for s in deployment.get("schedules") or [] if "cron" in s]
    if len(crons) != 1:
        raise ServeError(f"deployment {name!r} in {prefect_file} must have exactly one cron schedule, "
                         f"found {len(crons)}")
    parameters = dict(deployment.get("parameters") or {})
    for key, value in (("input_dir", input_dir), ("table_dir", table_dir), ("config_path", config_path)):
        if value is not None:
            parameters[key] = value
    return {
        "entrypoint": deployment["entrypoint"],
        "name": deployment["name"],
        "cron": cron or crons[0]["cron"],
        "timezone": timezone or crons[0].get("timezone"),
        "parameters": parameters,
        "tags": list(deployment.get("tags") or []),
        "description": deployment.get("description"),
    }


def _load_settings():
    """flows/settings.py by path (flows/ is not a package)."""
    spec = importlib.util.spec_from_file_location("dedupe_flows_settings", FLOWS / "settings.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _absolute(path: str | None) -> str | None:
    return None if path is None else str(Path(path).expanduser().resolve())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python flows/serve.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", help="folder of articles (default: prefect.yaml's input_dir)")
    parser.add_argument("--table", help="folder of the Delta tables (default: prefect.yaml's table_dir)")
    parser.add_argument("--config", help="dedupe TOML configuration (default: prefect.yaml's config_path)")
    parser.add_argument("--cron", help="cron schedule (default: prefect.yaml's)")
    parser.add_argument("--timezone", help="IANA time zone of the schedule (default: prefect.yaml's)")
    parser.add_argument("--name", default=DEPLOYMENT, help="deployment of prefect.yaml to serve (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        # Paths given here are relative to where the command runs, before moving to the project.
        options = serve_options(args.name, input_dir=_absolute(args.input), table_dir=_absolute(args.table),
                                config_path=_absolute(args.config), cron=args.cron, timezone=args.timezone)
    except (OSError, ServeError) as err:
        print(f"serve: error: {err}", file=sys.stderr)
        return 2
    settings = _load_settings()
    settings.configure_prefect()  # offline defaults where the user set nothing, before Prefect loads
    try:
        settings.check_prefect_home()
    except settings.PrefectHomeError as err:
        print(f"serve: error: {err}", file=sys.stderr)
        return 2
    os.chdir(ROOT)  # as the worker's pull step: relative paths and the entrypoint resolve here

    from prefect.flows import load_flow_from_entrypoint
    from prefect.schedules import Cron

    flow = load_flow_from_entrypoint(str(ROOT / options["entrypoint"]))
    flow.validate_parameters(options["parameters"])  # a wrong name or type: an error now, not at 2 am
    flow.serve(name=options["name"], schedules=[Cron(options["cron"], timezone=options["timezone"])],
               parameters=options["parameters"], tags=options["tags"], description=options["description"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
