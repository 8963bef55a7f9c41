"""Indicator snapshots, computed in SQL (sql/indicators/), set based, for a range of snapshot dates
at once: every measure x period x agency x date, replacing those dates' rows in
mart.indicator_snapshot.

One run costs about the same for one date as for a year of dates: no step loops over the dates
(see sql/indicators/prepare.sql). A range is processed in chunks of at most one calendar year
(the longest period, year-to-date, restarts each 1 January).
"""
from __future__ import annotations

import logging
import re
import time as clock
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from etl.warehouse import SQL_DIR, Warehouse, sql_file

log = logging.getLogger(__name__)
MEASURES_DIR = SQL_DIR / "indicators" / "measures"
PERIODS = ("day", "mtd", "qtd", "ytd")
PREPARE = "indicators/prepare.sql"


def _temp_tables(script: str) -> tuple[list[str], list[str]]:
    """The temporary tables a script fills (`CREATE TEMPORARY TABLE t AS ...`) and those it only
    declares (`CREATE TEMPORARY TABLE t (...)`) for the later steps to fill."""
    text = sql_file(script)
    return (re.findall(r"CREATE TEMPORARY TABLE (\w+) AS\b", text),
            re.findall(r"CREATE TEMPORARY TABLE (\w+) \(", text))


# The working tables are named in prepare.sql only; each needs statistics once it is filled.
PREPARED_TABLES, FILLED_LATER_TABLES = _temp_tables(PREPARE)


def measure_codes() -> list[str]:
    """Each file in sql/indicators/measures/ computes the indicator it is named after, given as
    the bound parameter :indicator_code (the files write no code themselves)."""
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


def _compute(wh: Warehouse, conn: Connection, start: date, end: date, province: str) -> int:
    params = range_params(start, end, province)
    began = clock.monotonic()
    wh.run_script(conn, PREPARE, params)
    wh.analyze(conn, *PREPARED_TABLES)
    codes = measure_codes()
    for code in codes:
        conn.execute(sa.text("INSERT INTO ind_code (indicator_code) VALUES (:code)"), {"code": code})
        wh.run_script(conn, f"indicators/measures/{code}.sql", {**params, "indicator_code": code})
    wh.analyze(conn, *FILLED_LATER_TABLES)  # services.sql reads the service facts
    wh.run_script(conn, "indicators/services.sql", params)
    wh.analyze(conn, *FILLED_LATER_TABLES)  # aggregate.sql reads every fact
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
