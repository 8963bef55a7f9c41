"""Source records (Vietnamese field names) to typed frames (warehouse column names).

Nothing is rejected here: values that do not parse become NULL next to their raw text,
and the expectation suites decide what is quarantined.
"""
from __future__ import annotations

import json

import pandas as pd

from etl.pii import pseudonymize
from etl.timeutil import parse_onestop

SERVICE_LEVELS = {"TOAN_TRINH": "full_online", "4": "full_online", "MOT_PHAN": "partial_online",
                  "3": "partial_online", "TRUC_TIEP": "offline", "2": "offline", "1": "offline"}

DOSSIER_DATES = {  # warehouse column -> source field
    "submitted_at": "NgayNopHoSo",
    "received_at": "NgayTiepNhan",
    "due_at": "NgayHenTra",
    "finished_at": "NgayKetThucXuLy",
    "returned_at": "NgayTra",
    "rejected_at": "NgayTuChoi",
    "updated_at": "NgayCapNhat",
}

# The columns of staging.dossier / core.dossier_history, in order (batch_id added at load).
DOSSIER_COLUMNS = [
    "dossier_code", "updated_at", "procedure_code", "agency_code", "channel", "status",
    "submitted_at", "received_at", "due_at", "finished_at", "returned_at", "rejected_at",
    "result_channel", "has_digitized_components", "result_digitized", "digitally_signed",
    "paid_online", "fee_amount", "supplement_count", "applicant_key",
]


AGENCY_COLUMNS = ["agency_code", "name", "level", "parent_code", "valid_from", "valid_to", "successor_code"]
PROCEDURE_COLUMNS = ["procedure_code", "name", "field_code", "field_name", "levels", "full_online_eligible", "has_fee"]
SERVICE_CONFIG_COLUMNS = ["agency_code", "procedure_code", "valid_from", "valid_to", "service_level", "online_payment",
                          "bcci"]


