"""Every indicator, every period, worked out by hand on the province of tests/fixtures/all_indicators.py
(a few dozen records built to hit the edges; its docstring says what makes each one an edge), on
DuckDB and on PostgreSQL.

Snapshot date D = Monday 2022-05-16: day = 05-16, mtd = 05-01..05-16, qtd = 04-01..05-16,
ytd = 01-01..05-16 (all four different).
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from etl import indicators
from tests.fixtures.all_indicators import (
    COMM,
    DEPT,
    DIST,
    NEW,
    OLD,
    P2,
    ROOT,
    D,
    V,
    load_fixture,
    load_reference_and_dossiers,
    supplement_request,
)
from tests.fixtures.reference import PERIODS, assert_same, reference_snapshot, warehouse_snapshot

# Worked out by hand (see tests/fixtures/all_indicators.py): "numerator/denominator" for day, mtd, qtd, ytd.
# DIST includes COMM, NEW (with OLD's dossiers) and its own; ROOT = DEPT + DIST.
EXPECTED = {
    "online_dossier_rate": {
        DEPT: "1/2 1/3 1/4 3/7", COMM: "1/1 2/2 2/4 2/6", NEW: "0/1 1/2 2/4 2/5",
        DIST: "1/3 4/6 6/11 6/14", ROOT: "2/5 5/9 7/15 9/21"},
    "digitized_dossier_rate": {
        DEPT: "1/2 2/3 2/4 4/7", COMM: "1/1 2/2 3/4 4/6", NEW: "0/1 1/2 2/4 3/5",
        DIST: "1/3 4/6 7/11 9/14", ROOT: "2/5 6/9 9/15 13/21"},
    "bcci_receive_rate": {
        DEPT: "0/2 1/3 1/4 1/7", COMM: "0/1 0/2 0/4 0/6", NEW: "0/1 0/2 0/4 1/5",
        DIST: "1/3 1/6 1/11 2/14", ROOT: "1/5 2/9 2/15 3/21"},
    "online_payment_dossier_rate": {
        DEPT: "1/2 1/2 1/3 3/5", COMM: "0/0 0/0 1/1 1/3", NEW: "0/1 0/1 1/2 1/3",
        DIST: "0/2 1/3 3/6 3/9", ROOT: "1/4 2/5 4/9 6/14"},
    "national_portal_sync_rate": {
        DEPT: "1/2 2/3 2/4 2/7", COMM: "1/1 1/2 1/4 1/6", NEW: "0/1 0/2 1/4 1/5",
        DIST: "1/3 1/6 2/11 2/14", ROOT: "2/5 3/9 4/15 4/21"},
    "online_dossier_full_online_rate": {
        DEPT: "1/2 1/2 1/2 3/4", COMM: "1/1 2/2 2/4 2/6", NEW: "0/0 1/1 2/3 2/4",
        DIST: "1/1 3/3 5/8 5/11", ROOT: "2/3 4/5 6/10 8/15"},
    "digitized_result_rate": {
        DEPT: "1/2 1/3 1/4 2/6", COMM: "1/1 1/1 1/1 2/2", NEW: "0/0 1/1 2/2 2/3",
        DIST: "1/1 2/2 3/4 4/6", ROOT: "2/3 3/5 4/8 6/12"},
    "online_signed_processing_rate": {
        DEPT: "1/2 2/3 2/4 3/6", COMM: "0/1 0/1 0/1 1/2", NEW: "0/0 1/1 2/2 3/3",
        DIST: "0/1 1/2 3/4 5/6", ROOT: "1/3 3/5 5/8 8/12"},
    "online_result_return_rate": {
        DEPT: "1/2 1/3 1/4 2/6", COMM: "1/1 1/1 1/1 1/2", NEW: "0/0 1/1 2/2 2/3",
        DIST: "1/1 2/2 3/4 3/6", ROOT: "2/3 3/5 4/8 5/12"},
    "bcci_return_rate": {
        DEPT: "0/2 1/3 1/4 1/6", COMM: "0/1 0/1 0/1 1/2", NEW: "0/0 0/1 0/2 1/3",
        DIST: "0/1 0/2 1/4 3/6", ROOT: "0/3 1/5 2/8 4/12"},
    "on_time_rate": {
        DEPT: "3/3 4/4 4/5 5/7", COMM: "2/5 2/5 2/5 3/6", NEW: "1/2 2/3 3/4 4/5",
        DIST: "5/9 6/10 8/12 10/14", ROOT: "8/12 10/14 12/17 15/21"},
    "online_payment_transaction_rate": {
        DEPT: "1/1 1/1 1/2 2/3", COMM: "0/0 0/0 1/1 1/2", NEW: "0/0 0/0 1/1 1/1",
        DIST: "0/1 1/2 3/4 3/5", ROOT: "1/2 2/3 4/6 5/8"},
    "full_online_service_rate": {
        DEPT: "1/2 1/2 1/2 1/2", COMM: "2/2 2/2 2/2 2/2", NEW: "1/2 1/2 1/2 1/2",
        DIST: "3/5 3/5 3/5 3/5", ROOT: "4/7 4/7 4/7 4/7"},
    "national_portal_integration_rate": {
        DEPT: "1/1 1/1 1/1 1/1", COMM: "1/2 1/2 1/2 1/2", NEW: "0/1 0/1 0/1 0/1",
        DIST: "1/3 1/3 1/3 1/3", ROOT: "2/4 2/4 2/4 2/4"},
    "fee_online_payment_enabled_rate": {
        DEPT: "1/2 1/2 1/2 1/2", COMM: "1/1 1/1 1/1 1/1", NEW: "0/1 0/1 0/1 0/1",
        DIST: "3/4 3/4 3/4 3/4", ROOT: "4/6 4/6 4/6 4/6"},
    "service_online_uptake_rate": {
        DEPT: "1/1 1/1 1/1 1/1", COMM: "1/1 1/1 1/2 1/2", NEW: "0/0 1/1 1/1 1/1",
        DIST: "1/1 2/2 2/3 2/3", ROOT: "2/2 3/3 3/4 3/4"},
    "fee_online_paid_procedure_rate": {
        DEPT: "1/1 1/1 1/2 1/2", COMM: "0/0 0/0 1/1 1/1", NEW: "0/1 0/1 1/1 1/1",
        DIST: "0/2 1/3 3/4 3/4", ROOT: "1/3 2/4 4/6 4/6"},
    "bcci_procedure_rate": {
        DEPT: "0/1 1/2 1/3 1/3", COMM: "0/1 0/1 0/2 1/2", NEW: "0/1 0/2 0/2 1/2",
        DIST: "1/3 1/5 2/6 4/6", ROOT: "1/4 2/7 3/9 5/9"},
}


def expected_figures() -> dict[tuple[str, str, str], tuple[int, int]]:
    out = {}
    for code, by_agency in EXPECTED.items():
        for agency_code, text in by_agency.items():
            for period, pair in zip(PERIODS, text.split(), strict=True):
                num, den = pair.split("/")
                out[(agency_code, period, code)] = (int(num), int(den))
    return out


def snapshot_rows(wh, day: date = D, province: str = "lao_cai") -> dict:
    with wh.begin() as conn:
        indicators.publish_snapshot(wh, conn, day, province)
        rows = conn.execute(sa.text(
            "SELECT agency_code, period, indicator_code, numerator, denominator, value, target, meets_target "
            "FROM mart.indicator_snapshot WHERE snapshot_date = :d"), {"d": day}).all()
    return {(r.agency_code, r.period, r.indicator_code): r for r in rows}


def test_every_indicator_and_period_by_hand(warehouse):
    load_fixture(warehouse)
    rows = snapshot_rows(warehouse)
    assert set(EXPECTED) == set(indicators.measure_codes()), "every indicator of docs/domain.md is worked out"
    # five agencies valid on D (OLD has merged into NEW) x 4 periods x 18 indicators
    assert {k[0] for k in rows} == {ROOT, DEPT, DIST, COMM, NEW}
    assert len(rows) == 5 * 4 * 18
    wrong = []
    for key, (num, den) in expected_figures().items():
        row = rows[key]
        if (row.numerator, row.denominator) != (num, den):
            wrong.append(f"{key}: got {row.numerator}/{row.denominator}, expected {num}/{den}")
        elif den == 0:
            assert row.value is None and row.meets_target is None, key
        else:
            assert row.value == pytest.approx(num / den), key
    assert not wrong, "\n".join(wrong)


def test_the_naive_reference_agrees_with_the_hand_worked_figures(warehouse):
    load_fixture(warehouse)
    with warehouse.begin() as conn:
        assert_same(reference_snapshot(conn, D), expected_figures(), "reference vs hand")


def test_targets_of_lao_cai(warehouse):
    load_fixture(warehouse)
    rows = snapshot_rows(warehouse)

    def t(agency_code, code, period="ytd"):
        r = rows[(agency_code, period, code)]
        return r.target, r.meets_target

    # Sở Ngoại vụ's own row in the 2022 decision: 100 % full-online dossiers; "Không có phí" for
    # online payment beats the plan's province-wide 30 %.
    assert t(DEPT, "online_dossier_full_online_rate") == (pytest.approx(1.0), False)  # 3/4
    assert t(DEPT, "online_payment_dossier_rate") == (None, None)
    assert t(DEPT, "full_online_service_rate") == (pytest.approx(1.0), False)  # 1/2
    # UBND huyện Bảo Thắng: 65 % full-online dossiers, 30 % paid online (ytd 5/11, 3/9)
    assert t(DIST, "online_dossier_full_online_rate") == (pytest.approx(0.65), False)
    assert t(DIST, "online_payment_dossier_rate") == (pytest.approx(0.30), True)
    # communes and the province: the plan's province-wide targets
    assert t(COMM, "full_online_service_rate") == (pytest.approx(1.0), True)  # 2/2 = 100 % >= 100 %
    assert t(COMM, "online_dossier_full_online_rate") == (None, None)  # the plan sets none
    assert t(ROOT, "online_dossier_rate") == (pytest.approx(0.65), False)  # 9/21
    assert t(ROOT, "bcci_receive_rate") == (pytest.approx(0.05), True)  # 3/21 > 5 %
    # "> 20 %" is strict: ROOT's mtd 1/5 = exactly 20 % does not meet it
    assert t(ROOT, "bcci_return_rate", "mtd") == (pytest.approx(0.20), False)
    assert t(ROOT, "on_time_rate") == (None, None)  # no Lào Cai target
    assert t(COMM, "online_payment_dossier_rate", "day") == (pytest.approx(0.30), None)  # 0/0: no value


def test_targets_of_lai_chau_by_level(warehouse):
    """The 2023 plan applies from 2023 on: not to a 2022 snapshot (no earlier Lai Châu year)."""
    load_fixture(warehouse, province="lai_chau")
    rows = snapshot_rows(warehouse, province="lai_chau")
    assert all(r.target is None for r in rows.values())
    with warehouse.begin() as conn:
        conn.exec_driver_sql("UPDATE core.target SET year = 2022 WHERE province = 'lai_chau'")
    rows = snapshot_rows(warehouse, province="lai_chau")
    levels = {ROOT: 0.7, DEPT: 0.7, DIST: 0.6, COMM: 0.5, NEW: 0.5}
    for agency_code, goal in levels.items():
        assert rows[(agency_code, "ytd", "digitized_result_rate")].target == pytest.approx(goal)
    assert rows[(ROOT, "ytd", "on_time_rate")].target == pytest.approx(1.0)
    assert rows[(ROOT, "ytd", "on_time_rate")].meets_target is False  # 15/21
    assert rows[(COMM, "ytd", "digitized_result_rate")].meets_target is True  # 2/2
    assert rows[(ROOT, "ytd", "service_online_uptake_rate")].target == pytest.approx(1.0)


def test_before_the_merger_the_old_commune_has_its_own_rows(warehouse):
    load_fixture(warehouse)
    day = date(2022, 4, 20)
    rows = snapshot_rows(warehouse, day)
    assert {k[0] for k in rows} == {ROOT, DEPT, DIST, COMM, OLD}
    # o1 received 04-05 online, o3 02-14 by post (o2 not yet received)
    assert (rows[(OLD, "ytd", "online_dossier_rate")].numerator,
            rows[(OLD, "ytd", "online_dossier_rate")].denominator) == (1, 2)
    with warehouse.begin() as conn:
        assert_same(warehouse_snapshot(conn, day), reference_snapshot(conn, day), "2022-04-20")


def test_a_range_run_equals_day_by_day_runs_across_the_merger(warehouse):
    load_fixture(warehouse)
    start, end = date(2022, 4, 25), date(2022, 5, 17)
    with warehouse.begin() as conn:
        indicators.publish_range(warehouse, start, end, "lao_cai", conn)
        ranged = {d: warehouse_snapshot(conn, d) for d in (start + timedelta(i) for i in range((end - start).days + 1))}
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        with warehouse.begin() as conn:
            indicators.publish_snapshot(warehouse, conn, day, "lao_cai")
            single = warehouse_snapshot(conn, day)
            assert_same(ranged[day], single, f"range vs single {day}")
            assert_same(single, reference_snapshot(conn, day), f"single vs reference {day}")
    assert ranged[D] == expected_figures() | {
        k: v for k, v in ranged[D].items() if k not in expected_figures()}


def test_republishing_a_range_replaces_its_rows(warehouse):
    load_fixture(warehouse)
    indicators.publish_range(warehouse, date(2022, 5, 1), D, "lao_cai")
    indicators.publish_range(warehouse, date(2022, 5, 10), D, "lao_cai")
    with warehouse.begin() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM mart.indicator_snapshot").scalar()
        per_day = conn.exec_driver_sql(
            "SELECT count(DISTINCT snapshot_date), count(*) FROM mart.indicator_snapshot "
            "WHERE snapshot_date = DATE '2022-05-16'").one()
    assert n == 16 * 5 * 4 * 18
    assert per_day == (1, 5 * 4 * 18)


def test_a_range_across_new_year_restarts_the_year_to_date(warehouse):
    load_fixture(warehouse)
    start, end = date(2021, 12, 30), date(2022, 2, 1)
    indicators.publish_range(warehouse, start, end, "lao_cai")
    with warehouse.begin() as conn:
        ranged = {start + timedelta(i): warehouse_snapshot(conn, start + timedelta(i)) for i in range(34)}
    for day in (date(2021, 12, 31), date(2022, 1, 1), date(2022, 1, 20), end):
        with warehouse.begin() as conn:
            assert_same(ranged[day], reference_snapshot(conn, day), f"{day}")
    assert ranged[date(2021, 12, 31)][(ROOT, "ytd", "full_online_service_rate")] == (0, 0)  # no config in 2021
    # DEPT P1/P2, COMM P1/P2, OLD P1/P2, DIST P1: all but DEPT P2 full
    assert ranged[date(2022, 1, 1)][(ROOT, "ytd", "full_online_service_rate")] == (6, 7)
    # c4 (received 01-15) is first known from its version of 01-20, a8 (received 01-10) from 02-01:
    # a snapshot counts what the warehouse knew at the end of its date
    assert ranged[date(2022, 1, 19)][(ROOT, "ytd", "online_dossier_rate")] == (0, 0)
    assert ranged[date(2022, 1, 20)][(ROOT, "ytd", "online_dossier_rate")] == (0, 1)
    assert ranged[end][(ROOT, "ytd", "online_dossier_rate")] == (0, 2)
    assert ranged[end][(ROOT, "mtd", "online_dossier_rate")] == (0, 0)


# Supplement requests: the clock stops at the request, not before. COMM, P2, counter; alone in the
# warehouse (so COMM = DIST = ROOT), snapshot dates 05-04 .. 05-16.
def _s(code, updated, status, received, due, requests=(), finished=None):
    return V(code, COMM, P2, updated, status=status, received=received, due=due, finished=finished,
             requests=list(requests))


S1_REQ = supplement_request("20220504100000", "20220506170000")
S1_DONE = supplement_request("20220504100000", "20220506170000", "20220510100000", "20220512170000")
S2_REQ = supplement_request("20220505100000", "20220504170000")
S2_DONE = supplement_request("20220505100000", "20220504170000", "20220509100000", "20220510170000")
SUPPLEMENT_DOSSIERS = [
    # s1 received 05-02, due 05-06; supplement requested 05-04 (before the due date) and supplied
    #    05-10, due moved to 05-12; processed 05-11: on time throughout (waiting past 05-06 too)
    _s("s1", "20220502090000", 2, "20220502090000", "20220506170000"),
    _s("s1", "20220504100000", 5, "20220502090000", "20220506170000", [S1_REQ]),
    _s("s1", "20220510100000", 4, "20220502090000", "20220512170000", [S1_DONE]),
    _s("s1", "20220511150000", 9, "20220502090000", "20220512170000", [S1_DONE], finished="20220511150000"),
    # s2 received 05-02, due 05-04 17:00; requested 05-05 (after the due date): late while waiting,
    #    and after: supplied 05-09, due moved to 05-10 17:00, processed 05-10 09:00 before it: late
    _s("s2", "20220502090000", 2, "20220502090000", "20220504170000"),
    _s("s2", "20220505100000", 5, "20220502090000", "20220504170000", [S2_REQ]),
    _s("s2", "20220509100000", 4, "20220502090000", "20220510170000", [S2_DONE]),
    _s("s2", "20220510090000", 9, "20220502090000", "20220510170000", [S2_DONE], finished="20220510090000"),
    # s3 received 05-03, due 05-06 17:00; requested at 05-06 17:00 exactly ("on or before"): on time,
    #    still waiting on 05-16
    _s("s3", "20220503090000", 2, "20220503090000", "20220506170000"),
    _s("s3", "20220506170000", 5, "20220503090000", "20220506170000",
       [supplement_request("20220506170000", "20220506170000")]),
    # s4 received 05-09, due 05-10 17:00 (overdue from the end of 05-10); requested 05-12: still late
    _s("s4", "20220509090000", 2, "20220509090000", "20220510170000"),
    _s("s4", "20220512090000", 5, "20220509090000", "20220510170000",
       [supplement_request("20220512090000", "20220510170000")]),
]
# date -> on_time_rate "numerator/denominator" for day and mtd (= qtd = ytd: everything is in May).
# Before the rule stopped the clock at the request, s2 was on time from 05-05 (waiting) until
# it ended: 05-05 3/3, 05-06 3/3, 05-09 4/4, 05-10 3/4, 05-11 day 2/3 mtd 3/4, 05-12 on mtd 3/4.
SUPPLEMENT_EXPECTED = {
    date(2022, 5, 4): "2/3 2/3",    # s1 waiting ✓, s2 open past its due date ✗, s3 ✓
    date(2022, 5, 5): "2/3 2/3",    # s2 waiting, requested after its due date ✗
    date(2022, 5, 6): "2/3 2/3",    # s3 requested at its due date ✓
    date(2022, 5, 9): "3/4 3/4",    # s1 waiting past its first due date ✓; s2 supplied, new due 05-10 ✗; s4 ✓
    date(2022, 5, 10): "2/4 2/4",   # s2 processed before its new due date ✗; s4 overdue ✗
    date(2022, 5, 11): "2/3 2/4",   # s1 processed on time ✓, s3 ✓, s4 ✗ (mtd: + s2 ✗)
    date(2022, 5, 12): "1/2 2/4",   # s4 waiting, requested after its due date ✗
    date(2022, 5, 16): "1/2 2/4",
}


def test_on_time_stops_the_clock_at_the_supplement_request(warehouse):
    load_reference_and_dossiers(warehouse, [SUPPLEMENT_DOSSIERS])
    start, end = date(2022, 5, 4), date(2022, 5, 16)
    with warehouse.begin() as conn:
        indicators.publish_range(warehouse, start, end, "lao_cai", conn)
        stored = dict(conn.exec_driver_sql(
            "SELECT dossier_code, supplement_requested_at FROM core.dossier WHERE dossier_code = 's2'").all())
        assert str(stored["s2"]) == "2022-05-05 10:00:00"
        for day, text in SUPPLEMENT_EXPECTED.items():
            got = warehouse_snapshot(conn, day)
            day_pair, month_pair = text.split()
            for period, pair in (("day", day_pair), ("mtd", month_pair), ("qtd", month_pair), ("ytd", month_pair)):
                for agency_code in (COMM, DIST, ROOT):
                    assert got[(agency_code, period, "on_time_rate")] == tuple(map(int, pair.split("/"))), \
                        (day, period, agency_code)
            assert_same(got, reference_snapshot(conn, day), f"reference {day}")


def test_measure_files_take_their_code_as_a_bound_parameter():
    codes = indicators.measure_codes()
    for code in codes:
        text = (indicators.MEASURES_DIR / f"{code}.sql").read_text(encoding="utf-8")
        assert ":indicator_code" in text, code
        assert [c for c in codes if f"'{c}'" in text] == [], f"{code}.sql writes an indicator code literally"


def test_the_working_tables_are_named_in_prepare_and_versions_sql():
    """The measures read only the working tables prepare.sql and versions.sql create."""
    prepared, later = set(indicators.PREPARED_TABLES), set(indicators.FILLED_LATER_TABLES)
    assert later == {"ind_fact", "ind_service_fact", "ind_service_scope", "ind_code"}
    assert {"ind_version", "ind_run", "ind_recv", "ind_ended", "ind_open", "ind_sync"} <= prepared
    read = {t for p in indicators.MEASURES_DIR.glob("*.sql")
            for t in re.findall(r"(?:FROM|JOIN) (ind_\w+)", p.read_text(encoding="utf-8"))}
    assert read and read <= prepared, read - prepared


def test_a_single_date_numbers_its_versions_without_sorting_them(pg_url):
    """In a run of one date (the drill-down's, a date published alone) every version in force is its dossier's only
    one, so versions.sql numbers its runs without the window over each dossier's versions. Sorting them was the
    drill-down's largest statement before its listing at the country's year-end (102 s, docs/benchmarks.md). Over a
    longer range the versions that share it with others of their dossier still go through the window."""
    from etl.warehouse import Warehouse, execute_named, split_statements, sql_file

    wh = Warehouse(pg_url)
    wh.migrate()
    load_fixture(wh)
    [numbering] = [stmt for stmt in split_statements(sql_file(indicators.VERSIONS))
                   if "CREATE TEMPORARY TABLE ind_run" in stmt]

    def sorted_and_read(start: date) -> tuple[int, int]:
        def sorted_rows(node: dict) -> int:
            own = node["Actual Rows"] if node["Node Type"] == "Sort" else 0
            return own + sum(sorted_rows(child) for child in node.get("Plans", []))

        with wh.rolled_back() as conn:
            params = indicators.range_params(start, D, "lao_cai")
            indicators.prepare(wh, conn, params)
            [[plan]] = execute_named(conn, "EXPLAIN (ANALYZE, FORMAT JSON) " + numbering[numbering.index("WITH"):],
                                     params).one()
            return sorted_rows(plan["Plan"]), conn.exec_driver_sql("SELECT count(*) FROM ind_version").scalar()

    single, versions = sorted_and_read(D)
    assert versions > 10 and single == 0
    ranged, versions = sorted_and_read(D - timedelta(days=60))
    assert 0 < ranged < versions, "only the versions that share the range with others of their dossier are sorted"
    wh.dispose()


def test_the_working_tables_the_rollup_and_publication_read_are_planned_with_statistics(pg_url):
    """PostgreSQL gathers no statistics on temporary tables: from the estimates of a chain of CTEs it grouped
    the roll-up by sorting on text, and from an unanalyzed ind_value it probed the published snapshot once a
    row. aggregate.sql's tables (the leaf sums among them) carry their row counts once filled."""
    from etl.warehouse import Warehouse

    wh = Warehouse(pg_url)
    wh.migrate()
    load_fixture(wh)
    with wh.begin() as conn:
        indicators.publish_snapshot(wh, conn, D, "lao_cai")
        analyzed = dict(conn.exec_driver_sql(
            "SELECT relname, reltuples FROM pg_class WHERE relpersistence = 't' "
            "AND relname IN ('ind_leaf', 'ind_change', 'ind_value')").all())
        counts = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in analyzed}
    wh.dispose()
    assert len(analyzed) == 3 and all(counts.values()), counts
    assert analyzed == {t: float(n) for t, n in counts.items()}


