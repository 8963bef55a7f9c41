"""mart.data_quality and mart.data_quality_reason (sql/migrations/0032_data_quality.sql), worked out
by hand from ops and core rows written directly, on DuckDB and PostgreSQL; and one day of a real
four-night run against a simulator with late updates and bad records, counted again in pandas.

Data day D = 2022-01-05: the batches whose window ends at 2022-01-06 00:00 (a look-back of three
days: 01-02 .. 01-06). Agencies A1 (a department) and A2 (a district).

  batch 9   onestop dossier, day 01-04: loads HS1 v1
  batch 10  onestop dossier, day D, failed (a first attempt)
  batch 11  onestop dossier, day D: 6 read, 4 stamped on D; loads
            HS1 v2 (A1, changed D 10:00: received, no due date)
            HS2 v1 (A1, changed 01-03 15:00: 2 days late; processed without NgayKetThucXuLy)
            HS3 v1, v2 (A2, changed D 08:00 and 16:00: the end-of-day state is complete)
            HS4 v1 (A2, changed 01-04 20:00: 1 day late; status received without NgayTiepNhan)
            quarantines HS9 (two failed expectations, unresolved) and HS8 (one, resolved since)
  batch 12  ndxp sync_receipt, day D: earliest change 01-03 08:00 (2 days late); 1 record waiting
  batch 13  onestop payment, day D: loads T1 of HS2 (A1), changed 01-04 12:00: 1 day late
Sync receipts: HS1 accepted 01-04 11:00, rejected D 12:00, accepted D 16:00; HS3 accepted D 09:00;
HS2 accepted D 03:00. Versions changed on D: HS1 v2 (first accepted sync 6 h later), HS3 v1 (1 h),
HS3 v2 (none after it).
"""
from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

D = date(2022, 1, 5)
WINDOW = (datetime(2022, 1, 2), datetime(2022, 1, 6))
BATCHES = [  # batch_id, source, entity, window, status, extracted, day_records, pending, changed_from
    (9, "onestop", "dossier", (datetime(2022, 1, 1), datetime(2022, 1, 5)), "succeeded", 1, 1, 0,
     datetime(2022, 1, 4, 9)),
    (10, "onestop", "dossier", WINDOW, "failed", None, None, None, None),
    (11, "onestop", "dossier", WINDOW, "succeeded", 6, 4, 0, datetime(2022, 1, 3, 15)),
    (12, "ndxp", "sync_receipt", WINDOW, "succeeded", 5, 5, 1, datetime(2022, 1, 3, 8)),
    (13, "onestop", "payment", WINDOW, "succeeded", 3, 2, 0, datetime(2022, 1, 4, 12)),
]
T = datetime  # shorter rows below
VERSIONS = [  # dossier, updated_at, valid_to, agency, status, received_at, due_at, finished_at, returned_at, batch
    ("HS1", T(2022, 1, 4, 9), T(2022, 1, 5, 10), "A1", 2, T(2022, 1, 4, 9), T(2022, 1, 10), None, None, 9),
    ("HS1", T(2022, 1, 5, 10), None, "A1", 4, T(2022, 1, 4, 9), None, None, None, 11),
    ("HS2", T(2022, 1, 3, 15), None, "A1", 9, T(2022, 1, 3, 8), T(2022, 1, 8), None, None, 11),
    ("HS3", T(2022, 1, 5, 8), T(2022, 1, 5, 16), "A2", 2, T(2022, 1, 5, 8), T(2022, 1, 10), None, None, 11),
    ("HS3", T(2022, 1, 5, 16), None, "A2", 10, T(2022, 1, 5, 8), T(2022, 1, 10), T(2022, 1, 5, 15),
     T(2022, 1, 5, 16), 11),
    ("HS4", T(2022, 1, 4, 20), None, "A2", 2, None, None, None, None, 11),
]
SYNCS = [("HS1", T(2022, 1, 4, 11), 0), ("HS1", T(2022, 1, 5, 12), 1), ("HS1", T(2022, 1, 5, 16), 0),
         ("HS3", T(2022, 1, 5, 9), 0), ("HS2", T(2022, 1, 5, 3), 0)]
IN_SET, NOT_NULL = "expect_column_values_to_be_in_set(agency_code)", "expect_column_values_to_not_be_null(channel)"
QUARANTINE = [  # record_key, failed_expectations, first batch, resolved_at
    ("HS9", f"{NOT_NULL}; {IN_SET}", 11, None),
    ("HS8", IN_SET, 11, T(2022, 1, 7, 1)),
    ("HS7", NOT_NULL, 9, None),
]