def _int(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype("Int64")


def _bool(series: pd.Series) -> pd.Series:
    return _int(series).map({1: True, 0: False}, na_action="ignore").astype("boolean")


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip().replace("", pd.NA)


def _fee_total(fees) -> float | None:
    if not isinstance(fees, list):
        return 0
    total = 0
    for fee in fees:
        try:
            total += int((fee or {}).get("Gia") or 0)
        except (TypeError, ValueError):
            return None
    return total


def dossier_frame(records: list[dict], key: bytes) -> pd.DataFrame:
    """One row per dossier version, plus `_row` (position) and `_payload` (pseudonymized JSON)
    and the raw date strings as `<column>_raw` for the suite's format checks."""
    clean = [pseudonymize(r, key) for r in records]
    raw = pd.DataFrame.from_records(clean) if clean else pd.DataFrame()
    col = lambda name: raw[name] if name in raw else pd.Series([None] * len(raw), dtype=object)  # noqa: E731
    out = pd.DataFrame(index=range(len(raw)))
    out["dossier_code"] = _text(col("MaHoSo"))
    out["procedure_code"] = _text(col("MaTTHC"))
    out["agency_code"] = _text(col("DonViXuLy"))
    out["channel"] = _int(col("KenhThucHien")).fillna(1)  # NULL channel counts as the counter
    out["status"] = _int(col("TrangThaiHoSo"))
    for column, field in DOSSIER_DATES.items():
        out[f"{column}_raw"] = _text(col(field))
        out[column] = parse_onestop(out[f"{column}_raw"])
    out["result_channel"] = _int(col("HinhThucTraKetQua"))
    out["has_digitized_components"] = _bool(col("HoSoCoThanhPhanSoHoa"))
    out["result_digitized"] = _bool(col("KetQuaDuocSoHoa"))
    out["digitally_signed"] = _bool(col("DuocKySo"))
    out["paid_online"] = _int(col("DuocThanhToanTrucTuyen"))
    out["fee_amount"] = _int(col("DanhSachLePhi").map(_fee_total))
    out["supplement_count"] = col("DanhSachHoSoBoSung").map(
        lambda v: len(v) if isinstance(v, list) else 0).astype("Int64")
    out["applicant_key"] = pd.Series([r["ChuHoSo"]["KhoaDinhDanh"] for r in clean], dtype="string")
    return _finish(out, clean)


def agency_frame(records: list[dict]) -> pd.DataFrame:
    raw = pd.DataFrame.from_records(records)
    return _finish(pd.DataFrame({
        "agency_code": _text(raw["MaDonVi"]),
        "name": _text(raw["TenDonVi"]),
        "level": _int(raw["Cap"]),
        "parent_code": _text(raw["MaDonViCha"]),
        "valid_from": parse_onestop(raw["HieuLucTu"]).dt.date,
        "valid_to": parse_onestop(raw.get("HieuLucDen", pd.Series([None] * len(raw)))).dt.date,
        "successor_code": _text(raw.get("MaDonViKeThua", pd.Series([None] * len(raw)))),
    }), records)


def procedure_frame(records: list[dict]) -> pd.DataFrame:
    raw = pd.DataFrame.from_records(records)
    levels = raw["CapThucHien"].map(lambda v: ",".join(str(x) for x in v) if isinstance(v, list) else v)
    return _finish(pd.DataFrame({
        "procedure_code": _text(raw["MaTTHC"]),
        "name": _text(raw["TenTTHC"]),
        "field_code": _text(raw.get("MaLinhVuc")),
        "field_name": _text(raw.get("TenLinhVuc")),
        "levels": _text(levels),
        "full_online_eligible": _bool(raw["DuDieuKienToanTrinh"].astype("Int64")),
        "has_fee": _bool(raw["CoPhiLePhi"].astype("Int64")),
    }), records)


def service_config_frame(records: list[dict]) -> pd.DataFrame:
    raw = pd.DataFrame.from_records(records)
    return _finish(pd.DataFrame({
        "agency_code": _text(raw["MaDonVi"]),
        "procedure_code": _text(raw["MaTTHC"]),
        "valid_from": parse_onestop(raw["HieuLucTu"]).dt.date,
        "valid_to": parse_onestop(raw.get("HieuLucDen", pd.Series([None] * len(raw)))).dt.date,
        "service_level": raw["MucDo"].astype(str).map(SERVICE_LEVELS),
        "online_payment": _bool(raw["CoThanhToanTrucTuyen"].astype("Int64")),
        "bcci": _bool(raw["CoBCCI"].astype("Int64")),
    }), records)


# -- payments, NDXP and VNPost ------------------------------------------------------------
PAYMENT_STATUS = {"CHO": "pending", "DA_THANH_TOAN": "paid", "HUY": "cancelled", "HOAN_PHI": "refunded"}
PAYMENT_COLUMNS = ["transaction_id", "dossier_code", "amount", "method", "channel", "status", "transaction_at",
                   "receipt_no", "updated_at"]
PAYGOV_COLUMNS = ["transaction_id", "dossier_code", "amount", "error_code", "transaction_at", "channel"]
SYNC_COLUMNS = ["dossier_code", "synced_at", "sync_type", "procedure_code", "agency_code", "error_code",
                "error_message"]
INTEGRATED_COLUMNS = ["procedure_code", "agency_code", "integrated_from", "integrated_to"]
POSTAL_COLUMNS = ["item_code", "dossier_code", "service_type", "collection_status", "created_at", "delivered_at",
                  "cod_amount", "receiver_province", "updated_at"]


def _frame(records: list[dict]) -> tuple[pd.DataFrame, callable]:
    raw = pd.DataFrame.from_records(records) if records else pd.DataFrame()

    def col(name):
        return raw[name] if name in raw else pd.Series([None] * len(raw), dtype=object)
    return raw, col


def _finish(out: pd.DataFrame, records: list[dict]) -> pd.DataFrame:
    out["_row"] = range(len(out))
    out["_payload"] = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records]
    return out


def _iso_local(series: pd.Series) -> pd.Series:
    """ISO 8601 with an offset to naive Asia/Ho_Chi_Minh time; unparseable -> NaT."""
    parsed = pd.to_datetime(series.astype("string"), errors="coerce", utc=True, format="ISO8601")
    return parsed.dt.tz_convert("Asia/Ho_Chi_Minh").dt.tz_localize(None)


