"""Batch-level quality gates judge problems, not noise; records of another system that arrive before
their dossier wait instead of being rejected; late data restate the snapshots they change; a load
killed midway leaves nothing behind. On DuckDB and PostgreSQL."""
from __future__ import annotations

import logging
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import indicators, load, pipeline
from etl.timeutil import Window, days
from mocks.testing import run_simulator
from tests.fixtures.environment import SIMULATOR_OPTS
from tests.fixtures.small_province import COMM, DEPT, DIST, DOSSIERS, load_fixture, version

DAY = date(2022, 3, 15)  # a Tuesday


def record_batch(wh, entity, day, extracted, quarantined=0, status="succeeded"):
    """A day's batch as ops.batch would hold it; every record stamped on the day itself."""
    window = Window.for_day(day)
    batch = load.open_batch(wh, entity.source, entity.name, window.start - timedelta(days=3), window.end)
    batch.extracted, batch.loaded, batch.quarantined = extracted, extracted - quarantined, quarantined
    batch.day_records, batch.day_quarantined = extracted, quarantined
    if status == "succeeded":
        with wh.begin() as conn:
            load.close_batch(conn, batch)
    else:
        load.fail_batch(wh, batch, RuntimeError("HTTP 503 from the source"))


def history_of(wh, volume, days=21):
    for entity in pipeline.daily_entities():
        for back in range(days, 0, -1):
            record_batch(wh, entity, DAY - timedelta(days=back), volume)


@pytest.fixture
def res(warehouse):
    with pipeline.Resources.from_env(warehouse.url) as resources:
        yield resources


def gate_message(res, day=DAY) -> str:
    with pytest.raises(pipeline.QualityGateFailed) as err:
        pipeline.check_quality_gates(res, day)
    return str(err.value)


def gates_failure(res, day) -> str | None:
    """What the gates say about the day: None when they pass, else their message."""
    try:
        pipeline.check_quality_gates(res, day)
    except pipeline.QualityGateFailed as err:
        return str(err)
    return None


def night_by_night(res, span) -> dict:
    """What the gates find on each day of `span` judged alone, in order, each held day recorded as a night's is."""
    found = {}
    for day in span:
        found[day] = pipeline.gate_problems(res, [day])[day]
        if found[day]:
            with pytest.raises(pipeline.QualityGateFailed):
                pipeline.check_quality_gates(res, day, found[day])
    return found


def test_gates_pass_on_a_normal_day(res):
    history_of(res.warehouse, 100)
    for entity in pipeline.daily_entities():
        record_batch(res.warehouse, entity, DAY, 90, quarantined=2)
    assert gates_failure(res, DAY) is None


def test_gates_name_each_problem(res, monkeypatch):
    monkeypatch.setenv("QUARANTINE_MAX_SHARE", "0.05")
    dossier, payment, *others = pipeline.daily_entities()
    history_of(res.warehouse, 100)
    record_batch(res.warehouse, dossier, DAY, 100, quarantined=30)    # a real share
    record_batch(res.warehouse, payment, DAY, 0)                      # silent on a normal Tuesday
    record_batch(res.warehouse, others[0], DAY, 5, status="failed")    # failed load
    # others[1] has no batch for the day at all; others[2] is far above its usual volume
    record_batch(res.warehouse, others[2], DAY, 5000)
    message = gate_message(res)
    assert "onestop dossier" in message and "30 of 100 records stamped 2022-03-15 quarantined" in message
    assert "ops.quarantine" in message
    assert ("onestop payment: no records stamped 2022-03-15 (Tuesday), against a median of 100 on the last 3 "
            "Tuesdays: the source may be down") in message
    assert f"{others[0].source} {others[0].name}" in message and "HTTP 503" in message
    assert f"no {others[1].source} {others[1].name} batch ends at" in message
    assert f"{others[2].name} batch" in message and "5000 records stamped 2022-03-15" in message
    with res.warehouse.begin() as conn:
        status, text = conn.execute(sa.text("SELECT status, message FROM ops.day_run WHERE run_day = :d"),
                                    {"d": DAY}).one()
    assert status == "gate_failed" and text == message


def test_quiet_days_publish(res):
    """A day with a handful of records and one bad one, on entities that are always small: noise."""
    history_of(res.warehouse, 4)
    for entity in pipeline.daily_entities():
        record_batch(res.warehouse, entity, DAY, 3, quarantined=1)
    assert gates_failure(res, DAY) is None
    # a quiet Sunday after busy weekdays: judged against Sundays, not against the week
    sunday = DAY + timedelta(days=5)
    for entity in pipeline.daily_entities():
        for back in range(27, 0, -1):
            day = sunday - timedelta(days=back)
            if day > DAY:
                record_batch(res.warehouse, entity, day, 8 if day.weekday() == 6 else 200)
        record_batch(res.warehouse, entity, sunday, 0)
    assert gates_failure(res, sunday) is None


def test_a_systematic_failure_on_a_small_day_still_blocks(res):
    history_of(res.warehouse, 8)
    dossier, *others = pipeline.daily_entities()
    record_batch(res.warehouse, dossier, DAY, 6, quarantined=6)  # every record malformed
    for entity in others:
        record_batch(res.warehouse, entity, DAY, 8)
    assert "6 of 6 records stamped 2022-03-15 quarantined (100.0% > QUARANTINE_MAX_SHARE" in gate_message(res)


def record_span(wh, entity, counts: dict, quarantined: dict | None = None, other: tuple[int, int] = (0, 0)):
    """A backfill's batch over the days of `counts` (day -> records stamped on it; `quarantined`: day -> how
    many of them were quarantined; `other`: records stamped on none of its days, and of them quarantined), as
    close_batch records it."""
    first, last = min(counts), max(counts)
    quarantined = quarantined or {}
    batch = load.open_batch(wh, entity.source, entity.name, Window.for_day(first).start - timedelta(days=3),
                            Window.for_day(last).end, first)
    batch.earlier_days = {d: n for d, n in counts.items() if d != last}
    batch.quarantined_earlier = {d: n for d, n in quarantined.items() if d != last}
    batch.day_records, batch.day_quarantined = counts[last], quarantined.get(last, 0)
    batch.extracted = sum(counts.values()) + other[0]
    batch.quarantined = sum(quarantined.values()) + other[1]
    batch.loaded = batch.extracted - batch.quarantined
    with wh.begin() as conn:
        load.close_batch(conn, batch)


