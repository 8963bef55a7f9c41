"""docker-compose.yml as an operator runs it (no Docker engine here: its structure, parsed, and the
secrets check airflow-init runs, executed): the services of Airflow's official 3.x compose file with
their health checks, one image and environment for every Airflow service, the secrets of
.env.example refused before anything starts, named volumes for what must survive a restart, the
reports served read-only (the file server's own command and health check, run here), and the BI
tools' login from .env. `docker compose config` validates the file too when a compose client is
installed."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

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
                "airflow-dag-processor", "airflow-worker", "airflow-triggerer", "flower", "reports")


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
        if (op == ":-" and not current) or (op == "-" and current is None):
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
    for service in compose["services"].values():
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


def _mounts(service: dict) -> dict[str, str]:
    """target -> "source[:mode]" of a service's volumes."""
    out = {}
    for volume in service.get("volumes") or []:
        source, target, *mode = volume.split(":")
        out[target] = ":".join([source, *mode])
    return out


def test_the_reports_volume_is_written_by_the_worker_and_served_read_only(compose):
    common, reports = compose["x-airflow-common"], compose["services"]["reports"]
    reports_dir = common["environment"]["REPORTS_DIR"]
    assert _mounts(compose["services"]["airflow-worker"])[reports_dir] == "reports"  # write_reports' directory
    assert "reports" in compose["volumes"]
    assert reports["image"] == common["image"]
    served = _mounts(reports)
    assert served[reports_dir] == "reports:ro" and served["/opt/dvc/var/data_docs"] == "data-docs:ro"
    assert all(mode.endswith(":ro") for mode in served.values()), "the file server must not write"
    assert f"{reports_dir} " in (ROOT / "Dockerfile").read_text()  # exists in the image, owned by 50000
    example = dotenv()
    assert [interpolate(p, example) for p in reports["ports"]] == [f"{example['REPORTS_PORT']}:8081"]
    assert [interpolate(p, {}) for p in reports["ports"]] == ["8081:8081"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_report_server_command_serves_the_reports_and_passes_its_health_check(compose, tmp_path):
    """The service's own command and health check, run here on a free port against a directory laid out
    like the container's /opt/dvc/var."""
    reports = compose["services"]["reports"]
    port = str(_free_port())
    command = [port if arg == "8081" else str(tmp_path) if arg == "/opt/dvc/var" else arg
               for arg in reports["command"]]
    assert command[:3] == ["python", "-m", "http.server"] and port in command and str(tmp_path) in command
    (tmp_path / "reports").mkdir()
    (tmp_path / "data_docs").mkdir()
    report = tmp_path / "reports" / "dashboard_dvc_2022-01-31.html"
    report.write_text("<h1>Chỉ số dịch vụ công</h1>", encoding="utf-8")
    check = reports["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"] and "localhost:8081/reports/" in check[3]
    server = subprocess.Popen([sys.executable, *command[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        health = None
        for _ in range(100):  # until it listens
            health = subprocess.run([sys.executable, "-c", check[3].replace("8081", port)], capture_output=True)
            if health.returncode == 0:
                break
            time.sleep(0.1)
        assert health.returncode == 0, health.stderr.decode()[-500:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/reports/{report.name}", timeout=5) as answer:
            assert answer.read() == report.read_bytes()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
            listing = answer.read().decode()
        assert "reports/" in listing and "data_docs/" in listing
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_bi_tools_log_in_with_the_role_and_password_of_env(compose):
    from etl.config import Settings

    env, example = compose["x-airflow-common"]["environment"], dotenv()
    role = interpolate(env["DVC_BI_READER_ROLE"], example)
    password = interpolate(env["DVC_BI_READER_PASSWORD"], example)
    assert (role, password) == (example["DVC_BI_READER_ROLE"], example["DVC_BI_READER_PASSWORD"])
    assert password, ".env.example must give the BI role a password: a ready connection out of the box"
    s = Settings(DVC_BI_READER_ROLE=role, DVC_BI_READER_PASSWORD=password)  # what migrate reads in the tasks
    assert (s.dvc_bi_reader_role, s.dvc_bi_reader_password) == (role, password)
    assert interpolate(env["DVC_BI_READER_ROLE"], {**example, "DVC_BI_READER_ROLE": ""}) == "", \
        "an empty role in .env must reach the tasks empty (no role), not fall back to the default"
    # ... on the warehouse published to the host, in the database migrate fills
    warehouse = compose["services"]["warehouse-db"]
    assert [interpolate(p, example) for p in warehouse["ports"]] == [f"127.0.0.1:{example['WAREHOUSE_PORT']}:5432"]
    assert '"schema": "warehouse"' in env["AIRFLOW_CONN_WAREHOUSE"]
    assert warehouse["environment"]["POSTGRES_DB"] == "warehouse"
