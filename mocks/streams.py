"""Records derived from each day's dossiers, one "stream" per endpoint:

* `thanhtoan` — one-stop payment transactions (versions: CHO -> DA_THANH_TOAN/HUY -> HOAN_PHI)
* `paygov`    — national payment platform transactions (the DVCQG ones), final state only
* `dongbo`    — national-portal sync receipts, one per sync attempt
* `bcci`      — VNPost BCCI order versions (THU_GOM for postal dossiers, PHAT_KQ for postal results)

Each builder returns the day's entries sorted by arrival: (arrival, ts, key, n, row), times as
yyyyMMddHHmmss strings (local). Every builder has its own RNG stream seeded from
(seed, profile, stream, day), so the streams are deterministic and independent of each other.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from mocks.dossiers import (
    STATUS_PROCESSED,
    STATUS_REGISTERED,
    STATUS_REJECTED,
    STATUS_RETURNED,
    STATUS_STOPPED,
    STATUS_WITHDRAWN,
    DayBatch,
    DossierGenerator,
    _hash,
)
from mocks.timefmt import fmt_iso, fmt_onestop, fmt_vnpost, work_after

PAYGOV_CHANNELS = ["VNPTPAY", "VIETTELMONEY", "VNPAY-QR", "NAPAS", "AGRIBANK", "VIETINBANK", "BIDV", "MOMO"]
PAYGOV_FAILURES = [("24", "Khách hàng hủy giao dịch"), ("51", "Tài khoản không đủ số dư"),
                   ("11", "Hết thời gian chờ thanh toán"), ("99", "Lỗi không xác định")]
SYNC_ERRORS = [(101, "Mã TTHC không tồn tại trên Cổng DVCQG"), (102, "Thiếu thông tin bắt buộc: NgayHenTra"),
               (103, "Mã đơn vị chưa được cấu hình trên Cổng DVCQG"), (500, "Lỗi hệ thống, vui lòng thử lại sau")]
SYNC_NOT_FOUND = (404, "Hồ sơ chưa tồn tại trên Cổng DVCQG")


def _rng(gen: DossierGenerator, stream: str, batch: DayBatch) -> random.Random:
    return random.Random(f"{gen.seed}|{gen.profile.name}|{stream}|{batch.day.isoformat()}")


def _entries(gen: DossierGenerator, rows: list[tuple[datetime, str, dict]]) -> list[tuple]:
    out = []
    late = gen.late_rate > 0
    for n, (ts, key, row) in enumerate(rows):
        t = fmt_onestop(ts)
        out.append((fmt_onestop(gen.arrival(ts, key)) if late else t, t, key, n, row))
    out.sort(key=lambda e: e[:4])
    return out


# ----------------------------------------------------------------------------- payments
def payment_versions(gen: DossierGenerator, batch: DayBatch) -> list[tuple[datetime, str, dict]]:
    """(time, key, row) of every payment-transaction version of the day's dossiers."""
    rng = _rng(gen, "thanhtoan", batch)
    out: list[tuple[datetime, str, dict]] = []
    counter = 0
    for x in batch.dossiers:
        pay = x.payment
        if not pay or x.fee_total <= 0:
            continue
        last_ts, last_status = x.events[-1][0], x.events[-1][1]
        paid_at = pay["paid_at"] if pay["paid_at"] and pay["paid_at"] <= last_ts else None
        online = pay["online"]
        kenh = {1: "DVCQG", 2: "CONG_TINH"}.get(online, "TAI_QUAY")
        prefix = {"DVCQG": "PG", "CONG_TINH": "CT", "TAI_QUAY": "TQ"}[kenh]

        def tx(status: str, ts: datetime, tx_time: datetime, code: str, receipt: str | None) -> None:
            out.append((ts, f"{code}#{status}", {
                "MaGiaoDich": code, "MaHoSo": x.code, "SoTien": x.fee_total,
                "HinhThucThanhToan": 2 if online else 1, "KenhThanhToan": kenh, "TrangThai": status,
                "ThoiGianGD": fmt_onestop(tx_time), "SoBienLai": receipt, "NgayCapNhat": fmt_onestop(ts)}))

        def new_code() -> str:
            nonlocal counter
            counter += 1
            return f"{prefix}{batch.day:%y%m%d}{_hash(x.code) % 1000:03d}{counter:05d}"

        if online and paid_at and rng.random() < 0.08:       # a failed first attempt
            t0 = paid_at - timedelta(minutes=rng.randint(20, 90))
            code = new_code()
            tx("CHO", t0, t0, code, None)
            tx("HUY", t0 + timedelta(minutes=15), t0, code, None)
        if paid_at:
            code = new_code()
            receipt = f"BL{paid_at:%y}-{_hash(code) % 10_000_000:07d}"
            if online:
                t0 = paid_at - timedelta(seconds=rng.randint(20, 300))
                tx("CHO", t0, t0, code, None)
            tx("DA_THANH_TOAN", paid_at, paid_at, code, receipt)
            if last_status in (STATUS_REJECTED, STATUS_WITHDRAWN, STATUS_STOPPED) and last_ts > paid_at \
                    and rng.random() < 0.7:
                tx("HOAN_PHI", work_after(last_ts, rng, rng.randint(1, 3)), paid_at, code, receipt)
        elif online and pay["requested_at"] and pay["requested_at"] <= last_ts:
            # asked to pay, started online, never completed: stays pending or is cancelled
            t0 = pay["requested_at"] + timedelta(minutes=rng.randint(5, 600))
            code = new_code()
            tx("CHO", t0, t0, code, None)
            if rng.random() < 0.5:
                tx("HUY", t0 + timedelta(minutes=15), t0, code, None)
    return out