def test_a_backfill_span_is_gated_day_by_day_on_each_days_records(res):
    """One batch per feed over a week (a backfill's month): each day is judged on the records stamped on it, a
    silent Thursday, a spike on Friday and a Wednesday whose dossiers were mostly quarantined are held alone
    (the week's share, 60 of 910, would have held every day), and the span's days count for the days after
    it."""
    history_of(res.warehouse, 100)
    week = [DAY + timedelta(days=i) for i in range(7)]
    wednesday, thursday, friday = week[1], week[2], week[3]
    dossier, payment, *others = pipeline.daily_entities()
    record_span(res.warehouse, dossier, dict.fromkeys(week, 130), {wednesday: 60})
    record_span(res.warehouse, payment, {d: 0 if d == thursday else 100 for d in week})
    record_span(res.warehouse, others[0], {d: 5000 if d == friday else 100 for d in week})
    for entity in others[1:]:
        record_span(res.warehouse, entity, dict.fromkeys(week, 100))
    verdicts = {d: gates_failure(res, d) for d in week}
    assert [d for d, v in verdicts.items() if v] == [wednesday, thursday, friday]
    assert "onestop dossier batch" in verdicts[wednesday]
    assert "60 of 130 records stamped 2022-03-16 quarantined (46.2% > QUARANTINE_MAX_SHARE" in verdicts[wednesday]
    # gated at once (as a backfill does), the week and the nightly batches before it find what its nights find
    for days_ in (week, [DAY - timedelta(days=i) for i in range(21, 0, -1)] + week):
        at_once = pipeline.gate_problems(res, days_)
        assert at_once == night_by_night(res, days_)
        assert [d for d in days_ if at_once[d]] == [wednesday, thursday, friday]
    # Friday's sync receipts loaded again (a night's batch, the latest for the day): its count replaces the span's
    record_batch(res.warehouse, others[0], friday, 100)
    assert [d for d, v in pipeline.gate_problems(res, week).items() if v] == [wednesday, thursday]
    assert "onestop payment: no records stamped 2022-03-17 (Thursday), against a median of 100" in verdicts[thursday]
    assert "onestop payment" not in verdicts[friday] and "5000 records stamped 2022-03-18" in verdicts[friday]
    with res.warehouse.begin() as conn:
        counted = dict(res.warehouse.query(conn, "ops/volume_history.sql", {
            "s": payment.source, "e": payment.name, "lo": week[0], "hi": week[-1] + timedelta(days=1)}))
        assert counted == {d: 0 if d == thursday else 100 for d in week}
        # the next Tuesday is judged against the span's Tuesday too: 130 among 100s
        history = dict(res.warehouse.query(conn, "ops/volume_history.sql", {
            "s": dossier.source, "e": dossier.name, "lo": DAY - timedelta(days=21), "hi": DAY + timedelta(days=7)}))
    assert pipeline._volume_baseline(history, DAY + timedelta(days=7)) == (100, "the last 4 Tuesdays", True)
    with res.warehouse.begin() as conn:
        same = dict(res.warehouse.query(conn, "ops/volume_history.sql", {
            "s": dossier.source, "e": dossier.name, "lo": DAY, "hi": DAY + timedelta(days=1)}))
    assert same == {DAY: 130}


def test_records_stamped_on_none_of_a_spans_days_are_judged_against_the_whole_span(res):
    """A week's 20 unreadable stamps, each quarantined, are judged against the week's 720 records, not piled onto
    its last day's 100 (21 of 120 there: a share its own records, one bad of 100, did not have). 100 of them
    still hold the last day (12.5% of the week), saying which records they are."""
    history_of(res.warehouse, 100)
    week = [DAY + timedelta(days=i) for i in range(7)]
    dossier, *others = pipeline.daily_entities()
    for entity in others:
        record_span(res.warehouse, entity, dict.fromkeys(week, 100))
    record_span(res.warehouse, dossier, dict.fromkeys(week, 100), {week[-1]: 1}, other=(20, 20))
    assert not any(pipeline.gate_problems(res, week).values())
    with res.warehouse.begin() as conn:
        assert conn.execute(sa.text(
            "SELECT d.extracted, d.quarantined, d.other_quarantined FROM ops.day_records d "
            "JOIN ops.batch b ON b.batch_id = d.batch_id WHERE d.data_day = :d AND b.entity = 'dossier'"),
            {"d": week[-1]}).all() == [(100, 1, 20)]
    record_span(res.warehouse, dossier, dict.fromkeys(week, 100), {week[-1]: 1}, other=(100, 100))
    found = pipeline.gate_problems(res, week)
    assert [d for d in week if found[d]] == [week[-1]]
    [message] = found[week[-1]]
    assert ("100 of 800 records of the batch, stamped on none of its days and new to the quarantine (late, or an "
            "unreadable stamp), quarantined (12.5% > QUARANTINE_MAX_SHARE") in message


def test_a_span_without_history_judges_each_day_on_the_days_before_it(res):
    """A first backfill's fortnight: each day is judged on the days before it only (its span's later days are
    not its history), so a volume fifty times the first week's is held on each day it lasts."""
    span = [DAY + timedelta(days=i) for i in range(14)]
    for entity in pipeline.daily_entities():
        record_span(res.warehouse, entity, {d: 100 if i < 7 else 5000 for i, d in enumerate(span)})
    found = pipeline.gate_problems(res, span)
    assert [d for d in span if found[d]] == span[7:]
    assert found == night_by_night(res, span)
    # the later days, too, against the first week only: a held day is no usual day for the days after it
    assert all("against a median of 100 on the last 7 days" in found[d][0] for d in span[7:])


