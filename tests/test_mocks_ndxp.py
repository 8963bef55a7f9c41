"""The NDXP simulator (docs/sources.md §2) over real HTTP: OAuth2 client credentials, expiring
tokens, cursor paging, ISO 8601 times with +07:00, sync receipts, integrated services, PayGov."""
from __future__ import annotations

import time
from collections import defaultdict

import pytest
import requests

from etl.config import env
from mocks.testing import run_simulator

OPTS = {"seed": 5, "profile": "lao_cai_2022", "dossiers_per_year": 20_000, "token_ttl": 3}
WINDOW = {"fromDate": "2022-03-14", "toDate": "2022-03-17"}


@pytest.fixture(scope="module")
def sim():
    with run_simulator(**OPTS) as url:
        yield url


def token(base, client_id=None, secret=None, grant="client_credentials"):
    return requests.post(f"{base}/ndxp/oauth2/token", timeout=10, data={
        "grant_type": grant, "client_id": client_id or env("NDXP_CLIENT_ID"),
        "client_secret": secret or env("NDXP_CLIENT_SECRET")})


def bearer(base):
    r = token(base)
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def items(base, path, limit=None, **params):
    """Every item, following nextCursor; each page with a fresh token if needed."""
    out, cursor, pages = [], None, 0
    headers = bearer(base)
    while True:
        q = {**params, **({"cursor": cursor} if cursor else {}), **({"limit": limit} if limit else {})}
        r = requests.get(base + path, params=q, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "nextCursor"}
        out += body["items"]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            return out


def test_token(sim):
    r = token(sim)
    body = r.json()
    assert r.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 3
    assert token(sim, secret="wrong").status_code == 401
    assert token(sim, client_id="someone-else").status_code == 401
    assert token(sim, grant="password").status_code == 400
    basic = requests.post(f"{sim}/ndxp/oauth2/token", data={"grant_type": "client_credentials"}, timeout=10,
                          auth=(env("NDXP_CLIENT_ID"), env("NDXP_CLIENT_SECRET")))
    assert basic.status_code == 200


