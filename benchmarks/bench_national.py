"""The nightly run at national volume: the simulator at 15 million dossiers a year, the pipeline
(`python -m etl run --date D`) against a fresh PostgreSQL warehouse, night after night.

    .venv/bin/python benchmarks/bench_national.py [--dossiers-per-year 15000000] [--first 2022-01-03]
        [--nights 3] [--url postgresql+psycopg://postgres@127.0.0.1:5432/dvc_bench_national]
        [--keep] [--base-url http://127.0.0.1:PORT]

A mid-year night (docs/benchmarks.md gives the commands): --keep runs on a warehouse built beforehand
(bench_indicators.py --until, its last date published by `python -m etl publish`) instead of a fresh one,
and --base-url on a simulator already asked for the night's windows (at 15 million a year its 73-day
look-back takes some twenty minutes to generate).

The profile is `lao_cai_2022` (one province's agencies) carrying the whole country's volume: the
simulator has no national profile, and what the pipeline's memory follows is the number of records
per night, not the number of agencies. The first night of the empty warehouse also loads the
reference data. Before each night the simulator is asked once for the night's windows (long
timeout), so the pipeline's HTTP client does not wait on the simulator's generation of the new
day; that preparation is timed separately.

Prints, per night: the simulator's preparation time, the records the night read, the pipeline's
wall time and peak RSS (`/usr/bin/time -v`), and the simulator's peak RSS so far (VmHWM).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import date, datetime, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etl.config import env  # noqa: E402
from mocks.testing import run_simulator  # noqa: E402


def vm_hwm_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) / 1024


def simulator_pid(port: int) -> int:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if "-m mocks serve" in line and f"--port {port}" in line:
            return int(line.split()[0])
    raise RuntimeError(f"no simulator process on port {port}")


def prepare(base: str, day: date, lookback: int) -> dict[str, int]:
    """Ask the simulator for the night's windows once; returns their sizes."""
    start, end = day - timedelta(days=lookback), day + timedelta(days=1)
    h = {"X-API-Key": env("ONESTOP_API_KEY")}
    sizes = {}
    for stream in ("hoso", "thanhtoan"):
        r = requests.get(f"{base}/onestop/api/v1/{stream}", headers=h, timeout=4 * 3600,
                         params={"tuNgay": f"{start:%Y%m%d}", "denNgay": f"{end:%Y%m%d}", "pageSize": 1})
        r.raise_for_status()
        sizes[stream] = r.json()["total"]
    tok = requests.post(f"{base}/ndxp/oauth2/token", timeout=60, data={
        "grant_type": "client_credentials", "client_id": env("NDXP_CLIENT_ID"),
        "client_secret": env("NDXP_CLIENT_SECRET")}).json()["access_token"]
    for path in ("dvcqg/v1/dongbo", "paygov/v1/giaodich"):
        r = requests.get(f"{base}/ndxp/{path}", headers={"Authorization": f"Bearer {tok}"}, timeout=4 * 3600,
                         params={"fromDate": start.isoformat(), "toDate": end.isoformat(), "limit": 1})
        r.raise_for_status()
    tok = requests.post(f"{base}/vnpost/api/auth", timeout=60, json={
        "username": env("VNPOST_USERNAME"), "password": env("VNPOST_PASSWORD")}).json()["access_token"]
    r = requests.get(f"{base}/vnpost/api/bcci/orders", headers={"access_token": tok}, timeout=4 * 3600,
                     params={"fromDate": f"{start:%d/%m/%Y}", "toDate": f"{day:%d/%m/%Y}", "limit": 1})
    r.raise_for_status()
    sizes["bcci"] = r.json()["Total"]
    return sizes


def run_night(day: date, environ: dict) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and exit code of `python -m etl run --date day`."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-v", "-o", report.name, sys.executable, "-m", "etl", "run",
                               "--date", day.isoformat()], cwd=ROOT, env=environ)
        wall = time.perf_counter() - t0
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read()).group(1)) / 1024
    return wall, peak, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers-per-year", type=int, default=15_000_000)
    parser.add_argument("--first", type=date.fromisoformat, default=date(2022, 1, 3), help="first night")
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/dvc_bench_national",
                        help="PostgreSQL warehouse; the database is dropped and re-created (before and after)")
    parser.add_argument("--keep", action="store_true",
                        help="run on the warehouse at --url as it is, and leave it: e.g. a mid-year history built by "
                             "bench_indicators.py --until, with the date before the first night's look-back "
                             "published by `python -m etl publish`")
    parser.add_argument("--base-url", help="a simulator already running (`python -m mocks serve`, the same seed, "
                                           "profile and volume), e.g. one asked for a mid-year night's windows "
                                           "beforehand: its look-back takes long to generate")
    args = parser.parse_args()

    admin = sa.create_engine(args.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = args.url.rsplit("/", 1)[1]
    if not args.keep:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    work = Path(tempfile.mkdtemp(prefix="bench-national-"))
    lookback = 3
    try:
        simulator = nullcontext(args.base_url) if args.base_url else run_simulator(
            seed=args.seed, profile="lao_cai_2022", dossiers_per_year=args.dossiers_per_year)
        with simulator as base:
            pid = simulator_pid(int(base.rsplit(":", 1)[1]))
            environ = {**os.environ, "WAREHOUSE_URL": args.url, "ONESTOP_URL": base, "NDXP_URL": base,
                       "VNPOST_URL": base, "EXTRACT_LOOKBACK_DAYS": str(lookback),
                       "DATA_DOCS_DIR": str(work / "data_docs"), "REPORTS_DIR": str(work / "reports")}
            print(f"{args.dossiers_per_year:,} dossiers/year, PostgreSQL, {datetime.now():%Y-%m-%d %H:%M}", flush=True)
            print("night | simulator prep s | hoso versions | pipeline s | pipeline peak MiB | simulator peak MiB | rc")
            for i in range(args.nights):
                day = args.first + timedelta(days=i)
                t0 = time.perf_counter()
                sizes = prepare(base, day, lookback)
                prep = time.perf_counter() - t0
                wall, peak, rc = run_night(day, environ)
                sim_peak = vm_hwm_mib(pid)
                print(f"{day} | {prep:.0f} | {sizes['hoso']:,} | {wall:.0f} | {peak:.0f} | {sim_peak:.0f} | {rc}",
                      flush=True)
                if rc != 0:
                    break
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
