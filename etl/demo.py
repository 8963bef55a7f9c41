"""The README's main command: serve the simulator on loopback, run the pipeline day by day
on the embedded warehouse, print the scorecard and write the reports of the last day."""
from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from etl import config, pipeline, report
from etl.cli import print_progress, print_summary

REPORTS = config.ROOT / "var" / "reports"


def run_demo(start: date, end: date, dossiers_per_year: int, seed: int, warehouse_url: str | None) -> int:
    from etl.reports import write_reports
    from mocks.testing import run_simulator

    settings = config.settings()
    # The demo has its own warehouse unless one is named, so it never mixes with a real one.
    url = warehouse_url or (settings.warehouse_url if settings.warehouse_url != config.default_warehouse_url()
                            else config.default_warehouse_url().replace("warehouse.duckdb", "demo.duckdb"))
    began = time.monotonic()
    with run_simulator(seed=seed, profile="lao_cai_2022", dossiers_per_year=dossiers_per_year) as base_url:
        sources = settings.model_copy(update={"onestop_url": base_url, "ndxp_url": base_url, "vnpost_url": base_url})
        with pipeline.Resources.from_settings(sources, url) as res:
            print(f"simulator at {base_url}; warehouse {res.warehouse}; days {start} .. {end}", flush=True)
            outcomes = pipeline.backfill(res, start, end, progress=print_progress)
            print_summary(outcomes)
            for period in ("mtd", "ytd"):
                print()
                print(report.format_scorecard(report.scorecard(res.warehouse, end, period), end, period))
            paths = write_reports(res.warehouse, end, res.province, Path(REPORTS))
    print(f"\n{(end - start).days + 1} days in {time.monotonic() - began:.0f} s. Reports (Vietnamese): "
          + ", ".join(str(p) for p in paths)
          + f"\nExplore: python -m etl scorecard --date {end} --warehouse-url {url}")
    return 0 if all(o.status == "published" for o in outcomes) else 1
