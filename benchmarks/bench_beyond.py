"""What a night, and a BI read of one night, costs for the objects beyond the indicators --
mart.data_quality, mart.agency_score and its parts, mart.target_trajectory and the drill-down
(`python -m etl explain`) -- at 1 million dossiers a year, on DuckDB and PostgreSQL, for a date
early in the year and one late: a read that follows the day costs the same on both dates, one that
follows the history grows with it.

    .venv/bin/python benchmarks/bench_beyond.py [--dossiers-per-year 1000000] [--runs 3]
        [--duckdb /tmp/bench12/beyond.duckdb] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/bench12_pg]
        [--dates 2022-01-31,2022-12-31] [--only duckdb|postgresql] [--objects quality,score,trajectory,explain]
        [--keep]

Data. The year of dossiers, payments, PayGov transactions, sync receipts and postal orders of
bench_indicators.py (numpy, the simulator's Lào Cai 2022 profile; its functions are imported),
bulk-inserted into core. The views over ops need the nightly run's bookkeeping too, which a bulk
insert does not write, so this script writes what a year of nightly runs would have:

- ops.batch: for every data day D and each of the five daily feeds (onestop dossier and payment,
  ndxp sync_receipt and paygov_transaction, vnpost postal_order) one succeeded batch with the
  window [D - 3, D + 1) (the default look-back), its records read (extracted: those stamped in the
  window), of day D (day_records), loaded, quarantined, waiting (pending) and the earliest change
  it loaded (changed_from); on 3 % of the days a failed attempt before it;
- each core row's batch_id: the batch of the day it changed on, or, for 1.5 % of them, of a day
  1-3 days later (a late arrival); the rows are inserted in that order, as the nightly appends
  leave them on disk;
- ops.quarantine: about 2 rejected records per dossier batch and 0.5 per other batch, failing one
  or two of a handful of expectations, 60 % resolved by the next day's batch;
- ops.pending: 40 records first seen in the year's last three days, still waiting.

The indicator snapshots (mart.indicator_snapshot, every date of the year, what the scores and
the trajectory read) are computed once with etl.indicators.publish_range on DuckDB and copied to
PostgreSQL: the same rows, and the cost of computing them is bench_indicators.py's subject.

What is timed, each --runs times (min and median), for each date D of --dates:

- mart.data_quality WHERE data_day = D (every source and agency row of the day);
- mart.agency_score_part and mart.agency_score WHERE snapshot_date = D AND period = 'ytd';
- mart.target_trajectory WHERE snapshot_date = D;
- etl.explain.explain(D, 'ytd', agency, 'on_time_rate'), for the agency with the most dossiers and
  for the province root (every dossier of the province).

--keep reuses the warehouses already built (new migrations are applied to them).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_indicators import YEAR, bulk_load, load_reference, synthetic_year

from etl import explain, indicators
from etl.warehouse import Warehouse

PROVINCE = "lao_cai"
ROOT_AGENCY = "000.00.00.H13"
INDICATOR = "on_time_rate"
LOOKBACK_DAYS = 3
FIRST_BATCH = 10_000       # above the reference data's batches (ops.batch_id_seq)
# (source, entity, core table, the column a row's day is read from)
FEEDS = [("onestop", "dossier", "core.dossier_history", "updated_at"),
         ("onestop", "payment", "core.payment", "updated_at"),
         ("ndxp", "sync_receipt", "core.sync_receipt", "synced_at"),
         ("ndxp", "paygov_transaction", "core.paygov_transaction", "transaction_at"),
         ("vnpost", "postal_order", "core.postal_order", "updated_at")]
REASONS = ["expect_column_values_to_not_be_null(agency_code)", "expect_column_values_to_be_in_set(status)",
           "expect_column_values_to_match_strftime_format(updated_at_raw)",
           "expect_column_values_to_be_in_set(agency_code)", "expect_column_values_to_not_be_null(channel)"]


# -- the nightly run's bookkeeping ---------------------------------------------------------------
def batch_id(day_index, feed: int, failed=False):
    """Ten ids a day: failed attempts 0-4, succeeded batches 5-9 (the last batch of a day is its success)."""
    return FIRST_BATCH + 10 * day_index + feed + (0 if failed else 5)


def nightly_bookkeeping(frames: dict[str, pd.DataFrame], seed: int = 12) -> dict[str, pd.DataFrame]:
    """Give every core row the batch that loaded it and write the ops rows of those batches."""
    rng = np.random.default_rng(seed)
    origin = np.datetime64(f"{YEAR}-01-01")
    batches, quarantine = [], []
    for feed, (source, entity, table, stamp) in enumerate(FEEDS):
        frame = frames[table]
        stamped = frame[stamp].values.astype("datetime64[D]")
        changed = (stamped - origin).astype(int)
        late = rng.random(len(frame)) < 0.015
        loaded = changed + np.where(late, rng.integers(1, LOOKBACK_DAYS + 1, len(frame)), 0)
        frame["batch_id"] = batch_id(loaded, feed)
        days = np.arange(0, loaded.max() + 1)
        of_day = np.bincount(changed, minlength=len(days) + LOOKBACK_DAYS)[:len(days)]
        window = np.convolve(of_day, np.ones(LOOKBACK_DAYS + 1, dtype=int))[:len(days)]
        n_loaded = np.bincount(loaded, minlength=len(days))
        first_change = pd.Series(frame[stamp].values).groupby(loaded).min().reindex(days)
        rejected = rng.poisson(2.0 if entity == "dossier" else 0.5, len(days))
        waiting = rng.poisson(3, len(days))
        day = origin + days.astype("timedelta64[D]")
        run_at = (day + np.timedelta64(1, "D")).astype("datetime64[s]") + np.timedelta64(3600, "s")
        batches.append(pd.DataFrame({
            "batch_id": batch_id(days, feed), "source": source, "entity": entity,
            "window_start": (day - np.timedelta64(LOOKBACK_DAYS, "D")).astype("datetime64[s]"),
            "window_end": (day + np.timedelta64(1, "D")).astype("datetime64[s]"), "status": "succeeded",
            "extracted": window + rejected, "loaded": n_loaded, "quarantined": rejected,
            "started_at": run_at, "finished_at": run_at + np.timedelta64(600, "s"), "message": None,
            "day_records": of_day, "pending": waiting, "retried": waiting, "changed_from": first_change.values}))
        failed_days = days[rng.random(len(days)) < 0.03]
        fday = origin + failed_days.astype("timedelta64[D]")
        none = pd.array([None] * len(failed_days), dtype="Int64")
        batches.append(pd.DataFrame({
            "batch_id": batch_id(failed_days, feed, failed=True), "source": source, "entity": entity,
            "window_start": (fday - np.timedelta64(LOOKBACK_DAYS, "D")).astype("datetime64[s]"),
            "window_end": (fday + np.timedelta64(1, "D")).astype("datetime64[s]"), "status": "failed",
            "extracted": none, "loaded": none, "quarantined": none,
            "started_at": (fday + np.timedelta64(1, "D")).astype("datetime64[s]"),
            "finished_at": (fday + np.timedelta64(1, "D")).astype("datetime64[s]") + np.timedelta64(60, "s"),
            "message": "HTTP 503 from the source", "day_records": none, "pending": none, "retried": none,
            "changed_from": pd.NaT}))
        first = np.repeat(days, rejected)
        two = rng.random(len(first)) < 0.2
        reasons = np.array(REASONS, dtype=object)
        one = reasons[rng.integers(0, len(REASONS), len(first))]
        failed_exp = np.where(two, one + "; " + reasons[rng.integers(0, len(REASONS), len(first))], one)
        resolved = rng.random(len(first)) < 0.6
        quarantine.append(pd.DataFrame({
            "source": source, "entity": entity,
            "record_key": [f"{entity}-Q{i:06d}" for i in range(len(first))], "payload_hash": "0" * 64,
            "payload": "{}", "failed_expectations": failed_exp,
            "batch_id": batch_id(np.where(resolved, first + 1, first), feed),
            "first_batch_id": batch_id(first, feed),
            "resolved_batch_id": pd.Series(batch_id(first + 1, feed), dtype="Int64").where(resolved),
            "resolved_at": pd.Series(np.where(resolved, (origin + (first + 1).astype("timedelta64[D]")).astype(
                "datetime64[s]") + np.timedelta64(90000, "s"), np.datetime64("NaT"))).values}))
    last = max(int(b["batch_id"].max()) for b in batches)
    last_day = (last - FIRST_BATCH) // 10
    seen = rng.integers(last_day - 2, last_day + 1, 40)
    pending = pd.DataFrame({
        "source": "onestop", "entity": "payment", "record_key": [f"TXP{i:05d}" for i in range(40)],
        "payload_hash": "0" * 64, "payload": "{}", "dossier_code": [f"MISSING-{i:05d}" for i in range(40)],
        "first_seen_day": origin + seen.astype("timedelta64[D]"), "first_batch_id": batch_id(seen, 1),
        "last_batch_id": batch_id(np.full(40, last_day), 1)})
    return {"ops.batch": pd.concat(batches, ignore_index=True),
            "ops.quarantine": pd.concat(quarantine, ignore_index=True), "ops.pending": pending}


# -- building the warehouses ---------------------------------------------------------------------
def fresh(url: str) -> Warehouse:
    if url.startswith("postgresql"):
        admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
    else:
        path = Path(url[len("duckdb:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
    wh = Warehouse(url)
    wh.migrate()
    return wh


def build(url: str, frames: dict[str, pd.DataFrame], snapshots: pd.DataFrame | None) -> Warehouse:
    """A warehouse holding the year; its snapshots computed here (None) or copied."""
    wh = fresh(url)
    began = time.perf_counter()
    load_reference(wh, PROVINCE)
    # in load order, as nightly appends leave the tables (what indexes and DuckDB's zone maps see)
    core = {t: f.sort_values("batch_id", kind="stable") for t, f in frames.items() if t.startswith("core.")}
    bulk_load(wh, core)
    with wh.begin() as conn:
        for table in ("ops.batch", "ops.quarantine", "ops.pending"):
            wh.bulk_insert(conn, frames[table], table)
        wh.analyze(conn, "ops.batch", "ops.quarantine", "ops.pending")
    print(f"{wh.dialect}: year loaded in {time.perf_counter() - began:.0f} s", flush=True)
    began = time.perf_counter()
    if snapshots is None:
        indicators.publish_range(wh, date(YEAR, 1, 1), date(YEAR, 12, 31), PROVINCE)
        print(f"{wh.dialect}: a year of snapshots computed in {time.perf_counter() - began:.0f} s", flush=True)
    else:
        with wh.begin() as conn:
            conn.exec_driver_sql("DELETE FROM mart.indicator_snapshot")
            wh.bulk_insert(conn, snapshots, "mart.indicator_snapshot")
            wh.analyze(conn, "mart.indicator_snapshot")
        print(f"{wh.dialect}: a year of snapshots copied in {time.perf_counter() - began:.0f} s", flush=True)
    return wh


# -- the measurements ----------------------------------------------------------------------------
def read_view(wh: Warehouse, view: str, where: str, params: dict):
    def run() -> int:
        with wh.begin() as conn:
            return len(conn.execute(sa.text(f"SELECT * FROM {view} WHERE {where}"), params).fetchall())
    return run


def drill(wh: Warehouse, day: date, agency: str):
    def run() -> int:
        found = explain.explain(wh, day, "ytd", agency, INDICATOR, PROVINCE)
        assert found.matches, f"explain {day} {agency}: {found.numerator}/{found.denominator} vs {found.snapshot}"
        return len(found.rows)
    return run


def busiest_agency(wh: Warehouse, day: date) -> str:
    with wh.begin() as conn:
        return conn.execute(sa.text(
            "SELECT agency_code FROM mart.indicator_snapshot WHERE snapshot_date = :d AND period = 'ytd' "
            "AND indicator_code = :i AND agency_code <> :root ORDER BY denominator DESC, agency_code LIMIT 1"),
            {"d": day, "i": INDICATOR, "root": ROOT_AGENCY}).scalar_one()


OBJECTS = ("quality", "score", "trajectory", "explain")


def measure(wh: Warehouse, days: list[date], runs: int, objects=OBJECTS) -> list[tuple]:
    agency = busiest_agency(wh, days[0])
    out = []
    for day in days:
        cases = {
            "quality": [("mart.data_quality", read_view(wh, "mart.data_quality", "data_day = :d", {"d": day}))],
            "score": [("mart.agency_score_part (ytd)", read_view(wh, "mart.agency_score_part",
                                                                 "snapshot_date = :d AND period = 'ytd'", {"d": day})),
                      ("mart.agency_score (ytd)", read_view(wh, "mart.agency_score",
                                                            "snapshot_date = :d AND period = 'ytd'", {"d": day}))],
            "trajectory": [("mart.target_trajectory", read_view(wh, "mart.target_trajectory", "snapshot_date = :d",
                                                                {"d": day}))],
            "explain": [(f"explain {INDICATOR} ytd, {agency}", drill(wh, day, agency)),
                        (f"explain {INDICATOR} ytd, province root", drill(wh, day, ROOT_AGENCY))],
        }
        for label, fn in [case for name in objects for case in cases[name]]:
            took = []
            for _ in range(runs):
                began = time.perf_counter()
                rows = fn()
                took.append(time.perf_counter() - began)
            out.append((wh.dialect, label, day, rows, min(took), statistics.median(took)))
            print(f"  {wh.dialect} {day} {label}: {rows:,} rows, min {min(took):.2f} s, "
                  f"median {statistics.median(took):.2f} s", flush=True)
    return out


def history(wh: Warehouse) -> str:
    with wh.begin() as conn:
        counts = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in (
            "core.dossier_history", "core.sync_receipt", "mart.indicator_snapshot", "ops.batch", "ops.quarantine")}
    return ", ".join(f"{t} {n:,}" for t, n in counts.items())


def table(results: list[tuple], days: list[date]) -> str:
    head = "| object, one night | " + " | ".join(
        f"{dialect} {day:%d %b}" for dialect in ("duckdb", "postgresql") for day in days) + " |"
    lines = [head, "|---|" + "---:|" * (2 * len(days))]
    labels = list(dict.fromkeys(r[1] for r in results))
    for label in labels:
        cells = []
        for dialect in ("duckdb", "postgresql"):
            for day in days:
                hit = [r for r in results if r[0] == dialect and r[1] == label and r[2] == day]
                cells.append(f"{hit[0][4]:.2f} · {hit[0][5]:.2f} s ({hit[0][3]:,})" if hit else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers-per-year", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duckdb", default="/tmp/bench12/beyond.duckdb")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench12_pg")
    parser.add_argument("--dates", default=f"{YEAR}-01-31,{YEAR}-12-31")
    parser.add_argument("--only", choices=("duckdb", "postgresql"))
    parser.add_argument("--objects", default=",".join(OBJECTS), help=f"what to time, among {','.join(OBJECTS)}")
    parser.add_argument("--keep", action="store_true", help="reuse the warehouses already built")
    args = parser.parse_args()
    days = [date.fromisoformat(d) for d in args.dates.split(",")]
    urls = {"duckdb": f"duckdb:///{args.duckdb}", "postgresql": args.pg}
    if args.only:
        urls = {args.only: urls[args.only]}

    if args.keep:
        warehouses = {}
        for name, url in urls.items():
            warehouses[name] = Warehouse(url)
            warehouses[name].migrate()
    else:
        from mocks.catalog import load_profile
        began = time.perf_counter()
        frames = synthetic_year(load_profile("lao_cai_2022"), args.dossiers_per_year)
        frames.update(nightly_bookkeeping(frames))
        print(f"generated {args.dossiers_per_year:,} dossiers and a year of batches in "
              f"{time.perf_counter() - began:.0f} s", flush=True)
        # the snapshots are computed on DuckDB (built first) and copied to PostgreSQL
        snapshots = None
        warehouses = {}
        for name, url in [("duckdb", f"duckdb:///{args.duckdb}"), ("postgresql", args.pg)]:
            if name not in urls and name != "duckdb":
                continue
            wh = build(url, frames, snapshots)
            if snapshots is None:
                with wh.begin() as conn:
                    snapshots = pd.read_sql(sa.text("SELECT * FROM mart.indicator_snapshot"), conn)
            if name in urls:
                warehouses[name] = wh
            else:
                wh.dispose()
        del frames, snapshots

    results = []
    for name, wh in warehouses.items():
        print(f"\n{name}: {history(wh)}", flush=True)
        results += measure(wh, days, args.runs, args.objects.split(","))
        wh.dispose()
    print(f"\nmin · median of {args.runs} runs (rows read)\n")
    print(table(results, days))


if __name__ == "__main__":
    main()