def build_payments(gen: DossierGenerator, batch: DayBatch) -> list[tuple]:
    return _entries(gen, payment_versions(gen, batch))


def build_paygov(gen: DossierGenerator, batch: DayBatch) -> list[tuple]:
    """The national payment platform's view of the DVCQG transactions: one record per finished
    transaction (success "00" or a failure code), at the transaction's final time."""
    rng = _rng(gen, "paygov", batch)
    rows = []
    for ts, _key, r in payment_versions(gen, batch):
        if r["KenhThanhToan"] != "DVCQG" or r["TrangThai"] not in ("DA_THANH_TOAN", "HUY"):
            continue
        code, _message = ("00", None) if r["TrangThai"] == "DA_THANH_TOAN" else rng.choice(PAYGOV_FAILURES)
        rows.append((ts, r["MaGiaoDich"], {
            "maThamChieu": r["MaHoSo"], "maGiaoDich": r["MaGiaoDich"], "soTien": r["SoTien"], "maLoi": code,
            "thoiGianGD": fmt_onestop(ts), "kenh": rng.choice(PAYGOV_CHANNELS)}))
    return _entries(gen, rows)


# ----------------------------------------------------------------------------- national portal sync
def build_sync(gen: DossierGenerator, batch: DayBatch) -> list[tuple]:
    """One receipt per sync attempt: INSERT for the first version, UPDATE for each change; some
    attempts are rejected (errorCode != 0) and retried later; a few are never accepted."""
    rng = _rng(gen, "dongbo", batch)
    rows = []
    for x in batch.dossiers:
        reject = 0.005 + (_hash(f"{gen.profile.name}|sync|{x.agency}") % 60) / 1000   # 0.5-6.5 % per agency
        inserted = False
        attempt = 0
        for k, (ts, _status, _delta) in enumerate(x.events):
            t = ts + (timedelta(seconds=rng.randint(20, 1200)) if rng.random() < 0.95
                      else timedelta(minutes=rng.randint(60, 360)))
            kind = "INSERT" if k == 0 else "UPDATE"
            for retry in range(4):
                if kind == "UPDATE" and not inserted:
                    err = SYNC_NOT_FOUND
                elif rng.random() < (reject if retry == 0 else 0.3):
                    err = rng.choice(SYNC_ERRORS)
                else:
                    err = (0, None)
                attempt += 1
                rows.append((t, f"{x.code}#{attempt:03d}", {
                    "maHoSo": x.code, "maTTHC": x.procedure, "maDonVi": x.agency, "thoiDiemDongBo": fmt_iso(t),
                    "loaiDongBo": kind, "errorCode": err[0], "errorMessage": err[1]}))
                if err[0] == 0:
                    inserted = True
                    break
                if err == SYNC_NOT_FOUND:
                    break
                t = t + timedelta(minutes=rng.randint(10, 24 * 60))
    return _entries(gen, rows)


# ----------------------------------------------------------------------------- VNPost BCCI orders
def build_bcci(gen: DossierGenerator, batch: DayBatch) -> list[tuple]:
    rng = _rng(gen, "bcci", batch)
    rows = []
    for x in batch.dossiers:
        times = {}
        for ts, status, _d in x.events:
            times.setdefault(status, ts)
        received = next((ts for ts, s, d in x.events if "NgayTiepNhan" in d), None)
        if x.base["KenhThucHien"] == 3:
            sub = times[STATUS_REGISTERED]
            end = received or times.get(STATUS_REJECTED)
            collect = sub + timedelta(minutes=rng.randint(15, 180))
            if end is not None and collect >= end:
                collect = sub + (end - sub) / 2
            versions = [(sub, 1, None), (collect, 2, None)]
            if end is not None:
                versions.append((end, 3, end))
            rows += _order(x, "THU_GOM", versions, 0)
        if x.base["HinhThucTraKetQua"] == 3 and STATUS_PROCESSED in times:
            f = times[STATUS_PROCESSED] + timedelta(minutes=rng.randint(5, 120))
            versions = [(f, 1, None)]
            r = times.get(STATUS_RETURNED)
            if r is not None:
                r = max(r, f + timedelta(minutes=1))
                versions.append((r, 2, None))
                if rng.random() < 0.02:
                    versions.append((work_after(r, rng, rng.randint(2, 5)), 4, None))
                else:
                    delivered = work_after(r, rng, rng.randint(1, 3))
                    versions.append((delivered, 3, delivered))
            cod = 0 if rng.random() < 0.6 else rng.choice([18_000, 22_000, 26_000, 35_000])
            rows += _order(x, "PHAT_KQ", versions, cod)
    return _entries(gen, rows)


def _order(x, service: str, versions: list[tuple], cod: int) -> list[tuple]:
    item = f"E{'L' if service == 'THU_GOM' else 'B'}{_hash(x.code + service) % 1_000_000_000:09d}VN"
    created = versions[0][0]
    out = []
    prev = None
    for n, (ts, status, delivered) in enumerate(versions):
        if prev is not None and ts <= prev:
            ts = prev + timedelta(seconds=30)
        prev = ts
        out.append((ts, f"{item}#{n}", {
            "ItemCode": item, "OrderNumber": x.code, "ServiceType": service, "CollectionStatus": status,
            "CreatedDate": fmt_vnpost(created), "DeliveredDate": fmt_vnpost(delivered) if delivered else None,
            "CODAmount": cod, "ReceiverProvince": "Lào Cai", "LastModified": fmt_vnpost(ts)}))
    return out


def install(gen: DossierGenerator) -> None:
    gen.builders.update({
        "thanhtoan": lambda b: build_payments(gen, b),
        "paygov": lambda b: build_paygov(gen, b),
        "dongbo": lambda b: build_sync(gen, b),
        "bcci": lambda b: build_bcci(gen, b),
    })
