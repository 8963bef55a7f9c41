"""The feed registry is the one place a kind of source record is declared: a toy feed added with
only its registry entry (and frame spec), a suite and a table loads, is validated, quarantines its bad
records, and joins the gates and the DAG's groups."""
from __future__ import annotations

import json
import shutil
from datetime import date

import sqlalchemy as sa

DAY = date(2022, 3, 15)
READINGS = [{"MaDoc": "t1", "NgayCapNhat": "20220315100000", "GiaTri": "7"},
            {"MaDoc": None, "NgayCapNhat": "20220315110000", "GiaTri": "8"}]


def test_a_toy_feed_needs_its_entry_a_suite_and_a_table(warehouse, monkeypatch, tmp_path):
    from etl import feeds, pipeline, transform, validate

    toy = feeds.Feed("toy_reading", "onestop", lambda client, window: iter([READINGS]), "TOY_READING",
                     "reading_id", "core.toy_reading", ("reading_id",), stamps=("updated_at",))
    monkeypatch.setattr(feeds, "FEEDS", (*feeds.FEEDS, toy))
    monkeypatch.setitem(feeds.BY_NAME, toy.name, toy)
    monkeypatch.setattr(transform, "TOY_READING", transform.Spec((
        transform.Field("reading_id", "MaDoc", transform.text),
        transform.Field("updated_at", "NgayCapNhat", transform.onestop_time, raw=True),
        transform.Field("value", "GiaTri", transform.integer))), raising=False)
    suites = tmp_path / "expectations"
    shutil.copytree(validate.EXPECTATIONS_DIR, suites)
    (suites / "toy_reading.json").write_text(json.dumps({"name": "toy_reading", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "reading_id"}}]}))
    monkeypatch.setattr(validate, "EXPECTATIONS_DIR", suites)
    monkeypatch.setenv("DATA_DOCS_DIR", "")
    with warehouse.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE core.toy_reading (reading_id text PRIMARY KEY, updated_at timestamp, "
                             "value bigint, batch_id bigint, record_hash text)")

    with pipeline.Resources.from_env(warehouse.url) as res:
        batch = pipeline.load_daily(res, "toy_reading", DAY)
        assert "toy_reading" in [e.name for e in pipeline.daily_entities()]  # the gates judge it
    assert (batch.extracted, batch.loaded, batch.quarantined, batch.day_records) == (2, 1, 1, 2)
    with warehouse.begin() as conn:
        assert conn.exec_driver_sql("SELECT reading_id, value FROM core.toy_reading").all() == [("t1", 7)]
        reason = conn.execute(sa.text("SELECT failed_expectations FROM ops.quarantine WHERE entity = 'toy_reading'"))
        assert reason.scalar() == "expect_column_values_to_not_be_null(reading_id)"
    assert [f.name for f in feeds.daily_by_system()["onestop"]][-1] == "toy_reading"  # its DAG task


def test_docs_sources_table_names_every_feed_and_nothing_else():
    import re
    from pathlib import Path

    from etl import feeds

    text = (Path(__file__).resolve().parent.parent / "docs" / "sources.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"\| `(core\.[a-z_]+)` \|$", text, flags=re.MULTILINE))
    assert documented == {f.table for f in feeds.FEEDS}, "docs/sources.md's tables must follow etl/feeds.py"


# Every column of the table a feed with `restating` loads, changed without changing what `restating`
# reads (its key, batch_id and record_hash aside): the snapshots must not move, or `restating` misses a column the
# indicators read and a night would not restate the dates such a change affects.
QUIET_CHANGES = {
    "payment": {"amount": "amount + 1", "channel": "'CHANGED'", "receipt_no": "'changed'",
                "updated_at": "updated_at + INTERVAL '1 day'",
                "status": "CASE status WHEN 'paid' THEN 'refunded' WHEN 'refunded' THEN 'paid' "
                          "WHEN 'pending' THEN 'cancelled' ELSE 'pending' END"},
    "postal_order": {"delivered_at": "COALESCE(delivered_at, created_at) + INTERVAL '1 day'",
                     "cod_amount": "COALESCE(cod_amount, 0) + 1", "receiver_province": "'changed'",
                     "updated_at": "updated_at + INTERVAL '1 day'",
                     "collection_status": "CASE WHEN collection_status = 4 THEN 4 "
                                          "WHEN collection_status = 3 THEN 1 ELSE 3 END"},
}


def test_restating_lists_every_column_the_snapshots_read(warehouse):
    from etl import feeds, indicators
    from tests.fixtures.all_indicators import D, load_fixture

    load_fixture(warehouse)
    start = date(D.year, 1, 1)

    def snapshots():
        indicators.publish_range(warehouse, start, D, "lao_cai")
        with warehouse.begin() as conn:
            return conn.exec_driver_sql(
                "SELECT snapshot_date, period, agency_code, indicator_code, numerator, denominator "
                "FROM mart.indicator_snapshot ORDER BY 1, 2, 3, 4").all()

    before = snapshots()
    with warehouse.begin() as conn:
        for name, sets in QUIET_CHANGES.items():
            feed = feeds.feed(name)
            columns = set(conn.exec_driver_sql(f"SELECT * FROM {feed.table} WHERE 1 = 0").keys())
            plain = {e for e in feed.restating if "{t}" not in e}
            assert set(sets) == columns - plain - set(feed.key) - {"batch_id", "record_hash"}, name
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {feed.table}").scalar() > 0
            conn.exec_driver_sql(f"UPDATE {feed.table} SET " + ", ".join(f"{c} = {v}" for c, v in sets.items()))
    after = snapshots()
    assert before and after == before
