"""The VNPost BCCI simulator (docs/sources.md §3) over real HTTP."""
from __future__ import annotations

from datetime import datetime

import pytest
import requests

from etl.config import env
from mocks.testing import run_simulator

OPTS = {"seed": 3, "profile": "lao_cai_2022", "dossiers_per_year": 20_000}
ORDERS = "/vnpost/api/bcci/orders"


@pytest.fixture(scope="module")
def sim():
    with run_simulator(**OPTS) as url:
        yield url


@pytest.fixture(scope="module")
def headers(sim):
    r = requests.post(sim + "/vnpost/api/auth", json={"username": env("VNPOST_USERNAME"),
                                                      "password": env("VNPOST_PASSWORD")}, timeout=10)
    assert r.status_code == 200
    return {"access_token": r.json()["access_token"]}


def orders(sim, headers, limit=500, **params):
    out, offset = [], 0
    while True:
        r = requests.get(sim + ORDERS, params={**params, "offset": offset, "limit": limit}, headers=headers, timeout=30)
        body = r.json()
        assert r.status_code == 200 and body["Status"] == "100", body
        out += body["Items"]
        offset += limit
        if offset >= body["Total"]:
            assert len(out) == body["Total"]
            return out


def test_auth(sim):
    bad = requests.post(sim + "/vnpost/api/auth", json={"username": env("VNPOST_USERNAME"), "password": "x"},
                        timeout=10)
    assert bad.status_code == 401 and bad.json()["Status"] != "100"
    assert requests.post(sim + "/vnpost/api/auth", data="not json", timeout=10).status_code == 401
    for h in ({}, {"access_token": "forged"}):
        r = requests.get(sim + ORDERS, params={"fromDate": "01/03/2022", "toDate": "02/03/2022"}, headers=h, timeout=10)
        assert r.status_code == 401 and r.json()["Status"] == "401"


@pytest.mark.parametrize("params", [
    {"fromDate": "2022-03-01", "toDate": "02/03/2022"},
    {"fromDate": "01/03/2022", "toDate": "02/03/2022", "limit": 501},
    {"fromDate": "01/03/2022", "toDate": "02/03/2022", "offset": -1}, {"toDate": "02/03/2022"},
])
def test_errors_come_with_http_200(sim, headers, params):
    r = requests.get(sim + ORDERS, params=params, headers=headers, timeout=10)
    assert r.status_code == 200 and r.json()["Status"] == "400" and r.json()["Items"] == []


def test_envelope_and_paging(sim, headers):
    whole = orders(sim, headers, fromDate="01/03/2022", toDate="31/03/2022")
    assert len(whole) > 50
    assert orders(sim, headers, limit=17, fromDate="01/03/2022", toDate="31/03/2022") == whole
    stamp = lambda s: datetime.strptime(s, "%d/%m/%Y %H:%M:%S")  # noqa: E731
    keys = [(stamp(o["LastModified"]), o["ItemCode"]) for o in whole]
    assert keys == sorted(keys)
    assert all(datetime(2022, 3, 1) <= k < datetime(2022, 4, 1) for k, _ in keys)
    # both days included: one day = that whole day
    day = orders(sim, headers, fromDate="15/03/2022", toDate="15/03/2022")
    assert day == [o for o in whole if o["LastModified"].startswith("15/03/2022")]


def test_orders_follow_the_dossiers(sim, headers):
    rows = orders(sim, headers, fromDate="01/03/2022", toDate="30/04/2022")
    assert {o["ServiceType"] for o in rows} == {"THU_GOM", "PHAT_KQ"}
    assert {1, 2, 3} <= {o["CollectionStatus"] for o in rows}
    for o in rows:
        assert o["ItemCode"].startswith("E") and o["ItemCode"].endswith("VN") and len(o["ItemCode"]) == 13
        assert (o["DeliveredDate"] is not None) == (o["CollectionStatus"] == 3)
        assert o["CODAmount"] >= 0
    s = requests.Session()
    s.headers["X-API-Key"] = env("ONESTOP_API_KEY")
    latest = {}
    for tu, den in (("20220201000000", "20220401000000"), ("20220401000000", "20220501000000")):
        page = 1
        while True:
            body = s.get(sim + "/onestop/api/v1/hoso", params={"tuNgay": tu, "denNgay": den, "page": page},
                         timeout=60).json()
            for r in body["data"]:
                latest[r["MaHoSo"]] = r
            if page * 1000 >= body["total"]:
                break
            page += 1
    for o in rows:
        d = latest.get(o["OrderNumber"])
        if d is None:
            continue
        if o["ServiceType"] == "THU_GOM":
            assert d["KenhThucHien"] == 3
        else:
            assert d["HinhThucTraKetQua"] == 3 and d["NgayKetThucXuLy"]
    collected = {o["OrderNumber"] for o in rows if o["ServiceType"] == "THU_GOM"}
    postal = {c for c, d in latest.items() if d["KenhThucHien"] == 3 and d["NgayNopHoSo"][:8] >= "20220305"
              and d["NgayNopHoSo"][:8] < "20220425"}
    assert postal and postal <= collected
