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


def test_a_backfill_reads_each_window_once_and_publishes_each_month_once(duckdb_url, tmp_path, source_env,
                                                                         monkeypatch):
    """pipeline.backfill starts reading a day's sources before the day before loads (each system's feeds once
    that day's are read), and loads that reading; only its first day re-reads the
    look-back (the run has just read the windows of the others). It publishes the days whose gates passed
    together, at the end of each month and of the range. The snapshots and the core tables equal those of the
    same days run one by one (each night re-reading its look-back and publishing), and no reader outlives
    the run."""
    from datetime import date, datetime, timedelta

    import sqlalchemy as sa

    from etl import pipeline

    monkeypatch.setenv("DATA_DOCS_DIR", "")
    events: list[tuple] = []
    real_reading, real_publish, real_load = pipeline.start_reading, pipeline.publish_days, pipeline.load_day

    def start_reading(res, day, lookback=True, behind=None):
        events.append(("read", day, lookback))
        return real_reading(res, day, lookback, behind)

    def publish_days(res, run_days):
        events.append(("publish", *run_days))
        return real_publish(res, run_days)

    def load_day(res, day, reading=None):
        events.append(("load", day, reading is not None))
        return real_load(res, day, reading)

    monkeypatch.setattr(pipeline, "start_reading", start_reading)
    monkeypatch.setattr(pipeline, "publish_days", publish_days)
    monkeypatch.setattr(pipeline, "load_day", load_day)
    jan30, jan31, feb1, feb2 = (date(2022, 1, 30) + timedelta(days=i) for i in range(4))
    with pipeline.Resources.from_env(duckdb_url) as res:
        outcomes = pipeline.backfill(res, jan30, feb2)
    assert [o.status for o in outcomes] == ["published"] * 4 and all(o.dossiers for o in outcomes)
    assert [o.published for o in outcomes] == ["2022-01-30 .. 2022-01-31"] * 2 + ["2022-01-30 .. 2022-02-02"] * 2
    assert [o.publishes_with for o in outcomes] == [jan31, jan31, feb2, feb2]
    assert events == [("read", jan30, True), ("read", jan31, False), ("load", jan30, True),
                      ("read", feb1, False), ("load", jan31, True), ("publish", jan30, jan31),
                      ("read", feb2, False), ("load", feb1, True), ("load", feb2, True), ("publish", feb1, feb2)]
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
                "windows": conn.exec_driver_sql(
                    "SELECT window_start, window_end FROM ops.batch WHERE entity = 'dossier' ORDER BY 2").all()})
        engine.dispose()
    backfilled, nightly = found
    assert backfilled["snapshots"] and backfilled["snapshots"] == nightly["snapshots"]
    assert backfilled["dossiers"] and backfilled["dossiers"] == nightly["dossiers"]
    assert backfilled["receipts"] == nightly["receipts"]
    midnight = [datetime(2022, 1, 30) + timedelta(days=i) for i in range(5)]
    assert backfilled["windows"] == [(midnight[0] - timedelta(days=3), midnight[1])] + list(pairwise(midnight[1:]))
    assert nightly["windows"] == [(m - timedelta(days=3), m + timedelta(days=1)) for m in midnight[:4]]


@pytest.mark.parametrize("failures", [1, 99])
def test_a_day_is_published_when_reading_the_next_one_ahead_fails(duckdb_url, source_env, monkeypatch, failures,
                                                                   caplog):
    """If the next day's sources cannot be started early (before the day loads, then again once it has), the
    day is still loaded, gated and published, with a warning naming the next day and the source's error; the
    next day tries again when its turn comes: once is enough for a passing fault (all days published); a
    lasting one fails that day alone, recorded in ops.day_run, with the day before published."""
    from datetime import date

    import sqlalchemy as sa

    from etl import pipeline

    monkeypatch.setenv("DATA_DOCS_DIR", "")
    first, second, third = date(2022, 1, 3), date(2022, 1, 4), date(2022, 1, 5)
    left = {"failures": failures}
    real = pipeline.start_reading

    def start_reading(res, day, lookback=True, behind=None):
        if day == second and left["failures"]:
            left["failures"] -= 1
            raise ConnectionError(f"ONESTOP_URL unreachable for {day}")
        return real(res, day, lookback, behind)

    monkeypatch.setattr(pipeline, "start_reading", start_reading)
    with pipeline.Resources.from_env(duckdb_url) as res:
        if failures == 1:
            outcomes = pipeline.backfill(res, first, third)
            assert [o.status for o in outcomes] == ["published"] * 3 and all(o.dossiers for o in outcomes)
        else:
            with pytest.raises(ConnectionError, match="unreachable"):
                pipeline.backfill(res, first, third)
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
        assert days == {first: "published", second: "failed"}
        assert first in published and third not in published
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

    def start_reading(res, day, lookback=True, behind=None):
        if day == second:
            raise ConnectionError(f"ONESTOP_URL unreachable for {day}")
        return real(res, day, lookback, behind)

    def publish_days(res, run_days):
        raise sa.exc.OperationalError("INSERT", {}, Exception("the warehouse went away"))

    monkeypatch.setattr(pipeline, "start_reading", start_reading)
    monkeypatch.setattr(pipeline, "publish_days", publish_days)
    with pipeline.Resources.from_env(duckdb_url) as res:
        with pytest.raises(ConnectionError, match="unreachable"):
            pipeline.backfill(res, first, second)
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
