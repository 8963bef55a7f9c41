"""The warehouse's indicators on 40 days of the simulator's data: DuckDB and PostgreSQL publish the
same snapshots, and both agree with the naive reference computation (tests/fixtures/reference.py).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from etl import feeds, indicators, pipeline
from etl.timeutil import Window
from tests.fixtures.reference import assert_same, reference_snapshot

# -- the simulator's data ------------------------------------------------------------------
SIM_DAYS = (date(2022, 1, 1), date(2022, 2, 9))
CHECK_DATES = (date(2022, 1, 1), date(2022, 1, 31), date(2022, 2, 1), date(2022, 2, 9))


@pytest.fixture(scope="module")
def simulator_snapshots(simulator, pg_database, tmp_path_factory):
    """Load 40 days of the simulator into DuckDB and PostgreSQL with the pipeline's own steps, then
    publish the range in one run on each; returns {dialect: (warehouse, snapshots by date)}."""
    urls = {"duckdb": f"duckdb:///{tmp_path_factory.mktemp('sim') / 'warehouse.duckdb'}", "postgresql": pg_database()}
    out = {}
    with pytest.MonkeyPatch.context() as env:
        for name in ("ONESTOP_URL", "NDXP_URL", "VNPOST_URL"):
            env.setenv(name, simulator)
        try:
            for dialect, url in urls.items():
                res = pipeline.Resources.from_env(url)
                pipeline.migrate(res)
                pipeline.load_reference(res, SIM_DAYS[1])
                # One batch per entity for the whole range: the daily steps are tested elsewhere.
                window = Window(datetime.combine(SIM_DAYS[0], time()),
                                datetime.combine(SIM_DAYS[1] + timedelta(days=1), time()))
                for feed in feeds.daily_feeds():
                    pipeline.load_window(res, feed.name, window)
                indicators.publish_range(res.warehouse, SIM_DAYS[0], SIM_DAYS[1], res.province)
                with res.warehouse.begin() as conn:
                    rows = conn.exec_driver_sql(
                        "SELECT snapshot_date, period, agency_code, indicator_code, numerator, denominator, value, "
                        "target, meets_target FROM mart.indicator_snapshot").all()
                out[dialect] = (res, {tuple(r[:4]): tuple(r[4:]) for r in rows})
            yield out
        finally:
            for res, _ in out.values():
                res.close()


@pytest.mark.slow
def test_duckdb_and_postgresql_publish_identical_snapshots(simulator_snapshots):
    duck, pg = simulator_snapshots["duckdb"][1], simulator_snapshots["postgresql"][1]
    n_days = (SIM_DAYS[1] - SIM_DAYS[0]).days + 1
    assert len({k[0] for k in duck}) == n_days
    assert set(duck) == set(pg)
    differ = []
    for key, (num, den, value, target, meets) in duck.items():
        pnum, pden, pvalue, ptarget, pmeets = pg[key]
        same_value = (value is None and pvalue is None) or (
            value is not None and pvalue is not None and abs(value - pvalue) < 1e-12)
        if (num, den, target, meets) != (pnum, pden, ptarget, pmeets) or not same_value:
            differ.append((key, duck[key], pg[key]))
    assert not differ, differ[:5]
    ytd_received = sum(v[1] for k, v in duck.items()
                       if k[0] == SIM_DAYS[1] and k[1] == "ytd" and k[3] == "online_dossier_rate"
                       and k[2] == "000.00.00.H13")
    assert ytd_received > 1000, "too little data to compare"


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_range_run_matches_the_naive_reference(simulator_snapshots, dialect):
    res, snaps = simulator_snapshots[dialect]
    with res.warehouse.begin() as conn:
        for day in CHECK_DATES:
            expected = reference_snapshot(conn, day)
            got = {(a, p, c): (v[0], v[1]) for (d, p, a, c), v in snaps.items() if d == day}
            assert_same(got, expected, f"{dialect} {day}")
            assert sum(den for (_, p, c), (_, den) in expected.items() if p == "ytd") > 1000


@pytest.mark.slow
def test_a_single_day_run_equals_the_range_run(simulator_snapshots):
    res, snaps = simulator_snapshots["duckdb"]
    day = date(2022, 1, 17)
    with res.warehouse.begin() as conn:
        indicators.publish_snapshot(res.warehouse, conn, day, res.province)
        rows = conn.exec_driver_sql(
            "SELECT snapshot_date, period, agency_code, indicator_code, numerator, denominator, value, "
            f"target, meets_target FROM mart.indicator_snapshot WHERE snapshot_date = DATE '{day}'").all()
    single = {tuple(r[:4]): tuple(r[4:]) for r in rows}
    from_range = {k: v for k, v in snaps.items() if k[0] == day}
    assert single == from_range


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_incremental_runs_equal_the_range_run(simulator_snapshots, dialect):
    """Every date re-published the nightly way (incremental from the published date before it: the
    simulator's dossiers, payments, sync receipts and postal orders of 40 days), and look-back
    ranges (one across 1 February, in full), give the range run's rows; rolled back, so the module's warehouse stays
    as published."""
    res, snaps = simulator_snapshots[dialect]
    wh = res.warehouse
    ranges = [(d, d) for d in (SIM_DAYS[0] + timedelta(days=i) for i in range(1, (SIM_DAYS[1] - SIM_DAYS[0]).days + 1))]
    ranges += [(date(2022, 1, 29), date(2022, 2, 2)), (date(2022, 2, 5), date(2022, 2, 9))]
    with wh.engine.connect() as conn:
        tx = conn.begin()
        try:
            incremental = 0
            for lo, hi in ranges:
                incremental += indicators.base_date(wh, conn, lo, hi) is not None
                indicators.publish_range(wh, lo, hi, res.province, conn, incremental=True)
                rows = conn.exec_driver_sql(
                    "SELECT snapshot_date, period, agency_code, indicator_code, numerator, denominator, value, "
                    f"target, meets_target FROM mart.indicator_snapshot WHERE snapshot_date >= DATE '{lo}' "
                    f"AND snapshot_date <= DATE '{hi}'").all()
                got = {tuple(r[:4]): tuple(r[4:]) for r in rows}
                assert got == {k: v for k, v in snaps.items() if lo <= k[0] <= hi}, (lo, hi)
            # all but those that start February: they would read the year's dossiers, so they run in full
            assert incremental == len(ranges) - 2
        finally:
            tx.rollback()
