"""The drill-down (`python -m etl explain`, etl/explain.py, sql/explain/): the items it lists for a
row of mart.indicator_snapshot add up exactly to that row's numerator and denominator, for every
indicator, period and agency -- on the hand-built province of tests/fixtures/all_indicators.py
(with a commune merged into another) and on a few days of the simulator across the July 2025
reform (districts abolished, communes merged), on DuckDB and PostgreSQL.
"""
from __future__ import annotations

import csv
import io
import re
import threading
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from etl import cli, explain, feeds, indicators, pipeline
from etl.timeutil import Window
from etl.warehouse import Warehouse
from mocks.testing import run_simulator
from tests.fixtures.all_indicators import COMM, DEPT, DIST, NEW, OLD, ROOT, D, load_fixture
from tests.fixtures.listing_csv import python_csv
from tests.fixtures.plans import nested_loops_rescanning

BEFORE_MERGER = date(2022, 4, 20)  # OLD still has its own rows


def published(conn, day: date) -> dict[tuple[str, str, str], tuple[int, int]]:
    rows = conn.execute(sa.text(
        "SELECT agency_code, period, indicator_code, numerator, denominator FROM mart.indicator_snapshot "
        "WHERE snapshot_date = :d"), {"d": day}).all()
    return {(r[0], r[1], r[2]): (int(r[3]), int(r[4])) for r in rows}


def assert_adds_up(wh, conn, day: date, province: str, listed: list[tuple[str, str]] | None = None) -> int:
    """Every published row of `day` equals the sums of its items (totals.sql over all agencies and
    periods); the rows of (agency, indicator) in `listed` (default: all) also through their listing,
    in every period. Returns the number of rows checked."""
    snapshot = published(conn, day)
    assert set(explain.indicator_kinds()) == set(indicators.measure_codes()) == {k[2] for k in snapshot}
    explain.prepare(wh, conn, day, province)
    summed = explain.totals(conn)
    wrong = [f"{key}: published {pair}, items {summed.get(key, (0, 0))}" for key, pair in snapshot.items()
             if summed.get(key, (0, 0)) != pair]
    assert not wrong, f"{day}: " + "; ".join(sorted(wrong)[:10])
    assert set(summed) <= set(snapshot), set(summed) - set(snapshot)  # no items for agencies without a row
    for agency, code in listed if listed is not None else sorted({(k[0], k[2]) for k in snapshot}):
        for period in indicators.PERIODS:
            rows = explain.items(conn, day, code, agency, period)
            got = (sum(r["in_num"] for r in rows), sum(r["in_den"] for r in rows))
            assert got == snapshot[(agency, period, code)], (day, agency, period, code)
    return len(snapshot)


# -- the hand-built province ------------------------------------------------------------------
@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def fixture_warehouse(request, tmp_path_factory):
    """The province loaded once per database for the module; the tests only read it."""
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('explain_fixture') / 'warehouse.duckdb'}"
    else:
        url = request.getfixturevalue("pg_database")()
    wh = Warehouse(url)
    wh.migrate()
    load_fixture(wh)
    for day in (BEFORE_MERGER, D):
        with wh.begin() as conn:
            indicators.publish_snapshot(wh, conn, day, "lao_cai")
    yield wh
    wh.dispose()


def test_every_row_of_the_fixture_adds_up(fixture_warehouse):
    wh = fixture_warehouse
    with wh.begin() as conn:
        # 5 agencies x 4 periods x 18 indicators on D; OLD instead of NEW before the merger
        assert assert_adds_up(wh, conn, D, "lao_cai") == 5 * 4 * 18
    with wh.begin() as conn:
        assert assert_adds_up(wh, conn, BEFORE_MERGER, "lao_cai", listed=[(OLD, "on_time_rate")]) == 5 * 4 * 18


# on_time_rate's items in exp_item: of the district and its communes, and of the others (the department)
_UNDER_DIST = f"agency_code IN ('{DIST}', '{COMM}', '{OLD}', '{NEW}')"
DISTRICT_ITEMS = (f"SELECT SUM(CASE WHEN {_UNDER_DIST} THEN 1 ELSE 0 END) AS inside, "
                  f"SUM(CASE WHEN {_UNDER_DIST} THEN 0 ELSE 1 END) AS outside "
                  "FROM exp_item WHERE indicator_code = 'on_time_rate'")