@pytest.fixture
def quality(warehouse):
    with warehouse.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO core.agency (agency_code, name, level, parent_code, valid_from) VALUES "
            "('P', 'UBND tỉnh', 1, NULL, '2020-01-01'), ('A1', 'Sở Tư pháp', 1, 'P', '2020-01-01'), "
            "('A2', 'UBND huyện Bát Xát', 2, 'P', '2020-01-01')")
        for b, source, entity, (start, end), status, extracted, day_records, pending, changed in BATCHES:
            conn.execute(sa.text(
                "INSERT INTO ops.batch (batch_id, source, entity, window_start, window_end, status, extracted, "
                "day_records, pending, changed_from, started_at) VALUES (:b, :s, :e, :ws, :we, :st, :x, :dr, :p, "
                ":c, :ws)"), {"b": b, "s": source, "e": entity, "ws": start, "we": end, "st": status,
                              "x": extracted, "dr": day_records, "p": pending, "c": changed})
        for code, updated, valid_to, agency, status, received, due, finished, returned, batch in VERSIONS:
            conn.execute(sa.text(
                "INSERT INTO core.dossier_history (dossier_code, updated_at, valid_to, procedure_code, agency_code, "
                "channel, status, received_at, due_at, finished_at, returned_at, supplement_count, batch_id) "
                "VALUES (:c, :u, :v, 'P1', :a, 1, :s, :r, :d, :f, :ret, 0, :b)"),
                {"c": code, "u": updated, "v": valid_to, "a": agency, "s": status, "r": received, "d": due,
                 "f": finished, "ret": returned, "b": batch})
        for code, synced, error in SYNCS:
            conn.execute(sa.text(
                "INSERT INTO core.sync_receipt (dossier_code, synced_at, sync_type, error_code, batch_id) "
                "VALUES (:c, :t, 'UPDATE', :e, 12)"), {"c": code, "t": synced, "e": error})
        conn.execute(sa.text(
            "INSERT INTO core.payment (transaction_id, dossier_code, amount, method, channel, status, transaction_at, "
            "updated_at, batch_id) VALUES ('T1', 'HS2', 50000, 2, 'DVCQG', 'paid', :t, :t, 13)"),
            {"t": T(2022, 1, 4, 12)})
        for i, (key, reasons, first, resolved) in enumerate(QUARANTINE):
            conn.execute(sa.text(
                "INSERT INTO ops.quarantine (source, entity, record_key, payload_hash, payload, failed_expectations, "
                "batch_id, first_batch_id, resolved_at) VALUES ('onestop', 'dossier', :k, :h, '{}', :f, 11, :fb, "
                ":r)"), {"k": key, "h": f"h{i}", "f": reasons, "fb": first, "r": resolved})
        conn.exec_driver_sql(
            "INSERT INTO ops.pending (source, entity, record_key, payload_hash, payload, dossier_code, first_seen_day, "
            "first_batch_id, last_batch_id) VALUES ('ndxp', 'sync_receipt', 'HS0', 'h', '{}', 'HS0', '2022-01-05', "
            "12, 12)")
        rows = conn.exec_driver_sql("SELECT * FROM mart.data_quality").all()
        reasons = conn.exec_driver_sql("SELECT * FROM mart.data_quality_reason").all()
    return ({(r.data_day, r.source, r.entity, r.agency_code): r for r in rows},
            {(r.data_day, r.entity, r.reason): r for r in reasons})


def test_dossier_source_row_by_hand(quality):
    rows, _ = quality
    r = rows[(D, "onestop", "dossier", None)]
    assert r.agency_name == "Toàn nguồn dữ liệu"
    assert (r.batches, r.last_batch_id, r.last_batch_status, r.records_extracted, r.records_of_day) == (
        2, 11, "succeeded", 6, 4)
    # five new versions, HS2 v1 (2 days) and HS4 v1 (1 day) late
    assert (r.records_new, r.late_records, r.late_max_days) == (5, 2, 2)
    assert (r.late_share, r.late_avg_days) == (pytest.approx(0.4), pytest.approx(1.5))
    assert (r.pending_after_batch, r.pending_now) == (0, None)
    assert (r.quarantined, r.quarantined_unresolved) == (2, 1)
    assert r.quarantine_reasons == f"{IN_SET}: 2; {NOT_NULL}: 1"
    # changed on D, at the end of D: HS1 v2 (no due date) and HS3 v2 (complete)
    assert (r.dossiers_checked, r.missing_received_at, r.missing_due_at, r.missing_end_date) == (2, 0, 1, 0)
    assert (r.missing_key_dates, r.missing_key_dates_share) == (1, 0.5)
    assert (r.versions_changed, r.sync_lag_median_hours) == (None, None)


