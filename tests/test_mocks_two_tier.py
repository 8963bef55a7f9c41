"""Profile two_tier_2025: three tiers until 2025-06-30, districts abolished and communes merged
from 2025-07-01 (over real HTTP)."""
from __future__ import annotations

from collections import defaultdict

import pytest
import requests

from etl.config import env
from mocks.testing import run_simulator

API = "/onestop/api/v1"


@pytest.fixture(scope="module")
def sim():
    with run_simulator(seed=2, profile="two_tier_2025", dossiers_per_year=20_000) as url:
        yield url


def rows(base, endpoint, **params):
    s = requests.Session()
    s.headers["X-API-Key"] = env("ONESTOP_API_KEY")
    out, page = [], 1
    while True:
        body = s.get(f"{base}{API}/{endpoint}", params={**params, "page": page}, timeout=60).json()
        out += body["data"]
        if page * 1000 >= body["total"]:
            return out
        page += 1


def valid_on(r, day):
    return r["HieuLucTu"][:8] <= day and (r["HieuLucDen"] is None or day <= r["HieuLucDen"][:8])


def test_agencies_before_and_after_the_reform(sim):
    agencies = rows(sim, "donvi")
    by = {a["MaDonVi"]: a for a in agencies}
    root = [a for a in agencies if a["MaDonViCha"] is None]
    assert len(root) == 1
    before = [a for a in agencies if valid_on(a, "20250630")]
    after = [a for a in agencies if valid_on(a, "20250701")]
    assert sum(a["Cap"] == 2 for a in before) == 9 and sum(a["Cap"] == 2 for a in after) == 0
    old_communes = [a for a in before if a["Cap"] == 3]
    new_communes = [a for a in after if a["Cap"] == 3]
    assert len(new_communes) < len(old_communes) / 2
    assert all(a["MaDonViCha"] == root[0]["MaDonVi"] and a["HieuLucTu"] == "20250701000000" for a in new_communes)
    for a in old_communes:
        assert a["HieuLucDen"] == "20250630235959"
        successor = by[a["MaDonViKeThua"]]
        assert successor in new_communes
    for a in before:
        if a["Cap"] == 2:
            assert a["HieuLucDen"] == "20250630235959" and a["MaDonViKeThua"] is None
    assert len({a["TenDonVi"] for a in new_communes}) == len(new_communes)
    assert sum(a["Cap"] == 1 for a in after) == 19               # root + 18 departments unchanged


def test_service_configuration_follows_the_agencies(sim):
    agencies = {a["MaDonVi"]: a for a in rows(sim, "donvi")}
    configs = rows(sim, "cauhinh-dichvu")
    for c in configs:
        a = agencies[c["MaDonVi"]]
        assert c["HieuLucTu"] >= a["HieuLucTu"]
        if a["HieuLucDen"]:
            assert c["HieuLucDen"] and c["HieuLucDen"] <= a["HieuLucDen"]
    new_offers = {c["MaTTHC"] for c in configs if agencies[c["MaDonVi"]]["HieuLucTu"] == "20250701000000"}
    procs = {p["MaTTHC"]: p for p in rows(sim, "thutuc")}
    assert any(procs[code]["CapThucHien"] == [2, 3] for code in new_offers)   # district work moved to communes


def test_dossiers_follow_the_reform(sim):
    assert rows(sim, "hoso", tuNgay="20241201000000", denNgay="20250101000000") == []
    agencies = {a["MaDonVi"]: a for a in rows(sim, "donvi")}
    june = rows(sim, "hoso", tuNgay="20250623000000", denNgay="20250701000000")
    july = rows(sim, "hoso", tuNgay="20250701000000", denNgay="20250708000000")
    assert june and july
    levels = defaultdict(set)
    for r in june + july:
        a = agencies[r["DonViXuLy"]]
        submitted = r["NgayNopHoSo"][:8]
        assert valid_on(a, submitted)                 # submitted to an agency valid that day
        levels[submitted >= "20250701"].add(a["Cap"])
    assert levels[False] == {1, 2, 3} and levels[True] == {1, 3}
    # dossiers submitted before the reform keep their (now ended) agency while they finish
    assert any(agencies[r["DonViXuLy"]]["HieuLucDen"] and r["NgayNopHoSo"] < "20250701" for r in july)
