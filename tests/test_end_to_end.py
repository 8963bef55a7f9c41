"""End to end: the simulator over real HTTP -> the nightly DAG with dag.test(), day after day ->
the warehouse, on DuckDB and on PostgreSQL. Indicator values are checked against values this
test computes on its own, in pandas, from the simulator's raw API answers."""
from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pandas as pd
import pendulum
import pytest
import requests
import sqlalchemy as sa

from tests.fixtures.environment import ROOT

pytestmark = pytest.mark.slow

DAYS = [date(2022, 1, 1) + timedelta(days=i) for i in range(6)]
API_KEY = "dev-onestop-key"


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database for dag.test() (SQLite in the isolated AIRFLOW_HOME)."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], cwd=ROOT, check=True,
                   capture_output=True, env=os.environ.copy())


@pytest.fixture(scope="module")
def nightly_dag():
    """The night's DAGs as the scheduler chains them: dvc_daily (loads) -> dvc_indicators (on assets)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(ROOT / "dags"))
    assert bag.import_errors == {}
    dags = {dag_id: bag.dags[dag_id] for dag_id in ("dvc_daily", "dvc_indicators")}
    for dag in dags.values():
        for task in dag.tasks:  # fail at once in tests instead of waiting for the retry delay
            task.retries = 0
    return dags


def run_nightly(dags, day: date):
    # A run by hand for a local day loads that day (README, "Which day a run loads").
    run = dags["dvc_daily"].test(logical_date=pendulum.datetime(day.year, day.month, day.day, tz="Asia/Ho_Chi_Minh"))
    assert run.state == "success", f"dvc_daily for {day} ended {run.state}"
    # dag.test() runs no scheduler, so the asset-triggered run is started by hand for that day
    # (tests/test_distributed_airflow.py checks the asset trigger itself).
    run = dags["dvc_indicators"].test(run_conf={"start": day.isoformat(), "end": day.isoformat()})
    assert run.state == "success", f"dvc_indicators for {day} ended {run.state}"
    return run


# -- the independent computation ---------------------------------------------------------
def fetch(base_url: str, endpoint: str, params: dict | None = None) -> list[dict]:
    rows, page = [], 1
    while True:
        body = requests.get(f"{base_url}/onestop/api/v1/{endpoint}", headers={"X-API-Key": API_KEY},
                            params={**(params or {}), "page": page, "pageSize": 1000}, timeout=60).json()
        rows += body["data"]
        if page * 1000 >= body["total"]:
            return rows
        page += 1


def ts(value):
    return pd.NaT if not value else pd.Timestamp(datetime.strptime(value, "%Y%m%d%H%M%S"))


def expected_indicators(base_url: str, day: date) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(agency, period, indicator) -> (numerator, denominator), from the raw API only."""
    agencies = fetch(base_url, "donvi")
    parent = {a["MaDonVi"]: a["MaDonViCha"] for a in agencies}

    def ancestors(code):
        while code is not None:
            yield code
            code = parent.get(code)

    end = datetime.combine(day + timedelta(days=1), time())
    versions = fetch(base_url, "hoso", {"tuNgay": "20220101000000", "denNgay": end.strftime("%Y%m%d%H%M%S")})
    latest: dict[str, dict] = {}
    for v in versions:  # the state of each dossier at the end of `day`
        if v["MaHoSo"] not in latest or v["NgayCapNhat"] > latest[v["MaHoSo"]]["NgayCapNhat"]:
            latest[v["MaHoSo"]] = v
    starts = {"day": datetime.combine(day, time()), "mtd": datetime(day.year, day.month, 1),
              "qtd": datetime(day.year, 3 * ((day.month - 1) // 3) + 1, 1), "ytd": datetime(day.year, 1, 1)}
    out: dict = defaultdict(lambda: [0, 0])
    for d in latest.values():
        status, received = d["TrangThaiHoSo"], ts(d["NgayTiepNhan"])
        due = ts(d["NgayHenTra"])
        supplements = len(d.get("DanhSachHoSoBoSung") or [])
        request = (d.get("DanhSachHoSoBoSung") or [{}])[-1]  # the clock stops at the (latest) request
        requested_late = bool(request.get("NgayYeuCau")) and \
            ts(request["NgayYeuCau"]) > ts(request.get("NgayHenTraCu") or d["NgayHenTra"])
        if status in (9, 10):
            ended = ts(d["NgayKetThucXuLy"]) if d["NgayKetThucXuLy"] else ts(d["NgayTra"])
        elif status in (3, 8):
            ended = ts(d["NgayKetThucXuLy"]) if d["NgayKetThucXuLy"] else ts(d["NgayTuChoi"])
        else:
            ended = pd.NaT
        is_received = not pd.isna(received) and status not in (1, 3)
        online = d["KenhThucHien"] == 2
        for period, start in starts.items():
            counted = []
            if is_received and start <= received < end:
                counted.append(("online_dossier_rate", 1 if online else 0))
            if not pd.isna(received):
                resolved = not pd.isna(ended) and start <= ended < end
                still_open = pd.isna(ended) and is_received and status != 7
                if resolved or still_open:
                    if supplements > 1 or requested_late:
                        good = 0
                    elif resolved:
                        good = int(pd.isna(due) or ended <= due)
                    else:
                        good = int(status == 5 or pd.isna(due) or due >= end)
                    counted.append(("on_time_rate", good))
            for code, num in counted:
                for agency in ancestors(d["DonViXuLy"]):
                    out[(agency, period, code)][0] += num
                    out[(agency, period, code)][1] += 1
    return {k: tuple(v) for k, v in out.items()}


def table_dump(engine, table: str) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table}"))


WAREHOUSE_TABLES = ["core.agency", "core.procedure", "core.service_config", "core.dossier",
                    "core.dossier_history", "core.target", "mart.indicator_snapshot", "mart.indicator"]


def test_nightly_runs_match_an_independent_computation(warehouse_url, source_env, airflow_db, nightly_dag,
                                                        monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", warehouse_url)
    for day in DAYS:
        run_nightly(nightly_dag, day)

    engine = sa.create_engine(warehouse_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        windows = [tuple(r) for r in conn.exec_driver_sql(
            "SELECT window_start, window_end FROM ops.batch WHERE status = 'succeeded' AND entity = 'dossier' "
            "ORDER BY batch_id")]
        snapshot_dates = sorted(r[0] for r in conn.exec_driver_sql(
            "SELECT DISTINCT snapshot_date FROM mart.indicator_snapshot"))
    # Each run owns its local day, re-reading three days before it for late updates.
    assert windows == [(datetime.combine(d - timedelta(days=3), time()),
                        datetime.combine(d + timedelta(days=1), time())) for d in DAYS]
    assert snapshot_dates == DAYS

    for day in (DAYS[2], DAYS[-1]):
        expected = expected_indicators(source_env, day)
        assert sum(den for (_, p, c), (_, den) in expected.items() if p == "ytd") > 100, "too little data to test"
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT agency_code, period, indicator_code, numerator, denominator, value "
                "FROM mart.indicator_snapshot WHERE snapshot_date = :d"), {"d": day}).all()
        got = {(r.agency_code, r.period, r.indicator_code): (r.numerator, r.denominator) for r in rows}
        for key, value in expected.items():
            assert got.get(key) == value, f"{day} {key}: warehouse {got.get(key)} != independent {value}"
        computed = {code for (_, _, code) in expected}
        extra = {k: v for k, v in got.items() if v[1] and k[2] in computed and k not in expected}
        assert not extra, f"{day}: the warehouse counts dossiers the API does not have: {list(extra)[:5]}"
        for r in rows:
            assert r.value is None if r.denominator == 0 else r.value == pytest.approx(r.numerator / r.denominator)

    # Re-running a day in the middle leaves the warehouse exactly as it was.
    before = {t: table_dump(engine, t) for t in WAREHOUSE_TABLES}
    run_nightly(nightly_dag, DAYS[2])
    after = {t: table_dump(engine, t) for t in WAREHOUSE_TABLES}
    for table in WAREHOUSE_TABLES:
        assert before[table] == after[table], f"re-running {DAYS[2]} changed {table}"

    # The nights left the planner statistics on what the indicators read, whatever autovacuum does.
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            analyzed = {r[0] for r in conn.exec_driver_sql(
                "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = 'core'")}
        assert {"dossier_history", "payment", "sync_receipt", "postal_order"} <= analyzed, analyzed

    # No applicant's personal data reached any table.
    versions = fetch(source_env, "hoso", {"tuNgay": "20220101000000", "denNgay": "20220107000000"})
    secrets = {v["ChuHoSo"][f] for v in versions[:300] for f in ("HoVaTen", "SoDinhDanh", "SoDienThoai", "DiaChi")}
    with engine.connect() as conn:
        every_table = [f"{schema}.{name}" for schema, name in conn.exec_driver_sql(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('staging', 'core', 'mart', 'ops')")]
        assert "ops.quarantine" in every_table and "core.dossier_history" in every_table
        text = " ".join(str(row) for table in every_table
                        for row in conn.exec_driver_sql(f"SELECT * FROM {table}"))
    leaked = [s for s in secrets if s and s in text]
    assert not leaked, f"personal data in the warehouse: {leaked[:3]}"
    engine.dispose()
