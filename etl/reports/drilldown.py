"""The dossiers behind the figures that miss their target, for the dashboard (and a CSV per figure
beside the reports): etl.explain's listings of the report's period, for the worst departments and
districts of each indicator. Nothing here decides whether an item counts; etl.explain does."""
from __future__ import annotations

import contextlib
import shutil
import threading
from pathlib import Path

from etl import explain
from etl.config import settings
from etl.reports.data import ReportData
from etl.warehouse import Warehouse

PER_INDICATOR = 5   # agencies listed per indicator (the worst that miss their target)
ROWS_SHOWN = 20     # items shown per agency on the page (those not in the numerator first); the CSV has all
GROUPS = ("department", "district")


def selected(data: ReportData) -> list[tuple[str, str]]:
    """(agency, indicator) of the report's period to list: per indicator, the departments and districts
    that miss their target, those with a denominator large enough to be ranked first, then the largest
    gap to target, then the most items out of the numerator; at most PER_INDICATOR each."""
    figures = data.figures(data.period)
    missed = figures[figures["meets_target"].astype(object).eq(False) & figures["peer_group"].isin(GROUPS)
                     & (figures["denominator"] > 0)]
    missed = missed.assign(_small=~missed["rankable"].astype(object).eq(True),
                           _out=missed["numerator"] - missed["denominator"])
    missed = missed.sort_values(["indicator_order", "_small", "gap_to_target", "_out", "agency_code"])
    return [(r.agency_code, r.indicator_code)
            for r in missed.groupby("indicator_code", sort=False).head(PER_INDICATOR).itertuples(index=False)]


def write(wh: Warehouse, data: ReportData, path: Path) -> list[explain.Drilldown]:
    """The listings of the selected figures, the report date prepared for them (on PostgreSQL in DRILLDOWN_SESSIONS
    sessions at once, the figures split by agency), written by the database to one CSV per figure (explain's CSV,
    UTF-8 with BOM for Excel) in a directory written beside `path` and moved over it once complete, so no reader
    sees half of it. The drill-downs keep the first ROWS_SHOWN items out of the numerator each, for the dashboard."""
    tmp, old = path.with_name(f".{path.name}.tmp"), path.with_name(f".{path.name}.old")
    for leftover in (tmp, old):
        shutil.rmtree(leftover, ignore_errors=True)
    tmp.mkdir(parents=True)
    opening = threading.Lock()  # the sessions' threads open their figures' files

    def open_csv(drill: explain.Drilldown):
        with opening:
            return files.enter_context((tmp / csv_name(drill)).open("w", encoding="utf-8-sig", newline=""))

    with contextlib.ExitStack() as files:
        drills = explain.write_csvs(wh, data.day, data.period, selected(data), data.province, open_csv,
                                    keep_out=ROWS_SHOWN, sessions=settings().drilldown_sessions)
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    return drills


def csv_name(drill: explain.Drilldown) -> str:
    return f"{drill.indicator}__{drill.agency}.csv"
