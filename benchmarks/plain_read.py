"""The floor of a nightly run: page through the same five source windows with plain `requests`,
nothing else (no validation, no warehouse). No etl imports: this is what reading alone costs.

    .venv/bin/python benchmarks/plain_read.py --base-url http://127.0.0.1:8790 --date 2022-01-15 [--lookback 3]
    .venv/bin/python benchmarks/plain_read.py --base-url URL --start 2022-01-01 --end 2022-02-01

The windows are those of `python -m etl run --date D`: [D - lookback, D + 1), asked for at most
7 days per request and paged the way the clients in etl/sources/ page (one-stop: page numbers of
1,000; NDXP: cursors at the server's default size; VNPost: offsets of 500, both days included).
Every body is decoded. Prints one JSON line: records per endpoint, total and seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from datetime import date, datetime, timedelta

import requests

DAYS_PER_REQUEST = 7


def parts(start: datetime, end: datetime):
    while start < end:
        stop = min(end, start + timedelta(days=DAYS_PER_REQUEST))
        yield start, stop
        start = stop


def onestop(session: requests.Session, base: str, endpoint: str, start: datetime, end: datetime) -> int:
    params = {"tuNgay": f"{start:%Y%m%d%H%M%S}", "denNgay": f"{end:%Y%m%d%H%M%S}", "pageSize": 1000}
    rows, page = 0, 1
    while True:
        body = session.get(f"{base}/onestop/api/v1/{endpoint}", params={**params, "page": page}, timeout=30).json()
        data = body["data"]
        rows += len(data)
        if not data or page * 1000 >= body["total"]:
            return rows
        page += 1


def ndxp_login(session: requests.Session, base: str) -> None:
    session.headers["Authorization"] = "Bearer " + session.post(f"{base}/ndxp/oauth2/token", timeout=30, data={
        "grant_type": "client_credentials", "client_id": os.environ.get("NDXP_CLIENT_ID") or "dev-ndxp-client",
        "client_secret": os.environ.get("NDXP_CLIENT_SECRET") or "dev-ndxp-secret"}).json()["access_token"]


def ndxp(session: requests.Session, base: str, path: str, start: datetime, end: datetime) -> int:
    params = {"fromDate": f"{start:%Y-%m-%dT%H:%M:%S}+07:00", "toDate": f"{end:%Y-%m-%dT%H:%M:%S}+07:00"}
    rows, cursor = 0, None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        resp = session.get(f"{base}{path}", params=query, timeout=30)
        if resp.status_code == 401:  # the token expired during a long read: a new one, and again
            ndxp_login(session, base)
            resp = session.get(f"{base}{path}", params=query, timeout=30)
        body = resp.json()
        rows += len(body["items"])
        cursor = body.get("nextCursor")
        if not cursor:
            return rows


def vnpost(session: requests.Session, base: str, start: datetime, end: datetime) -> int:
    last_day = end - timedelta(seconds=1)  # toDate is inclusive
    params = {"fromDate": f"{start:%d/%m/%Y}", "toDate": f"{last_day:%d/%m/%Y}", "limit": 500}
    rows = 0
    while True:
        body = session.get(f"{base}/vnpost/api/bcci/orders", params={**params, "offset": rows}, timeout=30).json()
        assert body["Status"] == "100", body
        items = body["Items"] or []
        rows += len(items)
        if not items or rows >= int(body["Total"]):
            return rows


def read_all(base: str, start: datetime, end: datetime) -> dict[str, int]:
    one = requests.Session()
    one.headers["X-API-Key"] = os.environ.get("ONESTOP_API_KEY") or "dev-onestop-key"
    nat = requests.Session()
    ndxp_login(nat, base)
    post = requests.Session()
    post.headers["access_token"] = post.post(f"{base}/vnpost/api/auth", timeout=30, json={
        "username": os.environ.get("VNPOST_USERNAME") or "dev-vnpost",
        "password": os.environ.get("VNPOST_PASSWORD") or "dev-vnpost-password"}).json()["access_token"]
    counts = dict.fromkeys(("hoso", "thanhtoan", "dongbo", "giaodich", "bcci"), 0)
    for a, b in parts(start, end):  # the pipeline's order: dossiers, payments, sync, PayGov, postal
        counts["hoso"] += onestop(one, base, "hoso", a, b)
    for a, b in parts(start, end):
        counts["thanhtoan"] += onestop(one, base, "thanhtoan", a, b)
    for a, b in parts(start, end):
        counts["dongbo"] += ndxp(nat, base, "/ndxp/dvcqg/v1/dongbo", a, b)
    for a, b in parts(start, end):
        counts["giaodich"] += ndxp(nat, base, "/ndxp/paygov/v1/giaodich", a, b)
    for a, b in parts(start, end):
        counts["bcci"] += vnpost(post, base, a, b)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--date", type=date.fromisoformat, help="a nightly run's day: [D - lookback, D + 1)")
    parser.add_argument("--lookback", type=int, default=3)
    parser.add_argument("--start", type=date.fromisoformat, help="or an explicit window [start, end)")
    parser.add_argument("--end", type=date.fromisoformat)
    args = parser.parse_args()
    if args.date:
        start = datetime.combine(args.date - timedelta(days=args.lookback), datetime.min.time())
        end = datetime.combine(args.date + timedelta(days=1), datetime.min.time())
    elif args.start and args.end:
        start, end = (datetime.combine(d, datetime.min.time()) for d in (args.start, args.end))
    else:
        parser.error("give --date, or --start and --end")
    began = time.perf_counter()
    counts = read_all(args.base_url.rstrip("/"), start, end)
    print(json.dumps({"window": [str(start), str(end)], "records": sum(counts.values()), **counts,
                      "seconds": round(time.perf_counter() - began, 3)}))


if __name__ == "__main__":
    main()
