"""Source records (Vietnamese field names) to typed frames (warehouse column names).

Each entity is declared as data: a `Spec` lists its `Field`s (warehouse column, source field,
parse rule), and the one builder `frame(spec, records)` builds any of them. Nothing is rejected
here: values that do not parse become NULL (next to their trimmed text in `<column>_raw` where
the suite checks the format), and the expectation suites decide what is quarantined. Every
frame also carries `_row`, the position of its record in the list it was built from; a record
is written out as JSON (`payload`) only when it is quarantined or held. A spec with personal
data is pseudonymized first (etl/pii.py).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import msgspec
import pandas as pd

from etl.pii import pseudonymize
from etl.timeutil import parse_onestop

Parse = Callable[[pd.Series], pd.Series]


# -- parse rules: a source column (object values as sent) to a typed column --------------------
def text(series: pd.Series) -> pd.Series:
    """string: trimmed, empty -> NULL."""
    return series.astype("string").str.strip().replace("", pd.NA)


def integer(series: pd.Series) -> pd.Series:
    """Int64: anything not numeric -> NULL."""
    return pd.to_numeric(series, errors="coerce").astype("Int64")


def channel(series: pd.Series) -> pd.Series:
    """Int64: a NULL channel counts as the counter (1)."""
    return integer(series).fillna(1)


def flag(series: pd.Series) -> pd.Series:
    """boolean: 1/0; anything else -> NULL."""
    return integer(series).map({1: True, 0: False}, na_action="ignore").astype("boolean")


def onestop_time(series: pd.Series) -> pd.Series:
    """datetime: yyyyMMddHHmmss; impossible dates, a 12-hour clock or any other shape -> NaT."""
    return parse_onestop(series)


def onestop_date(series: pd.Series) -> pd.Series:
    """date (object): the day of a yyyyMMddHHmmss time, as sent (untrimmed); else NaT."""
    return parse_onestop(series).dt.date


def iso_time(series: pd.Series) -> pd.Series:
    """datetime: ISO 8601 with an offset to naive Asia/Ho_Chi_Minh time; unparseable -> NaT."""
    parsed = pd.to_datetime(series.astype("string"), errors="coerce", utc=True, format="ISO8601")
    return parsed.dt.tz_convert("Asia/Ho_Chi_Minh").dt.tz_localize(None)


def iso_date(series: pd.Series) -> pd.Series:
    """date (object): the local day of an ISO 8601 time."""
    return iso_time(series).dt.date


def vnpost_time(series: pd.Series) -> pd.Series:
    """datetime: VNPost's dd/MM/yyyy HH:mm:ss; anything else -> NaT."""
    return pd.to_datetime(series.astype("string"), format="%d/%m/%Y %H:%M:%S", errors="coerce")


def code(mapping: Mapping[str, str]) -> Parse:
    """string: the source code (trimmed) translated; an unknown code -> NULL."""
    return lambda series: series.map(mapping).astype("string")


def legacy_code(mapping: Mapping[str, str]) -> Parse:
    """object: the source code as text (numbers too, untrimmed) translated; unknown -> NaN."""
    return lambda series: series.astype(str).map(mapping)


def joined(series: pd.Series) -> pd.Series:
    """string: a list as "a,b" (anything else as it is), then `text`."""
    return text(series.map(lambda v: ",".join(str(x) for x in v) if isinstance(v, list) else v))


def _fee_total(fees) -> int | None:
    if not isinstance(fees, list):
        return 0
    total = 0
    for fee in fees:
        try:
            total += int((fee or {}).get("Gia") or 0)
        except (TypeError, ValueError):
            return None
    return total


def fee_sum(series: pd.Series) -> pd.Series:
    """Int64: the sum of `Gia` over a fee list; no list -> 0; a price that is not a number -> NULL."""
    return integer(series.map(_fee_total))


def count(series: pd.Series) -> pd.Series:
    """Int64: the length of a list; no list -> 0."""
    return series.map(lambda v: len(v) if isinstance(v, list) else 0).astype("Int64")


def last_entry_time(key: str) -> Parse:
    """datetime: `key` (yyyyMMddHHmmss) of the last entry of a list; no entry -> NaT."""
    return lambda series: parse_onestop(series.map(
        lambda v: v[-1].get(key) if isinstance(v, list) and v and isinstance(v[-1], dict) else None))


def hashed_id(series: pd.Series) -> pd.Series:
    """string: the keyed hash pseudonymize() left in ChuHoSo (NULL without an ID number)."""
    return series.map(lambda v: v["KhoaDinhDanh"]).astype("string")


# -- specs --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    column: str         # warehouse column
    source: str         # source field; absent from every record -> all NULL
    parse: Parse        # the rule, which sets the type
    raw: bool = False   # also keep `<column>_raw` (the trimmed text) and parse that


@dataclass(frozen=True)
class Spec:
    fields: tuple[Field, ...]
    personal: bool = False  # holds applicants' personal data: pseudonymized with the PII key first

    @property
    def columns(self) -> list[str]:
        """The columns that load, in order."""
        return [f.column for f in self.fields]