def test_a_report_prepares_only_the_figures_it_lists_and_lists_the_same_items(fixture_warehouse):
    """explain_many (the dashboard's drill-down) narrows the scope to its figures (exp_wanted filled before
    scope.sql): the scope holds nothing else, and every figure lists the items a whole preparation lists."""
    wh = fixture_warehouse
    figures = [(DIST, "on_time_rate"), (ROOT, "online_dossier_rate"), (NEW, "service_online_uptake_rate")]
    with wh.begin() as conn:
        explain.prepare(wh, conn, D, "lao_cai")
        whole = explain.listings(conn, D, "ytd", figures)
        everything = conn.exec_driver_sql("SELECT count(*) FROM exp_scope").scalar()
        dossiers = conn.exec_driver_sql(DISTRICT_ITEMS).one()._mapping
    with wh.begin() as conn:
        explain.prepare(wh, conn, D, "lao_cai", sorted({i for _a, i in figures}), None, "ytd", figures)
        scoped = set(conn.exec_driver_sql("SELECT DISTINCT ancestor_code, indicator_code FROM exp_scope").all())
        kept = conn.exec_driver_sql("SELECT count(*) FROM exp_scope").scalar()
        # the dossier listings' items are kept at insertion (exp_agency): on_time_rate's, only the district's
        items = conn.exec_driver_sql(DISTRICT_ITEMS).one()._mapping
        narrowed = explain.listings(conn, D, "ytd", figures)
    assert {tuple(r) for r in scoped} == set(figures) and kept < everything / 4, (scoped, kept, everything)
    assert 0 < items["inside"] and items["outside"] == 0 < dossiers["outside"], (items, dossiers)
    assert narrowed == whole and all(whole[f] for f in figures)
    drills = explain.explain_many(wh, D, "ytd", figures, "lao_cai")
    assert [d.rows for d in drills] == [whole[f] for f in figures] and all(d.matches for d in drills)


def test_each_indicator_prepared_alone_lists_what_a_whole_preparation_lists(fixture_warehouse):
    """A drill-down prepares only its figures' indicators: the working tables only other indicators read stay
    empty (versions.sql's want_<indicator>, the evidence in scope.sql). Each indicator prepared alone lists,
    for the province and the district, the items and shown fields a preparation of every indicator lists, and
    they add up to the published figures."""
    wh = fixture_warehouse
    codes = sorted(explain.indicator_kinds())
    figures = [(agency, code) for code in codes for agency in (ROOT, DIST)]
    with wh.begin() as conn:
        explain.prepare(wh, conn, D, "lao_cai")
        whole = explain.listings(conn, D, "ytd", figures)
    optional = ("ind_synced", "ind_sync", "ind_open", "ind_paid_tx", "ind_postal", "ind_transaction")
    emptied = set()
    for code in codes:
        alone = [(ROOT, code), (DIST, code)]
        drills = explain.explain_many(wh, D, "ytd", alone, "lao_cai")
        assert [d.rows for d in drills] == [whole[f] for f in alone] and all(d.matches for d in drills), code
        with wh.begin() as conn:
            explain.prepare(wh, conn, D, "lao_cai", [code], None, "ytd", alone)
            emptied |= {t for t in optional if not conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()}
    assert all(whole[f] for f in figures)
    assert emptied == set(optional)


def test_the_evidence_is_looked_up_for_the_indicators_that_show_it():
    """scope.sql finds each piece of the other systems' evidence only for the dossiers of the indicators that
    name it: exactly those whose listing shows it (explain.FIELDS). An indicator given such a column in FIELDS
    without its name in scope.sql would show it empty on every row."""
    text = explain.sql_file("explain/scope.sql")
    evidence = text[text.index("CREATE TEMPORARY TABLE exp_evidence"):]
    ctes = dict(re.findall(r"(\w+) AS \((.*?)\n\)", evidence, re.DOTALL))
    columns = {"paid": ("paid_online_at",), "synced": ("synced_at",), "postal": ("post_collect_at", "post_deliver_at")}
    for cte, shown in columns.items():
        named = set(re.findall(r"'(\w+_rate)'", ctes[cte]))
        showing = {code for code, fields in explain.FIELDS.items() if set(shown) & set(fields)}
        assert named == showing and named, (cte, named, showing)


