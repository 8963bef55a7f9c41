"""Indicator snapshots, computed in SQL (sql/indicators/), set based, for a range of snapshot dates
at once: every measure x period x agency x date, replacing those dates' rows in
mart.indicator_snapshot.

One run costs about the same for one date as for a year of dates: no step loops over the dates
(see sql/indicators/prepare.sql). A range is processed in chunks of at most one calendar year
(the longest period, year-to-date, restarts each 1 January).

An incremental run (`incremental=True`, the nightly restatement) starts from the published snapshot
of the day before the range, when that is possible (`base_date`): it reads only the dossiers whose
part in a figure can change after that day (sql/indicators/scope_changed.sql) and adds their change
to the published figures (incremental.sql), so its cost follows the days' changes, not the year to
date. Where the range starts a month or a quarter, the dossiers with an event in the month or quarter
that ends count differently after it: the run reads those too (`events_from`), unless they are the
year's (a range that starts February or April runs in full). It gives the same rows
as a full run (tests/test_indicators_incremental.py).
"""
from __future__ import annotations

import functools
import hashlib
import logging
import re
import time as clock
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from etl.warehouse import CREATED_TABLE, SQL_DIR, Warehouse, sql_file

log = logging.getLogger(__name__)
MEASURES_DIR = SQL_DIR / "indicators" / "measures"
PERIODS = ("day", "mtd", "qtd", "ytd")
PREPARE = "indicators/prepare.sql"
VERSIONS = "indicators/versions.sql"
SCOPE_ALL = "indicators/scope_all.sql"
SCOPE_CHANGED = "indicators/scope_changed.sql"


def _temp_tables(script: str) -> tuple[list[str], list[str]]:
    """The temporary tables a script fills (`CREATE TEMPORARY TABLE t AS ...`) and those it only
    declares (`CREATE TEMPORARY TABLE t (...)`) for the later steps to fill."""
    text = sql_file(script)
    return (CREATED_TABLE.findall(text),
            re.findall(r"CREATE TEMPORARY TABLE (\w+) \(", text))


# The working tables, named in prepare.sql and versions.sql only: those filled there, and those prepare.sql
# declares for the measures and services.sql to fill.
_FILLED, FILLED_LATER_TABLES = _temp_tables(PREPARE)
PREPARED_TABLES = _FILLED + _temp_tables(VERSIONS)[0]
# What versions.sql fills from the dossiers a run reads: a measure reading any of these counts only
# those dossiers, so an incremental run adds its change to the published figures.
DOSSIER_TABLES = frozenset(_temp_tables(VERSIONS)[0])


