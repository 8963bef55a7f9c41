"""A real run on the distributed engine, the docker-compose topology without Docker.

Airflow's api-server, scheduler, dag-processor and a Celery worker run as separate processes on
this machine, against a fresh PostgreSQL metadata database and the local Redis broker (a
dedicated db number and a queue of this run's own); the source simulator serves the three
systems with every transport fault on (5xx, 429, slow, malformed, duplicates, late updates, 20 %
each); the warehouse is a fresh PostgreSQL database. Sources and warehouse reach the tasks only
as Airflow connections (AIRFLOW_CONN_*), none of CONTRACT's variables is set for the worker.

The nightly DAG is triggered by hand for one day, the way an operator re-runs a day: a run at the
latest complete interval (the one the scheduler would start tonight, so that, catchup being off, it
starts no other) with params start = end = DAY, a day near the simulator's first one (a fresh
warehouse has no history before it). The indicators DAG must start on its own when every load
asset has been updated, and the warehouse must hold DAY's snapshot. Then the README's backfill
command runs the next day the scheduled way (its own data interval), and its snapshot follows.
Both days' snapshots must equal what `python -m etl backfill` publishes for the same days from the
same faulty simulator: the DAGs and the CLI are one path. Everything started here is stopped, and
both databases are dropped, even on failure.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.fixtures.environment import IN_CI, ROOT, create_database, drop_database, require_postgres

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")  # a db number of its own
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STARTUP_TIMEOUT = 240  # db migrate + four Airflow processes on a 2-core machine
RUN_TIMEOUT = 360      # from a trigger to the published snapshot
DAG_IDS = ("dvc_reference", "dvc_daily", "dvc_indicators")
DAY = date(2022, 1, 5)
AIRFLOW = [sys.executable, "-m", "airflow"]


def require_redis() -> None:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        if IN_CI:
            pytest.fail(f"CI=true and Redis at {REDIS_URL} is not reachable: {exc}")
        pytest.skip(f"Redis not reachable ({exc}); with CI=true this fails instead")


def free_port() -> int:
    from mocks.testing import free_port as _free_port

    return _free_port()


def rows_of(url: str, sql: str) -> set[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {tuple(r) for r in conn.exec_driver_sql(sql)}
    finally:
        engine.dispose()


def psycopg2_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql+psycopg2://", 1)


class Stack:
    """The Airflow processes, their environment and logs."""

    def __init__(self, home: Path, env: dict[str, str], api_port: int):
        self.home, self.env, self.api_port = home, env, api_port
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def cli(self, *args: str, timeout: float = 180) -> str:
        out = subprocess.run([*AIRFLOW, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                             timeout=timeout)
        if out.returncode != 0:
            raise AssertionError(f"airflow {' '.join(args)} exited {out.returncode}:\n{out.stdout[-3000:]}\n"
                                 f"{out.stderr[-5000:]}")
        return out.stdout

    def start(self, name: str, *args: str) -> None:
        log = self.home / f"{name}.log"
        self.logs[name] = log
        with open(log, "wb") as fh:
            # A session of its own: stopping it stops the children (gunicorn/uvicorn workers, Celery
            # pool processes, task supervisors) and nothing else.
            self.procs[name] = subprocess.Popen([*AIRFLOW, *args], cwd=ROOT, env=self.env, stdout=fh,
                                                stderr=subprocess.STDOUT, start_new_session=True)

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"airflow {name} exited with {proc.returncode}\n{self.report()}")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # whatever of the group is left
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if proc.poll() is None:
                proc.wait(timeout=10)

    def report(self, lines: int = 60) -> str:
        parts = []
        for name, log in self.logs.items():
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            parts.append(f"----- {name} (last {lines} lines) -----\n" + "\n".join(text[-lines:]))
        for log in sorted((self.home / "logs").rglob("*.log"))[-12:]:
            text = log.read_text(errors="replace").splitlines()
            parts.append(f"----- task log {log.relative_to(self.home)} -----\n" + "\n".join(text[-40:]))
        return "\n".join(parts)


def wait_for(predicate, timeout: float, what: str, stack: Stack, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{stack.report()}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def require_celery_executor() -> None:
    """The Celery provider must import with the installed Celery (a version mismatch kills every
    Airflow process at start with an obscure error)."""
    try:
        from airflow.providers.celery.executors import celery_executor_utils  # noqa: F401
    except ImportError as exc:
        import celery

        pytest.fail(f"the Celery executor does not import with celery {celery.__version__}: {exc} "
                    "(apache-airflow-providers-celery 3.26.0 needs celery < 5.7: pin celery==5.6.3 in constraints.txt)")


@pytest.fixture
def redis_broker():
    require_celery_executor()
    require_redis()
    import redis

    queue = f"dvc_test_{uuid.uuid4().hex[:8]}"
    yield REDIS_URL, queue
    client = redis.Redis.from_url(REDIS_URL)
    try:  # only what this run's queue left behind
        client.delete(queue, f"_kombu.binding.{queue}", *client.keys(f"*{queue}*"))
    finally:
        client.close()


@pytest.fixture
def databases(postgres_server):
    require_postgres()
    meta_name, meta_url = create_database(postgres_server)
    try:
        wh_name, wh_url = create_database(postgres_server)
    except Exception:
        drop_database(postgres_server, meta_name)
        raise
    yield meta_url, wh_url
    for name in (meta_name, wh_name):
        drop_database(postgres_server, name)


TRANSPORT_FAULTS = ["http5xx=0.2", "rate429=0.2", "malformed=0.2", "duplicates=0.2", "late_updates=0.2", "slow=0.2"]


@pytest.fixture
def faulty_simulator():
    from mocks.testing import run_simulator

    with run_simulator(seed=7, profile="lao_cai_2022", dossiers_per_year=20_000, faults=TRANSPORT_FAULTS,
                       slow_seconds=0.2) as base_url:
        yield base_url


@pytest.fixture
def stack(tmp_path, databases, redis_broker, faulty_simulator):
    meta_url, wh_url = databases
    broker, queue = redis_broker
    api_port, log_port = free_port(), free_port()
    sim = faulty_simulator.removeprefix("http://")
    wh = sa.engine.make_url(wh_url)

    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AIRFLOW") and k not in (
               "WAREHOUSE_URL", "ONESTOP_URL", "ONESTOP_API_KEY", "NDXP_URL", "NDXP_CLIENT_ID",
               "NDXP_CLIENT_SECRET", "VNPOST_URL", "VNPOST_USERNAME", "VNPOST_PASSWORD")}
    env.update({
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": psycopg2_url(meta_url),
        "AIRFLOW__CELERY__BROKER_URL": broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + psycopg2_url(meta_url),
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",  # a 2-core machine running everything
        "GX_ANALYTICS_ENABLED": "false",
        "SOURCE_MAX_ATTEMPTS": "15",  # 20 % of each fault: a request can fail several times in a row
        # The only way the tasks learn where the sources and the warehouse are:
        "AIRFLOW_CONN_ONESTOP": f"http://:dev-onestop-key@{sim}",
        "AIRFLOW_CONN_NDXP": f"http://dev-ndxp-client:dev-ndxp-secret@{sim}",
        "AIRFLOW_CONN_VNPOST": f"http://dev-vnpost:dev-vnpost-password@{sim}",
        "AIRFLOW_CONN_WAREHOUSE": json.dumps({"conn_type": "postgres", "host": wh.host, "port": wh.port,
                                              "login": wh.username, "password": wh.password,
                                              "schema": wh.database}),
    })
    s = Stack(tmp_path, env, api_port)
    try:
        s.cli("db", "migrate", timeout=STARTUP_TIMEOUT)
        s.cli("pools", "import", str(ROOT / "airflow" / "pools.json"))
        s.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1")
        s.start("scheduler", "scheduler", "--skip-serve-logs")
        s.start("dag-processor", "dag-processor")
        s.start("celery-worker", "celery", "worker", "--queues", queue, "--concurrency", "2",
                "--without-gossip", "--without-mingle", "--celery-hostname", f"{queue}@%h")
        yield s
    finally:
        s.stop()


@pytest.mark.timeout(1500)  # above the sum of this test's own bounded waits
def test_nightly_dag_runs_on_celery_and_the_indicators_follow_on_assets(stack, databases, faulty_simulator,
                                                                       etl_cli, tmp_path):
    started = time.monotonic()
    meta_url, wh_url = databases
    meta = sa.create_engine(meta_url)
    try:
        wait_for(lambda: http_ok(f"http://127.0.0.1:{stack.api_port}/api/v2/monitor/health"), STARTUP_TIMEOUT,
                 "the api-server", stack)

        def parsed():
            with meta.connect() as conn:
                return set(DAG_IDS) <= {r[0] for r in conn.exec_driver_sql(
                    "SELECT dag_id FROM dag WHERE NOT is_stale")}
        wait_for(parsed, STARTUP_TIMEOUT, "the dag-processor to serialize the DAGs", stack)
        ready = time.monotonic()

        # The latest complete interval: the scheduler finds its run made and starts no other.
        today = datetime.now(LOCAL_TZ).date()
        latest = today - timedelta(days=1)
        logical = datetime(latest.year, latest.month, latest.day, tzinfo=LOCAL_TZ)
        run_id = f"manual__distributed_test_{DAY}"
        conf = json.dumps({"start": DAY.isoformat(), "end": DAY.isoformat()})
        stack.cli("dags", "trigger", "dvc_daily", "--logical-date", logical.isoformat(), "--run-id", run_id,
                  "--conf", conf)
        stack.cli("dags", "unpause", "dvc_indicators")
        stack.cli("dags", "unpause", "dvc_daily")
        triggered = time.monotonic()

        def state(sql: str):
            with meta.connect() as conn:
                return conn.exec_driver_sql(sql).first()

        def nightly_done():
            row = state(f"SELECT state FROM dag_run WHERE dag_id = 'dvc_daily' AND run_id = '{run_id}'")
            if row and row[0] == "failed":
                raise AssertionError(f"dvc_daily {run_id} failed\n{stack.report()}")
            return row and row[0] == "success"
        wait_for(nightly_done, RUN_TIMEOUT, f"dvc_daily {run_id}", stack)
        loaded = time.monotonic()

        def indicators_done():
            row = state("SELECT state, run_type FROM dag_run WHERE dag_id = 'dvc_indicators' "
                        "ORDER BY id DESC LIMIT 1")
            if row and row[0] == "failed":
                raise AssertionError(f"dvc_indicators failed\n{stack.report()}")
            return row if row and row[0] == "success" else None
        row = wait_for(indicators_done, RUN_TIMEOUT - (loaded - triggered), "dvc_indicators on the assets", stack)
        published = time.monotonic()
        assert row[1] == "asset_triggered", "the indicators started on the load assets, not by hand"

        with meta.connect() as conn:
            runs = conn.exec_driver_sql(
                "SELECT dag_id, run_id, run_type, logical_date FROM dag_run ORDER BY id").all()
            executors = {r[0] for r in conn.exec_driver_sql(
                "SELECT DISTINCT queue FROM task_instance WHERE dag_id IN ('dvc_daily', 'dvc_indicators')")}
            pools = {r[0] for r in conn.exec_driver_sql(
                "SELECT DISTINCT pool FROM task_instance WHERE dag_id = 'dvc_daily'")}
        # No catch-up: no run before the triggered one. A night that ends while the test runs (it crossed
        # local midnight, 17:00 UTC) is the scheduler's own next run, not a catch-up.
        nightly = [tuple(r[:3]) for r in runs if r[0] == "dvc_daily"
                   and not (r[2] == "scheduled" and r[3] > logical)]
        assert nightly == [("dvc_daily", run_id, "manual")], f"the scheduler started other nightly runs: {runs}"
        assert executors == {stack.env['AIRFLOW__OPERATORS__DEFAULT_QUEUE']}, "tasks ran through the Celery queue"
        assert {"source_onestop", "source_ndxp", "source_vnpost"} <= pools

        warehouse = sa.create_engine(wh_url)
        try:
            with warehouse.connect() as conn:
                count = conn.execute(sa.text("SELECT count(*) FROM mart.indicator_snapshot WHERE snapshot_date = :d"),
                                     {"d": DAY}).scalar()
                agencies = conn.exec_driver_sql("SELECT count(*) FROM core.agency").scalar()
                batches = conn.execute(sa.text(
                    "SELECT DISTINCT source FROM ops.batch WHERE status = 'succeeded' AND window_end = :e"),
                    {"e": datetime.combine(DAY + timedelta(days=1), datetime.min.time())}).scalars().all()
        finally:
            warehouse.dispose()
        assert agencies > 0, "reference data loaded"
        assert set(batches) == {"onestop", "ndxp", "vnpost"}, f"every source landed {DAY}: {batches}"
        assert count > 0, f"mart.indicator_snapshot has no rows for {DAY}"
        with meta.connect() as conn:
            extras = [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in conn.exec_driver_sql(
                "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
                "WHERE a.name LIKE 'dvc_loads_%%'")]
        assert extras and all(e.get("days") == [DAY.isoformat()] for e in extras), extras

        # The README's backfill, for the next day: local-day bounds with their offset.
        nxt = DAY + timedelta(days=1)
        bound = datetime(nxt.year, nxt.month, nxt.day, tzinfo=LOCAL_TZ).isoformat()
        stack.cli("backfill", "create", "--dag-id", "dvc_daily", "--from-date", bound, "--to-date", bound,
                  "--max-active-runs", "1")
        backfilled = time.monotonic()

        def backfill_published():
            with meta.connect() as conn:
                daily = conn.exec_driver_sql(
                    "SELECT run_type, state, logical_date FROM dag_run WHERE dag_id = 'dvc_daily' "
                    "AND run_type = 'backfill'").all()
                indicators = conn.exec_driver_sql(
                    "SELECT state FROM dag_run WHERE dag_id = 'dvc_indicators' ORDER BY id").scalars().all()
            if any(r[1] == "failed" for r in daily) or "failed" in indicators:
                raise AssertionError(f"backfill of {nxt} failed: {daily} {indicators}\n{stack.report()}")
            return daily if len(indicators) == 2 and indicators[-1] == "success" else None
        daily = wait_for(backfill_published, RUN_TIMEOUT, f"the backfill of {nxt} and its indicators", stack)
        assert len(daily) == 1, f"one run for one day: {daily}"
        assert daily[0][2].astimezone(LOCAL_TZ) == datetime(nxt.year, nxt.month, nxt.day, tzinfo=LOCAL_TZ)
        warehouse = sa.create_engine(wh_url)
        try:
            with warehouse.connect() as conn:
                dates = conn.exec_driver_sql(
                    "SELECT DISTINCT snapshot_date FROM mart.indicator_snapshot ORDER BY 1").scalars().all()
        finally:
            warehouse.dispose()
        assert dates == [DAY, nxt], dates
        cli_url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
        etl_cli("--warehouse-url", cli_url, "backfill", "--start", str(DAY), "--end", str(nxt),
                base_url=faulty_simulator, env={"SOURCE_MAX_ATTEMPTS": "15"})
        snapshot = ("SELECT snapshot_date, period, agency_code, indicator_code, numerator, denominator, target "
                    "FROM mart.indicator_snapshot")
        by_dag, by_cli = (rows_of(url, snapshot) for url in (wh_url, cli_url))
        assert by_dag == by_cli, f"{len(by_dag ^ by_cli)} rows differ between the DAGs and the CLI"
        print(f"\ndistributed run: stack ready in {ready - started:.0f}s, dvc_daily {loaded - triggered:.0f}s, "
              f"dvc_indicators {published - loaded:.0f}s after it, {count} snapshot rows for {DAY}; "
              f"backfill of {nxt} published in {time.monotonic() - backfilled:.0f}s")
    finally:
        meta.dispose()