def test_a_report_reads_only_the_dossiers_of_its_figures_agencies(fixture_warehouse):
    """With figures to list, the preparation reads only the dossiers filed at the agencies they count in (the
    district, its communes and the commune merged into one: sql/explain/agencies.sql), not the department's:
    a report's figures hold a part of the year's dossiers, and its preparation follows what it reads. Their
    dossiers, transactions and services list the same items as after a whole preparation."""
    wh = fixture_warehouse
    figures = [(DIST, "on_time_rate"), (DIST, "online_payment_transaction_rate"), (DIST, "service_online_uptake_rate")]
    read = ("SELECT 'version', agency_code FROM ind_version UNION SELECT 'transaction', agency_code "
            "FROM ind_transaction UNION SELECT 'service', agency_code FROM exp_service_dossier")
    with wh.begin() as conn:
        explain.prepare(wh, conn, D, "lao_cai")
        everyone = set(conn.exec_driver_sql(read).all())
        whole = explain.listings(conn, D, "ytd", figures)
    with wh.begin() as conn:
        explain.prepare(wh, conn, D, "lao_cai", sorted({i for _a, i in figures}), None, "ytd", figures)
        some = set(conn.exec_driver_sql(read).all())
        narrowed = explain.listings(conn, D, "ytd", figures)
    district = {DIST, COMM, OLD, NEW}
    assert {a for _t, a in some} <= district and {t for t, _a in some} == {"version", "transaction", "service"}
    assert DEPT in {a for _t, a in everyone} and some < everyone, (some, everyone)
    assert narrowed == whole and all(whole[f] for f in figures)


def _listing(wh, indicator, agency, period, day=D):
    found = explain.explain(wh, day, period, agency, indicator, "lao_cai")
    assert found.matches
    return found, {r["item_code"]: r for r in found.rows}


def test_the_district_late_dossiers_by_hand(fixture_warehouse):
    """on_time_rate, UBND huyện Bảo Thắng, quarter to date: 8 / 12 (test_indicators_all.py)."""
    found, rows = _listing(fixture_warehouse, "on_time_rate", DIST, "qtd")
    assert (found.numerator, found.denominator, found.snapshot) == (8, 12, (8, 12))
    late = {code for code, r in rows.items() if r["in_num"] == 0}
    assert late == {"c1", "c5", "c6", "o2"}  # overdue open, ended late, two supplements, overdue open
    assert set(rows) - late == {"t1", "t2", "t3", "c2", "c3", "o1", "n1", "n2"}
    # OLD merged into NEW on 05-01: its dossiers count for NEW, shown with the agency they were filed at
    assert (rows["o2"]["agency_code"], rows["o2"]["counted_for"]) == (OLD, NEW)
    assert rows["c6"]["basis"] == "đang giải quyết, yêu cầu bổ sung hơn một lần" and rows["c6"]["supplement_count"] == 2
    assert rows["c2"]["basis"].startswith("chờ bổ sung, yêu cầu trong hạn") and rows["c2"]["status"] == 5
    assert rows["c5"]["ended_at"] == datetime(2022, 5, 16, 22, 0)
    assert "a1" not in rows  # the department's