@functools.cache
def rules() -> str:
    """A fingerprint of the indicator rules, every file of sql/indicators/: a date published under other
    rules is no starting point for an incremental run (sql/ops/publication_current.sql)."""
    digest = hashlib.sha256()
    for path in sorted((SQL_DIR / "indicators").rglob("*.sql")):
        digest.update(path.relative_to(SQL_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def measure_codes() -> list[str]:
    """Each file in sql/indicators/measures/ computes the indicator it is named after, given as
    the bound parameter :indicator_code (the files write no code themselves)."""
    return sorted(p.stem for p in MEASURES_DIR.glob("*.sql"))


def counts_dossiers(code: str) -> bool:
    """Whether the measure reads the dossiers' working tables (and so, in an incremental run, only
    the dossiers that changed): every measure but those of the configuration."""
    return bool(DOSSIER_TABLES & set(re.findall(r"\bind_\w+", sql_file(f"indicators/measures/{code}.sql"))))


def prepare(wh: Warehouse, conn: Connection, params: dict, scope: str = SCOPE_ALL,
            codes: list[str] | None = None) -> None:
    """The working tables of a run (also the drill-down's, etl.explain), of the dossiers the `scope` script
    says it reads (the view ind_history): every dossier (SCOPE_ALL), only those whose part can change after
    params' range_start (SCOPE_CHANGED, an incremental run), or those of the figures a drill-down lists
    (explain/agencies.sql); for the indicators `codes` (default: all), a table that only others read left
    empty (versions.sql: want_<indicator>)."""
    wh.run_script(conn, PREPARE, params, analyze=True)
    wh.run_script(conn, scope, params, analyze=True)
    if scope == SCOPE_CHANGED:
        wh.analyze(conn, "ind_changed")  # filled by more than its CREATE
    wanted = {f"want_{code}": codes is None or code in codes for code in measure_codes()}
    wh.run_script(conn, VERSIONS, {**params, **wanted}, analyze=True)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def range_params(start: date, end: date, province: str, events_from: date | None = None) -> dict:
    """Bound parameters of the scripts for the snapshot dates start..end (both included); `events_from`
    (default start) is scope_changed.sql's (see `events_from`)."""
    cal_start = date(start.year, 1, 1)
    return {
        "range_start": start, "range_end": end, "cal_start": cal_start, "province": province,
        "start_ts": _midnight(start), "start_next_ts": _midnight(start + timedelta(days=1)),
        "end_next_ts": _midnight(end + timedelta(days=1)), "cal_start_ts": _midnight(cal_start),
        "events_from_ts": _midnight(events_from or start),
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


def base_date(wh: Warehouse, conn: Connection, start: date, end: date) -> date | None:
    """The date an incremental run of start..end can start from: the day before start, when its
    published snapshot is complete and the range lies in its year (ytd restarts each 1 January), needs
    less than every dossier of the year (`events_from`: not a range that starts February or April) and
    crosses no change of the agencies or of the service configuration (the services counted). The
    caller vouches that the day's snapshot is current (published after every change it counts)."""
    base = start - timedelta(days=1)
    [(stored, agencies, boundaries)] = wh.query(conn, "indicators/base_date.sql", {"b": base, "e": end})
    expected = agencies * len(PERIODS) * len(measure_codes())
    events = events_from(base, end)
    reads_the_year = events != base and events == date(base.year, 1, 1)
    why = ("the range starts a year" if base.year != end.year
           else "it would read the year's dossiers (events from 1 January)" if reads_the_year
           else "agencies or the service configuration change within the range" if boundaries
           else f"{base} has {stored} published rows, not {expected}" if stored != expected else None)
    if why:
        log.info("snapshots %s .. %s in full, not from %s: %s", start, end, base, why)
        return None
    return base


def events_from(base: date, end: date) -> date:
    """An incremental run from `base` over base + 1 .. end reads every dossier with an event on or after
    this date (scope_changed.sql). A dossier counts in the periods that hold its events, so one whose
    events all lie before the day, month and quarter that end within the range counts the same on
    each date of the range as on `base` (same year: base_date). That is base itself (its day ends),
    the first of base's month where the range starts a month, of base's quarter where it starts one."""
    if (end.month - 1) // 3 != (base.month - 1) // 3:
        return date(base.year, (base.month - 1) // 3 * 3 + 1, 1)
    return base.replace(day=1) if end.month != base.month else base


def _compute(wh: Warehouse, conn: Connection, start: date, end: date, province: str, incremental: bool) -> int:
    began = clock.monotonic()
    if analyzed := wh.refresh_statistics(conn):
        log.info("statistics refreshed (never analyzed, without statistics, or grown by a tenth): %s",
                 ", ".join(analyzed))
    base = base_date(wh, conn, start, end) if incremental else None
    events = events_from(base, end) if base else None
    params = range_params(base or start, end, province, events)
    prepare(wh, conn, params, SCOPE_CHANGED if base is not None else SCOPE_ALL)
    codes = measure_codes()
    for code in codes:
        conn.execute(sa.text("INSERT INTO ind_code (indicator_code, incremental) VALUES (:code, :inc)"),
                     {"code": code, "inc": counts_dossiers(code)})
        wh.run_script(conn, f"indicators/measures/{code}.sql", {**params, "indicator_code": code})
    wh.analyze(conn, "ind_service_fact", "ind_service_scope")  # what services.sql reads
    wh.run_script(conn, "indicators/services.sql", params)
    wh.analyze(conn, "ind_fact", "ind_code")  # what aggregate.sql reads (services.sql adds facts)
    wh.run_script(conn, "indicators/aggregate.sql", params, analyze=True)
    if base is not None:
        wh.run_script(conn, "indicators/incremental.sql", params)
    wh.run_script(conn, "indicators/publish.sql", range_params(start, end, province))
    wh.run_script(conn, "indicators/write.sql", range_params(start, end, province), analyze=True)
    rows = conn.exec_driver_sql("SELECT count(*) FROM ind_snapshot").scalar()
    conn.exec_driver_sql("DROP TABLE ind_snapshot")
    log.info("snapshots %s .. %s: %d rows (%d indicators%s) in %.1f s", start, end, rows, len(codes),
             f", incremental from {base}" + (f", events from {events}" if events != base else "") if base else "",
             clock.monotonic() - began)
    return int(rows)


def publish_range(wh: Warehouse, start: date, end: date, province: str, conn: Connection | None = None,
                  incremental: bool = False) -> int:
    """Compute the snapshots of every date from start to end (both included) and write the rows that
    differ from the published ones (sql/indicators/write.sql); returns the range's rows. In the caller's
    transaction when `conn` is given, else one transaction per year. The difference written for the
    last year of the range stays in the temporary table ind_revision (ops/publication_after.sql).
    `incremental`: the published snapshot of the day before start is current (see base_date)."""
    total = 0
    for lo, hi in year_chunks(start, end):
        if conn is not None:
            total += _compute(wh, conn, lo, hi, province, incremental)
        else:
            with wh.begin() as own:
                total += _compute(wh, own, lo, hi, province, incremental)
    return total


def publish_snapshot(wh: Warehouse, conn: Connection, day: date, province: str, incremental: bool = False) -> int:
    """Compute and write the snapshot of `day` inside the caller's transaction; returns rows written."""
    return publish_range(wh, day, day, province, conn, incremental)
