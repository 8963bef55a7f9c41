"""Mapping of one-stop records to warehouse columns, PII removal, date handling."""
from datetime import date, datetime

import pandas as pd

from etl import transform
from etl.pii import applicant_key, pseudonymize
from etl.timeutil import Window, parse_onestop, period_starts, to_local_naive
from etl.warehouse import split_statements

KEY = b"test-key"


def dossier(**over):
    base = {
        "MaHoSo": "H13.01-220103-0001", "MaTTHC": "1.001234", "DonViXuLy": "000.00.01.H13",
        "KenhThucHien": 2, "TrangThaiHoSo": 4, "NgayNopHoSo": "20220103080000",
        "NgayTiepNhan": "20220103090000", "NgayHenTra": "20220110170000", "NgayKetThucXuLy": None,
        "NgayTra": None, "NgayTuChoi": None, "HinhThucTraKetQua": None, "HoSoCoThanhPhanSoHoa": 1,
        "KetQuaDuocSoHoa": 0, "DuocKySo": 0, "DuocThanhToanTrucTuyen": 1,
        "DanhSachLePhi": [{"MaPhiLePhi": "P1", "TenPhiLePhi": "Lệ phí", "Gia": 50000, "HinhThucThu": 2},
                          {"MaPhiLePhi": "P2", "TenPhiLePhi": "Phí", "Gia": 25000, "HinhThucThu": 2}],
        "DanhSachHoSoBoSung": [{"NgayYeuCau": "20220104090000"}],
        "ChuHoSo": {"HoVaTen": "Nguyễn Văn An", "SoDinhDanh": "001088012345", "SoDienThoai": "0912345678",
                    "DiaChi": "Phường Cốc Lếu, TP Lào Cai"},
        "NgayCapNhat": "20220103090000",
    }
    base.update(over)
    return base


def test_dossier_frame_maps_fields_and_types():
    frame = transform.dossier_frame([dossier(), dossier(MaHoSo="X2", KenhThucHien=None, DanhSachLePhi=[])], KEY)
    first = frame.iloc[0]
    assert first["dossier_code"] == "H13.01-220103-0001"
    assert first["received_at"] == pd.Timestamp("2022-01-03 09:00:00")
    assert first["fee_amount"] == 75000
    assert first["supplement_count"] == 1
    assert bool(first["has_digitized_components"]) is True
    assert frame.iloc[1]["channel"] == 1, "a NULL channel counts as the counter"
    assert frame.iloc[1]["fee_amount"] == 0
    assert list(frame["_row"]) == [0, 1]


def test_personal_data_never_leaves_the_transform():
    frame = transform.dossier_frame([dossier()], KEY)
    text = frame.astype(str).to_csv()
    for secret in ("Nguyễn Văn An", "001088012345", "0912345678", "Cốc Lếu"):
        assert secret not in text
    assert frame.iloc[0]["applicant_key"] == applicant_key("001088012345", KEY)
    assert applicant_key("001088012345", b"other-key") != applicant_key("001088012345", KEY)


def test_pseudonymize_keeps_non_personal_fields():
    clean = pseudonymize(dossier(), KEY)
    assert clean["MaHoSo"] == "H13.01-220103-0001"
    assert set(clean["ChuHoSo"]) == {"KhoaDinhDanh"}


def test_impossible_dates_become_null_next_to_their_raw_text():
    frame = transform.dossier_frame([dossier(NgayHenTra="20221345000000")], KEY)
    assert pd.isna(frame.iloc[0]["due_at"])
    assert frame.iloc[0]["due_at_raw"] == "20221345000000"


def test_parse_onestop_and_windows():
    parsed = parse_onestop(pd.Series(["20220131235959", "garbage", None]))
    assert parsed.iloc[0] == pd.Timestamp("2022-01-31 23:59:59")
    assert parsed.iloc[1:].isna().all()
    window = Window.for_day(date(2022, 3, 31))
    assert (window.start, window.end) == (datetime(2022, 3, 31), datetime(2022, 4, 1))


def test_airflow_utc_interval_becomes_the_local_day():
    import pendulum

    utc_start = pendulum.datetime(2022, 1, 4, 17, 0, tz="UTC")  # = 2022-01-05 00:00 in Vietnam
    assert to_local_naive(utc_start) == datetime(2022, 1, 5)


def test_period_starts():
    assert period_starts(date(2022, 8, 17)) == {
        "day": date(2022, 8, 17), "mtd": date(2022, 8, 1), "qtd": date(2022, 7, 1), "ytd": date(2022, 1, 1)}
    assert period_starts(date(2022, 1, 1))["qtd"] == date(2022, 1, 1)


def test_reference_frames_map_legacy_service_levels():
    configs = transform.service_config_frame([
        {"MaDonVi": "A", "MaTTHC": "1.1", "MucDo": 4, "CoThanhToanTrucTuyen": 1, "CoBCCI": 0,
         "HieuLucTu": "20220101000000", "HieuLucDen": None},
        {"MaDonVi": "A", "MaTTHC": "1.2", "MucDo": "MOT_PHAN", "CoThanhToanTrucTuyen": 0, "CoBCCI": 1,
         "HieuLucTu": "20220101000000", "HieuLucDen": "20220630235959"}])
    assert list(configs["service_level"]) == ["full_online", "partial_online"]
    assert configs.iloc[1]["valid_to"] == date(2022, 6, 30)


def test_split_statements_ignores_comments_and_keeps_multiline_statements():
    script = "-- header\nCREATE TABLE a (x int);\n\nINSERT INTO a\nSELECT 1; -- trailing\nSELECT ';' ;\n"
    assert split_statements(script) == ["CREATE TABLE a (x int)", "INSERT INTO a\nSELECT 1", "SELECT ';'"]
