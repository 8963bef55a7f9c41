"""What BI tools read: the views over mart.indicator_snapshot (on DuckDB and PostgreSQL), and the
read-only role on PostgreSQL that can read mart and nothing else."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from etl import indicators, report
from tests.test_indicators_all import COMM, DEPT, DIST, NEW, OLD, ROOT, load_fixture

START, END = date(2022, 4, 25), date(2022, 5, 16)


@pytest.fixture
def published(warehouse):
    load_fixture(warehouse)
    indicators.publish_range(warehouse, START, END, "lao_cai")
    return warehouse


def test_latest_scorecard_per_agency_with_gap_to_target(published):
    with published.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT agency_code, snapshot_date, agency_name, indicator_name_en, value, target, gap_to_target, "
            "meets_target FROM mart.scorecard_latest WHERE period = 'ytd' "
            "AND indicator_code = 'online_dossier_full_online_rate'").all()
        per_agency = conn.exec_driver_sql(
            "SELECT agency_code, count(*) FROM mart.scorecard_latest GROUP BY agency_code").all()
    by_agency = {r.agency_code: r for r in rows}
    # OLD was merged into NEW on 05-01: its latest scorecard is its last day, 04-30
    assert {a: r.snapshot_date for a, r in by_agency.items()} == {
        ROOT: END, DEPT: END, DIST: END, COMM: END, NEW: END, OLD: date(2022, 4, 30)}
    assert dict(per_agency) == dict.fromkeys([ROOT, DEPT, DIST, COMM, NEW, OLD], 4 * 18)
    dept = by_agency[DEPT]  # Sở Ngoại vụ: 3/4 against its own 100 %
    assert dept.agency_name == "Sở Ngoại vụ" and dept.indicator_name_en == "Online dossiers of full-online services"
    assert dept.gap_to_target == pytest.approx(0.75 - 1.0) and dept.meets_target is False
    assert by_agency[COMM].target is None and by_agency[COMM].gap_to_target is None


def test_province_trend_is_the_root_over_time(published):
    with published.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT snapshot_date, numerator, denominator, value FROM mart.province_trend "
            "WHERE period = 'ytd' AND indicator_code = 'on_time_rate' ORDER BY snapshot_date").all()
        agencies = conn.exec_driver_sql("SELECT DISTINCT agency_code FROM mart.province_trend").all()
    assert agencies == [(ROOT,)]
    assert [r.snapshot_date for r in rows] == [date(2022, 4, 25 + i) for i in range(6)] + [
        date(2022, 5, i) for i in range(1, 17)]
    assert (rows[-1].numerator, rows[-1].denominator) == (15, 21)  # the hand-worked figure


def test_agencies_furthest_below_target_first(published):
    with published.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT agency_code, snapshot_date, value, target, gap_to_target, rank_below FROM mart.below_target "
            "WHERE period = 'ytd' AND indicator_code = 'online_dossier_full_online_rate' ORDER BY rank_below").all()
        everything = conn.exec_driver_sql(
            "SELECT count(*), min(snapshot_date), max(snapshot_date), sum(CASE WHEN gap_to_target > 0 THEN 1 END) "
            "FROM mart.below_target").one()
    # ytd: DIST 5/11 vs 65 % (-0.195), DEPT 3/4 vs 100 % (-0.25), ROOT 8/15 (no target: not listed)
    assert [(r.agency_code, r.rank_below) for r in rows] == [(DEPT, 1), (DIST, 2)]
    assert rows[0].gap_to_target == pytest.approx(-0.25)
    assert rows[1].gap_to_target == pytest.approx(5 / 11 - 0.65)
    count, first, last, above = everything
    assert count > 0 and first == last == END and above is None


def test_views_have_descriptions(published):
    if published.dialect == "duckdb":
        sql = ("SELECT comment FROM duckdb_views() WHERE schema_name = 'mart' AND view_name = 'below_target'")
    else:
        sql = "SELECT obj_description('mart.below_target'::regclass, 'pg_class')"
    with published.begin() as conn:
        assert "furthest below" in conn.exec_driver_sql(sql).scalar()


# -- the BI role ---------------------------------------------------------------------------
@pytest.fixture
def pg_published(pg_url):
    from etl.warehouse import Warehouse

    wh = Warehouse(pg_url)
    wh.migrate()
    load_fixture(wh)
    indicators.publish_range(wh, START, END, "lao_cai")
    yield wh
    wh.dispose()


@pytest.fixture
def bi_role(monkeypatch, pg_published):
    role = f"dvc_bi_reader_test_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DVC_BI_READER_ROLE", role)
    monkeypatch.delenv("DVC_BI_READER_PASSWORD", raising=False)
    yield role
    with pg_published.begin() as conn:
        conn.exec_driver_sql(f"DROP OWNED BY {role}")
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")


def _as_role(wh, role: str, sql: str):
    with wh.engine.connect() as conn:
        with conn.begin():
            conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
            return conn.exec_driver_sql(sql).all()


def test_bi_reader_role_reads_mart_and_nothing_else(pg_published, bi_role):
    assert report.ensure_bi_reader_role(pg_published) == bi_role
    assert report.ensure_bi_reader_role(pg_published) == bi_role  # idempotent
    for view in ("indicator_snapshot", "indicator", "agency", "scorecard_latest", "province_trend", "below_target"):
        assert _as_role(pg_published, bi_role, f"SELECT count(*) FROM mart.{view}")[0][0] > 0, view
    for forbidden in ("SELECT * FROM core.dossier", "SELECT * FROM core.agency", "SELECT * FROM ops.batch",
                      "SELECT * FROM staging.dossier", "CREATE TABLE mart.mine (a int)",
                      "DELETE FROM mart.indicator_snapshot", "SELECT nextval('ops.batch_id_seq')"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            _as_role(pg_published, bi_role, forbidden)
    with pg_published.begin() as conn:
        assert conn.exec_driver_sql(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{bi_role}'").scalar() is False


def test_bi_reader_role_can_log_in_with_a_password_and_sees_new_mart_views(pg_published, bi_role, monkeypatch):
    monkeypatch.setenv("DVC_BI_READER_PASSWORD", "s3cret'with%quote")
    report.ensure_bi_reader_role(pg_published)
    with pg_published.begin() as conn:
        assert conn.exec_driver_sql(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{bi_role}'").scalar() is True
        # a mart view created after the role (by the migrating role) is readable through the default privileges
        conn.exec_driver_sql("CREATE VIEW mart.later AS SELECT 1 AS one")
    assert _as_role(pg_published, bi_role, "SELECT one FROM mart.later") == [(1,)]


def test_no_role_on_duckdb(duckdb_url):
    from etl.warehouse import Warehouse

    wh = Warehouse(duckdb_url)
    wh.migrate()
    assert report.ensure_bi_reader_role(wh) is None
    wh.dispose()


def test_role_name_is_checked(monkeypatch):
    monkeypatch.setenv("DVC_BI_READER_ROLE", "x; DROP TABLE y")
    with pytest.raises(ValueError):
        report.bi_reader_role()
    monkeypatch.delenv("DVC_BI_READER_ROLE")
    assert report.bi_reader_role() == "dvc_bi_reader"
