"""etl.sources.prefetch: the pages a loader reads are the source's, in order, errors included; a backfill
reads the next day while a day finishes, each window once, and publishes each month once."""
import threading
import time
from itertools import pairwise

import pytest

from etl.sources.prefetch import Prefetch, prefetched


def pages(n: int, fail_at: int | None = None, fetched: list | None = None):
    for i in range(n):
        if i == fail_at:
            raise ConnectionError(f"page {i} unreachable")
        if fetched is not None:
            fetched.append(i)
        yield [{"n": i}]


def test_same_pages_in_the_same_order():
    assert list(prefetched(pages(50), depth=3)) == [[{"n": i}] for i in range(50)]


def test_an_error_is_raised_where_its_page_would_have_been_read():
    read = []
    with pytest.raises(ConnectionError, match="page 7 unreachable"):
        for page in prefetched(pages(20, fail_at=7), depth=2):
            read.append(page[0]["n"])
    assert read == list(range(7))


def test_reads_at_most_depth_pages_ahead_and_stops_when_left():
    fetched: list[int] = []
    stream = prefetched(pages(1000, fetched=fetched), depth=4)
    assert next(stream) == [{"n": 0}]
    time.sleep(0.3)
    assert len(fetched) <= 1 + 4 + 1  # the page read, the queue, the one waiting to be queued
    stream.close()
    time.sleep(0.3)
    assert len(fetched) <= 6
    assert not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())


def test_a_reader_after_another_starts_when_that_one_has_read_its_last_page():
    """One system's feeds are read in turn (never two requests at a time), all of them while the first loads."""
    first_fetched: list[int] = []
    second_fetched: list[int] = []
    first = Prefetch(pages(5, fetched=first_fetched), depth=10)
    second = Prefetch(pages(5, fetched=second_fetched), depth=10, after=first)
    time.sleep(0.3)
    assert first_fetched == list(range(5)) and second_fetched == list(range(5))  # both read before either loads
    assert [p[0]["n"] for p in first] + [p[0]["n"] for p in second] == list(range(5)) * 2

    blocked = Prefetch(pages(100, fetched=first_fetched), depth=2)
    waiting: list[int] = []
    after_blocked = Prefetch(pages(5, fetched=waiting), depth=2, after=blocked)
    time.sleep(0.3)
    assert waiting == []  # the first is still reading (its queue is full)
    for reader in (blocked, after_blocked):
        reader.close()
    time.sleep(0.3)
    assert waiting == []
    assert not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())


