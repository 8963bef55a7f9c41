"""python -m etl — the same steps as the nightly DAG, from a shell."""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import date

from etl import pipeline, report


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2022-01-31") from None


def _check_days(parser: argparse.ArgumentParser, *given: date) -> None:
    """Days whose data is complete: a local day is over only after its midnight."""
    from etl.timeutil import local_now

    today = local_now().date()
    for day in given:
        if day >= today:
            parser.error(f"{day} is not over yet in Asia/Ho_Chi_Minh (today is {today}): its data is incomplete")


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
    back.add_argument("--resume", action="store_true",
                      help="skip the days already published (ops.day_run), e.g. after an interruption")
    back.add_argument("--daily", action="store_true",
                      help="load each day alone, as the nightly run does (default: a month's days in one batch "
                           "per source, each day still gated and published)")
    pub = sub.add_parser("publish", help="re-publish the snapshots of --start..--end from the warehouse as it is "
                                         "(no extraction, no gates): after a fix, or to publish a held day")
    pub.add_argument("--start", type=_day, required=True)
    pub.add_argument("--end", type=_day, required=True)
    card = sub.add_parser("scorecard", help="print the scorecard of a snapshot date")
    card.add_argument("--date", type=_day, required=True)
    card.add_argument("--period", choices=["day", "mtd", "qtd", "ytd"], default="ytd")
    rep = sub.add_parser("report", help="write the Excel workbook and the HTML dashboard of a snapshot date")
    rep.add_argument("--date", type=_day, required=True)
    rep.add_argument("--period", choices=["day", "mtd", "qtd", "ytd"], default="ytd",
                     help="period of the dashboard's rankings, heat map and drill-down (default ytd)")
    rep.add_argument("--format", default="xlsx,html", help="xlsx, html or both (default xlsx,html)")
    rep.add_argument("--out", help="directory to write to (default $REPORTS_DIR, else var/reports)")
    exp = sub.add_parser("explain", help="the dossiers (or services) behind one published figure, and why each counts")
    exp.add_argument("--date", type=_day, required=True)
    exp.add_argument("--period", choices=["day", "mtd", "qtd", "ytd"], default="ytd")
    exp.add_argument("--agency", required=True, help="agency code (MaDonVi), e.g. 000.00.00.H13 for the province")
    exp.add_argument("--indicator", required=True, help="indicator code, e.g. on_time_rate")
    exp.add_argument("--format", choices=["table", "csv"], default="table")
    exp.add_argument("--out", help="file to write to (default: standard output)")
    demo = sub.add_parser("demo",
                          help="serve the simulator, run the pipeline over January 2022 (31 days), print the scorecard")
    demo.add_argument("--start", type=_day, default=date(2022, 1, 1))
    demo.add_argument("--end", type=_day, default=date(2022, 1, 31))
    demo.add_argument("--dossiers-per-year", type=int, default=60_000)
    demo.add_argument("--seed", type=int, default=2022)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("backfill", "publish") and args.end < args.start:
        parser.error(f"--end {args.end} is before --start {args.start}")
    if args.command in ("run", "backfill"):
        _check_days(parser, *([args.date] if args.command == "run" else [args.end]))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("great_expectations", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if args.command == "demo":
            from etl.demo import run_demo
            return run_demo(args.start, args.end, args.dossiers_per_year, args.seed, args.warehouse_url)
        with pipeline.Resources.from_env(args.warehouse_url) as res:
            return _dispatch(args, res)
    except KeyboardInterrupt:
        print("interrupted: every finished day is kept; resume with the same command and --resume", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the operator; the traceback under -v
        if args.verbose:
            raise
        print(f"error: {explain(exc)}", file=sys.stderr)
        return 1


def explain(exc: BaseException) -> str:
    """An exception as one line that names what to fix."""
    import sqlalchemy as sa

    from etl.config import SettingsError
    from etl.sources.http import SourceError
    from etl.warehouse import WarehouseConfigError

    if isinstance(exc, (SettingsError, SourceError, WarehouseConfigError, pipeline.QualityGateFailed)):
        return str(exc)
    if isinstance(exc, sa.exc.OperationalError):
        cause = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        if getattr(exc.orig, "sqlstate", None) == "53100":  # disk_full: the server, not the setting
            return (f"the warehouse's database server has no disk space left ({cause}): free space there and run "
                    f"the same command again (the failed transaction was rolled back)")
        return f"WAREHOUSE_URL: cannot use the warehouse: {cause}"
    if isinstance(exc, sa.exc.ArgumentError | ModuleNotFoundError):
        return f"WAREHOUSE_URL: {str(exc).splitlines()[0]}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} (run with -v for the traceback)"


def print_progress(number: int, total: int, outcome: pipeline.DayOutcome) -> None:
    width = len(str(total))
    if outcome.status == "skipped":
        print(f"day {number:>{width}}/{total} {outcome.day}: already published, skipped", flush=True)
        return
    what = {"published": f"published {outcome.published}", "gate_failed": "NOT published (quality gate)",
            "gates_passed": f"gates passed, publishes with {outcome.publishes_with}",
            "failed": "FAILED"}[outcome.status]
    extra = f", {outcome.pending:,} waiting for their dossier" if outcome.pending else ""
    print(f"day {number:>{width}}/{total} {outcome.day}: {outcome.dossiers:,} dossiers, {outcome.quarantined:,} "
          f"quarantined{extra} … {what} ({outcome.seconds:.1f} s)", flush=True)
    if outcome.message:
        print(f"    {outcome.message}", flush=True)


def print_summary(outcomes: list[pipeline.DayOutcome]) -> None:
    print("\nday         status        dossiers  quarantined  waiting  published")
    for o in outcomes:
        print(f"{o.day}  {o.status:<12} {o.dossiers:>9,} {o.quarantined:>12,} {o.pending:>8,}  {o.published}")
    failed = [o for o in outcomes if o.status not in ("published", "skipped")]
    done = sum(o.status == "published" for o in outcomes)
    print(f"{done} published, {sum(o.status == 'skipped' for o in outcomes)} skipped, {len(failed)} not published"
          + (f": {', '.join(str(o.day) for o in failed)} (why: ops.day_run; once fixed, re-run only those days: "
             f"python -m etl backfill --resume --start {failed[0].day} --end {failed[-1].day})" if failed else ""))


def _dispatch(args: argparse.Namespace, res: pipeline.Resources) -> int:
    if args.command == "migrate":
        print("applied:", ", ".join(pipeline.migrate(res)) or "nothing (up to date)")
    elif args.command == "run":
        outcome = pipeline.nightly(res, args.date)
        print_progress(1, 1, outcome)
        return 0 if outcome.status == "published" else 1
    elif args.command == "backfill":
        outcomes = pipeline.backfill(res, args.start, args.end, resume=args.resume, progress=print_progress,
                                     daily=args.daily)
        print_summary(outcomes)
        return 0 if all(o.status in ("published", "skipped") for o in outcomes) else 1
    elif args.command == "publish":
        pipeline.migrate(res)
        rows = pipeline.publish_by_hand(res, args.start, args.end)
        print(f"published {args.start} .. {args.end}: {rows:,} rows")
    elif args.command == "scorecard":
        print(report.format_scorecard(report.scorecard(res.warehouse, args.date, args.period), args.date,
                                      args.period))
    elif args.command == "report":
        from pathlib import Path

        from etl.config import settings
        from etl.reports import bi, write_reports
        out = Path(args.out or settings().reports_dir)
        for path in write_reports(res.warehouse, args.date, res.province, out, args.period,
                                  tuple(f.strip() for f in args.format.split(",") if f.strip())):
            print(path)
        copy = bi.export_mart_snapshot(res.warehouse)  # DuckDB: the BI tools' read-only copy of mart
        if copy:
            print(copy)
    elif args.command == "explain":
        from pathlib import Path

        from etl import explain as drill
        from etl.reports import replacing

        asked = (res.warehouse, args.date, args.period, [(args.agency, args.indicator)], res.province)
        try:
            if args.format != "csv":
                [found] = drill.explain_many(*asked)
                text = drill.to_table(found)
            elif args.out:  # streamed to a file moved into place once complete
                with replacing(Path(args.out)) as tmp, tmp.open("w", encoding="utf-8-sig", newline="") as f:
                    [found] = drill.write_csvs(*asked, open_csv=lambda _drill: f)
            else:
                [found] = drill.write_csvs(*asked, open_csv=lambda _drill: sys.stdout)
        except drill.ExplainError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if args.out:
            if args.format != "csv":
                Path(args.out).write_text(text, encoding="utf-8")
            print("\n".join(found.summary() + [f"→ {args.out}"]))
        elif args.format == "csv":
            print("\n".join(found.summary()), file=sys.stderr)
        else:
            print(text, end="")
        return 0 if found.matches else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
