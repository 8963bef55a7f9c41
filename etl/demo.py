"""The README's main command: serve the simulator on loopback, run the pipeline day by day
on the embedded warehouse, print the scorecard."""
from __future__ import annotations

import os
import time
from datetime import date

from etl import config, pipeline, report


def run_demo(start: date, end: date, dossiers_per_year: int, seed: int, warehouse_url: str | None) -> int:
    from mocks.testing import run_simulator

    url = warehouse_url or os.environ.get("WAREHOUSE_URL") or config.default_warehouse_url().replace(
        "warehouse.duckdb", "demo.duckdb")
    began = time.monotonic()
    with run_simulator(seed=seed, profile="lao_cai_2022", dossiers_per_year=dossiers_per_year) as base_url:
        for name in ("ONESTOP_URL", "NDXP_URL", "VNPOST_URL"):
            os.environ[name] = base_url
        res = pipeline.Resources.from_env(url)
        print(f"simulator at {base_url}; warehouse {res.warehouse}; days {start} .. {end}", flush=True)
        from etl.cli import print_progress, print_summary

        print_summary(pipeline.backfill(res, start, end, progress=print_progress))
    for period in ("mtd", "ytd"):
        print()
        print(report.format_scorecard(report.scorecard(res.warehouse, end, period), end, period))
    print(f"\n{(end - start).days + 1} days in {time.monotonic() - began:.0f} s. "
          f"Explore: python -m etl scorecard --date {end} --warehouse-url {url}")
    return 0
