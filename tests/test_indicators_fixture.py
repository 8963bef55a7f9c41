"""Hand-built dossiers with every value worked out by hand, on DuckDB and on PostgreSQL.

The province and its dossiers are in tests/fixtures/small_province.py (agencies ROOT > DEPT,
ROOT > DIST > COMM; snapshot date 2022-03-15), what makes each one count in the comments there.
"""
import json
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import indicators
from etl.validate import build_data_docs, data_docs_dir
from tests.fixtures.small_province import COMM, DEPT, DIST, DOSSIERS, ROOT, D, load_fixture, version

# (agency, period) -> (numerator, denominator)
EXPECTED_ONLINE = {
    (DEPT, "day"): (1, 1), (COMM, "day"): (0, 0), (DIST, "day"): (0, 0), (ROOT, "day"): (1, 1),
    (DEPT, "mtd"): (2, 2), (COMM, "mtd"): (1, 3), (DIST, "mtd"): (1, 3), (ROOT, "mtd"): (3, 5),
    (DEPT, "qtd"): (2, 2), (COMM, "qtd"): (2, 4), (DIST, "qtd"): (2, 6), (ROOT, "qtd"): (4, 8),
    (DEPT, "ytd"): (2, 2), (COMM, "ytd"): (2, 4), (DIST, "ytd"): (2, 6), (ROOT, "ytd"): (4, 8),
}
EXPECTED_ON_TIME = {
    (DEPT, "day"): (1, 2), (COMM, "day"): (1, 3), (DIST, "day"): (2, 4), (ROOT, "day"): (3, 6),
    (DEPT, "mtd"): (1, 2), (COMM, "mtd"): (1, 4), (DIST, "mtd"): (2, 5), (ROOT, "mtd"): (3, 7),
    (DEPT, "qtd"): (1, 2), (COMM, "qtd"): (1, 4), (DIST, "qtd"): (2, 6), (ROOT, "qtd"): (3, 8),
    (DEPT, "ytd"): (1, 2), (COMM, "ytd"): (1, 4), (DIST, "ytd"): (2, 6), (ROOT, "ytd"): (3, 8),
}


def snapshot(wh, day=D):
    with wh.begin() as conn:
        indicators.publish_snapshot(wh, conn, day, "lao_cai")
        rows = conn.execute(sa.text(
            "SELECT agency_code, period, indicator_code, numerator, denominator, value, target, meets_target "
            "FROM mart.indicator_snapshot WHERE snapshot_date = :d"), {"d": day}).all()
    return {(r.agency_code, r.period, r.indicator_code): r for r in rows}


def test_hand_worked_indicators(warehouse):
    load_fixture(warehouse, [DOSSIERS[:4], DOSSIERS[4:]])
    rows = snapshot(warehouse)
    assert len(rows) == 4 * 4 * len(indicators.measure_codes())
    for code, expected in (("online_dossier_rate", EXPECTED_ONLINE), ("on_time_rate", EXPECTED_ON_TIME)):
        for (agency_code, period), (num, den) in expected.items():
            row = rows[(agency_code, period, code)]
            assert (row.numerator, row.denominator) == (num, den), (code, agency_code, period)
            assert row.value == (pytest.approx(num / den) if den else None)
    # Lào Cai's plan: 65 % of dossiers online, for every agency; no on-time target for Lào Cai.
    root_ytd = rows[(ROOT, "ytd", "online_dossier_rate")]
    assert root_ytd.target == pytest.approx(0.65) and root_ytd.meets_target is False
    assert rows[(DEPT, "ytd", "online_dossier_rate")].meets_target is True
    assert rows[(COMM, "day", "online_dossier_rate")].meets_target is None  # no value
    assert rows[(ROOT, "ytd", "on_time_rate")].target is None