def test_the_listing_queries_are_planned_with_statistics(pg_url):
    """PostgreSQL has no statistics on a temporary table until it is analyzed (DuckDB keeps its own): without
    them it took exp_scope and exp_wanted for a few rows and joined them by nested loops (2.6 s for one
    night's report at 1 M a year, 26 million comparisons). The drill-down analyzes them once filled."""
    wh = Warehouse(pg_url)
    wh.migrate()
    load_fixture(wh)
    with wh.begin() as conn:
        indicators.publish_snapshot(wh, conn, D, "lao_cai")
    with wh.begin() as conn:
        explain.prepare(wh, conn, D, "lao_cai")
        explain.listings(conn, D, "ytd", [(DIST, "on_time_rate"), (ROOT, "online_dossier_rate")])
        analyzed = dict(conn.exec_driver_sql(
            "SELECT c.relname, c.reltuples FROM pg_class c WHERE c.relpersistence = 't' "
            "AND c.relname IN ('exp_scope', 'exp_evidence', 'exp_wanted')").all())
        counts = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in analyzed}
    wh.dispose()
    assert analyzed == {t: float(n) for t, n in counts.items()} and len(analyzed) == 3 and counts["exp_wanted"] == 2


def test_the_evidence_from_the_other_systems(fixture_warehouse):
    _, sync = _listing(fixture_warehouse, "national_portal_sync_rate", ROOT, "day")
    assert {c: r["in_num"] for c, r in sync.items()} == {"a1": 1, "a2": 0, "c1": 1, "n2": 0, "t3": 0}
    assert sync["a1"]["synced_at"] == datetime(2022, 5, 16, 15, 5)  # after its last change at 15:00
    assert sync["a2"]["synced_at"] is None  # accepted only on 05-17
    _, paid = _listing(fixture_warehouse, "online_payment_dossier_rate", COMM, "qtd")
    assert paid["c3"]["in_num"] == 1 and paid["c3"]["paid_online"] == 0  # PayGov only
    assert paid["c3"]["paid_online_at"] == datetime(2022, 4, 26, 10, 0)
    _, post = _listing(fixture_warehouse, "bcci_return_rate", ROOT, "ytd")
    assert post["c4"]["in_num"] == 1 and post["c4"]["post_deliver_at"] == datetime(2022, 1, 20, 12, 0)
    assert post["n1"]["in_num"] == 0 and post["n1"]["post_deliver_at"] is None  # cancelled order
    _, tx = _listing(fixture_warehouse, "online_payment_transaction_rate", DEPT, "ytd")
    assert {c: r["in_num"] for c, r in tx.items()} == {"T1": 1, "T5": 1, "T4": 0}  # T2 cancelled, T3 after D


def test_services_listed_instead_of_dossiers(fixture_warehouse):
    found, rows = _listing(fixture_warehouse, "bcci_procedure_rate", DIST, "ytd")
    assert (found.numerator, found.denominator) == (4, 6)
    assert {(r["agency_code"], r["item_code"], r["in_num"], r["dossiers"], r["hits"]) for r in found.rows} == {
        (DIST, "1.000001", 1, 2, 1),  # t1: a delivery order; t2
        (DIST, "2.000003", 1, 1, 1),  # t3: a collection order
        (COMM, "1.000001", 1, 3, 1),  # c4: result by post; c3, c6
        (COMM, "1.000002", 0, 3, 0),  # c1, c2, c5
        (NEW, "1.000001", 1, 3, 1),   # OLD's o3 submitted by post, o1; n2
        (NEW, "1.000002", 0, 2, 0)}   # n1 (its delivery order was cancelled), OLD's o2
    found, rows = _listing(fixture_warehouse, "national_portal_integration_rate", COMM, "day")
    assert {c: r["in_num"] for c, r in rows.items()} == {"1.000001": 0, "1.000002": 1}  # stopped on D / from D
    assert rows["1.000002"]["integrated_from"] == date(2022, 5, 16)