def test_records_waiting_in_a_backfill_span_age_from_their_own_day(res, monkeypatch):
    """In a span (one batch over several days), a record whose dossier is unknown waits from the day it is
    stamped, as that day's night would have seen it: one stamped more than EXTRACT_LOOKBACK_DAYS before the
    span's end is an orphan by the end of the batch, one stamped on its last day still waits. A rejected
    record counts on the day it is stamped, an orphan in no day's share (ops.day_records)."""
    monkeypatch.setenv("EXTRACT_LOOKBACK_DAYS", "2")
    load_fixture(res.warehouse, [DOSSIERS[:1]])
    first, last = DAY - timedelta(days=3), DAY
    spec = load.entity("payment", b"k")
    window = Window(Window.for_day(first).start - timedelta(days=2), Window.for_day(last).end)
    malformed = {**payment("p3", DOSSIERS[0]["MaHoSo"], "20220313100000"), "HinhThucThanhToan": 3}
    unreadable = payment("p4", DOSSIERS[0]["MaHoSo"], "20221345100000")
    pipeline._load(res, spec, [[payment("p1", "ghost-1", "20220312100000"), malformed,
                                payment("p2", "ghost-2", "20220315100000"), unreadable]], window, first)
    assert rows(res, "SELECT record_key, first_seen_day FROM ops.pending") == [("p2", last)]
    reasons = dict(rows(res, "SELECT record_key, failed_expectations FROM ops.quarantine"))
    assert reasons.keys() == {"p1", "p3", "p4"} and "method" in reasons["p3"]
    assert reasons["p1"].startswith("orphan: its dossier is not in the warehouse 2 days after")
    # the unreadable stamp is on none of the span's days: counted apart, on its last day
    assert rows(res, "SELECT data_day, records, extracted, quarantined, other_quarantined "
                     "FROM ops.day_records ORDER BY 1") == [
        (first, 1, 1, 0, None), (first + timedelta(days=1), 1, 1, 1, None),
        (first + timedelta(days=2), 0, 0, 0, None), (last, 1, 1, 0, 1)]


def _daily(res, day, pages_by_entity):
    """The daily path for one day with the given records per entity (others: none)."""
    for entity in pipeline.daily_entities():
        spec = load.entity(entity.name, b"k")
        window = Window(Window.for_day(day).start - timedelta(days=3), Window.for_day(day).end)
        pipeline._load(res, spec, [pages_by_entity.get(entity.name, [])], window)
    pipeline.check_quality_gates(res, day)
    return pipeline.publish_indicators(res, day)


def payment(tid, dossier, when, counter=False):
    return {"MaGiaoDich": tid, "MaHoSo": dossier, "SoTien": 50000, "HinhThucThanhToan": 1 if counter else 2,
            "KenhThanhToan": "TAI_QUAY" if counter else "DVCQG",
            "TrangThai": "DA_THANH_TOAN", "ThoiGianGD": when, "SoBienLai": None, "NgayCapNhat": when}


def rows(res, sql, **params):
    with res.warehouse.begin() as conn:
        return conn.execute(sa.text(sql), params).all()


def test_records_before_their_dossier_wait_then_load_or_become_orphans(res, monkeypatch):
    monkeypatch.setenv("EXTRACT_LOOKBACK_DAYS", "2")
    load_fixture(res.warehouse, [])
    d1 = DAY - timedelta(days=1)
    late = version("late-1", DEPT, "20220314090000", channel=2, status=2, received="20220314090000",
                   due="20220320170000")
    # day 1: a payment for a dossier that has not arrived, one for a dossier that never will
    _daily(res, d1, {"dossier": [DOSSIERS[0]], "payment": [payment("p1", "late-1", "20220314100000"),
                                                         payment("p2", "ghost", "20220314100000")]})
    assert rows(res, "SELECT record_key FROM ops.pending ORDER BY 1") == [("p1",), ("p2",)]
    assert rows(res, "SELECT count(*) FROM ops.quarantine")[0][0] == 0
    # day 2: the dossier arrives (two days late); p1 is re-tried and loads, p2 still waits
    _daily(res, DAY, {"dossier": [late]})
    assert rows(res, "SELECT transaction_id FROM core.payment") == [("p1",)]
    assert rows(res, "SELECT record_key FROM ops.pending") == [("p2",)]
    # days 3 and 4: p2 outlives the look-back horizon and becomes an orphan, with that reason
    _daily(res, DAY + timedelta(days=1), {})
    assert rows(res, "SELECT record_key FROM ops.pending") == [("p2",)]
    _daily(res, DAY + timedelta(days=2), {})
    assert rows(res, "SELECT count(*) FROM ops.pending")[0][0] == 0
    (key, reason), = rows(res, "SELECT record_key, failed_expectations FROM ops.quarantine")
    assert key == "p2" and reason.startswith("orphan: its dossier is not in the warehouse 2 days after")


def test_a_quarantined_record_is_resolved_by_a_later_valid_version(res):
    load_fixture(res.warehouse, [])
    bad = version("d9", COMM, "20220314080000", status=4, received="20220314080000", due="20220301170000")
    bad["NgayHenTra"] = "20221399000000"  # an impossible date
    _daily(res, DAY - timedelta(days=1), {"dossier": [bad]})
    assert rows(res, "SELECT record_key, resolved_at FROM ops.quarantine") == [("d9", None)]
    good = version("d9", COMM, "20220315080000", status=4, received="20220314080000", due="20220320170000")
    _daily(res, DAY, {"dossier": [good]})
    (key, resolved_batch, resolved_at), = rows(res, "SELECT record_key, resolved_batch_id, resolved_at "
                                                    "FROM ops.quarantine")
    assert key == "d9" and resolved_batch is not None and resolved_at is not None


def test_late_data_restate_the_snapshots_they_change(res):
    load_fixture(res.warehouse, [])
    days = [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]
    _daily(res, days[0], {"dossier": [DOSSIERS[0]]})
    _daily(res, days[1], {})
    before = rows(res, "SELECT numerator, denominator FROM mart.indicator_snapshot WHERE snapshot_date = :d AND "
                       "period = 'day' AND agency_code = :a AND indicator_code = 'online_dossier_rate'",
                  d=days[0], a=DEPT)
    # a dossier received on the first day arrives two days late, online
    late = version("late-2", DEPT, "20220313100000", channel=2, status=2, received="20220313100000",
                   due="20220320170000")
    _daily(res, days[2], {"dossier": [late]})
    after = rows(res, "SELECT numerator, denominator FROM mart.indicator_snapshot WHERE snapshot_date = :d AND "
                      "period = 'day' AND agency_code = :a AND indicator_code = 'online_dossier_rate'",
                 d=days[0], a=DEPT)
    assert before == [(0, 0)] and after == [(1, 1)]
    (times, changed, run_day), = rows(res, "SELECT times_published, rows_changed_last, last_run_day "
                                           "FROM ops.publication WHERE snapshot_date = :d", d=days[0])
    assert times == 3 and changed > 0 and run_day == DAY
    assert rows(res, "SELECT published_from, published_to, status FROM ops.day_run WHERE run_day = :d",
                d=DAY) == [(days[0], DAY, "published")]


