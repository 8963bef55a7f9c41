"""python -m etl — the same steps as the nightly DAG, from a shell."""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import date

from etl import pipeline, report


def _day(text: str) -> date:
    return date.fromisoformat(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m etl", description=__doc__)
    parser.add_argument("--warehouse-url", help="SQLAlchemy URL (default: $WAREHOUSE_URL, else DuckDB under var/)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the warehouse schema")
    run = sub.add_parser("run", help="one local day's pipeline, exactly what the nightly DAG does")
    run.add_argument("--date", type=_day, required=True)
    back = sub.add_parser("backfill", help="run every day from --start to --end (inclusive)")
    back.add_argument("--start", type=_day, required=True)
    back.add_argument("--end", type=_day, required=True)
    card = sub.add_parser("scorecard", help="print the scorecard of a snapshot date")
    card.add_argument("--date", type=_day, required=True)
    card.add_argument("--period", choices=["day", "mtd", "qtd", "ytd"], default="ytd")
    demo = sub.add_parser("demo", help="serve the simulator, run the pipeline over January 2022 (31 days), print the scorecard")
    demo.add_argument("--start", type=_day, default=date(2022, 1, 1))
    demo.add_argument("--end", type=_day, default=date(2022, 1, 31))
    demo.add_argument("--dossiers-per-year", type=int, default=60_000)
    demo.add_argument("--seed", type=int, default=2022)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("great_expectations", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "demo":
        from etl.demo import run_demo
        return run_demo(args.start, args.end, args.dossiers_per_year, args.seed, args.warehouse_url)
    with pipeline.Resources.from_env(args.warehouse_url) as res:
        return _dispatch(args, res)


def _dispatch(args: argparse.Namespace, res: pipeline.Resources) -> int:
    if args.command == "migrate":
        print("applied:", ", ".join(pipeline.migrate(res)) or "nothing (up to date)")
    elif args.command == "run":
        pipeline.run_day(res, args.date)
    elif args.command == "backfill":
        pipeline.backfill(res, args.start, args.end)
    elif args.command == "scorecard":
        print(report.format_scorecard(report.scorecard(res.warehouse, args.date, args.period), args.date,
                                      args.period))
    return 0


if __name__ == "__main__":
    sys.exit(main())
