"""prefect.yaml and flows/serve.py, checked without a server (there is no `prefect deploy --dry-run`):
each deployment's entrypoint loads, its parameters fit the flow, its schedule parses, its work pool
settings fit a `process` worker, its pull step leads to the project, and serve.py serves the same."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import yaml

from tests.conftest import ROOT

PREFECT_YAML = ROOT / "prefect.yaml"
SET_WORKING_DIRECTORY = "prefect.deployments.steps.set_working_directory"


def _spec() -> dict:
    return yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))


def _deployments() -> list[dict]:
    return _spec()["deployments"]


def _serve_module():
    spec = importlib.util.spec_from_file_location("dedupe_flows_serve", ROOT / "flows" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load(entrypoint: str):
    from prefect.flows import load_flow_from_entrypoint

    return load_flow_from_entrypoint(str(ROOT / entrypoint))


def _cron_schedules(deployment: dict) -> list[dict]:
    return [s for s in deployment.get("schedules") or [] if "cron" in s]


def test_prefect_yaml_declares_the_nightly_deployment_without_build_or_push_steps():
    spec = _spec()
    assert not spec.get("build") and not spec.get("push")
    nightly = {d["name"]: d for d in spec["deployments"]}["nightly"]
    assert nightly["entrypoint"] == "flows/nightly_flow.py:dedupe_nightly"
    assert set(nightly["parameters"]) == {"input_dir", "table_dir", "config_path"}
    assert {"dedupe", "nightly"} <= set(nightly["tags"]) and nightly["description"].strip()
    [schedule] = _cron_schedules(nightly)
    assert schedule["cron"] == "0 2 * * *" and schedule["timezone"]


@pytest.mark.parametrize("deployment", _deployments(), ids=lambda d: d["name"])
def test_each_deployment_loads_validates_and_schedules(deployment):
    from prefect.client.schemas.schedules import CronSchedule

    flow = _load(deployment["entrypoint"])
    assert flow.name == {"nightly": "dedupe-nightly", "on-dask": "dedupe-news"}[deployment["name"]]
    parameters = deployment.get("parameters") or {}
    assert flow.validate_parameters(parameters) == parameters  # names and types fit the signature
    if "overrides" in parameters:  # settings a deployment passes are valid config
        from dedupe.config import load_config

        load_config(parameters.get("config_path"), **parameters["overrides"])
    schedules = deployment.get("schedules") or []
    assert schedules and all("cron" in s for s in schedules)
    for schedule in schedules:
        cron = CronSchedule(cron=schedule["cron"], timezone=schedule.get("timezone"))  # raises if invalid
        assert cron.timezone == schedule.get("timezone", cron.timezone)


@pytest.mark.parametrize("deployment", _deployments(), ids=lambda d: d["name"])
def test_each_work_pool_is_a_process_pool_and_its_job_variables_fit_it(deployment):
    """prefect.yaml names the pool, not its type (set when the pool is created, see the README):
    the job variables must be ones a `process` worker's job template accepts."""
    from prefect.workers.process import ProcessWorker

    assert ProcessWorker.type == "process"
    pool = deployment["work_pool"]
    assert pool["name"] == "dedupe-pool"
    variables = ProcessWorker.get_default_base_job_template()["variables"]["properties"]
    job_variables = pool.get("job_variables") or {}
    assert set(job_variables) <= set(variables), set(job_variables) - set(variables)
    assert all(isinstance(value, str) for value in (job_variables.get("env") or {}).values())


@pytest.mark.parametrize("deployment", _deployments(), ids=lambda d: d["name"])
def test_the_pull_step_changes_to_the_folder_deploy_ran_in(deployment, monkeypatch):
    """At deploy time ($PWD: the project root) the job env records the project folder; at run time
    the pull step, resolved in the flow run's environment, changes into it."""
    from prefect.utilities.templating import apply_values

    [step] = deployment["pull"]
    assert list(step) == [SET_WORKING_DIRECTORY]
    monkeypatch.setenv("PWD", str(ROOT))
    job_env = apply_values(deployment["work_pool"]["job_variables"]["env"], {}, remove_notset=False)
    for key, value in job_env.items():
        monkeypatch.setenv(key, value)
    directory = apply_values(step[SET_WORKING_DIRECTORY], {}, remove_notset=False)["directory"]
    assert directory == str(ROOT)
    assert (ROOT / deployment["entrypoint"].split(":")[0]).is_file()


def test_serve_reads_its_schedule_and_parameters_from_prefect_yaml():
    serve = _serve_module()
    options = serve.serve_options()
    [deployment] = [d for d in _deployments() if d["name"] == options["name"]]
    [schedule] = _cron_schedules(deployment)
    assert options == {"entrypoint": deployment["entrypoint"], "name": "nightly", "cron": schedule["cron"],
                       "timezone": schedule["timezone"], "parameters": deployment["parameters"],
                       "tags": deployment["tags"], "description": deployment["description"]}


def test_serve_options_override_single_values_and_keep_the_rest():
    serve = _serve_module()
    base = serve.serve_options()
    options = serve.serve_options(input_dir="/data/news", cron="30 1 * * 1-5")
    assert options["parameters"] == {**base["parameters"], "input_dir": "/data/news"}
    assert options["cron"] == "30 1 * * 1-5" and options["timezone"] == base["timezone"]
    assert serve.serve_options(table_dir="/t", config_path="c.toml", timezone="Europe/Berlin")["parameters"] == {
        **base["parameters"], "table_dir": "/t", "config_path": "c.toml"}


def test_serve_builds_a_deployment_prefect_accepts(monkeypatch):
    """What `flow.serve` would register, built without a server (`to_deployment` is local)."""
    from prefect.schedules import Cron

    serve = _serve_module()
    options = serve.serve_options()
    monkeypatch.chdir(ROOT)  # serve.py works from the project folder, as the pull step does
    flow = _load(options["entrypoint"])
    deployment = flow.to_deployment(name=options["name"], parameters=options["parameters"], tags=options["tags"],
                                    description=options["description"],
                                    schedules=[Cron(options["cron"], timezone=options["timezone"])])
    assert deployment.entrypoint == options["entrypoint"]  # the same entrypoint as prefect.yaml's
    assert deployment.parameters == options["parameters"] and deployment.tags == options["tags"]
    [schedule] = deployment.schedules
    assert schedule.schedule.cron == options["cron"] and schedule.schedule.timezone == options["timezone"]


def test_serve_names_an_unknown_deployment_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "flows" / "serve.py"), "--name", "weekly"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == f"serve: error: {PREFECT_YAML} declares no deployment named 'weekly'"