def published(res, day) -> dict[tuple, tuple]:
    """{(period, agency, indicator): (numerator, denominator, target, the stored row's identity)} of a date; the
    identity (PostgreSQL: the row version's xmin; DuckDB: its rowid) changes when the row is rewritten."""
    identity = "CAST(xmin AS text)" if res.warehouse.dialect == "postgresql" else "rowid"
    return {(r[0], r[1], r[2]): r[3:] for r in rows(
        res, f"SELECT period, agency_code, indicator_code, numerator, denominator, target, {identity} "
             "FROM mart.indicator_snapshot WHERE snapshot_date = :d", d=day)}


def test_a_range_across_new_year_is_published_and_counted_for_every_date(res):
    """pipeline.publish_range writes and counts one calendar year at a time (ind_revision holds the last year
    written): across 1 January every date is recorded with its rows, and a stale row on either side of the
    new year is rewritten and counted."""
    load_fixture(res.warehouse, [])
    dates = [date(2021, 12, 30) + timedelta(days=i) for i in range(4)]
    pipeline.publish_range(res, [(dates[0], dates[-1])], dates[-1])
    stored = dict(rows(res, "SELECT snapshot_date, count(*) FROM mart.indicator_snapshot GROUP BY 1"))
    assert sorted(stored) == dates and all(stored.values())
    with res.warehouse.begin() as conn:   # one stale row on each side of 1 January
        conn.execute(sa.text("UPDATE mart.indicator_snapshot SET numerator = numerator + 7 WHERE snapshot_date IN "
                             "(:a, :b) AND period = 'ytd' AND agency_code = :g AND indicator_code = 'on_time_rate'"),
                     {"a": dates[0], "b": dates[-1], "g": DEPT})
    pipeline.publish_range(res, [(dates[0], dates[-1])], dates[-1])
    assert rows(res, "SELECT snapshot_date, times_published, rows_changed_last, row_count FROM ops.publication "
                     "ORDER BY 1") == [(d, 2, 1 if d in (dates[0], dates[-1]) else 0, stored[d]) for d in dates]


def test_a_restatement_writes_and_counts_only_the_rows_that_changed(res):
    """Publication writes the difference (sql/indicators/write.sql): republishing figures that did not change
    leaves their stored rows as they were and counts no change in ops.publication; late data rewrite exactly
    the rows whose figures moved, and rows_changed_last counts them."""
    load_fixture(res.warehouse, [])
    days = [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]
    _daily(res, days[0], {"dossier": [DOSSIERS[0]]})
    _daily(res, days[1], {})
    first = published(res, days[0])
    pipeline.publish_range(res, [(days[0], days[1])], days[1])   # by hand, nothing changed since
    assert published(res, days[0]) == first
    assert rows(res, "SELECT snapshot_date, times_published, rows_changed_last, rows_changed_total "
                     "FROM ops.publication ORDER BY 1") == [(days[0], 3, 0, 0), (days[1], 2, 0, 0)]
    late = version("late-3", DEPT, "20220313100000", channel=2, status=2, received="20220313100000",
                   due="20220320170000")
    _daily(res, days[2], {"dossier": [late]})   # restates days[0] onwards
    after = published(res, days[0])
    assert after.keys() == first.keys()
    moved = {key for key in first if first[key][:3] != after[key][:3]}
    assert moved and len(moved) < len(first)
    assert {key for key in first if first[key] != after[key]} == moved   # the others were not rewritten
    assert rows(res, "SELECT rows_changed_last, rows_changed_total, row_count FROM ops.publication "
                     "WHERE snapshot_date = :d", d=days[0]) == [(len(moved), len(moved), len(first))]


def history(wh):
    with wh.begin() as conn:
        return conn.exec_driver_sql("SELECT dossier_code, updated_at, valid_to, status, channel, due_at "
                                    "FROM core.dossier_history ORDER BY 1, 2").all()


def test_a_load_killed_midway_leaves_nothing_and_a_rerun_converges(res, tmp_path):
    from etl.warehouse import Warehouse

    load_fixture(res.warehouse, [])  # reference data only
    dossier = load.entity("dossier", b"k")
    window = Window.for_day(DAY)

    def pages_that_die():
        yield DOSSIERS[:4]
        raise ConnectionResetError("connection reset by peer")

    with pytest.raises(ConnectionResetError):
        pipeline._load(res, dossier, pages_that_die(), window)
    with res.warehouse.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM core.dossier_history").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM staging.dossier").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM ops.watermark").scalar() == 0
        status, message = conn.exec_driver_sql(
            "SELECT status, message FROM ops.batch WHERE entity = 'dossier' AND window_end IS NOT NULL").one()
    assert status == "failed" and "connection reset by peer" in message

    pipeline._load(res, dossier, [DOSSIERS], window)

    reference = Warehouse(f"duckdb:///{tmp_path / 'uninterrupted.duckdb'}")
    reference.migrate()
    load_fixture(reference, [DOSSIERS])
    assert history(res.warehouse) == history(reference)
    reference.dispose()


def test_a_night_is_judged_on_the_records_of_its_own_day(res):
    """A night re-reads its three look-back days, and their bad records are quarantined again each time. Judged
    on its whole window, a day with half its payments bad also held the three nights after it, and a new defect
    of 10 % showed as 2.5 % on its first night and passed. Each night is judged on the records stamped on its day:
    it holds exactly those two days."""
    load_fixture(res.warehouse, [DOSSIERS[:1]])
    bad_on = {DAY: 30, DAY + timedelta(days=4): 6}
    sent, verdicts = [], {}
    for night in days(DAY - timedelta(days=3), DAY + timedelta(days=4)):
        for i in range(60):
            p = payment(f"{night:%m%d}-{i}", DOSSIERS[0]["MaHoSo"], f"{night:%Y%m%d}{10 + i // 6:02d}{i % 6}000")
            sent.append({**p, "HinhThucThanhToan": 3} if i < bad_on.get(night, 0) else p)
        window = Window(Window.for_day(night).start - timedelta(days=3), Window.for_day(night).end)
        pages = [p for p in sent if window.start <= datetime.strptime(p["NgayCapNhat"], "%Y%m%d%H%M%S") < window.end]
        for entity in pipeline.daily_entities():
            pipeline._load(res, load.entity(entity.name, b"k"), [pages if entity.name == "payment" else []], window)
        verdicts[night] = gates_failure(res, night)
    assert [d for d, v in verdicts.items() if v] == list(bad_on)
    assert "onestop payment batch" in verdicts[DAY]
    assert "30 of 60 records stamped 2022-03-15 quarantined (50.0% > QUARANTINE_MAX_SHARE" in verdicts[DAY]
    assert "6 of 60 records stamped 2022-03-19 quarantined (10.0% > QUARANTINE_MAX_SHARE" in verdicts[max(bad_on)]


