"""What a team would write instead of the pipeline, for the month benchmark (benchmarks/run.py):
requests -> pandas.json_normalize -> to_sql into DuckDB -> a pandas group-by of the year-to-date
online_dossier_rate per agency for each day. Dossiers only, no validation, no history, no gates.

    .venv/bin/python benchmarks/naive_month.py --base-url http://127.0.0.1:8790 --db /tmp/naive.duckdb \
        [--start 2022-01-01 --end 2022-01-31]
"""
from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta

import pandas as pd
import requests
import sqlalchemy as sa


def fetch_day(session: requests.Session, base: str, day: date) -> list[dict]:
    rows, page = [], 1
    params = {"tuNgay": f"{day:%Y%m%d}", "denNgay": f"{day + timedelta(days=1):%Y%m%d}", "pageSize": 1000}
    while True:
        body = session.get(f"{base}/onestop/api/v1/hoso", params={**params, "page": page}, timeout=30).json()
        rows += body["data"]
        if not body["data"] or page * 1000 >= body["total"]:
            return rows
        page += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--api-key", default="dev-onestop-key")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2022, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2022, 1, 31))
    args = parser.parse_args()
    began = time.perf_counter()
    session = requests.Session()
    session.headers["X-API-Key"] = args.api_key
    engine = sa.create_engine(f"duckdb:///{args.db}")
    day, loaded, published = args.start, 0, 0
    while day <= args.end:
        frame = pd.json_normalize(fetch_day(session, args.base_url.rstrip("/"), day))
        if len(frame):
            frame = frame.drop(columns=[c for c in frame.columns if c.startswith("ChuHoSo.")]
                               + ["DanhSachLePhi", "DanhSachHoSoBoSung", "DanhSachGiayToKetQua"], errors="ignore")
            frame.to_sql("hoso", engine, if_exists="append", index=False)
            loaded += len(frame)
        # the year-to-date rate as of `day`: each dossier's latest version, received this year
        everything = pd.read_sql("SELECT MaHoSo, DonViXuLy, KenhThucHien, NgayTiepNhan, NgayCapNhat FROM hoso", engine)
        latest = everything.sort_values("NgayCapNhat").drop_duplicates("MaHoSo", keep="last")
        received = latest[latest["NgayTiepNhan"].notna()
                          & (latest["NgayTiepNhan"].str[:8] >= f"{day:%Y}0101")
                          & (latest["NgayTiepNhan"].str[:8] <= f"{day:%Y%m%d}")]
        rate = (received.assign(online=received["KenhThucHien"] == 2)
                .groupby("DonViXuLy")["online"].mean().rename("online_dossier_rate").reset_index())
        rate.assign(snapshot_date=day).to_sql("online_dossier_rate", engine, if_exists="append", index=False)
        published += len(rate)
        day += timedelta(days=1)
    print(json.dumps({"dossier_versions": loaded, "rate_rows": published,
                      "seconds": round(time.perf_counter() - began, 3)}))


if __name__ == "__main__":
    main()
