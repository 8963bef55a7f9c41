"""Indicator snapshots, computed in SQL (sql/indicators/), set based, for a range of snapshot dates
at once: every measure x period x agency x date, replacing those dates' rows in
mart.indicator_snapshot.

One run costs about the same for one date as for a year of dates: no step loops over the dates
(see sql/indicators/prepare.sql). A range is processed in chunks of at most one calendar year
(the longest period, year-to-date, restarts each 1 January).
"""
from __future__ import annotations

import logging
import time as clock
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from etl.warehouse import SQL_DIR, Warehouse

log = logging.getLogger(__name__)
MEASURES_DIR = SQL_DIR / "indicators" / "measures"
PERIODS = ("day", "mtd", "qtd", "ytd")


def measure_codes() -> list[str]:
    """Each file in sql/indicators/measures/ computes the indicator it is named after."""
    return sorted(p.stem for p in MEASURES_DIR.glob("*.sql"))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def range_params(start: date, end: date, province: str) -> dict:
    """Bound parameters of the scripts for the snapshot dates start..end (both included)."""
    cal_start = date(start.year, 1, 1)
    return {
        "range_start": start, "range_end": end, "cal_start": cal_start, "province": province,
        "start_ts": _midnight(start), "start_next_ts": _midnight(start + timedelta(days=1)),
        "end_next_ts": _midnight(end + timedelta(days=1)), "cal_start_ts": _midnight(cal_start),
    }


def year_chunks(start: date, end: date) -> list[tuple[date, date]]:
    """start..end cut at each 1 January."""
    if end < start:
        raise ValueError(f"empty range {start} .. {end}")
    chunks = []
    while start <= end:
        last = min(end, date(start.year, 12, 31))
        chunks.append((start, last))
        start = last + timedelta(days=1)
    return chunks


def _analyze(wh: Warehouse, conn: Connection, *tables: str) -> None:
    """PostgreSQL plans temporary tables without statistics (autovacuum never sees them): with
    millions of facts it then guesses badly (sort-based aggregates spilling to disk). DuckDB
    keeps its statistics up to date by itself."""
    if wh.dialect == "postgresql":
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")


def _compute(wh: Warehouse, conn: Connection, start: date, end: date, province: str) -> int:
    params = range_params(start, end, province)
    began = clock.monotonic()
    wh.run_script(conn, "indicators/prepare.sql", params)
    _analyze(wh, conn, "ind_period_end", "ind_epoch", "ind_epoch_agency", "ind_agency_map", "ind_rollup",
             "ind_version", "ind_recv", "ind_ended", "ind_open", "ind_config", "ind_paid_tx", "ind_postal")
    codes = measure_codes()
    for code in codes:
        conn.execute(sa.text("INSERT INTO ind_code (indicator_code) VALUES (:code)"), {"code": code})
        wh.run_script(conn, f"indicators/measures/{code}.sql", params)
    _analyze(wh, conn, "ind_service_fact", "ind_service_scope")
    wh.run_script(conn, "indicators/services.sql", params)
    _analyze(wh, conn, "ind_fact", "ind_code")
    wh.run_script(conn, "indicators/aggregate.sql", params)
    wh.run_script(conn, "indicators/publish.sql", params)
    rows = conn.execute(sa.text(
        "SELECT count(*) FROM mart.indicator_snapshot WHERE snapshot_date >= :s AND snapshot_date <= :e"),
        {"s": start, "e": end}).scalar()
    log.info("snapshots %s .. %s: %d rows (%d indicators) in %.1f s", start, end, rows, len(codes),
             clock.monotonic() - began)
    return int(rows)


def publish_range(wh: Warehouse, start: date, end: date, province: str, conn: Connection | None = None) -> int:
    """Compute and write the snapshots of every date from start to end (both included); returns the
    rows written. In the caller's transaction when `conn` is given, else one transaction per year."""
    total = 0
    for lo, hi in year_chunks(start, end):
        if conn is not None:
            total += _compute(wh, conn, lo, hi, province)
        else:
            with wh.begin() as own:
                total += _compute(wh, own, lo, hi, province)
    return total


def publish_snapshot(wh: Warehouse, conn: Connection, day: date, province: str) -> int:
    """Compute and write the snapshot of `day` inside the caller's transaction; returns rows written."""
    return publish_range(wh, day, day, province, conn)