def test_agency_rows_by_hand(quality):
    rows, _ = quality
    a1, a2 = rows[(D, "onestop", "dossier", "A1")], rows[(D, "onestop", "dossier", "A2")]
    assert (a1.agency_name, a1.level_label, a1.records_extracted, a1.quarantined) == (
        "Sở Tư pháp", "sở-ngành", None, None)
    assert (a1.records_new, a1.late_records, a1.late_max_days) == (2, 1, 2)
    assert (a1.dossiers_checked, a1.missing_key_dates, a1.missing_key_dates_share) == (1, 1, 1.0)
    assert (a2.records_new, a2.late_records, a2.late_max_days, a2.missing_key_dates_share) == (3, 1, 1, 0.0)
    # earlier days: HS4 (received, no NgayTiepNhan) on 01-04, HS2 (processed, no end date) on 01-03
    day4 = rows[(date(2022, 1, 4), "onestop", "dossier", None)]
    day3 = rows[(date(2022, 1, 3), "onestop", "dossier", None)]
    assert (day4.dossiers_checked, day4.missing_received_at, day4.records_new, day4.late_records) == (2, 1, 1, 0)
    assert (day4.quarantined, day4.batches) == (1, 1)
    assert (day3.dossiers_checked, day3.missing_end_date, day3.batches, day3.records_new) == (1, 1, None, None)
    payment = rows[(D, "onestop", "payment", "A1")]
    assert (payment.records_new, payment.late_records, payment.late_max_days) == (1, 1, 1)


def test_sync_lag_by_hand(quality):
    rows, _ = quality
    r = rows[(D, "ndxp", "sync_receipt", None)]
    assert (r.records_extracted, r.pending_after_batch, r.pending_now) == (5, 1, 1)
    assert (r.records_new, r.late_records, r.late_max_days) == (None, None, 2)
    assert (r.versions_changed, r.versions_synced, r.versions_not_synced) == (3, 2, 1)
    assert (r.sync_lag_median_hours, r.sync_lag_max_hours) == (pytest.approx(3.5), pytest.approx(6))
    a2 = rows[(D, "ndxp", "sync_receipt", "A2")]
    assert (a2.versions_changed, a2.versions_synced, a2.sync_lag_median_hours) == (2, 1, pytest.approx(1))
    # HS2 v1, changed 01-03 15:00, reached the portal D 03:00
    assert rows[(date(2022, 1, 3), "ndxp", "sync_receipt", "A1")].sync_lag_max_hours == pytest.approx(36)


def test_quarantine_by_reason(quality):
    _, reasons = quality
    assert {k: (r.quarantined, r.quarantined_unresolved) for k, r in reasons.items()} == {
        (D, "dossier", IN_SET): (2, 1), (D, "dossier", NOT_NULL): (1, 1),
        (date(2022, 1, 4), "dossier", NOT_NULL): (1, 1)}


# -- a real nightly run against a faulty simulator ------------------------------------------------
RUN_DAY = date(2022, 1, 5)


@pytest.fixture(scope="module")
def faulty_run(etl_cli, tmp_path_factory):
    """Four nights (01-03 .. 01-06) of `python -m etl backfill --daily` against a simulator serving late updates
    and bad records, on DuckDB: the view's rows against the same figures counted here in pandas."""
    from mocks.testing import run_simulator

    url = f"duckdb:///{tmp_path_factory.mktemp('dq') / 'w.duckdb'}"
    with run_simulator(seed=5, dossiers_per_year=5000, faults=["late_updates=0.3", "bad_records=0.05"]) as base:
        etl_cli("--warehouse-url", url, "backfill", "--daily", "--start", "2022-01-03", "--end", "2022-01-06",
                base_url=base)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        tables = {name: pd.read_sql(sa.text(f"SELECT * FROM {name}"), conn) for name in (
            "ops.batch", "ops.quarantine", "core.dossier_history", "core.sync_receipt")}
        view = {(r.source, r.entity, r.agency_code): r for r in conn.execute(sa.text(
            "SELECT * FROM mart.data_quality WHERE data_day = :d"), {"d": RUN_DAY})}
    engine.dispose()
    return tables, view


