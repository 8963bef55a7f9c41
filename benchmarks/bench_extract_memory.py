"""Peak memory of the pipeline while it extracts, validates and loads day after day from the
simulator at a province's volume.

    .venv/bin/python benchmarks/bench_extract_memory.py [--days 365] [--dossiers-per-year 1000000]

Prints the pipeline process's peak RSS (the simulator runs in its own process and is not
counted) every few days, so a growth would show; the figure goes in the README.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import pipeline  # noqa: E402
from mocks.testing import run_simulator  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--dossiers-per-year", type=int, default=1_000_000)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2022, 1, 1))
    parser.add_argument("--warehouse-url")
    args = parser.parse_args()
    url = args.warehouse_url or f"duckdb:///{tempfile.mkdtemp()}/bench.duckdb"
    began = time.monotonic()
    records = 0
    with run_simulator(seed=1, dossiers_per_year=args.dossiers_per_year, startup_timeout=120) as base_url:
        for name in ("ONESTOP_URL", "NDXP_URL", "VNPOST_URL"):
            os.environ[name] = base_url
        with pipeline.Resources.from_env(url) as res:
            pipeline.migrate(res)
            pipeline.load_reference(res, args.start)
            print(f"after reference data: peak {peak_mib():.0f} MiB", flush=True)
            for i in range(args.days):
                day = args.start + timedelta(days=i)
                for steps in pipeline.SOURCE_STEPS.values():
                    for step in steps:
                        records += step(res, day).extracted
                if i % 10 == 9 or i == args.days - 1:
                    print(f"{day}: {records:,} records extracted so far, peak RSS {peak_mib():.0f} MiB, "
                          f"{time.monotonic() - began:.0f} s", flush=True)
    print(f"{args.days} days at {args.dossiers_per_year:,} dossiers/year: {records:,} records, "
          f"peak RSS of the pipeline {peak_mib():.0f} MiB, {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
