"""An incremental run (the nightly restatement: etl/indicators.py, sql/indicators/scope_changed.sql)
gives the rows a full run gives, on the hand-worked province of tests/fixtures/all_indicators.py and
the supplement cases of test_indicators_all.py, on DuckDB and on PostgreSQL; and it falls back to a
full run where its published starting point cannot be trusted to carry over.
(On 40 days of the simulator's data: test_indicators_reference.py.)
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from etl import indicators, load
from tests.fixtures.all_indicators import DEPT, P1, V, load_fixture, load_reference_and_dossiers
from tests.fixtures.reference import assert_same, reference_snapshot, warehouse_snapshot
from tests.test_indicators_all import SUPPLEMENT_DOSSIERS

PROVINCE = "lao_cai"


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _walk_incrementally(warehouse, start: date, end: date) -> list[date]:
    """Publish `start` in full, then every later date on its own as the nightly run does (incremental
    from the day before); each date must equal the naive reference. Returns the dates that really ran
    incrementally."""
    indicators.publish_range(warehouse, start, start, PROVINCE)
    incremental = []
    for day in _days(start + timedelta(days=1), end):
        with warehouse.begin() as conn:
            if indicators.base_date(warehouse, conn, day, day) is not None:
                incremental.append(day)
            indicators.publish_snapshot(warehouse, conn, day, PROVINCE, incremental=True)
            assert_same(warehouse_snapshot(conn, day), reference_snapshot(conn, day), f"incremental {day}")
    return incremental


def test_day_by_day_incremental_runs_equal_the_reference_across_a_month_and_the_merger(warehouse):
    load_fixture(warehouse)
    start, end = date(2022, 4, 20), date(2022, 5, 17)
    incremental = _walk_incrementally(warehouse, start, end)
    # 1 May is the merger of OLD into NEW: computed in full; every other date incremental
    assert incremental == [d for d in _days(start + timedelta(days=1), end) if d != date(2022, 5, 1)]


def test_day_by_day_incremental_runs_equal_the_reference_across_a_month_and_a_quarter(warehouse, caplog):
    """A date that starts a month or a quarter runs incrementally too: it reads every dossier with an
    event in the month (February's stopped a6) or the quarter (April's late a5, May's a4) that ends.
    Where that month or quarter starts on 1 January, the date runs in full (1 April)."""
    caplog.set_level("INFO", logger="etl.indicators")
    load_fixture(warehouse)
    for start, end in ((date(2022, 2, 26), date(2022, 3, 2)), (date(2022, 6, 29), date(2022, 7, 2))):
        assert _walk_incrementally(warehouse, start, end) == _days(start + timedelta(days=1), end)
    assert "2022-03-01 .. 2022-03-01: 360 rows (18 indicators, incremental from 2022-02-28, events from 2022-02-01)" \
        in caplog.text
    assert "incremental from 2022-06-30, events from 2022-04-01)" in caplog.text
    assert _walk_incrementally(warehouse, date(2022, 3, 30), date(2022, 4, 2)) == [date(2022, 3, 31), date(2022, 4, 2)]
    assert ("2022-04-01 .. 2022-04-01 in full, not from 2022-03-31: it would read the year's dossiers "
            "(events from 1 January)") in caplog.text


def test_incremental_runs_follow_open_dossiers_past_their_due_dates_and_supplement_requests(warehouse):
    load_reference_and_dossiers(warehouse, [SUPPLEMENT_DOSSIERS])
    assert len(_walk_incrementally(warehouse, date(2022, 5, 2), date(2022, 5, 16))) == 14


@pytest.mark.parametrize("published, restated", [
    ((date(2022, 5, 1), date(2022, 5, 17)),
     [(date(2022, 5, 12), date(2022, 5, 16)), (date(2022, 5, 17), date(2022, 5, 17))]),
    # look-backs that start a month, and a quarter
    ((date(2022, 2, 20), date(2022, 7, 5)),
     [(date(2022, 2, 27), date(2022, 3, 2)), (date(2022, 6, 30), date(2022, 7, 3))]),
], ids=["within-a-month", "across-a-quarter-and-a-month"])
def test_a_restated_range_from_a_published_date_equals_a_full_run(warehouse, published, restated):
    """The nightly shape: the look-back dates and the night's date from the date before them. A republished
    range replaces what the range held (sql/indicators/write.sql writes the difference): stale figures are
    replaced, rows no longer computed go."""
    load_fixture(warehouse)
    indicators.publish_range(warehouse, *published, PROVINCE)
    with warehouse.begin() as conn:
        full = {d: warehouse_snapshot(conn, d) for lo, hi in restated for d in _days(lo, hi)}
        for lo, hi in restated:
            conn.execute(sa.text(  # what a stale restatement would leave; the incremental run must replace it
                "UPDATE mart.indicator_snapshot SET numerator = numerator + 7 "
                "WHERE snapshot_date >= :lo AND snapshot_date <= :hi"), {"lo": lo, "hi": hi})
            conn.execute(sa.text(  # a row of an agency the range does not hold
                "INSERT INTO mart.indicator_snapshot (snapshot_date, period, agency_code, indicator_code, "
                "numerator, denominator) VALUES (:lo, 'day', 'GONE', 'online_dossier_rate', 1, 2)"), {"lo": lo})
    for lo, hi in restated:
        with warehouse.begin() as conn:
            assert indicators.base_date(warehouse, conn, lo, hi) == lo - timedelta(days=1)
            indicators.publish_range(warehouse, lo, hi, PROVINCE, conn, incremental=True)
    with warehouse.begin() as conn:
        for d, rows in full.items():
            assert_same(warehouse_snapshot(conn, d), rows, f"restated {d}")


def test_an_incremental_run_falls_back_to_a_full_run_where_it_cannot_start(warehouse, caplog):
    caplog.set_level("INFO", logger="etl.indicators")
    load_fixture(warehouse)
    indicators.publish_range(warehouse, date(2022, 4, 1), date(2022, 5, 17), PROVINCE)
    with warehouse.begin() as conn:
        base = indicators.base_date
        assert base(warehouse, conn, date(2022, 5, 10), date(2022, 5, 16)) == date(2022, 5, 9)
        assert base(warehouse, conn, date(2022, 4, 28), date(2022, 5, 3)) is None   # crosses the merger on 1 May
        assert ("2022-04-28 .. 2022-05-03 in full, not from 2022-04-27: agencies or the service configuration "
                "change within the range") in caplog.text
        assert base(warehouse, conn, date(2023, 1, 1), date(2023, 1, 2)) is None    # ytd restarts
        assert "2023-01-01 .. 2023-01-02 in full, not from 2022-12-31: the range starts a year" in caplog.text
        assert base(warehouse, conn, date(2022, 5, 18), date(2022, 5, 19)) == date(2022, 5, 17)
        assert base(warehouse, conn, date(2022, 5, 19), date(2022, 5, 19)) is None   # 05-18 never published
        # a configuration row that starts within the range changes which services count
        conn.execute(sa.text("UPDATE core.service_config SET valid_from = DATE '2022-05-14' "
                             "WHERE agency_code = (SELECT min(agency_code) FROM core.service_config) "
                             "AND valid_from = DATE '2022-01-01' AND procedure_code = "
                             "(SELECT min(procedure_code) FROM core.service_config)"))
        assert base(warehouse, conn, date(2022, 5, 10), date(2022, 5, 16)) is None
        assert base(warehouse, conn, date(2022, 5, 15), date(2022, 5, 16)) == date(2022, 5, 14)
        # a published snapshot missing a row (a measure added since, say) is no starting point
        conn.execute(sa.text("DELETE FROM mart.indicator_snapshot WHERE snapshot_date = DATE '2022-05-14' "
                             "AND indicator_code = 'on_time_rate' AND period = 'day' "
                             "AND agency_code = (SELECT min(agency_code) FROM core.agency)"))
        assert base(warehouse, conn, date(2022, 5, 15), date(2022, 5, 16)) is None
        assert "2022-05-14 has 359 published rows, not 360" in caplog.text


POSTAL_ORDER = ("INSERT INTO core.postal_order (item_code, dossier_code, service_type, collection_status, "
                "created_at, updated_at, batch_id) VALUES ('EB9', 'a0u', 'PHAT_KQ', 3, :at, :at, 0)")
ONLINE_PAYMENT = ("INSERT INTO core.payment (transaction_id, dossier_code, amount, method, channel, status, "
                  "transaction_at, updated_at, batch_id) VALUES ('T19', 'a0u', 50000, 2, 'DVCQG', 'paid', :at, :at, 0)")


@pytest.mark.parametrize("evidence, arrival", [
    (POSTAL_ORDER, {"channel": 3}),                  # bcci_procedure_rate: a dossier by post
    (ONLINE_PAYMENT, {"channel": 1, "paid": 1}),     # fee_online_paid_procedure_rate: one paid online
], ids=["by-post-through-its-order", "paid-online-through-its-transaction"])
def test_a_service_s_stand_in_answers_through_the_other_systems_evidence(warehouse, evidence, arrival):
    """DEPT's P1 has one dossier received in May that is by post (or paid online): a0u, at the counter,
    with its result at the counter and no paid flag, so only through its postal order (its online
    payment). On the nights of 9-13 May it does not change, nor does a0b (counter, nothing else, a smaller
    code), and a0c of the same service, by post (paid online), arrives on the 11th. The incremental run
    must read a0u as the service's stand-in for that question, not a0b for "any dossier": without it the
    service would gain such a dossier on the 11th."""
    load_fixture(warehouse)
    due = "20220527170000"
    dossiers = [V("a0b", DEPT, P1, "20220502090000", channel=1, status=2, received="20220502090000", due=due, result=1),
                V("a0u", DEPT, P1, "20220503090000", channel=1, status=2, received="20220503090000", due=due, result=1),
                V("a0c", DEPT, P1, "20220511090000", status=2, received="20220511090000", due=due, result=1,
                  **arrival)]
    with warehouse.begin() as conn:
        load.load_batch(warehouse, conn, load.entity("dossier", b"k"), [dossiers],
                        load.open_batch(warehouse, "onestop", "dossier", None, None))
        conn.execute(sa.text(evidence), {"at": "2022-05-04 09:00:00"})
    assert _walk_incrementally(warehouse, date(2022, 5, 8), date(2022, 5, 13)) == _days(date(2022, 5, 9),
                                                                                       date(2022, 5, 13))


def test_measures_of_configuration_are_computed_whole():
    """They read complete inputs in an incremental run too; every other measure, the transactions' too,
    counts the dossiers read."""
    whole = {c for c in indicators.measure_codes() if not indicators.counts_dossiers(c)}
    assert whole == {"full_online_service_rate", "fee_online_payment_enabled_rate",
                     "national_portal_integration_rate"}


def test_incremental_runs_count_transactions_of_dossiers_that_did_not_change_otherwise(warehouse):
    """The transactions' measure counts the changed dossiers' transactions only: a transaction dated in
    the range, of a dossier without another change then, makes its dossier one of them. Here a counter
    payment and a PayGov transaction of 11 May for dossiers with no version, event or evidence near it
    (o2, c2), and a counter payment of 9 May, which leaves the day's figure on the 10th."""
    load_fixture(warehouse)
    with warehouse.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO core.payment (transaction_id, dossier_code, amount, method, channel, status, "
            "transaction_at, updated_at, batch_id) VALUES (:t, :d, 50000, 1, 'TAI_QUAY', 'paid', :at, :at, 0)"),
            [{"t": "T11", "d": "o2", "at": "2022-05-11 10:00:00"},
             {"t": "T12", "d": "c2", "at": "2022-05-09 15:00:00"}])
        conn.execute(sa.text(
            "INSERT INTO core.paygov_transaction (transaction_id, dossier_code, amount, error_code, "
            "transaction_at, batch_id) VALUES ('G4', 'c2', 50000, '00', '2022-05-11 11:00:00', 0)"))
    assert _walk_incrementally(warehouse, date(2022, 5, 8), date(2022, 5, 13)) == _days(date(2022, 5, 9),
                                                                                       date(2022, 5, 13))