def test_the_command_line(fixture_warehouse, tmp_path, capsys, monkeypatch):
    url = fixture_warehouse.url
    fixture_warehouse.dispose()
    out = tmp_path / "drill.csv"
    assert cli.main(["--warehouse-url", url, "explain", "--date", str(D), "--period", "mtd", "--agency", ROOT,
                     "--indicator", "online_dossier_rate", "--format", "csv", "--out", str(out)]) == 0
    assert "Tử số (numerator): 5 · Mẫu số (denominator): 9" in capsys.readouterr().out
    with out.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 9
    assert sum(r["Tính vào tử số (in numerator)"] == "có" for r in table) == 5
    assert {r["Kênh nộp (channel)"] for r in table} == {"1 – trực tiếp", "2 – trực tuyến", "3 – bưu chính"}
    assert not any("Lò Thị Mai" in v or "010301234567" in v for r in table for v in r.values())  # no personal data
    # streamed as read (pieces of 2 rows here), to a file or to stdout: explain's own CSV either way
    whole = python_csv(explain.explain(fixture_warehouse, D, "mtd", ROOT, "online_dossier_rate", "lao_cai"))
    assert out.read_text(encoding="utf-8-sig") == whole
    monkeypatch.setattr(explain, "CHUNK", 2)
    assert cli.main(["--warehouse-url", url, "explain", "--date", str(D), "--period", "mtd", "--agency", ROOT,
                     "--indicator", "online_dossier_rate", "--format", "csv"]) == 0
    printed = capsys.readouterr()
    assert printed.out == whole and "Mẫu số (denominator): 9" in printed.err

    assert cli.main(["--warehouse-url", url, "explain", "--date", str(D), "--agency", DIST,
                     "--indicator", "full_online_service_rate"]) == 0
    text = capsys.readouterr().out
    assert "Lũy kế năm" in text and "Tử số (numerator): 3 · Mẫu số (denominator): 5" in text
    assert "Mã TTHC (procedure)" in text and "khớp với mart.indicator_snapshot" in text

    assert cli.main(["--warehouse-url", url, "explain", "--date", str(D), "--agency", OLD,
                     "--indicator", "on_time_rate"]) == 1
    assert "--agency 000.02.19.H13: no published figure" in capsys.readouterr().err
    assert cli.main(["--warehouse-url", url, "explain", "--date", str(D), "--agency", ROOT,
                     "--indicator", "ontime"]) == 1
    assert "--indicator 'ontime' is not an indicator" in capsys.readouterr().err


def test_a_changed_warehouse_is_reported(fixture_warehouse):
    """A figure published before the data changed no longer matches its items: said, with the fix."""
    wh = fixture_warehouse
    change = ("UPDATE mart.indicator_snapshot SET denominator = denominator + 1 WHERE snapshot_date = :d "
              "AND period = 'day' AND agency_code = :a AND indicator_code = 'online_dossier_rate'")
    with wh.begin() as conn:
        conn.execute(sa.text(change), {"d": D, "a": NEW})
    try:
        found = explain.explain(wh, D, "day", NEW, "online_dossier_rate", "lao_cai")
    finally:
        with wh.begin() as conn:
            indicators.publish_snapshot(wh, conn, D, "lao_cai")
    assert (found.numerator, found.denominator, found.snapshot) == (0, 1, (0, 2))  # n2, received at 00:00:30
    assert not found.matches
    assert f"python -m etl publish --start {D} --end {D}" in found.summary()[-1]


def test_every_indicator_has_its_fields_and_labels():
    kinds = explain.indicator_kinds()
    assert set(explain.FIELDS) == set(kinds)
    for code, fields in explain.FIELDS.items():
        for column in fields:
            assert column in explain.LABELS or (column == "hits" and code in explain.HITS_LABEL), (code, column)
        listing = (explain.EXPLAIN_DIR / f"list_{kinds[code]}.sql").read_text(encoding="utf-8")
        for column in (*explain.COMMON, *fields, "in_den"):
            assert column in listing, (code, column)
    assert "applicant_key" not in "".join(p.read_text(encoding="utf-8") for p in explain.EXPLAIN_DIR.rglob("*.sql"))


# -- a few days of the simulator across the July 2025 reform -------------------------------------
SIM_DAYS = (date(2025, 6, 28), date(2025, 7, 2))
CHECK = (date(2025, 6, 30), date(2025, 7, 2))


