"""Reports people hand on — an Excel workbook and a self-contained HTML dashboard per report date —
and what BI tools need in the warehouse (etl.reports.bi: comments, the read-only role)."""
from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from etl.warehouse import Warehouse

log = logging.getLogger(__name__)
FORMATS = ("xlsx", "html")


def report_paths(out: Path, day: date, period: str) -> dict[str, Path]:
    suffix = "" if period == "ytd" else f"_{period}"
    return {"xlsx": out / f"bao_cao_dvc_{day}{suffix}.xlsx", "html": out / f"dashboard_dvc_{day}{suffix}.html"}


def write_reports(wh: Warehouse, day: date, province: str, out: Path, period: str = "ytd",
                  formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write the report date's workbook and/or dashboard under `out`; returns their paths."""
    from etl.reports import dashboard, data, workbook

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"report --format {','.join(sorted(unknown))}: use xlsx, html or both (xlsx,html)")
    content = data.load(wh, day, period, province)
    paths = report_paths(out, day, period)
    written = []
    if "xlsx" in formats:
        written.append(workbook.write_workbook(content, paths["xlsx"]))
    if "html" in formats:
        written.append(dashboard.write_dashboard(content, paths["html"]))
    log.info("reports for %s (%s): %s", day, period, ", ".join(str(p) for p in written))
    return written
