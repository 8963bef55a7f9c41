"""What BI tools read: the views over mart.indicator_snapshot (on DuckDB and PostgreSQL), their
comments, and the read-only role that migrate creates on PostgreSQL (mart and nothing else)."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from etl import indicators
from tests.fixtures.all_indicators import COMM, DEPT, DIST, NEW, OLD, ROOT, load_fixture

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


def test_below_target_ranks_peers_with_peers_above_the_minimum_denominator(published):
    sql = ("SELECT agency_code, peer_group, rank_below, gap_to_target, gap_pct FROM mart.below_target "
           "WHERE period = 'ytd' AND indicator_code = 'online_dossier_full_online_rate' ORDER BY agency_code")
    with published.begin() as conn:
        # default minimum 20: the fixture's agencies have a handful of dossiers, none is ranked
        assert conn.exec_driver_sql(sql).all() == []
        conn.exec_driver_sql("UPDATE mart.report_setting SET value = 4 WHERE name = 'min_denominator'")
        rows = conn.exec_driver_sql(sql).all()
        everything = conn.exec_driver_sql(
            "SELECT count(*), min(snapshot_date), max(snapshot_date), sum(CASE WHEN gap_to_target > 0 THEN 1 END), "
            "min(denominator) FROM mart.below_target").one()
    # ytd: DEPT 3/4 vs 100 % and DIST 5/11 vs 65 % are each first among their own peers;
    # ROOT 8/15 has no target and is no one's peer
    assert [(r.agency_code, r.peer_group, r.rank_below) for r in rows] == [
        (DEPT, "department", 1), (DIST, "district", 1)]
    assert rows[0].gap_to_target == pytest.approx(-0.25) and rows[0].gap_pct == pytest.approx(-25.0)
    assert rows[1].gap_to_target == pytest.approx(5 / 11 - 0.65)
    count, first, last, above, smallest = everything
    assert count > 0 and first == last == END and above is None and smallest >= 4


def test_snapshot_detail_has_percentages_order_and_level_labels(published):
    with published.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT agency_code, level_label, peer_group, indicator_order, value_pct, target_pct, gap_pct, rankable "
            "FROM mart.snapshot_detail WHERE snapshot_date = '2022-05-16' AND period = 'ytd' "
            "AND indicator_code = 'online_dossier_full_online_rate'").all()
        order = conn.exec_driver_sql("SELECT indicator_code FROM mart.indicator ORDER BY display_order").scalars().all()
    by_agency = {r.agency_code: r for r in rows}
    assert {a: r.level_label for a, r in by_agency.items()} == {
        ROOT: "tỉnh", DEPT: "sở-ngành", DIST: "huyện", COMM: "xã", NEW: "xã"}
    assert by_agency[DEPT].value_pct == 75.0 and by_agency[DEPT].target_pct == 100.0
    assert by_agency[DEPT].gap_pct == -25.0 and by_agency[DEPT].rankable is False
    assert by_agency[DEPT].indicator_order == 7 == order.index("online_dossier_full_online_rate") + 1
    assert order[:2] == ["full_online_service_rate", "service_online_uptake_rate"] and len(order) == 18


def test_targets_view_names_the_source_document(published):
    with published.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT scope, scope_label, agency_code, target_pct, source, indicator_name_vi FROM mart.target "
            "WHERE province = 'lao_cai' AND indicator_code = 'online_payment_dossier_rate' ORDER BY scope").all()
    by_scope = {r.scope: r for r in rows}
    assert by_scope["Sở Ngoại vụ"].agency_code == DEPT and by_scope["Sở Ngoại vụ"].target_pct is None
    assert by_scope["Sở Ngoại vụ"].source.startswith("Lào Cai 2022 decision")
    assert by_scope["all"].scope_label == "toàn tỉnh" and by_scope["all"].target_pct == 30.0
    assert by_scope["all"].indicator_name_vi == "Tỷ lệ hồ sơ thanh toán trực tuyến"


def test_data_freshness_per_source(published):
    with published.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT source, entity, last_batch_status, last_success_at, last_snapshot_date FROM mart.data_freshness "
            "ORDER BY source, entity").all()
    assert {(r.source, r.entity) for r in rows} >= {("onestop", "agency"), ("onestop", "dossier")}
    assert all(r.last_snapshot_date == END for r in rows)
    assert all(r.last_batch_status == "succeeded" and r.last_success_at is not None for r in rows)


def test_every_mart_object_and_column_is_described_in_vietnamese_and_english(warehouse):
    from etl.reports import bi

    with warehouse.begin() as conn:
        assert bi.apply_mart_comments(warehouse, conn) == []
        have = warehouse.comments(conn, "mart")
        objects = bi.mart_columns(conn)
    expected = ({(name, "") for name, _kind in objects}
                | {(name, c) for (name, _k), cols in objects.items() for c in cols})
    assert {"snapshot_detail", "agency_ranking", "target", "data_freshness"} <= {name for name, _k in objects}
    undescribed = sorted(k for k in expected if " — " not in have.get(k, ""))
    assert undescribed == [], "add them to sql/reports/mart_comments.csv"


def test_views_have_descriptions(published):
    if published.dialect == "duckdb":
        sql = ("SELECT comment FROM duckdb_views() WHERE schema_name = 'mart' AND view_name = 'below_target'")
    else:
        sql = "SELECT obj_description('mart.below_target'::regclass, 'pg_class')"
    with published.begin() as conn:
        assert "furthest below" in conn.exec_driver_sql(sql).scalar()


def test_data_dictionary_lists_every_mart_column(duckdb_url):
    from etl.reports import bi
    from etl.warehouse import Warehouse
    from tests.fixtures.environment import ROOT as REPO

    wh = Warehouse(duckdb_url)
    wh.migrate()
    with wh.begin() as conn:
        generated = bi.data_dictionary_markdown(conn)
    wh.dispose()
    assert generated in (REPO / "docs" / "data_dictionary.md").read_text(encoding="utf-8"), (
        "docs/data_dictionary.md is out of date: paste etl.reports.bi.data_dictionary_markdown() into it")


# -- the BI role ---------------------------------------------------------------------------
@pytest.fixture
def bi_role(monkeypatch, pg_url):
    """A warehouse migrated with its own BI role name (roles are shared by the whole cluster)."""
    from etl.warehouse import Warehouse

    role = f"dvc_bi_reader_test_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DVC_BI_READER_ROLE", role)
    monkeypatch.delenv("DVC_BI_READER_PASSWORD", raising=False)
    wh = Warehouse(pg_url)
    wh.migrate()
    load_fixture(wh)
    indicators.publish_range(wh, START, END, "lao_cai")
    with wh.begin() as conn:  # the fixture's agencies are small: rank them all
        conn.exec_driver_sql("UPDATE mart.report_setting SET value = 1 WHERE name = 'min_denominator'")
    yield wh, role
    with wh.begin() as conn:
        conn.exec_driver_sql(f"DROP OWNED BY {role}")
        conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
    wh.dispose()


def _as_role(wh, role: str, sql: str):
    with wh.engine.connect() as conn:
        with conn.begin():
            conn.exec_driver_sql(f"SET LOCAL ROLE {role}")
            return conn.exec_driver_sql(sql).all()


def test_migrate_creates_the_bi_role_that_reads_every_mart_view_and_nothing_else(bi_role):
    from etl.reports import bi

    wh, role = bi_role
    assert wh.migrate() == []  # idempotent: the role is already there
    with wh.begin() as conn:
        objects = sorted(name for name, _kind in bi.mart_columns(conn))
        assert conn.exec_driver_sql(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{role}'").scalar() is False
    assert len(objects) >= 11
    for name in objects:
        _as_role(wh, role, f"SELECT * FROM mart.{name} LIMIT 1")
    for view in ("indicator_snapshot", "snapshot_detail", "agency_ranking", "target", "data_freshness"):
        assert _as_role(wh, role, f"SELECT count(*) FROM mart.{view}")[0][0] > 0, view
    for forbidden in ("SELECT * FROM core.dossier", "SELECT * FROM core.agency", "SELECT * FROM ops.batch",
                      "SELECT * FROM staging.dossier", "CREATE TABLE mart.mine (a int)",
                      "DELETE FROM mart.indicator_snapshot", "UPDATE mart.report_setting SET value = 0",
                      "SELECT nextval('ops.batch_id_seq')"):
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            _as_role(wh, role, forbidden)


def test_bi_role_can_log_in_with_a_password_and_sees_new_mart_views(bi_role, monkeypatch):
    wh, role = bi_role
    monkeypatch.setenv("DVC_BI_READER_PASSWORD", "s3cret'with%quote")
    wh.migrate()
    with wh.begin() as conn:
        assert conn.exec_driver_sql(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{role}'").scalar() is True
        # a mart view created after the role (by the migrating role) is readable through the default privileges
        conn.exec_driver_sql("CREATE VIEW mart.later AS SELECT 1 AS one")
    assert _as_role(wh, role, "SELECT one FROM mart.later") == [(1,)]
    url = sa.engine.make_url(wh.url).set(username=role, password="s3cret'with%quote", host="127.0.0.1")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM mart.indicator").scalar() == 18
    engine.dispose()


def test_role_name_is_checked(monkeypatch):
    from etl.reports import bi

    monkeypatch.setenv("DVC_BI_READER_ROLE", "x; DROP TABLE y")
    with pytest.raises(ValueError, match="DVC_BI_READER_ROLE"):
        bi.bi_reader_role()
    monkeypatch.setenv("DVC_BI_READER_ROLE", "")
    assert bi.bi_reader_role() is None
    monkeypatch.delenv("DVC_BI_READER_ROLE")
    assert bi.bi_reader_role() == "dvc_bi_reader"