def test_a_faulty_run_counted_by_hand(faulty_run):
    tables, view = faulty_run
    start, end = datetime.combine(RUN_DAY, datetime.min.time()), datetime(2022, 1, 6)
    batches = tables["ops.batch"]
    own = batches[(batches.source == "onestop") & (batches.entity == "dossier") & (batches.window_end == end)]
    history = tables["core.dossier_history"]
    new = history[history.batch_id.isin(own.batch_id)]
    late = new[new.updated_at < start]
    quarantine = tables["ops.quarantine"]
    rejected = quarantine[(quarantine.entity == "dossier") & quarantine.first_batch_id.isin(own.batch_id)]
    reasons = Counter(r for f in rejected.failed_expectations for r in f.split("; "))
    assert len(late) > 0 and len(rejected) > 0, "the faults must show: late versions and quarantined dossiers"

    row = view[("onestop", "dossier", None)]
    assert (row.records_extracted, row.records_of_day) == tuple(own[own.status == "succeeded"].iloc[-1][
        ["extracted", "day_records"]])
    assert (row.records_new, row.late_records) == (len(new), len(late))
    assert row.late_max_days == max((RUN_DAY - t.date()).days for t in late.updated_at)
    assert (row.quarantined, row.quarantined_unresolved) == (len(rejected), int(rejected.resolved_at.isna().sum()))
    assert sorted(row.quarantine_reasons.split("; ")) == sorted(f"{r}: {n}" for r, n in reasons.items())
    per_agency = [r for k, r in view.items() if k[:2] == ("onestop", "dossier") and k[2] is not None]
    assert sum(r.records_new or 0 for r in per_agency) == len(new)

    # end-of-day states of the dossiers changed on the day
    state = history[(history.updated_at >= start) & (history.updated_at < end)
                    & (history.valid_to.isna() | (history.valid_to >= end))]
    after_receipt = state.status.isin([2, 4, 5, 6, 8, 9, 10])
    no_due = after_receipt & state.received_at.notna() & state.due_at.isna()
    assert (row.dossiers_checked, row.missing_due_at) == (len(state), int(no_due.sum()))

    # sync lag: each version changed on the day, to the first accepted sync at or after it
    sync = tables["core.sync_receipt"]
    accepted = sync[sync.error_code == 0][["dossier_code", "synced_at"]]
    versions = history[(history.updated_at >= start) & (history.updated_at < end)][["dossier_code", "updated_at"]]
    pairs = versions.merge(accepted, on="dossier_code", how="left")
    pairs = pairs[pairs.synced_at >= pairs.updated_at]
    first = pairs.groupby(["dossier_code", "updated_at"]).synced_at.min()
    lags = [(s - u).total_seconds() / 3600 for (_, u), s in first.items()]
    ndxp = view[("ndxp", "sync_receipt", None)]
    assert (ndxp.versions_changed, ndxp.versions_synced) == (len(versions), len(lags))
    assert ndxp.sync_lag_max_hours == pytest.approx(max(lags))
    assert ndxp.sync_lag_median_hours == pytest.approx(statistics.median(lags))


def test_a_backfilled_span_counts_lateness_from_its_first_day(etl_cli, tmp_path):
    """`backfill` (no --daily) loads 3-6 January in one batch per source: its arrivals count on the 6th, when
    they were loaded, and only those changed before the 3rd (the look-back) are late, by their distance
    from the 3rd; records changed on the span's own days are not late for having waited for its end."""
    from mocks.testing import run_simulator

    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    first, last = date(2022, 1, 3), date(2022, 1, 6)
    with run_simulator(seed=5, dossiers_per_year=5000, faults=["late_updates=0.3"]) as base:
        etl_cli("--warehouse-url", url, "backfill", "--start", str(first), "--end", str(last), base_url=base)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        (batch_id, first_day), = conn.execute(sa.text(
            "SELECT batch_id, first_day FROM ops.batch WHERE entity = 'dossier' AND window_end IS NOT NULL")).all()
        loaded = [r[0] for r in conn.execute(sa.text(
            "SELECT updated_at FROM core.dossier_history WHERE batch_id = :b"), {"b": batch_id})]
        row = conn.execute(sa.text("SELECT * FROM mart.data_quality WHERE data_day = :d AND source = 'onestop' "
                                   "AND entity = 'dossier' AND agency_code IS NULL"), {"d": last}).one()
        earlier = conn.execute(sa.text("SELECT count(*) FROM mart.data_quality WHERE data_day < :d AND "
                                       "records_new > 0"), {"d": last}).scalar()
    engine.dispose()
    late = [t for t in loaded if t.date() < first]
    assert first_day == first and late and len(late) < len(loaded)
    assert (row.records_new, row.late_records) == (len(loaded), len(late))
    assert row.late_max_days == max((first - t.date()).days for t in late) <= 3
    assert earlier == 0