@pytest.mark.parametrize("daily", [False, True])
def test_a_backfill_reads_each_window_once_and_publishes_each_month_once(duckdb_url, tmp_path, source_env,
                                                                         monkeypatch, daily):
    """pipeline.backfill loads a month's days (here the rest of January, then February's first two) in one batch
    per feed, or with `daily` each day in its own; it starts reading the next days' sources before the days
    before load (each system's feeds once those days' are read), and loads that reading; only its first batch
    re-reads the look-back (the run has just read the windows of the others). It publishes the days whose
    gates passed together, at the end of each month and of the range. The snapshots and the core tables equal
    those of the same days run one by one (each night re-reading its look-back and publishing), and no reader
    outlives the run."""
    from datetime import date, datetime, timedelta

    import sqlalchemy as sa

    from etl import pipeline

    monkeypatch.setenv("DATA_DOCS_DIR", "")
    events: list[tuple] = []
    real_reading, real_publish, real_load = pipeline.start_reading, pipeline.publish_days, pipeline.load_day

    def start_reading(res, day, lookback=True, behind=None, last=None):
        events.append(("read", day, last or day, lookback))
        return real_reading(res, day, lookback, behind, last)

    def publish_days(res, run_days):
        events.append(("publish", *run_days))
        return real_publish(res, run_days)

    def load_day(res, day, reading=None, last=None):
        events.append(("load", day, last or day, reading is not None))
        return real_load(res, day, reading, last)

    monkeypatch.setattr(pipeline, "start_reading", start_reading)
    monkeypatch.setattr(pipeline, "publish_days", publish_days)
    monkeypatch.setattr(pipeline, "load_day", load_day)
    jan30, jan31, feb1, feb2 = (date(2022, 1, 30) + timedelta(days=i) for i in range(4))
    with pipeline.Resources.from_env(duckdb_url) as res:
        outcomes = pipeline.backfill(res, jan30, feb2, daily=daily)
    assert [o.status for o in outcomes] == ["published"] * 4 and all(o.dossiers for o in outcomes)
    assert [o.published for o in outcomes] == ["2022-01-30 .. 2022-01-31"] * 2 + ["2022-01-30 .. 2022-02-02"] * 2
    assert [o.publishes_with for o in outcomes] == [jan31, jan31, feb2, feb2]
    if daily:
        assert events == [("read", jan30, jan30, True), ("read", jan31, jan31, False), ("load", jan30, jan30, True),
                          ("read", feb1, feb1, False), ("load", jan31, jan31, True), ("publish", jan30, jan31),
                          ("read", feb2, feb2, False), ("load", feb1, feb1, True), ("load", feb2, feb2, True),
                          ("publish", feb1, feb2)]
    else:
        assert events == [("read", jan30, jan31, True), ("read", feb1, feb2, False), ("load", jan30, jan31, True),
                          ("publish", jan30, jan31), ("load", feb1, feb2, True), ("publish", feb1, feb2)]
    deadline = time.monotonic() + 5
    while any(t.name.startswith("read ") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name.startswith("read ") for t in threading.enumerate())

    one_by_one = f"duckdb:///{tmp_path / 'one_by_one.duckdb'}"
    with pipeline.Resources.from_env(one_by_one) as res:
        pipeline.migrate(res)
        pipeline.refresh_reference(res, feb2)
        for day in (jan30, jan31, feb1, feb2):
            pipeline.run_day(res, day)
    found = []
    for url in (duckdb_url, one_by_one):
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            found.append({
                "snapshots": conn.exec_driver_sql(
                    "SELECT snapshot_date, period, agency_code, indicator_code, numerator, denominator "
                    "FROM mart.indicator_snapshot ORDER BY 1, 2, 3, 4").all(),
                "dossiers": conn.exec_driver_sql(
                    "SELECT dossier_code, updated_at, status FROM core.dossier_history ORDER BY 1, 2").all(),
                "receipts": conn.exec_driver_sql("SELECT count(*) FROM core.sync_receipt").scalar(),
                "day_records": conn.exec_driver_sql(
                    "SELECT b.entity, d.data_day, d.records FROM ops.day_records d JOIN ops.batch b "
                    "ON b.batch_id = d.batch_id ORDER BY 1, 2").all(),
                "windows": conn.exec_driver_sql(
                    "SELECT window_start, window_end FROM ops.batch WHERE entity = 'dossier' ORDER BY 2").all()})
        engine.dispose()
    backfilled, nightly = found
    assert backfilled["snapshots"] and backfilled["snapshots"] == nightly["snapshots"]
    assert backfilled["dossiers"] and backfilled["dossiers"] == nightly["dossiers"]
    assert backfilled["receipts"] == nightly["receipts"]
    # each day's records counted for the gates, whether its batch was the day's or the month's
    assert len(backfilled["day_records"]) == 5 * 4 and backfilled["day_records"] == nightly["day_records"]
    assert any(n for *_, n in backfilled["day_records"])
    midnight = [datetime(2022, 1, 30) + timedelta(days=i) for i in range(5)]
    if daily:
        assert backfilled["windows"] == [(midnight[0] - timedelta(days=3), midnight[1]), *pairwise(midnight[1:])]
    else:
        assert backfilled["windows"] == [(midnight[0] - timedelta(days=3), midnight[2]), (midnight[2], midnight[4])]
    assert nightly["windows"] == [(m - timedelta(days=3), m + timedelta(days=1)) for m in midnight[:4]]