def test_a_rejected_and_an_accepted_sync_in_the_same_second_both_load(res):
    load_fixture(res.warehouse, [])
    receipt = {"maHoSo": "d1", "maTTHC": "1.000001", "maDonVi": DEPT, "thoiDiemDongBo": "2022-03-15T15:00:05+07:00",
               "loaiDongBo": "INSERT", "errorCode": 1, "errorMessage": "Thiếu thông tin"}
    _daily(res, DAY, {"dossier": [DOSSIERS[0]], "sync_receipt": [receipt, {**receipt, "errorCode": 0,
                                                                           "errorMessage": None}]})
    assert rows(res, "SELECT error_code FROM core.sync_receipt ORDER BY 1") == [(0,), (1,)]
    assert rows(res, "SELECT count(*) FROM ops.quarantine")[0][0] == 0


def test_ops_times_are_local_whatever_the_workers_clock(res, monkeypatch):
    import time as clock
    from datetime import datetime
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("TZ", "America/New_York")
    clock.tzset()
    try:
        batch = load.open_batch(res.warehouse, "onestop", "dossier", None, None)
        expected = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).replace(tzinfo=None)
    finally:
        monkeypatch.delenv("TZ")
        clock.tzset()
    (started,), = rows(res, "SELECT started_at FROM ops.batch WHERE batch_id = :b", b=batch.batch_id)
    assert abs((started - expected).total_seconds()) < 60


def test_a_held_day_published_by_hand_counts_as_published(res, warehouse, etl_cli):
    load_fixture(res.warehouse, [])
    _daily(res, DAY - timedelta(days=1), {"dossier": [DOSSIERS[0]]})
    malformed = [{**DOSSIERS[1], "MaHoSo": f"bad-{i}", "NgayHenTra": "20221399000000"} for i in range(6)]
    for _ in range(2):  # 6 of 6 quarantined: held back, and again when the night is re-run as it was
        with pytest.raises(pipeline.QualityGateFailed, match="6 of 6 records of the batch"):
            _daily(res, DAY, {"dossier": malformed})
    assert rows(res, "SELECT count(*) FROM mart.indicator_snapshot WHERE snapshot_date = :d", d=DAY) == [(0,)]
    for wh in (res.warehouse, warehouse):  # DuckDB: one process at a time has the file
        wh.dispose()
    result = etl_cli("--warehouse-url", res.warehouse.url, "publish", "--start", str(DAY), "--end", str(DAY))
    assert "published 2022-03-15 .. 2022-03-15" in result.stdout
    (status, message), = rows(res, "SELECT status, message FROM ops.day_run WHERE run_day = :d", d=DAY)
    assert status == "published" and message.startswith("published by hand")
    assert rows(res, "SELECT count(*) FROM mart.indicator_snapshot WHERE snapshot_date = :d", d=DAY)[0][0] > 0


def postal(item, dossier, status, created, modified, delivered=None):
    return {"ItemCode": item, "OrderNumber": dossier, "ServiceType": "PHAT_KQ", "CollectionStatus": status,
            "CreatedDate": created, "DeliveredDate": delivered, "CODAmount": 0, "ReceiverProvince": "Lào Cai",
            "LastModified": modified}


def test_a_night_loads_what_changed_and_restates_only_what_the_snapshots_read(res):
    load_fixture(res.warehouse, [])
    first, reread, quiet, cancel = date(2022, 3, 9), date(2022, 3, 10), DAY, DAY + timedelta(days=1)
    dossier = version("r-1", DEPT, "20220309090000", channel=2, status=2, received="20220309090000",
                      due="20220320170000")
    paid = payment("p-1", "r-1", "20220309100000")
    orders = [postal(f"EB{i}VN", "r-1", 1, "09/03/2022 11:00:00", "09/03/2022 11:00:00") for i in (1, 2)]
    _daily(res, first, {"dossier": [dossier], "payment": [paid], "postal_order": orders})
    # the next night re-reads the same records: nothing is validated or loaded again
    _daily(res, reread, {"dossier": [dossier], "payment": [paid], "postal_order": orders})
    assert rows(res, "SELECT b.entity, b.extracted, b.loaded, v.rows_checked FROM ops.batch b "
                     "LEFT JOIN ops.validation_result v ON v.batch_id = b.batch_id WHERE b.window_end = :e "
                     "AND b.extracted > 0 ORDER BY 1", e=Window.for_day(reread).end) == [
        ("dossier", 1, 0, None), ("payment", 1, 0, None), ("postal_order", 2, 0, None)]
    # an order delivered and a payment refunded change nothing the snapshots read: only the look-back
    delivered = postal("EB1VN", "r-1", 3, "09/03/2022 11:00:00", "15/03/2022 09:00:00", "15/03/2022 09:00:00")
    refunded = {**paid, "TrangThai": "HOAN_PHI", "NgayCapNhat": "20220315100000"}
    _daily(res, quiet, {"payment": [refunded], "postal_order": [delivered]})
    assert rows(res, "SELECT transaction_id, status FROM core.payment") == [("p-1", "refunded")]
    assert rows(res, "SELECT published_from FROM ops.day_run WHERE run_day = :d", d=quiet) == \
        [(quiet - timedelta(days=3),)]
    # a cancelled order does: every date since it was created is restated
    cancelled = postal("EB2VN", "r-1", 4, "09/03/2022 11:00:00", "16/03/2022 09:00:00")
    _daily(res, cancel, {"postal_order": [cancelled]})
    assert rows(res, "SELECT published_from FROM ops.day_run WHERE run_day = :d", d=cancel) == [(first,)]


def parsed_records(monkeypatch) -> dict[str, int]:
    """How many records etl.transform.frame parses per frame spec, from now on."""
    from etl import transform

    counts: dict[str, int] = {}
    frame = transform.frame

    def counting(spec, records):
        name = next(n for n in ("DOSSIER", "PAYMENT", "SYNC_RECEIPT", "PAYGOV", "POSTAL_ORDER")
                    if getattr(transform, n) is spec)
        counts[name] = counts.get(name, 0) + len(records)
        return frame(spec, records)
    monkeypatch.setattr(transform, "frame", counting)
    return counts


