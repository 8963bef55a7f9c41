"""An independent, naive computation of every indicator for one snapshot date, in plain Python,
straight from the rules in README ("Indicator rules") -- no SQL, no intervals, no running sums.
It checks the warehouse's set-based engine on the simulator's data (DuckDB and PostgreSQL must
agree with each other and with this), and the hand-worked fixture (test_indicators_all.py)
checks this.
"""
from __future__ import annotations

import os
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from etl import feeds, indicators, pipeline
from etl.timeutil import Window, period_starts

PERIODS = ("day", "mtd", "qtd", "ytd")


def _rows(conn, sql: str) -> list:
    return list(conn.exec_driver_sql(sql).mappings())


def _day(value) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def reference_snapshot(conn, day: date) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(agency, period, indicator) -> (numerator, denominator) for every valid agency."""
    end = datetime.combine(day + timedelta(days=1), time())
    agencies = {a["agency_code"]: a for a in _rows(conn, "SELECT * FROM core.agency")}

    def valid(code: str) -> bool:
        a = agencies[code]
        return a["valid_from"] <= day and (a["valid_to"] is None or a["valid_to"] >= day)

    def holder(code: str | None) -> str | None:
        """The valid agency that holds `code`'s dossiers on `day` (successor, else parent)."""
        for _ in range(12):
            if code is None or code not in agencies:
                return None
            if valid(code):
                return code
            code = agencies[code]["successor_code"] or agencies[code]["parent_code"]
        return None

    def ancestors(code: str | None) -> list[str]:
        out = []
        code = holder(code)
        while code is not None and code not in out:
            out.append(code)
            parent = holder(agencies[code]["parent_code"])
            code = parent if parent != code else None
        return out

    procedures = {p["procedure_code"]: p for p in _rows(conn, "SELECT * FROM core.procedure")}
    configs = [c for c in _rows(conn, "SELECT * FROM core.service_config")]

    def config_on(agency: str, procedure: str, d: date) -> dict | None:
        for c in configs:
            if (c["agency_code"], c["procedure_code"]) == (agency, procedure) and c["valid_from"] <= d \
                    and (c["valid_to"] is None or c["valid_to"] >= d):
                return c
        return None

    # the state of each dossier at the end of `day`
    state: dict[str, dict] = {}
    for v in _rows(conn, "SELECT * FROM core.dossier_history"):
        if v["updated_at"] < end and (v["valid_to"] is None or v["valid_to"] >= end):
            state[v["dossier_code"]] = v
    current_agency = {r["dossier_code"]: r["agency_code"]
                      for r in _rows(conn, "SELECT dossier_code, agency_code FROM core.dossier")}

    payments = _rows(conn, "SELECT * FROM core.payment")
    paygov = _rows(conn, "SELECT * FROM core.paygov_transaction")
    paid_online_by = {}  # dossier -> first time of a successful online transaction
    for p in payments:
        if p["method"] == 2 and p["status"] in ("paid", "refunded"):
            t = paid_online_by.get(p["dossier_code"])
            paid_online_by[p["dossier_code"]] = min(t, p["transaction_at"]) if t else p["transaction_at"]
    for g in paygov:
        if g["error_code"] == "00":
            t = paid_online_by.get(g["dossier_code"])
            paid_online_by[g["dossier_code"]] = min(t, g["transaction_at"]) if t else g["transaction_at"]
    postal = defaultdict(list)
    for o in _rows(conn, "SELECT * FROM core.postal_order"):
        if o["collection_status"] != 4 and o["created_at"] < end:
            postal[(o["dossier_code"], o["service_type"])].append(o)
    accepted = defaultdict(list)
    for r in _rows(conn, "SELECT * FROM core.sync_receipt"):
        if r["error_code"] == 0 and r["synced_at"] < end:
            accepted[r["dossier_code"]].append(r["synced_at"])
    integrated = _rows(conn, "SELECT * FROM core.integrated_service")

    starts = {p: datetime.combine(d, time()) for p, d in period_starts(day).items()}
    out: dict = defaultdict(lambda: [0, 0])

    def add(agency: str | None, period: str, code: str, hit: bool, weight: int = 1) -> None:
        for a in ancestors(agency):
            out[(a, period, code)][0] += int(hit) * weight
            out[(a, period, code)][1] += weight

    services: dict = defaultdict(lambda: defaultdict(lambda: [False, False]))  # (code, period) -> svc -> [any, hit]
    for d in state.values():
        if d["received_at"] is None:
            continue
        status = d["status"]
        is_received = status not in (1, 3)
        if status in (9, 10):
            ended = d["finished_at"] or d["returned_at"]
        elif status in (3, 8):
            ended = d["finished_at"] or d["rejected_at"]
        else:
            ended = None
        proc = procedures.get(d["procedure_code"], {})
        paid = (d["paid_online"] or 0) in (1, 2) or (
            d["dossier_code"] in paid_online_by and paid_online_by[d["dossier_code"]] < end)
        by_post_in = d["channel"] == 3 or bool(postal.get((d["dossier_code"], "THU_GOM")))
        by_post_out = d["result_channel"] == 3 or bool(postal.get((d["dossier_code"], "PHAT_KQ")))
        synced = any(t >= d["updated_at"] for t in accepted.get(d["dossier_code"], []))
        recv_cfg = config_on(d["agency_code"], d["procedure_code"], d["received_at"].date())
        holder_agency = holder(d["agency_code"])
        for period, start in starts.items():
            if is_received and start <= d["received_at"] < end:
                add(d["agency_code"], period, "online_dossier_rate", d["channel"] == 2)
                add(d["agency_code"], period, "digitized_dossier_rate", bool(d["has_digitized_components"]))
                add(d["agency_code"], period, "bcci_receive_rate", by_post_in)
                add(d["agency_code"], period, "national_portal_sync_rate", synced)
                if proc.get("has_fee"):
                    add(d["agency_code"], period, "online_payment_dossier_rate", paid)
                if recv_cfg and recv_cfg["service_level"] == "full_online":
                    add(d["agency_code"], period, "online_dossier_full_online_rate", d["channel"] == 2)
                svc = (holder_agency, d["procedure_code"])
                for code, hit in (("service_online_uptake_rate", d["channel"] == 2),
                                  ("fee_online_paid_procedure_rate", paid),
                                  ("bcci_procedure_rate", d["channel"] == 3 or d["result_channel"] == 3
                                   or by_post_in or by_post_out)):
                    if code == "fee_online_paid_procedure_rate" and not proc.get("has_fee"):
                        continue
                    services[(code, period)][svc][0] = True
                    services[(code, period)][svc][1] |= bool(hit)
            resolved = ended is not None and start <= ended < end
            if resolved:
                add(d["agency_code"], period, "digitized_result_rate", bool(d["result_digitized"]))
                add(d["agency_code"], period, "online_signed_processing_rate", bool(d["digitally_signed"]))
                add(d["agency_code"], period, "online_result_return_rate", d["result_channel"] == 2)
                add(d["agency_code"], period, "bcci_return_rate", by_post_out)
            still_open = ended is None and is_received and status != 7
            if resolved or still_open:
                # the clock stops at a supplement request: one made after the due date then in force is late
                request_due = d["supplement_due_at"] or d["due_at"]
                requested_late = d["supplement_requested_at"] is not None and request_due is not None \
                    and d["supplement_requested_at"] > request_due
                if d["supplement_count"] > 1 or requested_late:
                    good = False
                elif resolved:
                    good = d["due_at"] is None or ended <= d["due_at"]
                else:
                    good = status == 5 or d["due_at"] is None or d["due_at"] >= end
                add(d["agency_code"], period, "on_time_rate", good)

    # services: configuration valid on the day
    for c in configs:
        if c["valid_from"] > day or (c["valid_to"] is not None and c["valid_to"] < day):
            continue
        proc = procedures.get(c["procedure_code"], {})
        svc = (c["agency_code"], c["procedure_code"])
        full = c["service_level"] == "full_online"
        is_integrated = any(
            (i["agency_code"], i["procedure_code"]) == svc and i["integrated_from"] <= day
            and (i["integrated_to"] is None or i["integrated_to"] > day) for i in integrated)
        for period in PERIODS:
            if proc.get("full_online_eligible"):
                add(c["agency_code"], period, "full_online_service_rate", full)
            if full:
                add(c["agency_code"], period, "national_portal_integration_rate", is_integrated)
            if proc.get("has_fee"):
                add(c["agency_code"], period, "fee_online_payment_enabled_rate", bool(c["online_payment"]))
            for code, in_scope in (("service_online_uptake_rate", full),
                                   ("fee_online_paid_procedure_rate", bool(proc.get("has_fee"))),
                                   ("bcci_procedure_rate", True)):
                seen = services[(code, period)].get(svc)
                if in_scope and seen and seen[0]:
                    add(c["agency_code"], period, code, seen[1])

    # payment transactions of the period
    one_stop_ids = {p["transaction_id"] for p in payments}
    txs = [(p["dossier_code"], p["transaction_at"], p["method"] == 2) for p in payments
           if p["status"] in ("paid", "refunded")]
    txs += [(g["dossier_code"], g["transaction_at"], True) for g in paygov
            if g["error_code"] == "00" and g["transaction_id"] not in one_stop_ids]
    for dossier, at, online in txs:
        if dossier not in current_agency:
            continue
        for period, start in starts.items():
            if start <= at < end:
                add(current_agency[dossier], period, "online_payment_transaction_rate", online)

    codes = indicators.measure_codes()
    result = {}
    for code_a in agencies:
        if not valid(code_a):
            continue
        for period in PERIODS:
            for code in codes:
                result[(code_a, period, code)] = tuple(out.get((code_a, period, code), (0, 0)))
    return result


