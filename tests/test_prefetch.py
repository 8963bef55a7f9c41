"""etl.sources.prefetch: the pages a loader reads are the source's, in order, errors included; a backfill
reads the next day while a day publishes."""
import threading
import time

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


def test_a_backfill_reads_the_next_day_while_the_day_publishes(duckdb_url, tmp_path, source_env, monkeypatch):
    """pipeline.backfill starts reading a day's sources once the day before has loaded, and loads that
    reading: the snapshots equal those of the same days run one by one, and no reader outlives the run."""
    from datetime import date

    import sqlalchemy as sa

    from etl import pipeline

    monkeypatch.setenv("DATA_DOCS_DIR", "")
    events: list[tuple[str, date]] = []
    for name, step in (("read", pipeline.start_reading), ("publish", pipeline.publish_indicators)):
        def watched(res, day, _name=name, _step=step):
            events.append((_name, day))
            return _step(res, day)
        monkeypatch.setattr(pipeline, step.__name__, watched)
    first, second, third = date(2022, 1, 3), date(2022, 1, 4), date(2022, 1, 5)
    with pipeline.Resources.from_env(duckdb_url) as res:
        outcomes = pipeline.backfill(res, first, third)
    assert [o.status for o in outcomes] == ["published"] * 3 and all(o.dossiers for o in outcomes)
    assert events == [("read", first), ("read", second), ("publish", first), ("read", third), ("publish", second),
                      ("publish", third)]
    deadline = time.monotonic() + 5
    while any(t.name.startswith("read ") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name.startswith("read ") for t in threading.enumerate())

    one_by_one = f"duckdb:///{tmp_path / 'one_by_one.duckdb'}"
    with pipeline.Resources.from_env(one_by_one) as res:
        pipeline.migrate(res)
        pipeline.refresh_reference(res, third)
        for day in (first, second, third):
            pipeline.run_day(res, day)
    snapshots = []
    for url in (duckdb_url, one_by_one):
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            snapshots.append(conn.exec_driver_sql(
                "SELECT snapshot_date, period, agency_code, indicator_code, numerator, denominator "
                "FROM mart.indicator_snapshot ORDER BY 1, 2, 3, 4").all())
        engine.dispose()
    assert snapshots[0] and snapshots[0] == snapshots[1]


@pytest.mark.parametrize("failures", [1, 99])
def test_a_day_is_published_when_reading_the_next_one_ahead_fails(duckdb_url, source_env, monkeypatch, failures):
    """If the next day's sources cannot be started while a day finishes, the day is still gated and
    published, and the next day tries again when its turn comes: once is enough for a passing fault (all days
    published); a lasting one fails that day alone, recorded in ops.day_run, with the day before published."""
    from datetime import date

    import sqlalchemy as sa

    from etl import pipeline

    monkeypatch.setenv("DATA_DOCS_DIR", "")
    first, second, third = date(2022, 1, 3), date(2022, 1, 4), date(2022, 1, 5)
    left = {"failures": failures}
    real = pipeline.start_reading

    def start_reading(res, day):
        if day == second and left["failures"]:
            left["failures"] -= 1
            raise ConnectionError(f"ONESTOP_URL unreachable for {day}")
        return real(res, day)

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
    if failures == 1:
        assert days == dict.fromkeys((first, second, third), "published")
        assert published >= {first, second, third}
    else:
        assert days == {first: "published", second: "failed"}
        assert first in published and third not in published
    assert not any(t.name.startswith("read ") and t.is_alive() for t in threading.enumerate())