def test_the_indicator_step_analyzes_the_core_tables_never_analyzed_or_grown_by_a_tenth(pg_url):
    """Planned without row counts (autovacuum off, or behind a night's loads), a night's transaction measure ran
    for minutes. The step first analyzes the core tables that were never analyzed or grew by a tenth since."""
    from etl.warehouse import Warehouse

    wh = Warehouse(pg_url)
    wh.migrate()
    load_fixture(wh)

    def grow(conn, rows: int) -> None:
        conn.exec_driver_sql(
            "INSERT INTO core.dossier_history (dossier_code, updated_at, procedure_code, agency_code, channel, status, "
            "supplement_count, batch_id) SELECT 'GROWN-' || i || '-' || random(), TIMESTAMP '2000-01-01', 'P', 'A', "
            f"1, 2, 0, 1 FROM generate_series(1, {rows}) i")

    def estimated_and_counted(conn) -> tuple[float, int]:
        estimated = "SELECT reltuples FROM pg_class WHERE oid = 'core.dossier_history'::regclass"
        return (conn.exec_driver_sql(estimated).scalar(),
                conn.exec_driver_sql("SELECT count(*) FROM core.dossier_history").scalar())

    with wh.begin() as conn:
        conn.exec_driver_sql("SAVEPOINT analyzed")  # an ANALYZE rolled back keeps the row count, not the statistics
        conn.exec_driver_sql("ANALYZE core.payment")
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT analyzed")
        assert "core.payment" in wh.refresh_statistics(conn)
        assert wh.refresh_statistics(conn) == []  # nothing grew since
        grow(conn, 20_000)
        assert "core.dossier_history" in wh.refresh_statistics(conn)
        estimated, counted = estimated_and_counted(conn)
        assert estimated == counted
        grow(conn, 20_000)
        indicators.publish_snapshot(wh, conn, D, "lao_cai")
        estimated, counted = estimated_and_counted(conn)
        conn.rollback()
    wh.dispose()
    assert counted > 40_000 and estimated == counted  # the step analyzed what had grown since
