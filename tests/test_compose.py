"""docker-compose.yml as an operator runs it (no Docker engine here: its structure, parsed, and the
secrets check airflow-init runs, executed): the services of Airflow's official 3.x compose file with
their health checks, one image and environment for every Airflow service, the secrets of
.env.example refused before anything starts, and named volumes for what must survive a restart.
`docker compose config` validates the file too when a compose client is installed."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys

import pytest
import yaml
from cryptography.fernet import Fernet

from tests.fixtures.environment import ROOT

CHECK = ROOT / "airflow" / "check_secrets.py"
# .env variable -> the container variable it sets
SECRETS = {"AIRFLOW_FERNET_KEY": "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW_JWT_SECRET": "AIRFLOW__API_AUTH__JWT_SECRET",
           "AIRFLOW_API_SECRET_KEY": "AIRFLOW__API__SECRET_KEY", "PII_HASH_KEY": "PII_HASH_KEY"}
# Long-running services: each has a health check (those of the official file have the same one).
LONG_RUNNING = ("airflow-db", "warehouse-db", "redis", "simulator", "airflow-apiserver", "airflow-scheduler",
                "airflow-dag-processor", "airflow-worker", "airflow-triggerer", "flower")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dotenv(path=ROOT / ".env.example") -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's substitution: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, $$."""
    def one(match):
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        current = env.get(name)
        if op == ":?" and not current:
            raise ValueError(f"compose refuses: {arg}")
        if op == ":-" and not current or op == "-" and current is None:
            return arg
        return current or ""
    return re.sub(r"\$\{(\w+)(?:(:\?|:-|-)([^}]*))?\}", one, value.replace("$$", "\0")).replace("\0", "$")


def airflow_services(compose) -> dict[str, dict]:
    """Services built on the x-airflow-common anchor (PyYAML keeps an alias as the same object)."""
    common = compose["x-airflow-common"]["environment"]
    return {name: s for name, s in compose["services"].items() if s.get("environment") is common}


def run_check(environ: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS.values()}
    return subprocess.run([sys.executable, str(CHECK)], env={**env, **environ}, capture_output=True, text=True)


def good_secrets() -> dict[str, str]:
    return {"AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32), "PII_HASH_KEY": secrets.token_urlsafe(32)}


def test_the_services_of_the_official_file_each_with_its_health_check(compose):
    services = compose["services"]
    assert set(LONG_RUNNING) | {"airflow-init", "airflow-cli"} <= set(services)
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck") or {}
        assert check.get("test"), f"{name} has no health check"
        assert services[name].get("restart") == "always", f"{name} is not restarted"
    triggerer = " ".join(services["airflow-triggerer"]["healthcheck"]["test"])
    assert "airflow jobs check --job-type TriggererJob" in triggerer
    assert services["airflow-triggerer"]["command"] == ["airflow", "triggerer"]
    client = None  # a compose client, if this machine has one (v2 plugin or standalone binary)
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        client = ["docker", "compose"]
    elif shutil.which("docker-compose"):
        client = ["docker-compose"]
    if client:
        out = subprocess.run([*client, "--env-file", str(ROOT / ".env.example"), "config", "--quiet"], cwd=ROOT,
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr


def test_every_airflow_service_shares_one_image_and_environment(compose):
    common = compose["x-airflow-common"]
    found = airflow_services(compose)
    assert {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker", "airflow-triggerer",
            "airflow-init", "airflow-cli", "flower"} == set(found)
    for name, service in found.items():
        assert service["image"] == common["image"] and service["volumes"] is common["volumes"], name
    assert compose["services"]["simulator"]["image"] == common["image"]  # one image for everything


def test_the_secrets_come_from_env_and_compose_refuses_them_empty(compose):
    env = compose["x-airflow-common"]["environment"]
    example = dotenv()
    for name, variable in SECRETS.items():
        assert env[variable].startswith("${" + name + ":?"), f"{variable} must come from .env, refused when empty"
        assert example[name].startswith("replace-me"), f".env.example must not ship a usable {name}"
        with pytest.raises(ValueError, match=name):
            interpolate(env[variable], {**example, name: ""})
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
    from etl.airflow_conn import CONNECTION_IDS

    for conn_id in CONNECTION_IDS:
        assert f"AIRFLOW_CONN_{conn_id.upper()}" in env


def test_airflow_init_checks_the_secrets_before_any_other_airflow_service_starts(compose):
    init = compose["services"]["airflow-init"]
    script = init["command"][-1]
    steps = [step.strip() for step in script.split("&&")]
    assert steps[0] == "python /opt/dvc/airflow/check_secrets.py", "the check runs first, and stops the rest"
    assert steps[1] == "airflow db migrate" and "airflow pools import /opt/dvc/airflow/pools.json" in steps
    assert init["restart"] == "no"
    for name, service in airflow_services(compose).items():
        if name == "airflow-init":
            continue
        assert service["depends_on"].get("airflow-init") == {"condition": "service_completed_successfully"}, \
            f"{name} starts without waiting for airflow-init's check"
    assert "COPY airflow/ airflow/" in (ROOT / "Dockerfile").read_text()  # the check is in the image


def test_what_must_survive_a_restart_is_on_named_volumes(compose):
    declared = set(compose["volumes"])
    mounts = {}
    for name, service in compose["services"].items():
        for volume in service.get("volumes") or []:
            source, target = volume.split(":")[:2]
            mounts[target] = source
    assert mounts["/opt/airflow/logs"] == "airflow-logs"
    assert mounts["/var/lib/postgresql/data"] in declared  # both databases
    assert {compose["services"][db]["volumes"][0].split(":")[0] for db in ("airflow-db", "warehouse-db")} == \
        {"airflow-db", "warehouse-db"}
    assert mounts["/opt/dvc/var/data_docs"] == "data-docs"
    assert {"airflow-logs", "airflow-db", "warehouse-db", "data-docs"} <= declared
    dockerfile = (ROOT / "Dockerfile").read_text()
    for target in ("/opt/airflow/logs", "/opt/dvc/var/data_docs"):  # created (owned by 50000) in the image
        assert target in dockerfile


def test_the_check_refuses_the_env_example_secrets_naming_each(compose):
    example = dotenv()
    env = {variable: interpolate(compose["x-airflow-common"]["environment"][variable], example)
           for variable in SECRETS.values()}
    out = run_check(env)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 4, out.stderr
    for name, line in zip(SECRETS, lines, strict=True):
        assert line.startswith(f"refusing to start: {name} in .env is still the placeholder"), line


def test_the_check_passes_real_secrets_and_refuses_each_bad_one():
    good = good_secrets()
    out = run_check(good)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    for variable, bad, reason in (
            ("AIRFLOW__CORE__FERNET_KEY", "not-a-fernet-key", "is not a Fernet key"),
            ("AIRFLOW__API_AUTH__JWT_SECRET", "", "is empty"),
            ("AIRFLOW__API__SECRET_KEY", "REPLACE-ME-later", "is still the placeholder"),
            ("PII_HASH_KEY", "dev-only-pii-key", "is the development default")):
        out = run_check({**good, variable: bad})
        name = next(n for n, v in SECRETS.items() if v == variable)
        assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert out.stderr.startswith(f"refusing to start: {name} in .env {reason}"), out.stderr