@pytest.fixture(scope="module")
def reform_warehouses(pg_database, tmp_path_factory):
    urls = {"duckdb": f"duckdb:///{tmp_path_factory.mktemp('explain') / 'warehouse.duckdb'}",
            "postgresql": pg_database()}
    out = {}
    with run_simulator(seed=3, profile="two_tier_2025", dossiers_per_year=20_000) as base, \
            pytest.MonkeyPatch.context() as env:
        for name in ("ONESTOP_URL", "NDXP_URL", "VNPOST_URL"):
            env.setenv(name, base)
        try:
            for dialect, url in urls.items():
                res = pipeline.Resources.from_env(url)
                out[dialect] = res
                pipeline.migrate(res)
                pipeline.load_reference(res, SIM_DAYS[1])
                window = Window(datetime.combine(SIM_DAYS[0], time()),
                                datetime.combine(SIM_DAYS[1] + timedelta(days=1), time()))
                for feed in feeds.daily_feeds():
                    pipeline.load_window(res, feed.name, window)
                pipeline.publish_range(res, [SIM_DAYS], SIM_DAYS[1])
            yield out
        finally:
            for res in out.values():
                res.close()


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_the_simulator_adds_up_across_the_reform(reform_warehouses, dialect):
    res = reform_warehouses[dialect]
    wh = res.warehouse
    with wh.begin() as conn:
        received = conn.exec_driver_sql(
            "SELECT count(DISTINCT dossier_code) FROM core.dossier_history WHERE received_at IS NOT NULL").scalar()
        root = conn.exec_driver_sql("SELECT agency_code FROM core.agency WHERE parent_code IS NULL").scalar()
        agencies = {d: {r[0] for r in conn.execute(sa.text(
            "SELECT agency_code FROM core.agency WHERE valid_from <= :d AND (valid_to IS NULL OR valid_to >= :d)"),
            {"d": d})} for d in CHECK}
    assert received > 200, "too little data"
    # before the reform the 9 districts roll up their communes; after it they are gone, their
    # dossiers count for the province and the old communes' for the merged ones
    for day in CHECK:
        # every row through the sums; the province's rows through their listings too (after the reform)
        listed = [(root, code) for code in indicators.measure_codes()] if day == CHECK[1] else []
        with wh.begin() as conn:
            assert assert_adds_up(wh, conn, day, res.province, listed) == len(agencies[day]) * 4 * 18
    assert len(agencies[CHECK[1]]) < len(agencies[CHECK[0]])
    with wh.begin() as conn:
        explain.prepare(wh, conn, CHECK[1], res.province, ["online_dossier_rate"], root, "ytd")
        moved = conn.exec_driver_sql("SELECT count(*) FROM exp_scope WHERE agency_code <> counted_for").scalar()
    assert moved > 0, "dossiers of agencies that ended on 06-30 are counted for their successor or parent"


