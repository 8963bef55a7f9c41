"""Mapping of source records to warehouse columns, PII removal, date handling.

`fixtures/transform_cases.json` holds representative records of every entity (from the simulator,
clean and with each kind of bad record, plus hand-written edge cases, each with a note) and the
frame they must give. After an intended change of a frame, re-record it with
`.venv/bin/python -m tests.test_transform` and review the diff.
"""
import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from etl import transform
from etl.pii import applicant_key, pseudonymize
from etl.timeutil import Window, parse_onestop, period_starts, to_local_naive
from etl.warehouse import split_statements

KEY = b"test-key"
CASES = Path(__file__).parent / "fixtures" / "transform_cases.json"


def dossier_frame(records: list[dict]) -> pd.DataFrame:
    """Dossiers as the loader frames them: pseudonymized with KEY first."""
    return transform.dossier_frame(transform.pseudonymized(transform.DOSSIER, records, KEY))


BUILDERS = {  # entity (as in etl/load.py) -> the name other modules use
    "agency": transform.agency_frame,
    "procedure": transform.procedure_frame,
    "service_config": transform.service_config_frame,
    "dossier": dossier_frame,
    "payment": transform.payment_frame,
    "paygov_transaction": transform.paygov_frame,
    "sync_receipt": transform.sync_receipt_frame,
    "integrated_service": transform.integrated_service_frame,
    "postal_order": transform.postal_order_frame,
}


def _json_value(value):
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def _dtype(series: pd.Series) -> str:
    days = series.dtype == object and all(isinstance(v, date) for v in series.dropna())
    return "date" if days else str(series.dtype)


def _expected(entity: dict) -> pd.DataFrame:
    def column(name: str, dtype: str) -> pd.Series:
        values = [case["expected"][name] for case in entity["cases"]]
        if dtype == "date":
            return pd.Series([date.fromisoformat(v) if v else pd.NaT for v in values], dtype=object)
        if dtype.startswith("datetime64"):
            return pd.Series(pd.to_datetime(pd.Series(values, dtype=object))).astype(dtype)
        return pd.Series(values, dtype=dtype)
    return pd.DataFrame({name: column(name, dtype) for name, dtype in entity["dtypes"].items()})


def _frame(name: str, entity: dict) -> pd.DataFrame:
    return BUILDERS[name]([case["record"] for case in entity["cases"]])


@pytest.mark.parametrize("name", list(BUILDERS))
def test_frames_match_the_recorded_cases(name):
    entity = json.loads(CASES.read_text(encoding="utf-8"))[name]
    assert len(entity["cases"]) >= 5
    assert_frame_equal(_frame(name, entity), _expected(entity), check_exact=True)


def record() -> None:
    """Re-record every case's expected row from the current code (after an intended change)."""
    entities = json.loads(CASES.read_text(encoding="utf-8"))
    for name, entity in entities.items():
        frame = _frame(name, entity)
        entity["dtypes"] = {c: _dtype(frame[c]) for c in frame.columns}
        for i, case in enumerate(entity["cases"]):
            case["expected"] = {c: _json_value(frame[c].iloc[i]) for c in frame.columns}
        assert_frame_equal(frame, _expected(entity), check_exact=True)  # the file says what the frame is
    CASES.write_text(json.dumps(entities, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


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
    frame = dossier_frame([dossier(), dossier(MaHoSo="X2", KenhThucHien=None, DanhSachLePhi=[])])
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
    frame = dossier_frame([dossier()])
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
    frame = dossier_frame([dossier(NgayHenTra="20221345000000")])
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


def test_every_spec_loads_columns_its_frame_has():
    specs = [transform.AGENCY, transform.PROCEDURE, transform.SERVICE_CONFIG, transform.DOSSIER, transform.PAYMENT,
             transform.PAYGOV, transform.SYNC_RECEIPT, transform.INTEGRATED_SERVICE, transform.POSTAL_ORDER]
    for spec, build in zip(specs, BUILDERS.values(), strict=True):
        frame = build([])
        assert frame.empty
        assert set(spec.columns) | {"_row"} <= set(frame.columns)
    assert transform.DOSSIER_COLUMNS[:2] == ["dossier_code", "updated_at"]


def test_a_field_no_record_has_is_null():
    frame = transform.procedure_frame([{"MaTTHC": "1.1", "TenTTHC": "Thủ tục", "CapThucHien": [2, 3],
                                        "DuDieuKienToanTrinh": 1, "CoPhiLePhi": "0"}])
    row = frame.iloc[0]
    assert pd.isna(row["field_code"]) and pd.isna(row["field_name"])
    assert row["levels"] == "2,3"
    assert not row["has_fee"]


def test_copies_of_a_record_are_one_once_pseudonymized_whatever_the_order_of_their_keys():
    record = {**dossier(), "DanhSachLePhi": [{"Gia": 1000, "TenPhiLePhi": "Lệ phí"}]}
    reordered = dict(reversed(list(record.items())))
    other_name = {**record, "ChuHoSo": {**record["ChuHoSo"], "HoVaTen": "Lê Văn C"}}
    other_id = {**record, "ChuHoSo": {**record["ChuHoSo"], "SoDinhDanh": "999999999999"}}
    records = transform.pseudonymized(transform.DOSSIER, [record, reordered, other_name, other_id, record], KEY)
    assert transform.first_copies(records) == [0, 3]
    assert transform.first_copies([{"a": 1}, {"a": 1.0}, {"a": True}, {"a": "1"}, {"a": 1}]) == [0, 1, 2, 3]


def test_a_payload_is_the_pseudonymized_record_as_sorted_json_with_its_text_as_it_is():
    [clean] = transform.pseudonymized(transform.DOSSIER, [dossier()], KEY)
    text = transform.payload(clean)
    assert json.loads(text) == clean and text == json.dumps(clean, ensure_ascii=False, sort_keys=True)
    assert not any(clear in text for clear in ("Nguyễn Văn An", "001088012345", "0912345678", "Cốc Lếu"))
    assert applicant_key("001088012345", KEY) in text
    assert "Thủ tục" in transform.payload({"TenTTHC": "Thủ tục"})


def test_a_frame_of_a_personal_spec_takes_records_pseudonymized_already_as_they_are():
    [clean] = transform.pseudonymized(transform.DOSSIER, [dossier()], KEY)
    frame = transform.dossier_frame([clean])
    assert frame.loc[0, "applicant_key"] == applicant_key("001088012345", KEY)


def test_personal_data_needs_the_key():
    with pytest.raises(ValueError, match="PII_HASH_KEY"):
        transform.pseudonymized(transform.DOSSIER, [dossier()], None)
    with pytest.raises(ValueError, match="pseudonymized first"):
        transform.frame(transform.DOSSIER, [dossier()])


if __name__ == "__main__":
    record()


def test_a_fingerprint_is_the_record_whatever_its_key_order_and_needs_the_pii_key():
    from etl.transform import fingerprints

    record = {"MaHoSo": "H1", "ChuHoSo": {"SoDinhDanh": "010203040506", "HoVaTen": "Trần Thị Bình"}, "Gia": 10**20}
    reordered = {"Gia": 10**20, "ChuHoSo": {"HoVaTen": "Trần Thị Bình", "SoDinhDanh": "010203040506"}, "MaHoSo": "H1"}
    changed = {**record, "ChuHoSo": {"SoDinhDanh": "010203040506", "HoVaTen": "Trần Thị Bính"}}
    a, b, c = fingerprints([record, reordered, changed], b"key")
    assert a == b and a != c and len(a) == 32
    assert fingerprints([record], b"another key") != [a]
