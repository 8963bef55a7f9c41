"""Crash anywhere: the backfill killed with SIGKILL mid-load, mid-publish and mid-extraction, then
resumed with --resume, leaves the warehouse identical to an uninterrupted run's (core, mart, day runs)."""
from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
import sqlalchemy as sa

from mocks.testing import run_simulator

pytestmark = pytest.mark.slow

# A backfill loads and publishes a month at a time (here 30-31 January, then 1-6 February): two of each batch.
START, END = date(2022, 1, 30), date(2022, 2, 6)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Log lines (stderr) that mark a phase; the kill comes while the phase's transaction is still open,
# or (extraction) just after the previous load committed.
MID_LOAD = re.compile(r"etl\.load: batch \d+ onestop\.payment:")
MID_PUBLISH = re.compile(r"etl\.indicators: snapshots ")
BEFORE_EXTRACTION = re.compile(r"etl\.load: batch \d+ onestop\.dossier:")
TABLES = ("core.dossier_history", "core.payment", "core.sync_receipt", "core.paygov_transaction",
          "core.postal_order", "core.agency", "core.service_config", "mart.indicator_snapshot", "ops.day_run")


def backfill_cmd(url: str) -> list[str]:
    return [sys.executable, "-m", "etl", "--warehouse-url", url, "backfill", "--start", str(START),
            "--end", str(END), "--resume"]


def kill_at(url: str, env: dict, pattern: re.Pattern, nth: int, delay: float = 0.0) -> None:
    """Run the backfill and SIGKILL it at the nth line matching `pattern` (plus `delay`)."""
    proc = subprocess.Popen(backfill_cmd(url), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seen = 0
    for line in proc.stderr:
        if pattern.search(line):
            seen += 1
            if seen == nth:
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                break
    proc.stderr.close()
    assert proc.wait(timeout=600) == -signal.SIGKILL, f"the run ended before the kill ({pattern.pattern} x{nth})"


def state(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    out = {}
    with engine.connect() as conn:
        for table in TABLES:
            columns = [c for c in conn.exec_driver_sql(f"SELECT * FROM {table} WHERE 1 = 0").keys()
                       if c not in ("batch_id", "finished_at", "message")]
            out[table] = [tuple(r) for r in conn.exec_driver_sql(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(columns)}")]
    engine.dispose()
    return out


def test_killed_and_resumed_backfill_equals_an_uninterrupted_one(warehouse_url, tmp_path, request):
    second = (f"duckdb:///{tmp_path / 'uninterrupted.duckdb'}" if warehouse_url.startswith("duckdb")
              else request.getfixturevalue("pg_database")())
    rng = random.Random(2022)
    with run_simulator(seed=5, dossiers_per_year=10_000, faults=["late_updates=0.2"]) as base_url:
        # Starting at the end of January, the records of dossiers from before it end as orphans and would hold
        # days back by their share: not what this test is about.
        env = {**os.environ, "PYTHONPATH": ROOT, "DATA_DOCS_DIR": "", "QUARANTINE_MAX_SHARE": "1",
               "ONESTOP_URL": base_url, "NDXP_URL": base_url, "VNPOST_URL": base_url}
        subprocess.run(backfill_cmd(second), cwd=ROOT, env=env, check=True, capture_output=True)
        kill_at(warehouse_url, env, MID_LOAD, 2)  # February's payments (January published, February's dossiers in)
        kill_at(warehouse_url, env, MID_PUBLISH, 1)  # February's publication
        kill_at(warehouse_url, env, BEFORE_EXTRACTION, 1, delay=rng.uniform(0.01, 0.2))  # reading the rest
        done = subprocess.run(backfill_cmd(warehouse_url), cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "already published, skipped" in done.stdout  # it resumed, it did not start over
    expected, got = state(second), state(warehouse_url)
    assert expected["mart.indicator_snapshot"] and expected["core.dossier_history"]
    for table in TABLES:
        assert got[table] == expected[table], table
