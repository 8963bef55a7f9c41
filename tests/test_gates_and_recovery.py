"""Batch-level quality gates, and recovery: a load killed midway leaves nothing behind and a
re-run ends in the same state as an uninterrupted run. On DuckDB and PostgreSQL."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from etl import load, pipeline
from etl.timeutil import Window
from tests.test_indicators_fixture import DOSSIERS, load_fixture

DAY = date(2022, 3, 15)


def record_batch(wh, entity, day, extracted, quarantined=0, status="succeeded"):
    window = Window.for_day(day)
    batch = load.open_batch(wh, entity.source, entity.name, window.start - timedelta(days=3), window.end)
    batch.extracted, batch.loaded, batch.quarantined = extracted, extracted - quarantined, quarantined
    if status == "succeeded":
        with wh.begin() as conn:
            load.close_batch(conn, batch)
    else:
        load.fail_batch(wh, batch, RuntimeError("HTTP 503 from the source"))


def daily_entities():
    return [load.entity(step.entity) for steps in pipeline.SOURCE_STEPS.values() for step in steps]


@pytest.fixture
def res(warehouse):
    with pipeline.Resources.from_env(warehouse.url) as resources:
        yield resources


def test_gates_pass_on_a_normal_day(res):
    for entity in daily_entities():
        for back in range(10, 0, -1):
            record_batch(res.warehouse, entity, DAY - timedelta(days=back), 100)
        record_batch(res.warehouse, entity, DAY, 90, quarantined=2)
    pipeline.check_quality_gates(res, DAY)


def test_gates_name_each_problem(res, monkeypatch):
    monkeypatch.setenv("QUARANTINE_MAX_SHARE", "0.05")
    dossier, payment, *others = daily_entities()
    for entity in daily_entities():
        for back in range(10, 0, -1):
            record_batch(res.warehouse, entity, DAY - timedelta(days=back), 100)
    record_batch(res.warehouse, dossier, DAY, 100, quarantined=30)    # too much quarantined
    record_batch(res.warehouse, payment, DAY, 0)                      # empty where there is normally data
    record_batch(res.warehouse, others[0], DAY, 5, status="failed")    # failed load
    # others[1] has no batch for the day at all; others[2] is fine
    record_batch(res.warehouse, others[2], DAY, 100)
    with pytest.raises(pipeline.QualityGateFailed) as err:
        pipeline.check_quality_gates(res, DAY)
    message = str(err.value)
    assert "onestop dossier" in message and "30 of 100 records quarantined" in message and "ops.quarantine" in message
    assert "onestop payment" in message and "0 records, against a median of 100" in message
    assert f"{others[0].source} {others[0].name}" in message and "HTTP 503" in message
    assert f"no {others[1].source} {others[1].name} batch ends at" in message
    assert f"{others[2].name} batch" not in message


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