def test_re_read_records_are_set_aside_by_their_fingerprint_before_parsing(res, monkeypatch, caplog):
    """A look-back re-reads records loaded before: their `record_hash` finds them before they are parsed.
    A record changed since, or loaded before the hashes existed, is parsed and compared as it is. The batch
    log line says how many records were stored already."""
    load_fixture(res.warehouse, [])
    first, second = date(2022, 3, 9), date(2022, 3, 10)
    dossier = version("f-1", DEPT, "20220309090000", channel=2, status=2, received="20220309090000",
                      due="20220320170000")
    paid = payment("pf-1", "f-1", "20220309100000")
    receipt = {"maHoSo": "f-1", "maTTHC": "1.000001", "maDonVi": DEPT, "thoiDiemDongBo": "2022-03-09T10:00:00+07:00",
               "loaiDongBo": "INSERT", "errorCode": 1, "errorMessage": "Thiếu thông tin"}
    night1 = {"dossier": [dossier], "payment": [paid], "sync_receipt": [receipt]}
    _daily(res, first, night1)
    hashes = rows(res, "SELECT record_hash FROM core.dossier_history UNION ALL SELECT record_hash FROM core.payment "
                       "UNION ALL SELECT record_hash FROM core.sync_receipt")
    assert len(hashes) == 3 and all(h and len(h) == 32 for (h,) in hashes)
    assert not any("010203040506" in h for (h,) in hashes)

    parsed = parsed_records(monkeypatch)
    caplog.set_level(logging.INFO, logger="etl.load")
    caplog.clear()
    _daily(res, first, night1)  # the same night again: nothing parsed, the day's records still counted
    assert parsed == {}
    assert _unchanged_counts(caplog) == {"dossier": (1, 1), "payment": (1, 1), "sync_receipt": (1, 1)}
    assert rows(res, "SELECT entity, extracted, loaded, day_records FROM ops.batch WHERE window_end = :e "
                     "AND extracted > 0 ORDER BY batch_id", e=Window.for_day(first).end)[-3:] == [
        ("dossier", 1, 0, 1), ("payment", 1, 0, 1), ("sync_receipt", 1, 0, 1)]

    # the payment as loaded before record_hash existed; the applicant's name corrected (personal data,
    # not loaded); the receipt's message changed (loaded: it replaces the row, and its hash)
    with res.warehouse.begin() as conn:
        conn.exec_driver_sql("UPDATE core.payment SET record_hash = NULL")
    renamed = {**dossier, "ChuHoSo": {**dossier["ChuHoSo"], "HoVaTen": "Trần Thị Bính"}}
    reworded = {**receipt, "errorMessage": "Thiếu thành phần hồ sơ"}
    caplog.clear()
    _daily(res, second, {"dossier": [renamed], "payment": [paid], "sync_receipt": [reworded]})
    assert parsed == {"DOSSIER": 1, "PAYMENT": 1, "SYNC_RECEIPT": 1}
    assert _unchanged_counts(caplog) == {"dossier": (1, 1), "payment": (1, 1), "sync_receipt": (1, 0)}
    assert rows(res, "SELECT entity, extracted, loaded FROM ops.batch WHERE window_end = :e AND extracted > 0 "
                     "ORDER BY batch_id", e=Window.for_day(second).end) == [
        ("dossier", 1, 0), ("payment", 1, 0), ("sync_receipt", 1, 1)]
    assert rows(res, "SELECT error_message FROM core.sync_receipt") == [("Thiếu thành phần hồ sơ",)]
    parsed.clear()
    _daily(res, second, {"sync_receipt": [reworded]})
    assert parsed == {}


def _unchanged_counts(caplog) -> dict[str, tuple[int, int]]:
    """entity -> (extracted, stored already) from the batch log lines of the daily feeds that read records."""
    found = (re.search(r"\.(\w+): (\d+) extracted \((\d+) of them stored already", r.getMessage())
             for r in caplog.records if r.name == "etl.load")
    return {m[1]: (int(m[2]), int(m[3])) for m in found if m and m[2] != "0"}


@pytest.mark.parametrize("first", [DAY - timedelta(days=4), date(2022, 2, 25)], ids=["03-11", "02-25"])
def test_nights_publish_incrementally_and_match_a_full_republication(res, caplog, first):
    """Each night restates its look-back dates from the published date before them, adding only what
    changed (etl/indicators.py), also when they start a month (from 02-25: 1 March); with a
    version arriving late and a payment, and a counter payment for a dossier that changes nothing else then
    (the transactions' measure counts it), what the nights leave equals a full publication of the same dates."""
    load_fixture(res.warehouse, [])
    nights = [first + timedelta(days=i) for i in range(7)]

    def at(night: int, hhmmss: str) -> str:
        return f"{nights[night]:%Y%m%d}{hhmmss}"

    d0 = version("n-1", DEPT, at(0, "090000"), channel=2, status=2, received=at(0, "090000"), due=at(3, "170000"))
    records = {
        # n-3, the only dossier of its service: received on the first night, due long after the last, paid
        # at the counter on the last night
        nights[0]: {"dossier": [d0, version("n-3", DIST, at(0, "100000"), status=2, received=at(0, "100000"),
                                            due=f"{nights[0] + timedelta(days=30):%Y%m%d}170000")]},
        nights[1]: {"dossier": [version("n-2", COMM, at(1, "100000"), status=2, received=at(1, "100000"),
                                        due=at(6, "170000"))]},
        # a version of n-1 dated two days back arrives late, with its payment; n-1 is overdue from night 3
        nights[3]: {"dossier": [version("n-1", DEPT, at(1, "150000"), channel=2, status=4,
                                        received=at(0, "090000"), due=at(3, "170000"))],
                    "payment": [payment("pn-1", "n-1", at(1, "160000"))]},
        nights[5]: {"dossier": [version("n-1", DEPT, at(5, "100000"), channel=2, status=9,
                                        received=at(0, "090000"), due=at(3, "170000"), finished=at(5, "100000"))]},
        nights[6]: {"payment": [payment("pc-3", "n-3", at(6, "110000"), counter=True)]},
    }
    caplog.set_level("INFO", logger="etl.indicators")
    for night in nights:
        _daily(res, night, records.get(night, {}))
    incremental = [r.getMessage() for r in caplog.records if "incremental from" in r.getMessage()]
    # the first four nights restate from the first date published: in full
    assert len(incremental) == 3, incremental
    if first.month != nights[-1].month:  # 1 March: the run reads February's events
        assert any("events from 2022-02-01" in m for m in incremental), incremental
    stored = rows(res, "SELECT * FROM mart.indicator_snapshot ORDER BY snapshot_date, period, agency_code, "
                       "indicator_code")
    assert {r.snapshot_date for r in stored} == set(nights)
    assert any(r.denominator for r in stored if r.indicator_code == "on_time_rate" and r.numerator == 0)
    pipeline.publish_range(res, [(nights[0], nights[-1])], nights[-1])   # full: no published date before
    assert rows(res, "SELECT * FROM mart.indicator_snapshot ORDER BY snapshot_date, period, agency_code, "
                     "indicator_code") == stored