def test_the_dossier_listing_finds_the_evidence_by_index(reform_warehouses):
    """The dossiers' listing joins the other systems' evidence (exp_evidence) last. When it joined the history
    before it, by dossier and version time, PostgreSQL estimated that join at one row whatever it held, joined the
    evidence by a nested loop, and without an index scanned the whole evidence once per listed dossier: a report
    of a mid-year night at 15 million a year ran for more than half an hour on this statement. Made to join by
    nested loops here (a few hundred dossiers plan otherwise), the listing probes the evidence by index."""
    from etl.warehouse import execute_named, split_statements, sql_file

    res = reform_warehouses["postgresql"]
    wh, day = res.warehouse, SIM_DAYS[1]
    with wh.rolled_back() as conn:
        root = conn.exec_driver_sql("SELECT agency_code FROM core.agency WHERE parent_code IS NULL").scalar()
        figures = [(root, code) for code in ("online_dossier_rate", "on_time_rate", "national_portal_sync_rate")]
        explain.prepare(wh, conn, day, res.province, sorted(code for _root, code in figures), root, "ytd", figures)
        listing = next(stmt for stmt in split_statements(sql_file("explain/list_dossier.sql"))
                       if "CREATE TEMPORARY TABLE" in stmt)
        conn.exec_driver_sql("SET LOCAL enable_hashjoin = off")
        conn.exec_driver_sql("SET LOCAL enable_mergejoin = off")
        [[plan]] = execute_named(conn, "EXPLAIN (ANALYZE, FORMAT JSON) " + listing[listing.index("SELECT"):],
                                 {"period": "ytd"}).one()
        evidence = conn.exec_driver_sql("SELECT count(*) FROM exp_evidence").scalar()

    def scans(node: dict) -> list[tuple[str, str]]:
        return [(node["Node Type"], node.get("Relation Name", "")),
                *(s for child in node.get("Plans", []) for s in scans(child))]

    assert evidence > 100 and plan["Plan"]["Actual Rows"] > 100, "too little to tell a rescan"
    assert [r for r in nested_loops_rescanning(plan["Plan"]) if "exp_evidence" in r] == []
    assert ("Index Scan", "exp_evidence") in scans(plan["Plan"])


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_the_dossier_listing_shows_the_version_of_the_date_as_the_history_holds_it(reform_warehouses, dialect):
    """The listing takes the fields it shows from the versions the date's preparation read (ind_version), not from
    the history again: with the whole history joined for them the listing of a year-end report at 15 million a year
    took 225 s, without 107-143 s (docs/benchmarks.md). They are the source's values, a flag it left out shown as
    unknown (not as the measures read it, no), and the time of the version's change."""
    from etl.warehouse import sql_file

    assert not re.findall(r"(?:FROM|JOIN)\s+core\.", sql_file("explain/list_dossier.sql"))
    res = reform_warehouses[dialect]
    wh, day = res.warehouse, SIM_DAYS[1]
    shown = ("procedure_code", "channel", "status", "received_at", "due_at", "result_channel", "supplement_count",
             "supplement_requested_at", "supplement_due_at", "has_digitized_components", "result_digitized",
             "digitally_signed", "paid_online", "fee_amount", "changed_at")
    codes = sorted(code for code, kind in explain.indicator_kinds().items() if kind == "dossier")
    flags = ("has_digitized_components", "result_digitized", "digitally_signed")
    with wh.rolled_back() as conn:
        # a few versions with the source's flags left out
        conn.exec_driver_sql(f"UPDATE core.dossier_history SET {', '.join(f'{f} = NULL' for f in flags)} "
                             "WHERE dossier_code IN (SELECT dossier_code FROM core.dossier_history "
                             "WHERE has_digitized_components ORDER BY dossier_code LIMIT 20)")
        root = conn.exec_driver_sql("SELECT agency_code FROM core.agency WHERE parent_code IS NULL").scalar()
        figures = [(root, code) for code in codes]
        explain.prepare(wh, conn, day, res.province, codes, root, "ytd", figures)
        listed = {(row["item_code"], column): row[column]
                  for rows in explain.listings(conn, day, "ytd", figures).values()
                  for row in rows for column in shown if column in row}
        held = conn.execute(sa.text(
            f"SELECT dossier_code, {', '.join(c for c in shown if c != 'changed_at')}, updated_at AS changed_at "
            "FROM core.dossier_history WHERE updated_at < :next AND (valid_to IS NULL OR valid_to >= :next)"),
            {"next": datetime.combine(day + timedelta(days=1), time())}).mappings().all()
    history = {(r["dossier_code"], column): r[column] for r in held for column in shown}
    assert {column for _code, column in listed} == set(shown)
    assert {key: history[key] for key in listed} == listed
    assert {column for (_code, column), value in listed.items() if value is None} >= set(flags)