@pytest.mark.parametrize("failures", [1, 99])
def test_a_day_is_published_when_reading_the_next_one_ahead_fails(duckdb_url, source_env, monkeypatch, failures,
                                                                   caplog):
    """If the next days' sources cannot be started early (before the days before load, then again once they
    have), those days are still loaded, gated and published, with a warning naming the next day and the
    source's error; the next days try again when their turn comes: once is enough for a passing fault (all days
    published); a lasting one fails those days alone, recorded in ops.day_run, with the days before published.
    Here the month's end splits the range: 30-31 January load together, then 1 February."""
    from datetime import date

    import sqlalchemy as sa

    from etl import pipeline

    monkeypatch.setenv("DATA_DOCS_DIR", "")
    first, second, third = date(2022, 1, 31), date(2022, 2, 1), date(2022, 1, 30)
    left = {"failures": failures}
    real = pipeline.start_reading

    def start_reading(res, day, lookback=True, behind=None, last=None):
        if day == second and left["failures"]:
            left["failures"] -= 1
            raise ConnectionError(f"ONESTOP_URL unreachable for {day}")
        return real(res, day, lookback, behind, last)

    monkeypatch.setattr(pipeline, "start_reading", start_reading)
    with pipeline.Resources.from_env(duckdb_url) as res:
        if failures == 1:
            outcomes = pipeline.backfill(res, third, second)
            assert [o.status for o in outcomes] == ["published"] * 3 and all(o.dossiers for o in outcomes)
        else:
            with pytest.raises(ConnectionError, match="unreachable"):
                pipeline.backfill(res, third, second)
        with res.warehouse.begin() as conn:
            days = dict(conn.execute(sa.text("SELECT run_day, status FROM ops.day_run")).all())
            published = {r[0] for r in conn.execute(sa.text(
                "SELECT DISTINCT snapshot_date FROM mart.indicator_snapshot"))}
    assert f"could not start reading the sources of {second} early (ConnectionError: ONESTOP_URL unreachable" \
        in caplog.text and "its load reads them again" in caplog.text
    if failures == 1:
        assert days == dict.fromkeys((first, second, third), "published")
        assert published >= {first, second, third}
    else:
        assert days == {third: "published", first: "published", second: "failed"}
        assert {third, first} <= published and second not in published
    assert not any(t.name.startswith("read ") and t.is_alive() for t in threading.enumerate())


def test_when_publishing_before_an_error_fails_too_the_first_error_is_raised(duckdb_url, source_env, monkeypatch,
                                                                              caplog):
    """A backfill stopped by a source error publishes the days that passed their gates first; if that fails as
    well, the source's error is the one raised, and the log names the days left unpublished."""
    from datetime import date

    import sqlalchemy as sa

    from etl import pipeline

    monkeypatch.setenv("DATA_DOCS_DIR", "")
    first, second = date(2022, 1, 3), date(2022, 1, 4)
    real = pipeline.start_reading

    def start_reading(res, day, lookback=True, behind=None, last=None):
        if day == second:
            raise ConnectionError(f"ONESTOP_URL unreachable for {day}")
        return real(res, day, lookback, behind, last)

    def publish_days(res, run_days):
        raise sa.exc.OperationalError("INSERT", {}, Exception("the warehouse went away"))

    monkeypatch.setattr(pipeline, "start_reading", start_reading)
    monkeypatch.setattr(pipeline, "publish_days", publish_days)
    with pipeline.Resources.from_env(duckdb_url) as res:
        with pytest.raises(ConnectionError, match="unreachable"):
            pipeline.backfill(res, first, second, daily=True)  # a month's days loading together fail together
        with res.warehouse.begin() as conn:
            days = dict(conn.execute(sa.text("SELECT run_day, status FROM ops.day_run")).all())
    assert days == {second: "failed"}  # the first day is loaded, not published: --resume runs it again
    assert f"could not publish {first} (loaded, gates passed)" in caplog.text and "--resume" in caplog.text


def test_a_publication_that_fails_is_raised_and_not_tried_again_on_the_way_out(duckdb_url, source_env, monkeypatch):
    """The month's publication failing stops the backfill with its own error, after one attempt; the days stay
    unpublished in ops.day_run, for --resume."""
    from datetime import date

    import sqlalchemy as sa

    from etl import pipeline

    monkeypatch.setenv("DATA_DOCS_DIR", "")
    attempts = []

    def publish_days(res, run_days):
        attempts.append(run_days)
        raise sa.exc.OperationalError("INSERT", {}, Exception("the warehouse went away"))

    monkeypatch.setattr(pipeline, "publish_days", publish_days)
    first, last = date(2022, 1, 3), date(2022, 1, 4)
    with pipeline.Resources.from_env(duckdb_url) as res:
        with pytest.raises(sa.exc.OperationalError, match="went away"):
            pipeline.backfill(res, first, last)
        with res.warehouse.begin() as conn:
            published = conn.execute(sa.text("SELECT count(*) FROM ops.day_run WHERE status = 'published'")).scalar()
    assert attempts == [[first, last]] and published == 0