def test_the_first_night_after_a_change_of_the_indicator_rules_runs_in_full(res, caplog, monkeypatch):
    """Figures published under other rules (a measure's SQL changed since: ops.publication.rules) are no
    starting point: the first night after the change restates its dates in full, the next night starts
    from those, and what they leave equals a full publication."""
    load_fixture(res.warehouse, [])
    nights = [DAY - timedelta(days=4) + timedelta(days=i) for i in range(7)]
    for night in nights[:5]:
        _daily(res, night, {"dossier": [version("r-1", DEPT, "20220311090000", channel=2, status=2,
                                                received="20220311090000", due="20220314170000")]})
    with res.warehouse.begin() as conn:  # what the old rules counted
        conn.execute(sa.text("UPDATE mart.indicator_snapshot SET numerator = numerator + 7"))
    monkeypatch.setattr(indicators, "rules", lambda: "the rules of today")
    caplog.set_level("INFO", logger="etl.indicators")
    caplog.clear()
    _daily(res, nights[5], {})
    _daily(res, nights[6], {})
    published = [r.getMessage() for r in caplog.records if r.getMessage().startswith("snapshots ")]
    assert len(published) == 2 and "incremental" not in published[0], published
    assert f"incremental from {nights[2]}" in published[1], published
    sql = ("SELECT * FROM mart.indicator_snapshot WHERE snapshot_date >= :d "
           "ORDER BY snapshot_date, period, agency_code, indicator_code")
    nightly = rows(res, sql, d=nights[2])
    pipeline.publish_range(res, [(nights[2], nights[-1])], nights[-1])  # full: 03-12 has the old rules
    assert rows(res, sql, d=nights[2]) == nightly


def test_a_public_holiday_listed_is_not_held_for_being_quiet(res, monkeypatch, caplog):
    """A Tuesday that is a public holiday: its dossiers few and its payments none. Unlisted, the volume gate holds
    it and says where to list it; in PUBLIC_HOLIDAYS (a range or a date), only a spike still holds it."""
    caplog.set_level(logging.INFO, logger="etl.pipeline")
    history_of(res.warehouse, 100)
    dossier, payment, receipt, *others = pipeline.daily_entities()
    record_batch(res.warehouse, dossier, DAY, 3)
    record_batch(res.warehouse, payment, DAY, 0)
    record_batch(res.warehouse, receipt, DAY, 5000)
    for entity in others:
        record_batch(res.warehouse, entity, DAY, 100)
    parts = gate_message(res).split(" | ")
    [quiet], [silent], [spike] = ([p for p in parts if text in p] for text in (
        "onestop dossier", "onestop payment", "5000 records stamped 2022-03-15"))
    assert "3 records stamped 2022-03-15" in quiet and "no records stamped 2022-03-15" in silent
    assert "add it to PUBLIC_HOLIDAYS" in quiet and "add it to PUBLIC_HOLIDAYS" in silent
    assert "PUBLIC_HOLIDAYS" not in spike
    assert "PUBLIC_HOLIDAYS" not in caplog.text
    for listed in ("2022-03-14..2022-03-16", "2022-01-01, 2022-03-15"):
        monkeypatch.setenv("PUBLIC_HOLIDAYS", listed)
        held = gate_message(res)
        assert "2022-03-15 is in PUBLIC_HOLIDAYS: its volume holds it back only for a spike" in caplog.text
        assert "onestop dossier" not in held and "onestop payment" not in held
        assert f"{receipt.name} batch" in held and "5000 records stamped 2022-03-15" in held
    record_batch(res.warehouse, receipt, DAY, 100)  # loaded again, as the source sent it
    assert gates_failure(res, DAY) is None
    monkeypatch.setenv("PUBLIC_HOLIDAYS", "2022-03-16")
    assert gates_failure(res, DAY) is not None


def test_listed_holidays_are_left_out_of_the_days_after_them(res, monkeypatch):
    """Two silent holiday Tuesdays in the last four: listed, the next Tuesday is judged against the two ordinary
    ones, so an outage day of 80 records (against 1,000) is held; counted, they would halve the median."""
    for entity in pipeline.daily_entities():
        for back in range(35, 0, -1):
            day = DAY - timedelta(days=back)
            record_batch(res.warehouse, entity, day, 0 if day in (date(2022, 3, 1), date(2022, 3, 8)) else 1000)
        record_batch(res.warehouse, entity, DAY, 80)
    monkeypatch.setenv("PUBLIC_HOLIDAYS", "2022-03-01,2022-03-08")
    held = gate_message(res)
    assert "80 records stamped 2022-03-15, against a median of 1000 on the last 2 Tuesdays" in held
    monkeypatch.setenv("PUBLIC_HOLIDAYS", "2022-03-02")  # unlisted, they are ordinary days: median 500, 80 passes
    assert gates_failure(res, DAY) is None


def test_a_day_still_held_back_is_left_out_of_the_days_after_it(res):
    """Two silent Tuesdays (the source down), held by their gates and not yet re-run: the next Tuesday's 80
    records are judged against the two ordinary Tuesdays (a median of 1,000) and held; a backfill gating the
    fortnight at once finds the same days, as its nights would. Published by hand, the silent days are the
    operator's word that they were real: they count again (a median of 500; 80 passes)."""
    load_fixture(res.warehouse, [])
    silent = (date(2022, 3, 1), date(2022, 3, 8))
    fortnight = [DAY - timedelta(days=back) for back in range(14, -1, -1)]
    for entity in pipeline.daily_entities():
        for day in [DAY - timedelta(days=back) for back in range(35, 14, -1)] + fortnight:
            record_batch(res.warehouse, entity, day, 0 if day in silent else 80 if day == DAY else 1000)
    at_once = pipeline.gate_problems(res, fortnight)
    assert [d for d in fortnight if at_once[d]] == [*silent, DAY]
    assert at_once == night_by_night(res, fortnight)
    assert "80 records stamped 2022-03-15, against a median of 1000 on the last 2 Tuesdays" in gate_message(res)
    pipeline.publish_by_hand(res, silent[0], silent[1])
    assert gates_failure(res, DAY) is None