def test_the_database_writes_every_indicators_csv_as_python_would(fixture_warehouse, caplog, monkeypatch):
    """write_csvs has the database write each listing's CSV (explain.csv_cell: codes with their labels,
    flags có / không, ISO times and dates, nothing for no value); for every indicator it is byte for byte
    the CSV written in Python from explain()'s rows, and its counts and kept items are explain()'s. On PostgreSQL
    the figures are prepared and written in two sessions at once (split by agency), on DuckDB in one; the two
    sessions plan no parallel workers of their own."""
    figures = [(agency, code) for code in sorted(explain.indicator_kinds()) for agency in (ROOT, DIST, DEPT)]
    written: dict[tuple[str, str], io.StringIO] = {}
    threads: dict[tuple[str, str], str] = {}
    workers: list[str] = []
    tally = explain._tally

    def tally_seeing_workers(conn, *args):
        if fixture_warehouse.dialect == "postgresql":
            workers.append(conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar())
        return tally(conn, *args)

    monkeypatch.setattr(explain, "_tally", tally_seeing_workers)

    def open_csv(drill):
        threads[(drill.agency, drill.indicator)] = threading.current_thread().name
        return written.setdefault((drill.agency, drill.indicator), io.StringIO())

    with caplog.at_level("INFO", logger="etl.explain"):
        tallied = explain.write_csvs(fixture_warehouse, D, "ytd", figures, "lao_cai", open_csv=open_csv, keep_out=3,
                                     sessions=2)
    sessions = 2 if fixture_warehouse.dialect == "postgresql" else 1
    progress = [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"drill-down of {D} (ytd): ")]
    assert len(progress) == sessions and all(f"({sessions} session(s))" in m for m in progress), progress
    assert set(written) == set(figures)
    by_agency = {agency: {t for (a, _c), t in threads.items() if a == agency} for agency in (ROOT, DIST, DEPT)}
    assert all(len(names) == 1 for names in by_agency.values()), by_agency  # an agency's figures in one session
    assert len(set(threads.values())) == sessions, by_agency
    assert workers == (["0", "0"] if sessions == 2 else []), workers
    workers.clear()  # one session (DRILLDOWN_SESSIONS=1) keeps the server's parallel workers
    explain.write_csvs(fixture_warehouse, D, "ytd", figures[:1], "lao_cai", open_csv=lambda _d: io.StringIO(),
                       sessions=1)
    assert all(w != "0" for w in workers) and len(workers) == (sessions == 2), workers
    lines = 0
    for (agency, code), drill in zip(figures, tallied, strict=True):
        whole = explain.explain(fixture_warehouse, D, "ytd", agency, code, "lao_cai")
        assert written[(agency, code)].getvalue() == python_csv(whole), (agency, code)
        assert (drill.items, drill.numerator, drill.denominator, drill.out) == \
            (whole.items, whole.numerator, whole.denominator, whole.out) and drill.matches, (agency, code)
        assert drill.rows == [r for r in whole.rows if explain.is_out(r)][:3], (agency, code)
        lines += whole.items
    assert lines > 100
    texts = "".join(w.getvalue() for w in written.values())
    assert all(t in texts for t in ("2 – trực tuyến", ",có,", ",không,", "toàn trình", "đã thanh toán")), texts[:500]


def test_figures_are_split_between_sessions_by_whole_agencies_of_balanced_weight():
    """by_agency: an agency's figures stay together (its dossiers are prepared once), the heaviest agency goes
    first to the lightest group, each group keeps the figures' order, and no group is empty."""
    figures = [("A", "x"), ("B", "x"), ("C", "x"), ("A", "y"), ("D", "y")]
    weight = {("A", "x"): 50, ("A", "y"): 50, ("B", "x"): 60, ("C", "x"): 30, ("D", "y"): 5}
    assert explain.by_agency(figures, weight, 2) == [[("A", "x"), ("A", "y")],
                                                     [("B", "x"), ("C", "x"), ("D", "y")]]
    assert explain.by_agency(figures, weight, 1) == [figures]
    assert explain.by_agency(figures[:2], weight, 8) == [[("B", "x")], [("A", "x")]]


def test_a_listing_file_may_hold_other_braces(monkeypatch):
    """Only {listed} names the kind's listing in a file: a brace SQL itself uses (a JSON literal, a regular
    expression's count) stays as written."""
    monkeypatch.setattr(explain, "sql_file", lambda relpath: (
        "-- a listing ({listed})\nSELECT '{\"a\": 1}' AS j, regexp_matches(code, '[0-9]{3}') FROM {listed};"))
    assert explain._statement("explain/listed.sql", "dossier") == (
        "SELECT '{\"a\": 1}' AS j, regexp_matches(code, '[0-9]{3}') FROM exp_listed_dossier")
