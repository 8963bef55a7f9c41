"""The one-stop simulator (docs/sources.md §1) over real HTTP: a `python -m mocks serve` subprocess."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
import requests

from etl.config import env
from mocks.testing import run_simulator

API = "/onestop/api/v1"
OPTS = {"seed": 11, "profile": "lao_cai_2022", "dossiers_per_year": 20_000}
DAY = ("20220315000000", "20220316000000")

# allowed status transitions between consecutive versions of a dossier
NEXT = {1: {2, 3}, 2: {4, 7, 8}, 3: set(), 4: {5, 6, 7, 8, 9}, 5: {4, 7, 8}, 6: {4}, 7: set(), 8: set(),
        9: {10}, 10: set()}


@pytest.fixture(scope="module")
def sim():
    with run_simulator(**OPTS) as url:
        yield url


@pytest.fixture(scope="module")
def http():
    s = requests.Session()
    s.headers["X-API-Key"] = env("ONESTOP_API_KEY")
    return s


def get(http, base, endpoint, **params):
    r = http.get(f"{base}{API}/{endpoint}", params=params, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def all_rows(http, base, endpoint, page_size=1000, **params):
    rows, page = [], 1
    while True:
        body = get(http, base, endpoint, page=page, pageSize=page_size, **params)
        rows += body["data"]
        if page * page_size >= body["total"]:
            assert len(rows) == body["total"]
            return rows
        page += 1


def test_health_needs_no_key(sim):
    assert requests.get(sim + "/health", timeout=5).json() == {"status": "ok"}


@pytest.mark.parametrize("endpoint", ["donvi", "thutuc", "cauhinh-dichvu", "hoso", "thanhtoan"])
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}])
def test_wrong_or_missing_key_is_401(sim, endpoint, headers):
    r = requests.get(f"{sim}{API}/{endpoint}", params={"tuNgay": DAY[0], "denNgay": DAY[1]}, headers=headers,
                     timeout=10)
    assert r.status_code == 401
    assert r.json()["error_code"] != 0


def test_envelope(sim, http):
    body = get(http, sim, "hoso", tuNgay=DAY[0], denNgay=DAY[1], page=1, pageSize=10)
    assert set(body) == {"error_code", "message", "total", "page", "pageSize", "data"}
    assert body["error_code"] == 0 and body["message"] == ""
    assert body["page"] == 1 and body["pageSize"] == 10 and len(body["data"]) == 10
    assert body["total"] > 100


@pytest.mark.parametrize("params", [
    {"pageSize": 1001}, {"pageSize": 0}, {"page": 0}, {"page": "x"},
    {"tuNgay": "2022-03-15", "denNgay": DAY[1]}, {"tuNgay": None, "denNgay": DAY[1]},
])
def test_bad_parameters_are_400(sim, http, params):
    q = {"tuNgay": DAY[0], "denNgay": DAY[1], **params}
    r = http.get(f"{sim}{API}/hoso", params={k: v for k, v in q.items() if v is not None}, timeout=10)
    assert r.status_code == 400
    assert r.json()["error_code"] != 0
    r = http.get(f"{sim}{API}/donvi", params={"pageSize": 1001}, timeout=10)
    assert r.status_code == 400


def test_agencies_of_the_lao_cai_decision(sim, http):
    rows = all_rows(http, sim, "donvi")
    by_code = {r["MaDonVi"]: r for r in rows}
    root = [r for r in rows if r["MaDonViCha"] is None]
    assert len(root) == 1 and root[0]["Cap"] == 1 and root[0]["MaDonVi"] == "000.00.00.H13"
    level1 = [r for r in rows if r["MaDonViCha"] == root[0]["MaDonVi"]]
    assert sum(r["Cap"] == 1 for r in level1) == 18 and sum(r["Cap"] == 2 for r in level1) == 9
    names = {r["TenDonVi"] for r in rows}
    for name in ("Sở Thông tin và Truyền thông", "Ban Dân tộc", "Sở Tư pháp", "UBND huyện Bát Xát",
                 "UBND thành phố Lào Cai", "UBND thị xã Sa Pa", "UBND huyện Si Ma Cai"):
        assert name in names
    communes = [r for r in rows if r["Cap"] == 3]
    assert len(communes) > 100
    per_district = defaultdict(int)
    for c in communes:
        assert by_code[c["MaDonViCha"]]["Cap"] == 2
        per_district[c["MaDonViCha"]] += 1
    assert len(per_district) == 9 and all(8 <= n <= 20 for n in per_district.values())
    for r in rows:
        assert r["HieuLucTu"] == "20200101000000" and r["HieuLucDen"] is None and r["MaDonViKeThua"] is None


def test_catalogue_and_service_configuration(sim, http):
    procs = all_rows(http, sim, "thutuc")
    assert 200 <= len(procs) <= 1000
    codes = {p["MaTTHC"] for p in procs}
    assert len(codes) == len(procs)
    for p in procs:
        assert p["MaTTHC"][:2] in ("1.", "2.") and len(p["MaTTHC"]) == 8
        assert p["CapThucHien"] and set(p["CapThucHien"]) <= {1, 2, 3}
    configs = all_rows(http, sim, "cauhinh-dichvu", page_size=700)
    levels = {str(c["MucDo"]) for c in configs}
    assert {"TOAN_TRINH", "MOT_PHAN", "TRUC_TIEP", "4", "3", "2"} <= levels
    assert all(c["MaTTHC"] in codes for c in configs)
    ended = [c for c in configs if c["HieuLucDen"]]
    assert ended and all(c["HieuLucDen"] == "20220630235959" for c in ended)
    assert any(isinstance(c["MucDo"], int) for c in ended)


def test_pages_concatenate_to_the_ordered_set(sim, http):
    whole = get(http, sim, "hoso", tuNgay=DAY[0], denNgay=DAY[1], page=1, pageSize=1000)["data"]
    paged = all_rows(http, sim, "hoso", page_size=37, tuNgay=DAY[0], denNgay=DAY[1])
    assert paged == whole
    keys = [(r["NgayCapNhat"], r["MaHoSo"]) for r in whole]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(DAY[0] <= r["NgayCapNhat"] < DAY[1] for r in whole)
    past = get(http, sim, "hoso", tuNgay=DAY[0], denNgay=DAY[1], page=999, pageSize=1000)
    assert past["data"] == [] and past["total"] == len(whole)


def test_windows_split_exactly(sim, http):
    """[a, c) = [a, b) + [b, c): every version belongs to exactly one window."""
    a, b, c = "20220401000000", "20220401123456", "20220403000000"
    whole = all_rows(http, sim, "hoso", tuNgay=a, denNgay=c)
    parts = all_rows(http, sim, "hoso", tuNgay=a, denNgay=b) + all_rows(http, sim, "hoso", tuNgay=b, denNgay=c)
    assert whole == parts


def test_no_data_before_the_profile_start(sim, http):
    assert get(http, sim, "hoso", tuNgay="20211201000000", denNgay="20220101000000")["total"] == 0
    assert get(http, sim, "hoso", tuNgay="20220101000000", denNgay="20220104000000")["total"] > 0
    assert get(http, sim, "hoso", tuNgay="20240610000000", denNgay="20240611000000")["total"] > 0


def test_same_seed_same_data_across_processes(sim, http):
    first = all_rows(http, sim, "hoso", tuNgay=DAY[0], denNgay=DAY[1])
    with run_simulator(**OPTS) as other:
        assert all_rows(http, other, "hoso", tuNgay=DAY[0], denNgay=DAY[1]) == first
        assert all_rows(http, other, "cauhinh-dichvu") == all_rows(http, sim, "cauhinh-dichvu")
    with run_simulator(**{**OPTS, "seed": OPTS["seed"] + 1}) as different:
        assert all_rows(http, different, "hoso", tuNgay=DAY[0], denNgay=DAY[1]) != first


def _ts(s):
    return datetime.strptime(s, "%Y%m%d%H%M%S")


def test_dossier_lifecycles(sim, http):
    rows = all_rows(http, sim, "hoso", tuNgay="20220301000000", denNgay="20220501000000")
    configs = all_rows(http, sim, "cauhinh-dichvu")
    offered = {(c["MaDonVi"], c["MaTTHC"]) for c in configs}
    versions = defaultdict(list)
    for r in rows:
        versions[r["MaHoSo"]].append(r)
    statuses = set()
    late = channels = 0
    for code, vs in versions.items():
        vs.sort(key=lambda r: r["NgayCapNhat"])
        times = [r["NgayCapNhat"] for r in vs]
        assert len(set(times)) == len(times), code
        for prev, cur in pairwise(vs):
            assert cur["TrangThaiHoSo"] in NEXT[prev["TrangThaiHoSo"]], \
                (code, prev["TrangThaiHoSo"], cur["TrangThaiHoSo"])
            for field in ("NgayNopHoSo", "NgayTiepNhan", "NgayKetThucXuLy", "NgayTra"):
                if prev[field] is not None:
                    assert cur[field] == prev[field], (code, field)
        for r in vs:
            statuses.add(r["TrangThaiHoSo"])
            assert (r["DonViXuLy"], r["MaTTHC"]) in offered
            assert r["MaHoSo"].startswith(r["DonViXuLy"] + "-")
            assert len(r["ChuHoSo"]["SoDinhDanh"]) == 12 and r["ChuHoSo"]["SoDinhDanh"].isdigit()
            assert r["NgayNopHoSo"] <= r["NgayCapNhat"]
            if r["NgayTiepNhan"]:
                assert r["NgayNopHoSo"] <= r["NgayTiepNhan"] <= r["NgayHenTra"]
            if r["TrangThaiHoSo"] == 1:
                assert r["NgayTiepNhan"] is None and r["NgayKetThucXuLy"] is None
            if r["TrangThaiHoSo"] == 3:
                assert r["NgayTuChoi"]
            if r["TrangThaiHoSo"] in (9, 10):
                assert r["NgayTiepNhan"] <= r["NgayKetThucXuLy"] <= r["NgayCapNhat"]
                assert r["KetQuaDuocSoHoa"] in (0, 1) and r["DuocKySo"] in (0, 1)
            if r["TrangThaiHoSo"] == 10:
                assert r["NgayKetThucXuLy"] <= r["NgayTra"]
                late += r["NgayKetThucXuLy"] > r["NgayHenTra"]
            if r["TrangThaiHoSo"] == 5:
                assert r["DanhSachHoSoBoSung"] and r["DanhSachHoSoBoSung"][-1]["NgayBoSung"] is None
            for s in r["DanhSachHoSoBoSung"]:
                if s["NgayBoSung"]:
                    assert s["NgayYeuCau"] <= s["NgayBoSung"] and s["NgayHenTraCu"] < s["NgayHenTraMoi"]
            channels += r["KenhThucHien"] is None
        # due date = receipt + working days: never on a weekend
        received = [r for r in vs if r["NgayHenTra"]]
        if received:
            assert _ts(received[0]["NgayHenTra"]).weekday() < 5
    assert statuses == set(range(1, 11))
    assert late > 0 and channels > 0


def test_daily_volume_follows_the_week(sim, http):
    """Weekdays busier than Saturdays, Saturdays busier than Sundays (submissions per day)."""
    rows = all_rows(http, sim, "hoso", tuNgay="20220307000000", denNgay="20220328000000")
    per_day = defaultdict(set)
    for r in rows:
        if r["TrangThaiHoSo"] == 1 or r["NgayNopHoSo"] == r["NgayCapNhat"]:
            per_day[_ts(r["NgayNopHoSo"]).date()].add(r["MaHoSo"])
    weekday = [len(v) for d, v in per_day.items() if d.weekday() < 5]
    sunday = [len(v) for d, v in per_day.items() if d.weekday() == 6]
    assert min(weekday) > max(sunday or [0])
    assert 20_000 / 365 * 0.8 < sum(weekday) / len(weekday) * (5 + 0.4) / 7 < 20_000 / 365 * 1.2


def test_agencies_differ_in_online_share():
    """In-process: over 2022, some agencies reach the 65 % online target and some do not."""
    from mocks.catalog import load_profile
    from mocks.dossiers import DossierGenerator

    gen = DossierGenerator(load_profile("lao_cai_2022"), OPTS["seed"], OPTS["dossiers_per_year"])
    online, total = defaultdict(int), defaultdict(int)
    d = date(2022, 1, 1)
    while d < date(2022, 7, 1):
        for x in gen.dossiers_submitted(d):
            ag = x.agency if x.agency.startswith("000.00.") else "000.00." + x.agency.split(".")[2] + ".H13"
            total[ag] += 1
            online[ag] += x.base["KenhThucHien"] == 2
        d += timedelta(days=1)
    shares = {a: online[a] / total[a] for a in total if total[a] >= 50}
    assert any(s >= 0.65 for s in shares.values()) and any(s < 0.65 for s in shares.values())


def test_payments_match_the_dossiers(sim, http):
    window = {"tuNgay": "20220301000000", "denNgay": "20220415000000"}
    pays = all_rows(http, sim, "thanhtoan", **window)
    keys = [(p["NgayCapNhat"], p["MaGiaoDich"]) for p in pays]
    assert keys == sorted(keys)
    assert {p["TrangThai"] for p in pays} == {"CHO", "DA_THANH_TOAN", "HUY", "HOAN_PHI"}
    assert {p["KenhThanhToan"] for p in pays} == {"DVCQG", "CONG_TINH", "TAI_QUAY"}
    dossiers = {}
    for r in all_rows(http, sim, "hoso", tuNgay="20220101000000", denNgay="20220601000000"):
        dossiers[r["MaHoSo"]] = r                     # the latest version wins (ordered by NgayCapNhat)
    fee = {code: sum(f["Gia"] for f in r["DanhSachLePhi"]) for code, r in dossiers.items()}
    for p in pays:
        assert p["MaHoSo"] in dossiers and fee[p["MaHoSo"]] == p["SoTien"] > 0
        assert (p["HinhThucThanhToan"] == 1) == (p["KenhThanhToan"] == "TAI_QUAY")
        assert (p["SoBienLai"] is not None) == (p["TrangThai"] in ("DA_THANH_TOAN", "HOAN_PHI"))
        assert p["ThoiGianGD"] <= p["NgayCapNhat"]
        if p["TrangThai"] == "DA_THANH_TOAN" and p["KenhThanhToan"] != "TAI_QUAY":
            online = {"DVCQG": 1, "CONG_TINH": 2}[p["KenhThanhToan"]]
            assert dossiers[p["MaHoSo"]]["DuocThanhToanTrucTuyen"] == online
        if p["TrangThai"] == "HOAN_PHI":
            assert dossiers[p["MaHoSo"]]["TrangThaiHoSo"] in (3, 7, 8)
    paid_online = {p["MaHoSo"] for p in pays if p["TrangThai"] == "DA_THANH_TOAN" and p["HinhThucThanhToan"] == 2}
    flagged = {c for c, r in dossiers.items() if r["DuocThanhToanTrucTuyen"] and
               "20220301000000" <= r["NgayCapNhat"] < "20220415000000" and r["NgayNopHoSo"] >= "20220305000000"}
    assert flagged and flagged <= paid_online | {p["MaHoSo"] for p in pays}


def test_long_windows_are_refused(sim, http):
    r = http.get(f"{sim}{API}/hoso", params={"tuNgay": "20220101000000", "denNgay": "20230301000000"}, timeout=10)
    assert r.status_code == 400