def test_reloading_and_republishing_changes_nothing(warehouse):
    load_fixture(warehouse, [DOSSIERS])
    first = snapshot(warehouse)
    with warehouse.begin() as conn:
        core_before = conn.exec_driver_sql(
            "SELECT * FROM core.dossier_history ORDER BY dossier_code, updated_at").all()
    load_fixture(warehouse, [list(reversed(DOSSIERS)), DOSSIERS[:3]])  # same versions, other order, repeats
    second = snapshot(warehouse)
    with warehouse.begin() as conn:
        core_after = conn.exec_driver_sql(
            "SELECT * FROM core.dossier_history ORDER BY dossier_code, updated_at").all()
        current = dict(conn.exec_driver_sql("SELECT dossier_code, status FROM core.dossier").all())
        staging_left = conn.exec_driver_sql("SELECT count(*) FROM staging.dossier").scalar()
    assert first == second
    assert core_before == core_after
    assert current["d7"] == 9, "the current row is the latest version"
    assert staging_left == 0


def test_snapshot_of_an_earlier_day_uses_the_versions_of_that_day(warehouse):
    load_fixture(warehouse, [DOSSIERS])
    rows = snapshot(warehouse, date(2022, 3, 16))
    # d7 finished on 03-16 after its due date: now resolved late, still counted for DEPT
    assert (rows[(DEPT, "day", "on_time_rate")].numerator, rows[(DEPT, "day", "on_time_rate")].denominator) == (0, 1)
    rows_15 = snapshot(warehouse, D)
    assert rows_15[(DEPT, "day", "on_time_rate")].denominator == 2


def test_bad_records_are_quarantined_with_their_reason_and_the_rest_loads(warehouse, monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DOCS_DIR", str(tmp_path / "data_docs"))  # its own: no other run's pages
    bad = [
        version("bad-agency", "XX.UNKNOWN", "20220315100000", received="20220315100000", due="20220320170000"),
        version("bad-due", DEPT, "20220315100000", received="20220315100000", due="20220301170000"),
        version("bad-date", DEPT, "20220315100000", received="20221345100000", due="20220320170000"),
        {**version("", DEPT, "20220315100000"), "MaHoSo": None},
    ]
    batch = load_fixture(warehouse, [DOSSIERS + bad])
    assert (batch.extracted, batch.loaded, batch.quarantined) == (len(DOSSIERS) + 4, len(DOSSIERS), 4)
    with warehouse.begin() as conn:
        reasons = dict(conn.exec_driver_sql("SELECT record_key, failed_expectations FROM ops.quarantine").all())
        payloads = " ".join(r[0] for r in conn.exec_driver_sql("SELECT payload FROM ops.quarantine"))
        loaded = {r[0] for r in conn.exec_driver_sql("SELECT dossier_code FROM core.dossier")}
        result = conn.execute(sa.text("SELECT success, rows_checked, rows_failed, details FROM ops.validation_result "
                                      "WHERE batch_id = :b"), {"b": batch.batch_id}).one()
    assert (result.success, result.rows_checked, result.rows_failed) == (False, len(DOSSIERS) + 4, 4)
    assert json.loads(result.details)["expect_column_values_to_be_in_set(agency_code)"] == 1
    assert "expect_column_values_to_be_in_set(agency_code)" in reasons["bad-agency"]
    assert "expect_column_pair_values_a_to_be_greater_than_b(due_at,received_at)" in reasons["bad-due"]
    assert "expect_column_values_to_match_strftime_format(received_at_raw)" in reasons["bad-date"]
    assert "expect_column_values_to_not_be_null(dossier_code)" in reasons["?"]
    assert "Trần Thị Bình" not in payloads and "010203040506" not in payloads
    assert loaded == {d["MaHoSo"] for d in DOSSIERS}
    # The batch's validation is also published as Great Expectations Data Docs (HTML).
    build_data_docs()  # once at the end of a run
    pages = [p for d in (Path(data_docs_dir()) / "validations" / "dossier").glob(f"*_batch-{batch.batch_id}")
             for p in d.rglob("*.html")]
    assert pages, "no Data Docs page for the batch"
    assert "agency_code" in pages[0].read_text(), "the page shows the failed expectation's column"