# The sources lost every record of 1 and 8 March 2022 and two thirds of 15 March's (Tuesdays); a gate strict
# enough to judge the small simulator's weekdays (not its weekends).
OUTAGE = ["2022-03-01", "2022-03-08", "2022-03-15=0.35"]
STRICT = {"VOLUME_MIN_RATIO": "0.5", "VOLUME_MIN_BASELINE": "100", "PUBLIC_HOLIDAYS": ""}
MARCH = ("--start", "2022-03-01", "--end", "2022-03-15")
SILENT, QUIET = (date(2022, 3, 1), date(2022, 3, 8)), date(2022, 3, 15)


@pytest.fixture(scope="module")
def source_down():
    with run_simulator(**SIMULATOR_OPTS, outage=OUTAGE) as url:
        yield url


@pytest.fixture(scope="module")
def february(etl_cli, source_down, tmp_path_factory) -> Path:
    """A DuckDB warehouse holding February 2022, all published: the usual volume March is judged against."""
    path = tmp_path_factory.mktemp("february") / "w.duckdb"
    backfill(etl_cli, f"duckdb:///{path}", "--start", "2022-02-01", "--end", "2022-02-28", source=source_down)
    return path


def backfill(etl_cli, warehouse: str, *args: str, source: str, env: dict | None = None, check: bool = True):
    return etl_cli("--warehouse-url", warehouse, "backfill", *args, base_url=source, env={**STRICT, **(env or {})},
                   check=check)


def day_runs(warehouse: str) -> tuple[dict, set]:
    """ops.day_run as {day: (status, message)}, and every published figure."""
    engine = sa.create_engine(warehouse)
    with engine.connect() as conn:
        runs = {d: (status, message) for d, status, message in conn.execute(sa.text(
            "SELECT run_day, status, message FROM ops.day_run"))}
        snapshot = {tuple(r) for r in conn.execute(sa.text(
            "SELECT snapshot_date, period, agency_code, indicator_code, numerator, denominator, target, "
            "meets_target FROM mart.indicator_snapshot"))}
    engine.dispose()
    return runs, snapshot


def held_days(runs: dict) -> set[date]:
    return {d for d, (status, _) in runs.items() if status != "published"}


QUIET_AGAINST_ORDINARY_TUESDAYS = (r"onestop dossier batch \d+: \d+ records stamped 2022-03-15, against a median of "
                                   r"[\d.]+ on the last 2 Tuesdays")


def test_a_source_down_on_two_tuesdays_from_the_command_line(etl_cli, simulator, source_down, february, tmp_path):
    """As an on-call engineer meets it: night by night, the silent Tuesdays are held, and so is 15 March, judged
    against the ordinary Tuesdays before them (counted, the silent ones would halve the median and let it pass).
    Once the source is back, `backfill --resume` runs only the held days, and every figure equals a run that
    never met the outage."""
    shutil.copy(february, tmp_path / "w.duckdb")
    url, clean_url = (f"duckdb:///{tmp_path / name}" for name in ("w.duckdb", "clean.duckdb"))
    held = backfill(etl_cli, url, "--daily", *MARCH, source=source_down, check=False)
    assert held.returncode == 1, held.stdout[-2000:] + held.stderr[-2000:]
    runs, _ = day_runs(url)
    assert held_days(runs) == {*SILENT, QUIET}
    assert all("onestop dossier: no records stamped" in runs[d][1] for d in SILENT)
    assert re.search(QUIET_AGAINST_ORDINARY_TUESDAYS, runs[QUIET][1]), runs[QUIET][1]

    # the summary names the held days and the command that re-runs them
    [(start, end)] = re.findall(r"not published: .*re-run only those days: python -m etl backfill --resume "
                                r"--start (\S+) --end (\S+)\)", held.stdout)
    assert (start, end) == ("2022-03-01", "2022-03-15"), held.stdout[-500:]
    backfill(etl_cli, url, "--resume", "--start", start, "--end", end, source=simulator)
    backfill(etl_cli, clean_url, "--start", "2022-02-01", "--end", "2022-03-15", source=simulator)
    (runs, published), (_, clean) = day_runs(url), day_runs(clean_url)
    assert {status for status, _ in runs.values()} == {"published"} and len(runs) == 43
    assert published == clean and any(row[0] == QUIET for row in clean)


def test_the_tuesdays_after_two_listed_holidays_from_the_command_line(etl_cli, source_down, february, tmp_path):
    """The same silent Tuesdays, listed in PUBLIC_HOLIDAYS: they publish (only a spike holds a holiday), and the
    quiet 15 March is still judged against the ordinary Tuesdays, not halved by the holidays, and held."""
    shutil.copy(february, tmp_path / "w.duckdb")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    held = backfill(etl_cli, url, "--daily", *MARCH, source=source_down, check=False,
                    env={"PUBLIC_HOLIDAYS": ",".join(map(str, SILENT))})
    assert held.returncode == 1, held.stdout[-2000:] + held.stderr[-2000:]
    runs, _ = day_runs(url)
    assert held_days(runs) == {QUIET}
    assert re.search(QUIET_AGAINST_ORDINARY_TUESDAYS, runs[QUIET][1]), runs[QUIET][1]


def test_a_held_holiday_is_listed_and_run_again_from_the_command_line(etl_cli, simulator, tmp_path):
    """As an operator meets it: `backfill` of April 2022 holds 30 April (a public holiday on a Saturday, a
    few records against its usual Saturdays; the gate made strict enough to judge the small simulator), and
    says where to list it; with PUBLIC_HOLIDAYS set, `run --date 2022-04-30` publishes it."""
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    strict = {"VOLUME_MIN_RATIO": "0.5", "VOLUME_MIN_BASELINE": "5", "PUBLIC_HOLIDAYS": ""}
    held = etl_cli("--warehouse-url", url, "backfill", "--start", "2022-04-02", "--end", "2022-04-30",
                   base_url=simulator, env=strict, check=False)
    assert held.returncode == 1

    day_30 = date(2022, 4, 30)
    runs, snapshot = day_runs(url)
    status, message = runs[day_30]
    assert status == "gate_failed" and not any(row[0] == day_30 for row in snapshot)
    assert "records stamped 2022-04-30" in message and "(a public holiday: add it to PUBLIC_HOLIDAYS)" in message
    etl_cli("--warehouse-url", url, "run", "--date", "2022-04-30", base_url=simulator,
            env={**strict, "PUBLIC_HOLIDAYS": "2022-04-30..2022-05-01"})
    runs, snapshot = day_runs(url)
    assert runs[day_30][0] == "published" and any(row[0] == day_30 for row in snapshot)