def _vn_datetime(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.astype("string"), format="%d/%m/%Y %H:%M:%S", errors="coerce")


def payment_frame(records: list[dict]) -> pd.DataFrame:
    raw, col = _frame(records)
    out = pd.DataFrame(index=range(len(raw)))
    out["transaction_id"] = _text(col("MaGiaoDich"))
    out["dossier_code"] = _text(col("MaHoSo"))
    out["amount"] = _int(col("SoTien"))
    out["method"] = _int(col("HinhThucThanhToan"))
    out["channel"] = _text(col("KenhThanhToan"))
    out["status_raw"] = _text(col("TrangThai"))
    out["status"] = out["status_raw"].map(PAYMENT_STATUS).astype("string")
    out["transaction_at_raw"] = _text(col("ThoiGianGD"))
    out["transaction_at"] = parse_onestop(out["transaction_at_raw"])
    out["receipt_no"] = _text(col("SoBienLai"))
    out["updated_at_raw"] = _text(col("NgayCapNhat"))
    out["updated_at"] = parse_onestop(out["updated_at_raw"])
    return _finish(out, records)


def paygov_frame(records: list[dict]) -> pd.DataFrame:
    raw, col = _frame(records)
    out = pd.DataFrame(index=range(len(raw)))
    out["transaction_id"] = _text(col("maGiaoDich"))
    out["dossier_code"] = _text(col("maThamChieu"))
    out["amount"] = _int(col("soTien"))
    out["error_code"] = _text(col("maLoi"))
    out["transaction_at_raw"] = _text(col("thoiGianGD"))
    out["transaction_at"] = parse_onestop(out["transaction_at_raw"])
    out["channel"] = _text(col("kenh"))
    return _finish(out, records)


def sync_receipt_frame(records: list[dict]) -> pd.DataFrame:
    raw, col = _frame(records)
    out = pd.DataFrame(index=range(len(raw)))
    out["dossier_code"] = _text(col("maHoSo"))
    out["synced_at_raw"] = _text(col("thoiDiemDongBo"))
    out["synced_at"] = _iso_local(out["synced_at_raw"])
    out["sync_type"] = _text(col("loaiDongBo"))
    out["procedure_code"] = _text(col("maTTHC"))
    out["agency_code"] = _text(col("maDonVi"))
    out["error_code"] = _int(col("errorCode"))
    out["error_message"] = _text(col("errorMessage"))
    return _finish(out, records)


def integrated_service_frame(records: list[dict]) -> pd.DataFrame:
    raw, col = _frame(records)
    out = pd.DataFrame(index=range(len(raw)))
    out["procedure_code"] = _text(col("maTTHC"))
    out["agency_code"] = _text(col("maDonVi"))
    out["integrated_from_raw"] = _text(col("ngayTichHop"))
    out["integrated_from"] = _iso_local(out["integrated_from_raw"]).dt.date
    out["integrated_to_raw"] = _text(col("ngayNgungTichHop"))
    out["integrated_to"] = _iso_local(out["integrated_to_raw"]).dt.date
    return _finish(out, records)


def postal_order_frame(records: list[dict]) -> pd.DataFrame:
    raw, col = _frame(records)
    out = pd.DataFrame(index=range(len(raw)))
    out["item_code"] = _text(col("ItemCode"))
    out["dossier_code"] = _text(col("OrderNumber"))
    out["service_type"] = _text(col("ServiceType"))
    out["collection_status"] = _int(col("CollectionStatus"))
    out["created_at_raw"] = _text(col("CreatedDate"))
    out["created_at"] = _vn_datetime(out["created_at_raw"])
    out["delivered_at_raw"] = _text(col("DeliveredDate"))
    out["delivered_at"] = _vn_datetime(out["delivered_at_raw"])
    out["cod_amount"] = _int(col("CODAmount"))
    out["receiver_province"] = _text(col("ReceiverProvince"))
    out["updated_at_raw"] = _text(col("LastModified"))
    out["updated_at"] = _vn_datetime(out["updated_at_raw"])
    return _finish(out, records)
