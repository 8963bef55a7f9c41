"""Fault injection of the simulator, each kind alone and all together, over real HTTP."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from itertools import pairwise

import pytest
import requests

from etl.config import env
from mocks.testing import ROOT, run_simulator

SEED = 21
BASE = {"seed": SEED, "profile": "lao_cai_2022", "dossiers_per_year": 20_000}
HOSO = "/onestop/api/v1/hoso"
DAY = {"tuNgay": "20220315000000", "denNgay": "20220316000000"}


def onestop():
    s = requests.Session()
    s.headers["X-API-Key"] = env("ONESTOP_API_KEY")
    return s


def fetch_all(base, path=HOSO, page_size=1000, **params):
    """Every page of a one-stop window, retrying transient faults."""
    s, rows, page = onestop(), [], 1
    while True:
        for _ in range(50):
            r = s.get(base + path, params={**params, "page": page, "pageSize": page_size}, timeout=30)
            if r.status_code == 200:
                try:
                    body = r.json()
                except ValueError:
                    continue
                if body.get("error_code") == 0:
                    break
        else:
            raise AssertionError("no clean answer after 50 attempts")
        rows += body["data"]
        if page * page_size >= body["total"]:
            return rows
        page += 1


@pytest.fixture(scope="module")
def clean():
    with run_simulator(**BASE) as url:
        yield url


def statuses(base, n=40, path=HOSO, params=DAY, headers=None):
    s = onestop()
    out = []
    for _ in range(n):
        r = s.get(base + path, params=params, headers=headers, timeout=30)
        out.append(r)
    return out


def test_off_by_default(clean):
    rs = statuses(clean, 15)
    assert all(r.status_code == 200 and r.json()["error_code"] == 0 for r in rs)


def test_rate429_alone_and_deterministic():
    with run_simulator(**BASE, faults=["rate429=0.5"]) as url:
        first = statuses(url)
    codes = Counter(r.status_code for r in first)
    assert set(codes) == {200, 429} and codes[429] > 5
    assert all(r.headers["Retry-After"] == "1" for r in first if r.status_code == 429)
    assert all(r.json()["error_code"] == 429 for r in first if r.status_code == 429)
    with run_simulator(**BASE, faults=["rate429=0.5"]) as url:
        again = statuses(url)
    assert [r.status_code for r in again] == [r.status_code for r in first]


def test_http5xx_alone():
    with run_simulator(**BASE, faults=["http5xx=0.5"]) as url:
        rs = statuses(url, 60)
        vn = requests.post(url + "/vnpost/api/auth", json={"username": env("VNPOST_USERNAME"),
                                                          "password": env("VNPOST_PASSWORD")}, timeout=10).json()
        vnpost = [requests.get(url + "/vnpost/api/bcci/orders", headers={"access_token": vn["access_token"]},
                               params={"fromDate": "15/03/2022", "toDate": "15/03/2022"}, timeout=10)
                  for _ in range(40)]
        assert requests.get(url + "/health", timeout=5).status_code == 200
    codes = Counter(r.status_code for r in rs)
    assert {200, 500, 503} <= set(codes)
    assert any(r.headers["content-type"].startswith("text/html") for r in rs if r.status_code == 503)
    assert any(r.status_code == 200 and r.json()["Status"] == "500" for r in vnpost)     # error inside HTTP 200
    assert any(r.status_code == 200 and r.json()["Status"] == "100" for r in vnpost)


def test_slow_alone():
    with run_simulator(**BASE, faults=["slow=1"], slow_seconds=0.6) as url:
        s = onestop()
        t = time.monotonic()
        r = s.get(url + HOSO, params=DAY, timeout=30)
        assert r.status_code == 200 and time.monotonic() - t >= 0.6


def test_malformed_alone():
    with run_simulator(**BASE, faults=["malformed=0.5"]) as url:
        rs = statuses(url, 30)
    bad = 0
    for r in rs:
        assert r.status_code == 200
        try:
            json.loads(r.content)
        except ValueError:
            bad += 1
    assert 3 < bad < 27


def test_duplicates_alone(clean):
    with run_simulator(**BASE, faults=["duplicates=1"]) as url:
        s = onestop()
        pages = []
        page = 1
        while True:
            body = s.get(url + HOSO, params={**DAY, "page": page, "pageSize": 50}, timeout=30).json()
            pages.append(body["data"])
            if page * 50 >= body["total"]:
                break
            page += 1
    for prev, cur in pairwise(pages):
        assert cur[0] == prev[-1]                    # the last row of a page comes again on the next
    served = [r for p in pages for r in p]
    unique = list({(r["NgayCapNhat"], r["MaHoSo"]): r for r in served}.values())
    assert len(served) > len(unique)
    assert unique == fetch_all(clean, **DAY)         # nothing lost, nothing else changed


def test_late_updates_alone(clean):
    days = [f"202203{d:02d}000000" for d in range(10, 20)]
    with run_simulator(**BASE, faults=["late_updates=0.3"]) as url:
        served = []
        late = 0
        for a, b in pairwise(days):
            rows = fetch_all(url, tuNgay=a, denNgay=b)
            late += sum(r["NgayCapNhat"] < a for r in rows)
            served += rows
    assert late > 20
    lo, hi = "20220310000000", "20220315000000"
    got = sorted((r["NgayCapNhat"], r["MaHoSo"]) for r in served if lo <= r["NgayCapNhat"] < hi)
    want = [(r["NgayCapNhat"], r["MaHoSo"]) for r in fetch_all(clean, tuNgay=lo, denNgay=hi)]
    assert got == want                               # late, but all there, exactly once


def test_bad_records_alone(clean):
    window = {"tuNgay": "20220301000000", "denNgay": "20220316000000"}
    with run_simulator(**BASE, faults=["bad_records=0.2"]) as url:
        rows = fetch_all(url, **window)
        pays = fetch_all(url, path="/onestop/api/v1/thanhtoan", **window)
    good = fetch_all(clean, **window)
    assert len(rows) == len(good)
    procs = {p["MaTTHC"] for p in fetch_all(clean, path="/onestop/api/v1/thutuc")}
    agencies = {a["MaDonVi"] for a in fetch_all(clean, path="/onestop/api/v1/donvi")}
    kinds = Counter()
    keys = set(good[0])
    for bad, ok in zip(rows, good, strict=True):
        if bad == ok:
            continue
        if set(bad) != keys:
            kinds["missing keys"] += 1
        elif bad["MaTTHC"] not in procs:
            kinds["unknown procedure"] += 1
        elif bad["DonViXuLy"] not in agencies:
            kinds["unknown agency"] += 1
        elif any(f["Gia"] < 0 for f in bad["DanhSachLePhi"]):
            kinds["negative amount"] += 1
        elif bad["NgayHenTra"] and bad["NgayTiepNhan"] and bad["NgayHenTra"] < bad["NgayTiepNhan"]:
            kinds["due before receipt"] += 1
        else:
            dates = [bad[f] for f in ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra") if bad[f]]
            assert any(d[4:6] > "12" or d[4:8] in ("0230", "0631", "0000") for d in dates), bad
            kinds["impossible date"] += 1
    assert set(kinds) == {"missing keys", "unknown procedure", "unknown agency", "negative amount",
                          "due before receipt", "impossible date"}
    assert 0.1 < sum(kinds.values()) / len(rows) < 0.3
    assert any(p.get("SoTien", 0) < 0 or "SoTien" not in p or p.get("MaHoSo", "").startswith("000.00.99")
               for p in pays)


def test_outages_lose_a_share_of_their_days_records(clean):
    """--outage: none of a silent day's records, a share of a partial one's (a subset, the same on every fetch),
    the days around untouched; a window across them loses only the outage days' records."""
    window = {"tuNgay": "20220314000000", "denNgay": "20220317000000"}
    with run_simulator(**BASE, outage=["2022-03-14", "2022-03-15=0.3"]) as url:
        served = [fetch_all(url, path=path, **window) for path in (HOSO, "/onestop/api/v1/thanhtoan")]
        again = fetch_all(url, **window)
    for rows, good in zip(served, (fetch_all(clean, **window),
                                   fetch_all(clean, path="/onestop/api/v1/thanhtoan", **window)), strict=True):
        by_day = {day: [r for r in rows if r["NgayCapNhat"].startswith(day)] for day in ("20220314", "20220315")}
        good_15 = [r for r in good if r["NgayCapNhat"].startswith("20220315")]
        assert not by_day["20220314"] and any(r["NgayCapNhat"].startswith("20220314") for r in good)
        assert all(r in good_15 for r in by_day["20220315"])
        assert 0.15 < len(by_day["20220315"]) / len(good_15) < 0.45
        assert [r for r in rows if r["NgayCapNhat"] >= "20220316"] == \
            [r for r in good if r["NgayCapNhat"] >= "20220316"]
    assert again == served[0]


def test_a_bad_outage_is_refused():
    for bad in ("2022-02-30", "2022-03-15=1", "15/03/2022"):
        r = subprocess.run([sys.executable, "-m", "mocks", "serve", "--outage", bad, "--port", "1"],
                           cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "--outage" in r.stderr, (bad, r.stderr)


def test_fault_rate_turns_everything_on():
    with run_simulator(**BASE, fault_rate=0.3, slow_seconds=0.05) as url:
        rs = statuses(url, 60)
        rows = fetch_all(url, page_size=100, **DAY)
    codes = Counter(r.status_code for r in rs)
    assert {200, 429} <= set(codes) and (500 in codes or 503 in codes)
    assert len(rows) > 100


def test_unknown_fault_is_refused():
    r = subprocess.run([sys.executable, "-m", "mocks", "serve", "--fault", "nonsense", "--port", "1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "unknown fault" in r.stderr
