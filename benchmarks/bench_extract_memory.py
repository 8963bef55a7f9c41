"""Peak memory of the pipeline while it extracts, validates and loads a simulated year from the
simulator over HTTP.

    .venv/bin/python benchmarks/bench_extract_memory.py [--dossiers-per-year 1000000] [--days 365]
                                                        [--window-days 365] [--warehouse-url URL]

Every daily entity (dossiers, payments, sync receipts, PayGov transactions, postal orders) is
extracted in windows of --window-days days through the pipeline's own step
(`etl.pipeline.load_window`: client paging -> transform -> Great Expectations -> bulk load, one
batch per window). The default, the whole year in one window per entity, is the worst case for
memory: what a catch-up after a long outage does (the daily window reaches back to the
watermark). Records stream page by page, so memory should not grow with the window.

Prints the pipeline process's peak RSS (the simulator runs in its own process and is not
counted) after each window. Use a PostgreSQL warehouse for the production figure: an embedded
DuckDB's buffer pool lives in this process and would be counted too.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import feeds, pipeline
from etl.timeutil import Window
from mocks.testing import run_simulator


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--window-days", type=int, default=365)
    parser.add_argument("--dossiers-per-year", type=int, default=1_000_000)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2022, 1, 1))
    parser.add_argument("--warehouse-url")
    args = parser.parse_args()
    url = args.warehouse_url or f"duckdb:///{tempfile.mkdtemp()}/bench.duckdb"
    os.environ.setdefault("DATA_DOCS_DIR", "")  # Data Docs are not what is measured
    began = time.monotonic()
    totals: dict[str, int] = {}
    first = datetime.combine(args.start, datetime.min.time())
    last = first + timedelta(days=args.days)
    with run_simulator(seed=1, dossiers_per_year=args.dossiers_per_year, startup_timeout=120) as base_url:
        for name in ("ONESTOP_URL", "NDXP_URL", "VNPOST_URL"):
            os.environ[name] = base_url
        with pipeline.Resources.from_env(url) as res:
            pipeline.migrate(res)
            pipeline.load_reference(res, args.start)
            print(f"reference data loaded: peak RSS {peak_mib():.0f} MiB", flush=True)
            start = first
            while start < last:
                window = Window(start, min(last, start + timedelta(days=args.window_days)))
                for name in [feed.name for feed in feeds.daily_feeds()]:
                    batch = pipeline.load_window(res, name, window)
                    totals[name] = totals.get(name, 0) + batch.extracted
                    print(f"{window} {name}: {batch.extracted:,} extracted, {batch.quarantined:,} quarantined; "
                          f"peak RSS {peak_mib():.0f} MiB, {time.monotonic() - began:.0f} s", flush=True)
                start = window.end
    records = sum(totals.values())
    elapsed = time.monotonic() - began
    print(f"{args.days} days at {args.dossiers_per_year:,} dossiers/year in {args.window_days}-day windows, "
          f"warehouse {url.split(':')[0]}: {records:,} records ({', '.join(f'{k} {v:,}' for k, v in totals.items())}) "
          f"in {elapsed:.0f} s ({records / elapsed:,.0f} records/s); peak RSS of the pipeline {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
