"""python -m mocks serve --host 127.0.0.1 --port 8765 --seed 7 --profile lao_cai_2022 --dossiers-per-year 20000"""
from __future__ import annotations

import argparse
import sys
from datetime import date

from mocks.catalog import PROFILES
from mocks.config import FAULTS, SimConfig


def _faults(values: list[str]) -> tuple[tuple[str, float | None], ...]:
    out: dict[str, float | None] = {}
    for v in values:
        for item in v.split(","):
            item = item.strip()
            if not item:
                continue
            name, _, rate = item.partition("=")
            if name not in FAULTS:
                raise argparse.ArgumentTypeError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
            try:
                value = float(rate) if rate else None
            except ValueError:
                raise argparse.ArgumentTypeError(f"bad rate in {item!r}") from None
            if value is not None and not 0 <= value <= 1:
                raise argparse.ArgumentTypeError(f"rate in {item!r} must be between 0 and 1")
            out[name] = value
    return tuple(sorted(out.items()))


def _outages(values: list[str]) -> tuple[tuple[str, float], ...]:
    """`DAY[=SHARE]` items -> (("yyyyMMdd", share), ...); share 0 (a silent day) unless given."""
    out: dict[str, float] = {}
    for v in values:
        for item in filter(None, (i.strip() for i in v.split(","))):
            day, _, share = item.partition("=")
            try:
                key, value = date.fromisoformat(day).strftime("%Y%m%d"), float(share) if share else 0.0
            except ValueError:
                raise argparse.ArgumentTypeError(f"bad --outage {item!r}: expected YYYY-MM-DD[=SHARE]") from None
            if not 0 <= value < 1:
                raise argparse.ArgumentTypeError(f"the share in --outage {item!r} must be at least 0 and below 1")
            out[key] = value
    return tuple(sorted(out.items()))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mocks", description="Source-system simulator (docs/sources.md)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve the one-stop, NDXP and VNPost APIs over HTTP")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--profile", default="lao_cai_2022", choices=PROFILES)
    s.add_argument("--dossiers-per-year", type=int, default=20_000)
    s.add_argument("--fault-rate", type=float, default=0.0,
                   help="0-1: probability of each injected fault (per request, per page boundary; a tenth "
                        "of it per row for bad_records and late_updates); alone it turns on every kind")
    s.add_argument("--fault", "--faults", dest="faults", action="append", default=[], metavar="KIND[=RATE]",
                   help=f"turn on only these kinds (repeatable or comma-separated): {', '.join(FAULTS)}; "
                        "rate = RATE, else --fault-rate (or 0.2) as above")
    s.add_argument("--outage", action="append", default=[], metavar="DAY[=SHARE]",
                   help="the sources lost DAY's records (YYYY-MM-DD; repeatable or comma-separated): only SHARE "
                        "of those stamped on it are served, none (a silent day) unless given")
    s.add_argument("--token-ttl", type=int, default=300, help="NDXP token lifetime in seconds")
    s.add_argument("--vnpost-token-ttl", type=int, default=86_400, help="VNPost token lifetime in seconds")
    s.add_argument("--slow-seconds", type=float, default=2.0, help="delay of the 'slow' fault")
    s.add_argument("--memory-dossiers", type=int, default=150_000,
                   help="dossiers kept in memory; when a window's look-back needs more, windows are served from "
                        "disk, one submission day generated at a time (a past day again each time it is asked)")
    s.add_argument("--log-level", default="warning")
    return p


def sim_config(args: argparse.Namespace) -> SimConfig:
    """The simulator's configuration from `serve`'s arguments (ArgumentTypeError: a bad --fault, --fault-rate or
    --outage)."""
    if not 0 <= args.fault_rate <= 1:
        raise argparse.ArgumentTypeError("--fault-rate must be between 0 and 1")
    return SimConfig(seed=args.seed, profile=args.profile, dossiers_per_year=args.dossiers_per_year,
                     fault_rate=args.fault_rate, faults=_faults(args.faults), outages=_outages(args.outage),
                     token_ttl=args.token_ttl, vnpost_token_ttl=args.vnpost_token_ttl, slow_seconds=args.slow_seconds,
                     memory_dossiers=args.memory_dossiers)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = sim_config(args)
    except argparse.ArgumentTypeError as exc:
        print(exc, file=sys.stderr)
        return 2
    import uvicorn

    from mocks.server import create_app

    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