def warehouse_snapshot(conn, day: date) -> dict[tuple[str, str, str], tuple[int, int]]:
    rows = conn.execute(sa.text(
        "SELECT agency_code, period, indicator_code, numerator, denominator FROM mart.indicator_snapshot "
        "WHERE snapshot_date = :d"), {"d": day}).all()
    return {(r.agency_code, r.period, r.indicator_code): (r.numerator, r.denominator) for r in rows}


def assert_same(got: dict, expected: dict, label: str) -> None:
    assert set(got) == set(expected), f"{label}: rows differ: {sorted(set(got) ^ set(expected))[:5]}"
    bad = {k: (got[k], expected[k]) for k in expected if got[k] != expected[k]}
    assert not bad, f"{label}: {len(bad)} figures differ (warehouse, reference): {sorted(bad.items())[:8]}"


# -- the simulator's data ------------------------------------------------------------------
SIM_DAYS = (date(2022, 1, 1), date(2022, 2, 9))
CHECK_DATES = (date(2022, 1, 1), date(2022, 1, 31), date(2022, 2, 1), date(2022, 2, 9))


@pytest.fixture(scope="module")
def simulator_snapshots(request, tmp_path_factory):
    """Load 40 days of the simulator into DuckDB and PostgreSQL with the pipeline's own steps, then
    publish the range in one run on each; returns {dialect: (warehouse, snapshots by date)}."""
    from tests.conftest import _create_pg_database, _drop_pg_database, require_postgres

    simulator = request.getfixturevalue("simulator")
    require_postgres()
    from tests.conftest import PG_ADMIN_URL

    name, pg_url = _create_pg_database(PG_ADMIN_URL)
    urls = {"duckdb": f"duckdb:///{tmp_path_factory.mktemp('sim') / 'warehouse.duckdb'}", "postgresql": pg_url}
    saved = {k: os.environ.get(k) for k in ("ONESTOP_URL", "NDXP_URL", "VNPOST_URL")}
    os.environ.update({"ONESTOP_URL": simulator, "NDXP_URL": simulator, "VNPOST_URL": simulator})
    out = {}
    try:
        for dialect, url in urls.items():
            res = pipeline.Resources.from_env(url)
            pipeline.migrate(res)
            pipeline.load_reference(res, SIM_DAYS[1])
            # One batch per entity for the whole range: the daily steps are tested elsewhere.
            window = Window(datetime.combine(SIM_DAYS[0], time()), datetime.combine(SIM_DAYS[1] + timedelta(days=1), time()))
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
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        for res, _ in out.values():
            res.close()
        _drop_pg_database(PG_ADMIN_URL, name)


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