def test_the_service_measures_ask_only_what_the_stand_in_dossiers_answer():
    """scope_changed.sql reads, for each service a changed dossier belongs to, one unchanged dossier per
    question the service measures ask of a dossier: any, online (channel), paid online (paid_flag or a
    payment: ind_paid_tx), by post (channel, result_channel or an order: ind_postal). A service measure
    asking anything else of a dossier must be answered there too, and then this list changes with it."""
    texts = {code: (indicators.MEASURES_DIR / f"{code}.sql").read_text(encoding="utf-8")
             for code in indicators.measure_codes()}
    service = {code for code, text in texts.items() if "ind_service_fact" in text}
    assert service == {"service_online_uptake_rate", "fee_online_paid_procedure_rate", "bcci_procedure_rate"}
    questions = {"received_date", "channel", "result_channel", "has_digitized_components", "paid_flag"}
    asked = {code: {c for c in questions if re.search(rf"\b{c}\b", texts[code])} for code in service}
    assert asked == {"service_online_uptake_rate": {"channel"}, "fee_online_paid_procedure_rate": {"paid_flag"},
                     "bcci_procedure_rate": {"channel", "result_channel"}}
    read = {t for code in service for t in re.findall(r"(?:FROM|JOIN) (ind_\w+)", texts[code])}
    assert read == {"ind_recv", "ind_paid_tx", "ind_postal", "ind_config"}
