"""Did a change to the indicator engine change any figure? Save mart.indicator_snapshot of a
range to a CSV file, change the code, then recompute the range on the same warehouse with
`etl.indicators.publish_range` and compare row for row.

    .venv/bin/python -m etl --warehouse-url duckdb:////tmp/w.duckdb demo --dossiers-per-year 20000
    .venv/bin/python benchmarks/compare_indicator_snapshot.py save --url duckdb:////tmp/w.duckdb \
        --start 2022-01-01 --end 2022-01-31 --file /tmp/before.csv
    # ... change sql/indicators/ or etl/indicators.py ...
    .venv/bin/python benchmarks/compare_indicator_snapshot.py check --url duckdb:////tmp/w.duckdb \
        --start 2022-01-01 --end 2022-01-31 --file /tmp/before.csv [--expect-change on_time_rate]

`check` exits 1 when a row is missing, added or different, except in the indicators named by
--expect-change (whose differences are counted and shown).
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import config, indicators
from etl.warehouse import Warehouse

KEY = ("snapshot_date", "period", "agency_code", "indicator_code")
VALUES = ("numerator", "denominator", "value", "target", "meets_target")


def snapshot(wh: Warehouse, start: date, end: date) -> dict[tuple, tuple]:
    """(date, period, agency, indicator) -> the published values, as text (the CSV's form)."""
    with wh.begin() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT {', '.join(KEY + VALUES)} FROM mart.indicator_snapshot "
            f"WHERE snapshot_date >= DATE '{start}' AND snapshot_date <= DATE '{end}'").all()
    return {tuple(str(v) for v in r[:4]): tuple(_text(v) for v in r[4:]) for r in rows}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 12))
    return str(value)


def save(rows: dict[tuple, tuple], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(KEY + VALUES)
        for key in sorted(rows):
            writer.writerow(key + rows[key])


def read(path: Path) -> dict[tuple, tuple]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        return {tuple(r[:4]): tuple(r[4:]) for r in reader}


def compare(before: dict[tuple, tuple], after: dict[tuple, tuple], expect_change: set[str]) -> tuple[list, Counter]:
    """Unexpected differences [(key, before, after)], and the count of expected ones per indicator."""
    unexpected, expected = [], Counter()
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key[3] in expect_change and old is not None and new is not None:
            expected[key[3]] += 1
        else:
            unexpected.append((key, old, new))
    return unexpected, expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("save", "check"))
    parser.add_argument("--url", default=config.warehouse_url())
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--province", default="lao_cai")
    parser.add_argument("--expect-change", action="append", default=[], metavar="INDICATOR")
    args = parser.parse_args(argv)
    wh = Warehouse(args.url)
    try:
        if args.action == "save":
            rows = snapshot(wh, args.start, args.end)
            save(rows, args.file)
            print(f"{len(rows)} rows of {args.start} .. {args.end} saved to {args.file}")
            return 0
        before = read(args.file)
        indicators.publish_range(wh, args.start, args.end, args.province)
        after = snapshot(wh, args.start, args.end)
    finally:
        wh.dispose()
    unexpected, expected = compare(before, after, set(args.expect_change))
    print(f"{len(before)} rows before, {len(after)} after; expected changes: {dict(expected) or 'none'}")
    for key, old, new in unexpected[:20]:
        print(f"  DIFFERS {key}: {old} -> {new}")
    print(f"{len(unexpected)} unexpected differences")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