@pytest.mark.parametrize("path", ["/ndxp/dvcqg/v1/dongbo", "/ndxp/dvcqg/v1/thutuc-tichhop", "/ndxp/paygov/v1/giaodich"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}])
def test_without_a_valid_token_401(sim, path, headers):
    r = requests.get(sim + path, params=WINDOW, headers=headers, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_tokens_expire(sim):
    """A token serves until its TTL has passed, then gets a 401 saying it expired: the expiry is awaited
    by polling (bounded), not slept for."""
    path = sim + "/ndxp/dvcqg/v1/thutuc-tichhop"
    asked = time.monotonic()  # the token is issued after this, so it cannot expire before asked + TTL
    headers = bearer(sim)
    deadline = asked + OPTS["token_ttl"] + 30
    while (r := requests.get(path, headers=headers, timeout=10)).status_code == 200:
        assert time.monotonic() < deadline, f"the token still works {OPTS['token_ttl'] + 30} s after it was issued"
        time.sleep(0.1)
    assert time.monotonic() - asked >= OPTS["token_ttl"], "the token expired before its TTL"
    assert r.status_code == 401 and "expired" in r.json()["message"]
    assert requests.get(path, headers=bearer(sim), timeout=10).status_code == 200


def test_cursor_pages_concatenate(sim):
    whole = items(sim, "/ndxp/dvcqg/v1/dongbo", limit=1000, **WINDOW)
    paged = items(sim, "/ndxp/dvcqg/v1/dongbo", limit=97, **WINDOW)
    assert len(whole) > 300 and paged == whole
    keys = [r["thoiDiemDongBo"] for r in whole]
    assert keys == sorted(keys)
    assert all(r["thoiDiemDongBo"].endswith("+07:00") for r in whole)
    assert all("2022-03-14T00:00:00+07:00" <= k < "2022-03-17T00:00:00+07:00" for k in keys)


def test_bad_requests(sim):
    h = bearer(sim)
    path = sim + "/ndxp/dvcqg/v1/dongbo"
    assert requests.get(path, params={**WINDOW, "cursor": "garbage"}, headers=h, timeout=10).status_code == 400
    assert requests.get(path, params={**WINDOW, "limit": 1001}, headers=h, timeout=10).status_code == 400
    not_iso = {"fromDate": "14/03/2022", "toDate": "2022-03-17"}
    assert requests.get(path, params=not_iso, headers=h, timeout=10).status_code == 400
    assert requests.get(path, params={"toDate": "2022-03-17"}, headers=h, timeout=10).status_code == 400
    # a cursor from another query is refused
    first = requests.get(path, params={**WINDOW, "limit": 10}, headers=h, timeout=10).json()["nextCursor"]
    other = {"fromDate": "2022-04-01", "toDate": "2022-04-02", "limit": 10, "cursor": first}
    assert requests.get(path, params=other, headers=h, timeout=10).status_code == 400


def test_offsets_are_honoured(sim):
    utc = items(sim, "/ndxp/dvcqg/v1/dongbo", fromDate="2022-03-14T17:00:00Z", toDate="2022-03-15T17:00:00Z")
    local = items(sim, "/ndxp/dvcqg/v1/dongbo",
                  fromDate="2022-03-15T00:00:00+07:00", toDate="2022-03-16T00:00:00+07:00")
    assert utc == local and utc


def test_sync_receipts_follow_the_dossiers(sim):
    receipts = items(sim, "/ndxp/dvcqg/v1/dongbo", fromDate="2022-03-01", toDate="2022-04-01")
    per = defaultdict(list)
    for r in receipts:
        per[r["maHoSo"]].append(r)
    assert {r["loaiDongBo"] for r in receipts} == {"INSERT", "UPDATE"}
    rejected = [r for r in receipts if r["errorCode"] != 0]
    assert rejected and all(r["errorMessage"] for r in rejected)
    assert all(r["errorMessage"] is None for r in receipts if r["errorCode"] == 0)
    assert 0.005 < len(rejected) / len(receipts) < 0.15
    retried = 0
    for code, rs in per.items():
        assert all(r["maDonVi"] == code.split("-")[0] for r in rs)
        inserts = [r for r in rs if r["loaiDongBo"] == "INSERT"]
        if inserts and inserts[0]["errorCode"] != 0:
            retried += any(r["errorCode"] == 0 for r in inserts[1:])
    assert retried > 0
    # the receipts are about dossiers the one-stop system has
    s = requests.Session()
    s.headers["X-API-Key"] = env("ONESTOP_API_KEY")
    codes = set()
    for tu, den in (("20220101000000", "20220301000000"), ("20220301000000", "20220401000000")):
        page = 1
        while True:
            body = s.get(sim + "/onestop/api/v1/hoso", params={"tuNgay": tu, "denNgay": den, "page": page},
                         timeout=60).json()
            codes |= {r["MaHoSo"] for r in body["data"]}
            if page * 1000 >= body["total"]:
                break
            page += 1
    assert set(per) <= codes


def test_integrated_services(sim):
    rows = items(sim, "/ndxp/dvcqg/v1/thutuc-tichhop", limit=400)
    assert len(rows) > 500
    assert len({(r["maTTHC"], r["maDonVi"]) for r in rows}) == len(rows)
    stopped = [r for r in rows if r["ngayNgungTichHop"]]
    assert stopped and all(r["ngayTichHop"] < r["ngayNgungTichHop"] for r in stopped)
    years = {r["ngayTichHop"][:4] for r in rows}
    assert {"2021", "2022"} <= years          # integrations keep happening during the year
    s = requests.Session()
    s.headers["X-API-Key"] = env("ONESTOP_API_KEY")
    configs = s.get(sim + "/onestop/api/v1/cauhinh-dichvu", timeout=30).json()
    full_online = set()
    page = 1
    while True:
        body = s.get(sim + "/onestop/api/v1/cauhinh-dichvu", params={"page": page}, timeout=30).json()
        full_online |= {(c["MaTTHC"], c["MaDonVi"]) for c in body["data"] if c["MucDo"] in ("TOAN_TRINH", 4)}
        if page * 1000 >= body["total"]:
            break
        page += 1
    assert configs["total"] > 1000
    assert {(r["maTTHC"], r["maDonVi"]) for r in rows} <= full_online


def test_paygov_matches_onestop_payments(sim):
    txs = items(sim, "/ndxp/paygov/v1/giaodich", fromDate="2022-03-01", toDate="2022-04-01")
    assert txs and {t["maLoi"] for t in txs} > {"00"}
    assert all(len(t["thoiGianGD"]) == 14 and t["thoiGianGD"].isdigit() for t in txs)
    assert all("20220301000000" <= t["thoiGianGD"] < "20220401000000" for t in txs)
    s = requests.Session()
    s.headers["X-API-Key"] = env("ONESTOP_API_KEY")
    pays, page = [], 1
    while True:
        body = s.get(sim + "/onestop/api/v1/thanhtoan", timeout=30,
                     params={"tuNgay": "20220301000000", "denNgay": "20220401000000", "page": page}).json()
        pays += body["data"]
        if page * 1000 >= body["total"]:
            break
        page += 1
    paid = {p["MaGiaoDich"]: p for p in pays if p["KenhThanhToan"] == "DVCQG" and p["TrangThai"] == "DA_THANH_TOAN"}
    ok = {t["maGiaoDich"]: t for t in txs if t["maLoi"] == "00"}
    assert set(ok) == set(paid)
    for code, t in ok.items():
        assert t["maThamChieu"] == paid[code]["MaHoSo"] and t["soTien"] == paid[code]["SoTien"]
