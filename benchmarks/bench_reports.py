"""The reports of one published date (the year to date: workbook, dashboard, drill-down CSVs), as a night writes
them, timed as a whole and statement by statement: every SQL statement run through SQLAlchemy slower than
--slower-than seconds is printed as it ends, with the thread that ran it (the drill-down runs beside the workbook).
The CSVs' COPY statements go through the driver's cursor and are not printed: they are in the whole's time.

    WAREHOUSE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bi_yearend \\
        .venv/bin/python benchmarks/bench_reports.py --date 2022-12-27 [--out /tmp/bench-reports] [--slower-than 0.5]

The warehouse must hold the date published (e.g. bench_indicators.py --publish 2022-12-27). Nothing is written to
it: the drill-down works in temporary tables. The reports go under --out (replaced). The CSVs' bytes can be
compared between two checkouts (md5sum), the dashboard differs only by the time it was written.
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import threading
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import reports
from etl.pipeline import Resources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-reports"))
    parser.add_argument("--slower-than", type=float, default=0.5, help="seconds: the statements to print")
    args = parser.parse_args()
    started = threading.local()
    slow: list[float] = []

    @sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
    def _began(conn, cursor, statement, params, context, executemany):
        started.at = time.perf_counter()

    @sa.event.listens_for(sa.engine.Engine, "after_cursor_execute")
    def _ended(conn, cursor, statement, params, context, executemany):
        seconds = time.perf_counter() - started.at
        if seconds > args.slower_than:
            slow.append(seconds)
            head = re.sub(r"\s+", " ", re.sub(r"--[^\n]*", "", statement)).strip()[:110]
            print(f"{seconds:8.1f} s  {threading.current_thread().name:12s} {head}", flush=True)

    shutil.rmtree(args.out, ignore_errors=True)
    began = time.perf_counter()
    with Resources.from_env() as res:
        reports.write_reports(res.warehouse, args.date, res.province, args.out, "ytd")
    csvs = sorted((args.out / f"drilldown_dvc_{args.date}").glob("*.csv"))
    print(f"reports of {args.date}: {time.perf_counter() - began:.1f} s; statements over {args.slower_than} s: "
          f"{sum(slow):.1f} s in all; {len(csvs)} CSVs, {sum(p.stat().st_size for p in csvs) / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
