"""Shared fixtures: real warehouses (DuckDB file, PostgreSQL database), the simulator over
real HTTP, and an isolated Airflow home. With CI=true nothing here may skip."""
from __future__ import annotations

import os

import pytest

from tests.fixtures.environment import (
    IN_CI,
    PG_ADMIN_URL,
    ROOT,
    SIMULATOR_OPTS,
    create_database,
    drop_database,
    require_postgres,
)

# Airflow reads its configuration at import: isolate it before any test imports airflow.
_AIRFLOW_HOME = ROOT / "var" / "test-airflow-home"
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DATA_DOCS_DIR", str(ROOT / "var" / "test-data-docs"))
os.environ.setdefault("REPORTS_DIR", str(ROOT / "var" / "test-reports"))


@pytest.fixture(scope="session")
def postgres_server() -> str:
    require_postgres()
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(postgres_server):
    name, url = create_database(postgres_server)
    yield url
    drop_database(postgres_server, name)


@pytest.fixture
def duckdb_url(tmp_path):
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


@pytest.fixture(params=["duckdb", "postgresql"])
def warehouse_url(request, tmp_path):
    """The same test on the embedded default and on the production database."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
        return
    admin = request.getfixturevalue("postgres_server")
    name, url = create_database(admin)
    yield url
    drop_database(admin, name)


@pytest.fixture
def warehouse(warehouse_url):
    from etl.warehouse import Warehouse

    wh = Warehouse(warehouse_url)
    wh.migrate()
    yield wh
    wh.dispose()


@pytest.fixture(scope="session")
def simulator():
    """The source simulator, served on a free loopback port for the whole session."""
    from mocks.testing import run_simulator

    with run_simulator(**SIMULATOR_OPTS) as base_url:
        yield base_url


@pytest.fixture
def source_env(simulator, monkeypatch):
    """Point the pipeline's source settings at the simulator."""
    for name in ("ONESTOP_URL", "NDXP_URL", "VNPOST_URL"):
        monkeypatch.setenv(name, simulator)
    return simulator


@pytest.fixture(scope="module")
def pg_database(postgres_server):
    """A factory of fresh PostgreSQL databases for a module's fixtures; dropped after the module."""
    made = []

    def make() -> str:
        name, url = create_database(postgres_server)
        made.append(name)
        return url

    yield make
    for name in made:
        drop_database(postgres_server, name)


def _run_etl(*args: str, base_url: str | None = None, env: dict | None = None, check: bool = True):
    """`python -m etl ...` as an operator runs it, in a subprocess, output captured; with `base_url`,
    every source points at that simulator. Data Docs are off (tested on their own)."""
    import subprocess
    import sys

    proc_env = {**os.environ, "PYTHONPATH": str(ROOT), "DATA_DOCS_DIR": "", **(env or {})}
    if base_url:
        proc_env.update(ONESTOP_URL=base_url, NDXP_URL=base_url, VNPOST_URL=base_url)
    result = subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, env=proc_env, capture_output=True,
                            text=True, timeout=1500)
    if check and result.returncode != 0:
        raise AssertionError(f"python -m etl {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's headless Chromium, for pages rendered as a person would see them (.ci/run installs it)."""
    import shutil

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if IN_CI:
        pytest.fail("CI=true and chromium is missing: .ci/run installs it (apt-get install -y chromium)")
    pytest.skip("chromium not installed (apt-get install -y chromium); with CI=true this fails instead")


@pytest.fixture(scope="session")
def etl_cli():
    return _run_etl


_EXIT_STATUS = 0


def pytest_sessionfinish(session, exitstatus):
    global _EXIT_STATUS
    _EXIT_STATUS = int(exitstatus)


def pytest_unconfigure(config):
    """After the summary: leave without interpreter finalization, where DuckDB's nanobind bindings print
    a screenful of 'leaked instance' lines because Great Expectations keeps module state alive (the same
    exit as `python -m etl`; every resource is closed by then)."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_EXIT_STATUS)
