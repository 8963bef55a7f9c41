"""Reports people hand on — an Excel workbook and a self-contained HTML dashboard per report date —
and what BI tools need in the warehouse (etl.reports.bi: comments, the read-only role, the DuckDB
read-only copy of mart)."""
from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from etl.config import settings
from etl.warehouse import Warehouse

if TYPE_CHECKING:
    from etl.pipeline import Resources

log = logging.getLogger(__name__)
FORMATS = ("xlsx", "html")


def report_paths(out: Path, day: date, period: str) -> dict[str, Path]:
    suffix = "" if period == "ytd" else f"_{period}"
    return {"xlsx": out / f"bao_cao_dvc_{day}{suffix}.xlsx", "html": out / f"dashboard_dvc_{day}{suffix}.html",
            "csv": out / f"drilldown_dvc_{day}{suffix}"}  # the dashboard's drill-down, a CSV per figure


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary sibling to write, moved over `path` once complete: whoever reads the reports
    directory (the compose file server, a BI tool) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)  # left by a run that was killed
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_reports(wh: Warehouse, day: date, province: str, out: Path, period: str = "ytd",
                  formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write the report date's workbook and/or dashboard under `out` (with the dashboard, the directory of
    its drill-down CSVs); returns their paths."""
    from etl.reports import dashboard, data, drilldown, workbook

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"report --format {','.join(sorted(unknown))}: use xlsx, html or both (xlsx,html)")
    content = data.load(wh, day, period, province)
    paths = report_paths(out, day, period)
    written = []
    # The drill-down is the database's work, the workbook mostly Python's: one runs while the other waits.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="drilldown") as pool:
        drills = pool.submit(drilldown.write, wh, content, paths["csv"]) if "html" in formats else None
        if "xlsx" in formats:
            content.received = data.received_per_service(wh, day)
            written.append(workbook.write_workbook(content, paths["xlsx"]))
        if drills is not None:
            content.drilldowns = drills.result()
            written.append(dashboard.write_dashboard(content, paths["html"]))
            written.append(paths["csv"])
    log.info("reports for %s (%s): %s", day, period, ", ".join(str(p) for p in written))
    return written


def is_quarter_end(day: date) -> bool:
    return day.month % 3 == 0 and (day + timedelta(days=1)).day == 1


def write_reports_for(res: Resources, day: date) -> list[Path]:
    """The nightly flow's reports of a published day, under REPORTS_DIR: the year to date, and on a
    quarter's last day the quarter's too; then, on DuckDB, the read-only copy of mart for BI tools."""
    from etl.reports import bi

    out = Path(settings().reports_dir)
    # The BI copy is the database's work; the reports are mostly Python's.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bi-copy") as pool:
        copy = pool.submit(bi.export_mart_snapshot, res.warehouse)
        try:
            written = [path for period in ["ytd"] + (["qtd"] if is_quarter_end(day) else [])
                       for path in write_reports(res.warehouse, day, res.province, out, period)]
            prune_drilldowns(out, day, settings().drilldown_keep_days)
        except BaseException:
            if (error := copy.exception()) is not None:  # the reports' error is raised; this one is not lost
                log.error("the BI copy of mart failed too: %s: %s", type(error).__name__, error)
            raise
        written += [path for path in [copy.result()] if path]
    return written


DRILLDOWN_FOLDER = re.compile(r"drilldown_dvc_(\d{4}-\d{2}-\d{2})(_[a-z]+)?")


def prune_drilldowns(out: Path, day: date, keep_days: int) -> list[Path]:
    """Delete the drill-down folders (report_paths' "csv") under `out` of report dates more than
    `keep_days` before `day`, the night's date (not today's: a rerun of an old night prunes as it did);
    returns them. Their dashboards keep their figures and the items on the page; their links to the
    CSVs then lead nowhere."""
    cutoff = day - timedelta(days=keep_days)
    old = sorted(folder for folder in out.glob("drilldown_dvc_*")
                 if (m := DRILLDOWN_FOLDER.fullmatch(folder.name)) and folder.is_dir()
                 and date.fromisoformat(m.group(1)) < cutoff)
    for folder in old:
        shutil.rmtree(folder)
    if old:
        log.info("deleted %d drill-down folder(s) of report dates before %s (DRILLDOWN_KEEP_DAYS=%d): %s",
                 len(old), cutoff, keep_days, ", ".join(f.name for f in old))
    return old