def _add_field(out: pd.DataFrame, f: Field, values: pd.Series) -> None:
    """The field's column (and its `_raw` text, which is what gets parsed then) from the source values."""
    if f.raw:
        values = out[f"{f.column}_raw"] = text(values)
    out[f.column] = f.parse(values)


def _pseudonymized(record: dict) -> bool:
    return "DinhDanhCHS" not in record and set(record.get("ChuHoSo") or ()) == {"KhoaDinhDanh"}


def pseudonymized(spec: Spec, records: list[dict], key: bytes | None) -> list[dict]:
    """The records without personal data where the spec has some (which needs the key), else as they are."""
    if not spec.personal:
        return records
    if key is None:
        raise ValueError("personal data needs the pseudonymization key: set PII_HASH_KEY")
    return [pseudonymize(r, key) for r in records]


def frame(spec: Spec, records: list[dict]) -> pd.DataFrame:
    """One row per record: the spec's columns (with their `_raw` text) and `_row` (the record's position).
    Records of a personal spec must be `pseudonymized` first."""
    if spec.personal and not all(_pseudonymized(r) for r in records):
        raise ValueError("personal data must be pseudonymized first (with the key PII_HASH_KEY sets)")
    raw = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    out = pd.DataFrame(index=range(len(raw)))
    for f in spec.fields:
        _add_field(out, f, raw[f.source] if f.source in raw else pd.Series([None] * len(raw), dtype=object))
    out["_row"] = range(len(out))
    return out


_SORTED_JSON = msgspec.json.Encoder(order="sorted")


def first_copies(records: list[dict]) -> list[int]:
    """The positions of the records not equal to one before them (whatever the order of their keys)."""
    first: dict[bytes, int] = {}
    for i, record in enumerate(records):
        first.setdefault(_SORTED_JSON.encode(record), i)
    return list(first.values())


