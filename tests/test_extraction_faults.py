"""Nothing lost, nothing doubled: a month extracted from a simulator that fails, throttles,
truncates, repeats rows across pages and delivers updates late ends in the same core tables as
the same month from a well-behaved one. Bad records are quarantined with their reasons."""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from etl import pipeline
from mocks.testing import run_simulator

pytestmark = pytest.mark.slow

SEED, VOLUME = 11, 10_000
# January in CI; FAULT_TEST_MONTHS=3 checks a quarter (about 20 minutes: add --timeout 1800).
MONTHS = int(os.environ.get("FAULT_TEST_MONTHS") or 1)
MONTH_END = datetime(2022, 1 + MONTHS, 1)
# Late updates arrive up to 3 days late: extract a few days past the months so every record
# stamped within them has arrived, then compare the months.
DAYS = [date(2022, 1, 1) + timedelta(days=i) for i in range((MONTH_END - datetime(2022, 1, 1)).days + 4)]
TRANSPORT_FAULTS = ["http5xx=0.2", "rate429=0.2", "malformed=0.2", "duplicates=0.2", "late_updates=0.2", "slow=0.2"]

# table -> (stamp column restricting it to the month, key columns)
HISTORY = {
    "core.dossier_history": "updated_at",
    "core.sync_receipt": "synced_at",
    "core.paygov_transaction": "transaction_at",
}
CURRENT = {"core.payment": "transaction_id", "core.postal_order": "item_code"}


def extract(base_url: str, warehouse_url: str, monkeypatch) -> None:
    for name in ("ONESTOP_URL", "NDXP_URL", "VNPOST_URL"):
        monkeypatch.setenv(name, base_url)
    with pipeline.Resources.from_env(warehouse_url) as res:
        for client in (res.onestop, res.ndxp, res.vnpost):
            client.backoff, client.max_backoff, client.max_attempts, client.timeout = 0.02, 0.2, 15, 10
        pipeline.migrate(res)
        pipeline.load_reference(res, DAYS[0])
        for day in DAYS:
            pipeline.load_sources(res, day)


def rows(engine, sql: str) -> set[tuple]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.exec_driver_sql(sql)}


def without_batch(engine, table: str, where: str) -> set[tuple]:
    """The rows, less the columns that say when we learnt them (batch_id) or that depend on
    versions after the month (valid_to)."""
    with engine.connect() as conn:
        columns = [c for c in conn.exec_driver_sql(f"SELECT * FROM {table} WHERE 1 = 0").keys()
                   if c not in ("batch_id", "valid_to")]
    return rows(engine, f"SELECT {', '.join(columns)} FROM {table} WHERE {where}")


@pytest.fixture(scope="module")
def clean_and_faulty(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    urls = {}
    try:
        for name, faults in (("clean", []), ("faulty", TRANSPORT_FAULTS)):
            url = f"duckdb:///{tmp_path_factory.mktemp(name) / 'warehouse.duckdb'}"
            with run_simulator(seed=SEED, dossiers_per_year=VOLUME, faults=faults, slow_seconds=0.2) as base_url:
                extract(base_url, url, monkeypatch)
            urls[name] = url
    finally:
        monkeypatch.undo()
    engines = {k: sa.create_engine(v) for k, v in urls.items()}
    yield engines["clean"], engines["faulty"]
    for engine in engines.values():
        engine.dispose()


def test_faulty_sources_give_the_same_month(clean_and_faulty):
    clean, faulty = clean_and_faulty
    month = f"< TIMESTAMP '{MONTH_END:%Y-%m-%d %H:%M:%S}'"
    for table, stamp in HISTORY.items():
        expected = without_batch(clean, table, f"{stamp} {month}")
        assert expected, f"{table} is empty: nothing was tested"
        assert without_batch(faulty, table, f"{stamp} {month}") == expected, table
    for table, key in CURRENT.items():
        expected = without_batch(clean, table, f"updated_at {month}")
        assert expected, f"{table} is empty: nothing was tested"
        # a record whose latest version is from the month has no later version: faulty has the same
        assert expected <= without_batch(faulty, table, "TRUE"), table
        keys = f"SELECT {key} FROM {table} WHERE created_at {month}" if table == "core.postal_order" else \
            f"SELECT {key} FROM {table} WHERE transaction_at {month}"
        assert rows(faulty, keys) == rows(clean, keys), f"{table}: records lost or invented"
    for table in ("core.agency", "core.procedure", "core.service_config", "core.integrated_service"):
        assert without_batch(faulty, table, "TRUE") == without_batch(clean, table, "TRUE"), table
    # Nothing doubled: the faulty run repeated rows and pages, the warehouse holds each once.
    count = "SELECT count(*), count(DISTINCT dossier_code || CAST(updated_at AS text)) FROM core.dossier_history"
    (total, distinct), = rows(faulty, count)
    assert total == distinct


def test_bad_records_are_quarantined_and_the_rest_loads(tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    with run_simulator(seed=SEED, dossiers_per_year=VOLUME, faults=["bad_records=0.05"]) as base_url:
        for name in ("ONESTOP_URL", "NDXP_URL", "VNPOST_URL"):
            monkeypatch.setenv(name, base_url)
        with pipeline.Resources.from_env(url) as res:
            pipeline.migrate(res)
            pipeline.load_reference(res, DAYS[0])
            for day in DAYS[:7]:
                pipeline.load_sources(res, day)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        by_entity = dict(conn.exec_driver_sql("SELECT entity, count(*) FROM ops.quarantine GROUP BY entity").all())
        reasons = " ".join(r[0] for r in conn.exec_driver_sql("SELECT failed_expectations FROM ops.quarantine"))
        loaded = conn.exec_driver_sql("SELECT count(*) FROM core.dossier_history").scalar()
        batches = conn.exec_driver_sql("SELECT sum(extracted), sum(loaded), sum(quarantined) FROM ops.batch "
                                       "WHERE entity = 'dossier'").one()
    engine.dispose()
    assert by_entity.get("dossier", 0) > 0 and loaded > 0
    assert batches[0] == batches[1] + batches[2], "every extracted record is either loaded or quarantined"
    for expectation in ("expect_column_values_to_be_in_set(agency_code)",
                        "expect_column_pair_values_a_to_be_greater_than_b(due_at,received_at)",
                        "expect_column_values_to_match_strftime_format"):
        assert expectation in reasons