def payload(record: dict) -> str:
    """A record as ops.quarantine and ops.pending keep it (and hash it, which names it there): JSON with
    its keys sorted and its text as it is."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True)


def fingerprints(records: list[dict], key: bytes | None = None) -> list[str]:
    """Each record as the source sent it, hashed (BLAKE2b keyed with the PII key, so that nothing in a
    record can be guessed from its hash): stored as `record_hash` beside the row it loaded, so that a
    night finds the records its look-back re-reads before parsing them."""
    keyed = hashlib.sha256(key).digest() if key else b""
    return [hashlib.blake2b(_SORTED_JSON.encode(r), key=keyed, digest_size=16).hexdigest() for r in records]


def parse_columns(spec: Spec, records: list[dict], columns: tuple[str, ...]) -> pd.DataFrame:
    """Only `columns` of `frame(spec, records)` (without pseudonymizing: none is personal)."""
    out = pd.DataFrame(index=range(len(records)))
    for f in spec.fields:
        if f.column in columns:
            _add_field(out, f, pd.Series([r.get(f.source) for r in records], dtype=object))
    return out


SERVICE_LEVELS = {"TOAN_TRINH": "full_online", "4": "full_online", "MOT_PHAN": "partial_online",
                  "3": "partial_online", "TRUC_TIEP": "offline", "2": "offline", "1": "offline"}
PAYMENT_STATUS = {"CHO": "pending", "DA_THANH_TOAN": "paid", "HUY": "cancelled", "HOAN_PHI": "refunded"}

# One-stop system (yyyyMMddHHmmss times)
AGENCY = Spec((
    Field("agency_code", "MaDonVi", text),
    Field("name", "TenDonVi", text),
    Field("level", "Cap", integer),
    Field("parent_code", "MaDonViCha", text),
    Field("valid_from", "HieuLucTu", onestop_date),
    Field("valid_to", "HieuLucDen", onestop_date),
    Field("successor_code", "MaDonViKeThua", text),
))
PROCEDURE = Spec((
    Field("procedure_code", "MaTTHC", text),
    Field("name", "TenTTHC", text),
    Field("field_code", "MaLinhVuc", text),
    Field("field_name", "TenLinhVuc", text),
    Field("levels", "CapThucHien", joined),
    Field("full_online_eligible", "DuDieuKienToanTrinh", flag),
    Field("has_fee", "CoPhiLePhi", flag),
))
SERVICE_CONFIG = Spec((
    Field("agency_code", "MaDonVi", text),
    Field("procedure_code", "MaTTHC", text),
    Field("valid_from", "HieuLucTu", onestop_date),
    Field("valid_to", "HieuLucDen", onestop_date),
    Field("service_level", "MucDo", legacy_code(SERVICE_LEVELS)),
    Field("online_payment", "CoThanhToanTrucTuyen", flag),
    Field("bcci", "CoBCCI", flag),
))
# The columns of staging.dossier / core.dossier_history, in order (batch_id added at load).
DOSSIER = Spec((
    Field("dossier_code", "MaHoSo", text),
    Field("updated_at", "NgayCapNhat", onestop_time, raw=True),
    Field("procedure_code", "MaTTHC", text),
    Field("agency_code", "DonViXuLy", text),
    Field("channel", "KenhThucHien", channel),
    Field("status", "TrangThaiHoSo", integer),
    Field("submitted_at", "NgayNopHoSo", onestop_time, raw=True),
    Field("received_at", "NgayTiepNhan", onestop_time, raw=True),
    Field("due_at", "NgayHenTra", onestop_time, raw=True),
    Field("finished_at", "NgayKetThucXuLy", onestop_time, raw=True),
    Field("returned_at", "NgayTra", onestop_time, raw=True),
    Field("rejected_at", "NgayTuChoi", onestop_time, raw=True),
    Field("result_channel", "HinhThucTraKetQua", integer),
    Field("has_digitized_components", "HoSoCoThanhPhanSoHoa", flag),
    Field("result_digitized", "KetQuaDuocSoHoa", flag),
    Field("digitally_signed", "DuocKySo", flag),
    Field("paid_online", "DuocThanhToanTrucTuyen", integer),
    Field("fee_amount", "DanhSachLePhi", fee_sum),
    Field("supplement_count", "DanhSachHoSoBoSung", count),
    Field("applicant_key", "ChuHoSo", hashed_id),
    Field("supplement_requested_at", "DanhSachHoSoBoSung", last_entry_time("NgayYeuCau")),
    Field("supplement_due_at", "DanhSachHoSoBoSung", last_entry_time("NgayHenTraCu")),
), personal=True)
PAYMENT = Spec((
    Field("transaction_id", "MaGiaoDich", text),
    Field("dossier_code", "MaHoSo", text),
    Field("amount", "SoTien", integer),
    Field("method", "HinhThucThanhToan", integer),
    Field("channel", "KenhThanhToan", text),
    Field("status", "TrangThai", code(PAYMENT_STATUS), raw=True),
    Field("transaction_at", "ThoiGianGD", onestop_time, raw=True),
    Field("receipt_no", "SoBienLai", text),
    Field("updated_at", "NgayCapNhat", onestop_time, raw=True),
))

# NDXP: the payment platform (yyyyMMddHHmmss) and the national portal (ISO 8601 with an offset)
PAYGOV = Spec((
    Field("transaction_id", "maGiaoDich", text),
    Field("dossier_code", "maThamChieu", text),
    Field("amount", "soTien", integer),
    Field("error_code", "maLoi", text),
    Field("transaction_at", "thoiGianGD", onestop_time, raw=True),
    Field("channel", "kenh", text),
))
SYNC_RECEIPT = Spec((
    Field("dossier_code", "maHoSo", text),
    Field("synced_at", "thoiDiemDongBo", iso_time, raw=True),
    Field("sync_type", "loaiDongBo", text),
    Field("procedure_code", "maTTHC", text),
    Field("agency_code", "maDonVi", text),
    Field("error_code", "errorCode", integer),
    Field("error_message", "errorMessage", text),
))
INTEGRATED_SERVICE = Spec((
    Field("procedure_code", "maTTHC", text),
    Field("agency_code", "maDonVi", text),
    Field("integrated_from", "ngayTichHop", iso_date, raw=True),
    Field("integrated_to", "ngayNgungTichHop", iso_date, raw=True),
))

# VNPost BCCI (dd/MM/yyyy HH:mm:ss)
POSTAL_ORDER = Spec((
    Field("item_code", "ItemCode", text),
    Field("dossier_code", "OrderNumber", text),
    Field("service_type", "ServiceType", text),
    Field("collection_status", "CollectionStatus", integer),
    Field("created_at", "CreatedDate", vnpost_time, raw=True),
    Field("delivered_at", "DeliveredDate", vnpost_time, raw=True),
    Field("cod_amount", "CODAmount", integer),
    Field("receiver_province", "ReceiverProvince", text),
    Field("updated_at", "LastModified", vnpost_time, raw=True),
))

# The names etl/load.py, the benchmarks and the tests use.
agency_frame = partial(frame, AGENCY)
procedure_frame = partial(frame, PROCEDURE)
service_config_frame = partial(frame, SERVICE_CONFIG)
dossier_frame = partial(frame, DOSSIER)
payment_frame = partial(frame, PAYMENT)
paygov_frame = partial(frame, PAYGOV)
sync_receipt_frame = partial(frame, SYNC_RECEIPT)
integrated_service_frame = partial(frame, INTEGRATED_SERVICE)
postal_order_frame = partial(frame, POSTAL_ORDER)
AGENCY_COLUMNS = AGENCY.columns
PROCEDURE_COLUMNS = PROCEDURE.columns
SERVICE_CONFIG_COLUMNS = SERVICE_CONFIG.columns
DOSSIER_COLUMNS = DOSSIER.columns
PAYMENT_COLUMNS = PAYMENT.columns
PAYGOV_COLUMNS = PAYGOV.columns
SYNC_COLUMNS = SYNC_RECEIPT.columns
INTEGRATED_COLUMNS = INTEGRATED_SERVICE.columns
POSTAL_COLUMNS = POSTAL_ORDER.columns
