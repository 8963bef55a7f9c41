"""Every indicator, every period, worked out by hand on a fixture of a few dozen records built to
hit the edges, on DuckDB and on PostgreSQL.

Snapshot date D = Monday 2022-05-16: day = 05-16, mtd = 05-01..05-16, qtd = 04-01..05-16,
ytd = 01-01..05-16 (all four different).

Agencies (Lào Cai codes): ROOT (province) > DEPT "Sở Ngoại vụ" (level 1), ROOT > DIST "UBND huyện
Bảo Thắng" (level 2) > COMM, OLD, NEW (communes). OLD was merged into NEW on 2022-05-01
(OLD valid to 04-30, successor NEW, valid from 05-01): on D, OLD's dossiers count for NEW.

Procedures: P1 eligible to be full-online, with a fee; P2 eligible, no fee; P3 not eligible, fee.
Configuration valid on D (agency: procedure level [online payment]):
  DEPT: P1 full [pay], P2 partial, P3 offline | COMM: P1 full [pay], P2 full
  NEW (from 05-01): P1 partial, P2 full       | OLD (to 04-30): P1 full [pay], P2 full
  DIST: P1 full [pay] until 04-30 then partial [pay], P3 partial [pay]
Integrated on the national portal: DEPT-P1 from 03-01; COMM-P1 01-01 to 05-16 (stopped on D: not
integrated on D); COMM-P2 from 05-16 (integrated on D).

The dossiers (as of the end of D), with what makes each one an edge:
  DEPT a1  P1 online, received D 09:00, processed D 15:00 before due 05-20; result online, digitized,
           signed; paid online (flag); synced after its last change
  DEPT a2  P1, NULL channel (= counter), received D 23:59:30 (just before midnight: counts on D),
           open, due 05-25; an online payment cancelled on D and one paid 05-17 00:00:10 (after D:
           not paid as of D); synced only 05-17 00:05 (after D: not synced)
  DEPT a3  P1 online, received 05-17 00:00:05 (just after D's midnight): in nothing
  DEPT a4  P2 by post (collection order 05-02), received 05-03, processed 05-10 before due 05-12,
           result by post, signed
  DEPT a5  P3 counter, received 04-05, processed 04-20 after due 04-15: late; paid at the counter
  DEPT a6  P1 online, received 02-10, processing stopped (8) 02-20 before due: on time; an online
           payment later refunded (still paid online); no paid flag
  DEPT a7  P1 online, received 03-01, two supplement requests, processed 03-20 before due: late
  DEPT a8  P2 counter, received 01-10, withdrawn (7): received, but not in on_time_rate
  DEPT a9  P1 registered only (status 1): in nothing
  DEPT a10 P3 counter, NgayTiepNhan set but not accepted (3) on D 10:00: not received, but its
           processing ended (refusal) on D without a due date: resolved on time
  COMM c1  P2 online, received D 10:00, open, due D 17:00: overdue at the end of D
  COMM c2  P2 NULL channel, received 04-20, waiting for a supplement (5) past due 04-30: on time
           (requested 04-20, before its due date: the clock stopped then)
  COMM c3  P1 counter, received 04-25, open, due 05-20; paid by a PayGov transaction ('00') only
  COMM c4  P1 counter, received 01-15, returned 01-20 on time by post (delivery order); counter payment
  COMM c5  P2 online, received 05-02 (synced), processed D 22:00 after due 05-10: late; that last
           change was rejected by the portal on D (not synced as of D)
  COMM c6  P1 counter, received 03-10, open, overdue, two supplements; a pending online payment and
           a failed PayGov attempt: not paid
  OLD  o1  P1 online, received 04-05, returned 04-10 on time, result online; paid online (flag)
  OLD  o2  P2 NULL channel, received 04-28, open, due 05-06: overdue
  OLD  o3  P1 by post, received 02-14, processed 02-20 on time, result by post; not paid
  NEW  n1  P2 online, received 05-05, processed 05-09 on time, result online; a cancelled delivery
           order (not evidence of a postal result); its last change rejected by the portal
  NEW  n2  P1 counter, received D 00:00:30 (just after midnight: counts on D), open, due 05-25
  DIST t1  P1 online, received 04-12 (service full-online then), processed 04-14 on time, result at
           the counter but a (not cancelled) postal delivery order from 04-15
  DIST t2  P1 online, received 05-09 (service partial then), awaiting payment (6), due 05-20; paid
           online through the provincial gateway 05-10 (no flag)
  DIST t3  P3 counter with a postal collection order, received D 14:00, open; paid at the counter
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from etl import indicators, load, targets
from tests.test_indicators_reference import assert_same, reference_snapshot, warehouse_snapshot

D = date(2022, 5, 16)
ROOT, DEPT, DIST = "000.00.00.H13", "000.00.11.H13", "000.00.19.H13"
COMM, OLD, NEW = "000.01.19.H13", "000.02.19.H13", "000.03.19.H13"
P1, P2, P3 = "1.000001", "1.000002", "2.000003"
FEES = {P1: 50_000, P2: 0, P3: 30_000}


def agency(code, name, level, parent, valid_from="20200101000000", valid_to=None, successor=None):
    return {"MaDonVi": code, "TenDonVi": name, "Cap": level, "MaDonViCha": parent, "HieuLucTu": valid_from,
            "HieuLucDen": valid_to, "MaDonViKeThua": successor}


AGENCIES = [
    agency(ROOT, "UBND tỉnh Lào Cai", 1, None), agency(DEPT, "Sở Ngoại vụ", 1, ROOT),
    agency(DIST, "UBND huyện Bảo Thắng", 2, ROOT), agency(COMM, "UBND xã Phong Niên", 3, DIST),
    agency(OLD, "UBND xã Xuân Quang", 3, DIST, valid_to="20220430235959", successor=NEW),
    agency(NEW, "UBND xã Xuân Quang mới", 3, DIST, valid_from="20220501000000"),
]


def procedure(code, name, eligible, fee):
    return {"MaTTHC": code, "TenTTHC": name, "MaLinhVuc": "LV", "TenLinhVuc": "Lĩnh vực", "CapThucHien": [1, 2, 3],
            "DuDieuKienToanTrinh": int(eligible), "CoPhiLePhi": int(fee)}


PROCEDURES = [procedure(P1, "Thủ tục một", True, True), procedure(P2, "Thủ tục hai", True, False),
              procedure(P3, "Thủ tục ba", False, True)]


def config(agency_code, proc, level, pay, bcci=True, start="20220101000000", end=None):
    return {"MaDonVi": agency_code, "MaTTHC": proc, "MucDo": level, "CoThanhToanTrucTuyen": int(pay),
            "CoBCCI": int(bcci), "HieuLucTu": start, "HieuLucDen": end}


CONFIGS = [
    config(DEPT, P1, "TOAN_TRINH", True), config(DEPT, P2, "MOT_PHAN", False, bcci=False),
    config(DEPT, P3, "TRUC_TIEP", False),
    config(COMM, P1, "TOAN_TRINH", True), config(COMM, P2, 4, False),  # legacy level 4 = full-online
    config(OLD, P1, "TOAN_TRINH", True, end="20220430235959"), config(OLD, P2, "TOAN_TRINH", False, end="20220430235959"),
    config(NEW, P1, "MOT_PHAN", False, start="20220501000000"), config(NEW, P2, "TOAN_TRINH", False, start="20220501000000"),
    config(DIST, P1, "TOAN_TRINH", True, end="20220430235959"), config(DIST, P1, 3, True, start="20220501000000"),
    config(DIST, P3, "MOT_PHAN", True),
]


def version(code, agency_code, proc, updated, *, channel=1, status=4, received=None, due=None, finished=None,
            returned=None, rejected=None, result=None, digitized=0, result_digitized=0, signed=0, paid=0,
            supplements=0, requests=None):
    """`supplements` requests made at receipt, or the `requests` given (see `supplement_request`)."""
    fee = FEES[proc]
    return {"MaHoSo": code, "MaTTHC": proc, "DonViXuLy": agency_code, "KenhThucHien": channel,
            "TrangThaiHoSo": status, "NgayNopHoSo": received or updated, "NgayTiepNhan": received,
            "NgayHenTra": due, "NgayKetThucXuLy": finished, "NgayTra": returned, "NgayTuChoi": rejected,
            "HinhThucTraKetQua": result, "HoSoCoThanhPhanSoHoa": digitized, "KetQuaDuocSoHoa": result_digitized,
            "DuocKySo": signed, "DuocThanhToanTrucTuyen": paid,
            "DanhSachLePhi": [{"MaPhiLePhi": "LP", "TenPhiLePhi": "Lệ phí", "Gia": fee, "HinhThucThu": 1}] if fee else [],
            "DanhSachHoSoBoSung": requests or [supplement_request(received, due)] * supplements,
            "ChuHoSo": {"HoVaTen": "Lò Thị Mai", "SoDinhDanh": "010301234567", "SoDienThoai": "0912345678",
                        "DiaChi": "Bảo Thắng"}, "NgayCapNhat": updated}


def supplement_request(asked, due, supplied=None, new_due=None):
    """A supplement request made at `asked` while `due` was the due date (NgayHenTraCu)."""
    return {"NgayYeuCau": asked, "NgayBoSung": supplied, "NgayHenTraCu": due, "NgayHenTraMoi": new_due}


V = version
DOSSIERS = [
    V("a1", DEPT, P1, "20220516090000", channel=2, status=2, received="20220516090000", due="20220520170000",
      result=2, digitized=1, paid=1),
    V("a1", DEPT, P1, "20220516150000", channel=2, status=9, received="20220516090000", due="20220520170000",
      finished="20220516150000", result=2, digitized=1, result_digitized=1, signed=1, paid=1),
    V("a2", DEPT, P1, "20220516235930", channel=None, status=2, received="20220516235930", due="20220525170000",
      result=1),
    V("a3", DEPT, P1, "20220517000005", channel=2, status=2, received="20220517000005", due="20220525170000",
      result=2, digitized=1),
    V("a4", DEPT, P2, "20220511090000", channel=3, status=10, received="20220503100000", due="20220512170000",
      finished="20220510100000", returned="20220511090000", result=3, digitized=1, signed=1),
    V("a5", DEPT, P3, "20220420100000", channel=1, status=9, received="20220405090000", due="20220415170000",
      finished="20220420100000", result=1),
    V("a6", DEPT, P1, "20220220100000", channel=2, status=8, received="20220210090000", due="20220228170000",
      finished="20220220100000", digitized=1),
    V("a7", DEPT, P1, "20220320100000", channel=2, status=9, received="20220301090000", due="20220325170000",
      finished="20220320100000", result=2, digitized=1, result_digitized=1, signed=1, paid=1, supplements=2),
    V("a8", DEPT, P2, "20220201090000", channel=1, status=7, received="20220110090000", due="20220120170000",
      result=1),
    V("a9", DEPT, P1, "20220516080000", channel=2, status=1),
    V("a10", DEPT, P3, "20220516100000", channel=1, status=3, received="20220516080000",
      rejected="20220516100000"),
    V("c1", COMM, P2, "20220516100000", channel=2, status=4, received="20220516100000", due="20220516170000",
      result=2, digitized=1),
    V("c2", COMM, P2, "20220422090000", channel=None, status=5, received="20220420090000", due="20220430170000",
      result=1, supplements=1),
    V("c3", COMM, P1, "20220425090000", channel=1, status=4, received="20220425090000", due="20220520170000",
      result=2, digitized=1),
    V("c4", COMM, P1, "20220120100000", channel=1, status=10, received="20220115090000", due="20220125170000",
      finished="20220120100000", returned="20220120100000", result=3, result_digitized=1, signed=1),
    V("c5", COMM, P2, "20220502090000", channel=2, status=2, received="20220502090000", due="20220510170000",
      result=2, digitized=1),
    V("c5", COMM, P2, "20220516220000", channel=2, status=9, received="20220502090000", due="20220510170000",
      finished="20220516220000", result=2, digitized=1, result_digitized=1),
    V("c6", COMM, P1, "20220311090000", channel=1, status=4, received="20220310090000", due="20220320170000",
      result=2, digitized=1, supplements=2),
    V("o1", OLD, P1, "20220410100000", channel=2, status=10, received="20220405090000", due="20220415170000",
      finished="20220410100000", returned="20220410100000", result=2, digitized=1, result_digitized=1, signed=1,
      paid=1),
    V("o2", OLD, P2, "20220428090000", channel=None, status=4, received="20220428090000", due="20220506170000",
      result=1),
    V("o3", OLD, P1, "20220220100000", channel=3, status=9, received="20220214090000", due="20220225170000",
      finished="20220220100000", result=3, digitized=1, signed=1),
    V("n1", NEW, P2, "20220505090000", channel=2, status=2, received="20220505090000", due="20220512170000",
      result=2, digitized=1),
    V("n1", NEW, P2, "20220509100000", channel=2, status=9, received="20220505090000", due="20220512170000",
      finished="20220509100000", result=2, digitized=1, result_digitized=1, signed=1),
    V("n2", NEW, P1, "20220516000030", channel=1, status=2, received="20220516000030", due="20220525170000",
      result=1),
    V("t1", DIST, P1, "20220414100000", channel=2, status=9, received="20220412090000", due="20220420170000",
      finished="20220414100000", result=1, digitized=1, signed=1),
    V("t2", DIST, P1, "20220510100000", channel=2, status=6, received="20220509090000", due="20220520170000",
      result=2, digitized=1),
    V("t3", DIST, P3, "20220516140000", channel=1, status=2, received="20220516140000", due="20220530170000",
      result=1),
]

# transaction_id, dossier, method, channel, status, transaction_at, updated_at
PAYMENTS = [
    ("T1", "a1", 2, "DVCQG", "paid", "2022-05-16 08:55:00", "2022-05-16 08:55:00"),
    ("T2", "a2", 2, "CONG_TINH", "cancelled", "2022-05-16 23:50:00", "2022-05-17 00:05:00"),
    ("T3", "a2", 2, "CONG_TINH", "paid", "2022-05-17 00:00:10", "2022-05-17 00:00:10"),
    ("T4", "a5", 1, "TAI_QUAY", "paid", "2022-04-05 09:10:00", "2022-04-05 09:10:00"),
    ("T5", "a6", 2, "DVCQG", "refunded", "2022-02-10 09:00:00", "2022-02-25 10:00:00"),
    ("T6", "c4", 1, "TAI_QUAY", "paid", "2022-01-15 09:00:00", "2022-01-15 09:00:00"),
    ("T7", "t2", 2, "CONG_TINH", "paid", "2022-05-10 10:00:00", "2022-05-10 10:00:00"),
    ("T8", "t3", 1, "TAI_QUAY", "paid", "2022-05-16 14:30:00", "2022-05-16 14:30:00"),
    ("T9", "o1", 2, "DVCQG", "paid", "2022-04-05 09:00:00", "2022-04-05 09:00:00"),
    ("T10", "c6", 2, "CONG_TINH", "pending", "2022-03-11 09:00:00", "2022-03-11 09:00:00"),
]
# transaction_id, dossier, error_code, transaction_at
PAYGOV = [("G1", "c3", "00", "2022-04-26 10:00:00"), ("T1", "a1", "00", "2022-05-16 08:55:00"),
          ("G3", "c6", "51", "2022-03-11 09:30:00")]
# dossier, synced_at, sync_type, error_code
SYNC = [("a1", "2022-05-16 09:01:00", "INSERT", 0), ("a1", "2022-05-16 15:05:00", "UPDATE", 0),
        ("a2", "2022-05-17 00:05:00", "INSERT", 0), ("a4", "2022-05-11 09:05:00", "INSERT", 0),
        ("c1", "2022-05-16 10:01:00", "INSERT", 0), ("c5", "2022-05-02 09:05:00", "INSERT", 0),
        ("c5", "2022-05-16 22:10:00", "UPDATE", 500), ("c5", "2022-05-17 08:00:00", "UPDATE", 0),
        ("o1", "2022-04-10 10:02:00", "INSERT", 0), ("n1", "2022-05-05 09:03:00", "INSERT", 0),
        ("n1", "2022-05-09 10:03:00", "UPDATE", 102)]
# item_code, dossier, service_type, collection_status, created_at
POSTAL = [("EL1", "a4", "THU_GOM", 3, "2022-05-02 16:00:00"), ("EB2", "c4", "PHAT_KQ", 3, "2022-01-20 12:00:00"),
          ("EB3", "n1", "PHAT_KQ", 4, "2022-05-10 09:00:00"), ("EB4", "t1", "PHAT_KQ", 3, "2022-04-15 09:00:00"),
          ("EL5", "t3", "THU_GOM", 3, "2022-05-16 13:00:00")]
# procedure, agency, integrated_from, integrated_to
INTEGRATED = [(P1, DEPT, "2022-03-01", None), (P1, COMM, "2022-01-01", "2022-05-16"),
              (P2, COMM, "2022-05-16", None), (P1, OLD, "2022-01-01", "2022-04-30")]

# Worked out by hand (see the module docstring): "numerator/denominator" for day, mtd, qtd, ytd.
# DIST includes COMM, NEW (with OLD's dossiers) and its own; ROOT = DEPT + DIST.
EXPECTED = {
    "online_dossier_rate": {
        DEPT: "1/2 1/3 1/4 3/7", COMM: "1/1 2/2 2/4 2/6", NEW: "0/1 1/2 2/4 2/5",
        DIST: "1/3 4/6 6/11 6/14", ROOT: "2/5 5/9 7/15 9/21"},
    "digitized_dossier_rate": {
        DEPT: "1/2 2/3 2/4 4/7", COMM: "1/1 2/2 3/4 4/6", NEW: "0/1 1/2 2/4 3/5",
        DIST: "1/3 4/6 7/11 9/14", ROOT: "2/5 6/9 9/15 13/21"},
    "bcci_receive_rate": {
        DEPT: "0/2 1/3 1/4 1/7", COMM: "0/1 0/2 0/4 0/6", NEW: "0/1 0/2 0/4 1/5",
        DIST: "1/3 1/6 1/11 2/14", ROOT: "1/5 2/9 2/15 3/21"},
    "online_payment_dossier_rate": {
        DEPT: "1/2 1/2 1/3 3/5", COMM: "0/0 0/0 1/1 1/3", NEW: "0/1 0/1 1/2 1/3",
        DIST: "0/2 1/3 3/6 3/9", ROOT: "1/4 2/5 4/9 6/14"},
    "national_portal_sync_rate": {
        DEPT: "1/2 2/3 2/4 2/7", COMM: "1/1 1/2 1/4 1/6", NEW: "0/1 0/2 1/4 1/5",
        DIST: "1/3 1/6 2/11 2/14", ROOT: "2/5 3/9 4/15 4/21"},
    "online_dossier_full_online_rate": {
        DEPT: "1/2 1/2 1/2 3/4", COMM: "1/1 2/2 2/4 2/6", NEW: "0/0 1/1 2/3 2/4",
        DIST: "1/1 3/3 5/8 5/11", ROOT: "2/3 4/5 6/10 8/15"},
    "digitized_result_rate": {
        DEPT: "1/2 1/3 1/4 2/6", COMM: "1/1 1/1 1/1 2/2", NEW: "0/0 1/1 2/2 2/3",
        DIST: "1/1 2/2 3/4 4/6", ROOT: "2/3 3/5 4/8 6/12"},
    "online_signed_processing_rate": {
        DEPT: "1/2 2/3 2/4 3/6", COMM: "0/1 0/1 0/1 1/2", NEW: "0/0 1/1 2/2 3/3",
        DIST: "0/1 1/2 3/4 5/6", ROOT: "1/3 3/5 5/8 8/12"},
    "online_result_return_rate": {
        DEPT: "1/2 1/3 1/4 2/6", COMM: "1/1 1/1 1/1 1/2", NEW: "0/0 1/1 2/2 2/3",
        DIST: "1/1 2/2 3/4 3/6", ROOT: "2/3 3/5 4/8 5/12"},
    "bcci_return_rate": {
        DEPT: "0/2 1/3 1/4 1/6", COMM: "0/1 0/1 0/1 1/2", NEW: "0/0 0/1 0/2 1/3",
        DIST: "0/1 0/2 1/4 3/6", ROOT: "0/3 1/5 2/8 4/12"},
    "on_time_rate": {
        DEPT: "3/3 4/4 4/5 5/7", COMM: "2/5 2/5 2/5 3/6", NEW: "1/2 2/3 3/4 4/5",
        DIST: "5/9 6/10 8/12 10/14", ROOT: "8/12 10/14 12/17 15/21"},
    "online_payment_transaction_rate": {
        DEPT: "1/1 1/1 1/2 2/3", COMM: "0/0 0/0 1/1 1/2", NEW: "0/0 0/0 1/1 1/1",
        DIST: "0/1 1/2 3/4 3/5", ROOT: "1/2 2/3 4/6 5/8"},
    "full_online_service_rate": {
        DEPT: "1/2 1/2 1/2 1/2", COMM: "2/2 2/2 2/2 2/2", NEW: "1/2 1/2 1/2 1/2",
        DIST: "3/5 3/5 3/5 3/5", ROOT: "4/7 4/7 4/7 4/7"},
    "national_portal_integration_rate": {
        DEPT: "1/1 1/1 1/1 1/1", COMM: "1/2 1/2 1/2 1/2", NEW: "0/1 0/1 0/1 0/1",
        DIST: "1/3 1/3 1/3 1/3", ROOT: "2/4 2/4 2/4 2/4"},
    "fee_online_payment_enabled_rate": {
        DEPT: "1/2 1/2 1/2 1/2", COMM: "1/1 1/1 1/1 1/1", NEW: "0/1 0/1 0/1 0/1",
        DIST: "3/4 3/4 3/4 3/4", ROOT: "4/6 4/6 4/6 4/6"},
    "service_online_uptake_rate": {
        DEPT: "1/1 1/1 1/1 1/1", COMM: "1/1 1/1 1/2 1/2", NEW: "0/0 1/1 1/1 1/1",
        DIST: "1/1 2/2 2/3 2/3", ROOT: "2/2 3/3 3/4 3/4"},
    "fee_online_paid_procedure_rate": {
        DEPT: "1/1 1/1 1/2 1/2", COMM: "0/0 0/0 1/1 1/1", NEW: "0/1 0/1 1/1 1/1",
        DIST: "0/2 1/3 3/4 3/4", ROOT: "1/3 2/4 4/6 4/6"},
    "bcci_procedure_rate": {
        DEPT: "0/1 1/2 1/3 1/3", COMM: "0/1 0/1 0/2 1/2", NEW: "0/1 0/2 0/2 1/2",
        DIST: "1/3 1/5 2/6 4/6", ROOT: "1/4 2/7 3/9 5/9"},
}
PERIODS = ("day", "mtd", "qtd", "ytd")


def expected_figures() -> dict[tuple[str, str, str], tuple[int, int]]:
    out = {}
    for code, by_agency in EXPECTED.items():
        for agency_code, text in by_agency.items():
            for period, pair in zip(PERIODS, text.split(), strict=True):
                num, den = pair.split("/")
                out[(agency_code, period, code)] = (int(num), int(den))
    return out


def _insert(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    names = ", ".join(columns)
    marks = ", ".join(f":{c}" for c in columns)
    for row in rows:
        conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), dict(zip(columns, row, strict=True)))


def _ts(value):
    from datetime import datetime
    return None if value is None else datetime.fromisoformat(value)


def _date(value):
    return None if value is None else date.fromisoformat(value)


def load_reference_and_dossiers(wh, pages: list[list[dict]], province: str = "lao_cai"):
    """Agencies, procedures, configuration, targets, and the dossier versions through the loader."""
    for name, records in (("agency", AGENCIES), ("procedure", PROCEDURES), ("service_config", CONFIGS)):
        with wh.begin() as conn:
            loaded = load.load_batch(wh, conn, load.entity(name), [records],
                                     load.open_batch(wh, "onestop", name, None, None))
            assert loaded.quarantined == 0, name
    with wh.begin() as conn:
        targets.load_targets(wh, conn, province)
    batch = load.open_batch(wh, "onestop", "dossier", None, None)
    with wh.begin() as conn:
        result = load.load_batch(wh, conn, load.entity("dossier", b"k"), pages, batch)
        assert result.quarantined == 0


def load_fixture(wh, province: str = "lao_cai") -> None:
    load_reference_and_dossiers(wh, [DOSSIERS[:9], DOSSIERS[9:]], province)
    with wh.begin() as conn:
        # The other sources' tables, written directly (their loaders are tested elsewhere).
        _insert(conn, "core.payment", ["transaction_id", "dossier_code", "amount", "method", "channel", "status",
                                       "transaction_at", "updated_at", "batch_id"],
                [(t, d, 50_000, m, ch, s, _ts(at), _ts(up), 0) for t, d, m, ch, s, at, up in PAYMENTS])
        _insert(conn, "core.paygov_transaction", ["transaction_id", "dossier_code", "amount", "error_code",
                                                  "transaction_at", "batch_id"],
                [(t, d, 50_000, e, _ts(at), 0) for t, d, e, at in PAYGOV])
        _insert(conn, "core.sync_receipt", ["dossier_code", "synced_at", "sync_type", "error_code", "batch_id"],
                [(d, _ts(at), kind, e, 0) for d, at, kind, e in SYNC])
        _insert(conn, "core.postal_order", ["item_code", "dossier_code", "service_type", "collection_status",
                                            "created_at", "updated_at", "batch_id"],
                [(i, d, s, st, _ts(at), _ts(at), 0) for i, d, s, st, at in POSTAL])
        _insert(conn, "core.integrated_service", ["procedure_code", "agency_code", "integrated_from",
                                                  "integrated_to"],
                [(p, a, _date(f), _date(t)) for p, a, f, t in INTEGRATED])


def snapshot_rows(wh, day: date = D, province: str = "lao_cai") -> dict:
    with wh.begin() as conn:
        indicators.publish_snapshot(wh, conn, day, province)
        rows = conn.execute(sa.text(
            "SELECT agency_code, period, indicator_code, numerator, denominator, value, target, meets_target "
            "FROM mart.indicator_snapshot WHERE snapshot_date = :d"), {"d": day}).all()
    return {(r.agency_code, r.period, r.indicator_code): r for r in rows}


def test_every_indicator_and_period_by_hand(warehouse):
    load_fixture(warehouse)
    rows = snapshot_rows(warehouse)
    assert set(EXPECTED) == set(indicators.measure_codes()), "every indicator of docs/domain.md is worked out"
    # five agencies valid on D (OLD has merged into NEW) x 4 periods x 18 indicators
    assert {k[0] for k in rows} == {ROOT, DEPT, DIST, COMM, NEW}
    assert len(rows) == 5 * 4 * 18
    wrong = []
    for key, (num, den) in expected_figures().items():
        row = rows[key]
        if (row.numerator, row.denominator) != (num, den):
            wrong.append(f"{key}: got {row.numerator}/{row.denominator}, expected {num}/{den}")
        elif den == 0:
            assert row.value is None and row.meets_target is None, key
        else:
            assert row.value == pytest.approx(num / den), key
    assert not wrong, "\n".join(wrong)


def test_the_naive_reference_agrees_with_the_hand_worked_figures(warehouse):
    load_fixture(warehouse)
    with warehouse.begin() as conn:
        assert_same(reference_snapshot(conn, D), expected_figures(), "reference vs hand")


def test_targets_of_lao_cai(warehouse):
    load_fixture(warehouse)
    rows = snapshot_rows(warehouse)

    def t(agency_code, code, period="ytd"):
        r = rows[(agency_code, period, code)]
        return r.target, r.meets_target

    # Sở Ngoại vụ's own row in the 2022 decision: 100 % full-online dossiers; "Không có phí" for
    # online payment beats the plan's province-wide 30 %.
    assert t(DEPT, "online_dossier_full_online_rate") == (pytest.approx(1.0), False)  # 3/4
    assert t(DEPT, "online_payment_dossier_rate") == (None, None)
    assert t(DEPT, "full_online_service_rate") == (pytest.approx(1.0), False)  # 1/2
    # UBND huyện Bảo Thắng: 65 % full-online dossiers, 30 % paid online (ytd 5/11, 3/9)
    assert t(DIST, "online_dossier_full_online_rate") == (pytest.approx(0.65), False)
    assert t(DIST, "online_payment_dossier_rate") == (pytest.approx(0.30), True)
    # communes and the province: the plan's province-wide targets
    assert t(COMM, "full_online_service_rate") == (pytest.approx(1.0), True)  # 2/2 = 100 % >= 100 %
    assert t(COMM, "online_dossier_full_online_rate") == (None, None)  # the plan sets none
    assert t(ROOT, "online_dossier_rate") == (pytest.approx(0.65), False)  # 9/21
    assert t(ROOT, "bcci_receive_rate") == (pytest.approx(0.05), True)  # 3/21 > 5 %
    # "> 20 %" is strict: ROOT's mtd 1/5 = exactly 20 % does not meet it
    assert t(ROOT, "bcci_return_rate", "mtd") == (pytest.approx(0.20), False)
    assert t(ROOT, "on_time_rate") == (None, None)  # no Lào Cai target
    assert t(COMM, "online_payment_dossier_rate", "day") == (pytest.approx(0.30), None)  # 0/0: no value


def test_targets_of_lai_chau_by_level(warehouse):
    """The 2023 plan applies from 2023 on: not to a 2022 snapshot (no earlier Lai Châu year)."""
    load_fixture(warehouse, province="lai_chau")
    rows = snapshot_rows(warehouse, province="lai_chau")
    assert all(r.target is None for r in rows.values())
    with warehouse.begin() as conn:
        conn.exec_driver_sql("UPDATE core.target SET year = 2022 WHERE province = 'lai_chau'")
    rows = snapshot_rows(warehouse, province="lai_chau")
    levels = {ROOT: 0.7, DEPT: 0.7, DIST: 0.6, COMM: 0.5, NEW: 0.5}
    for agency_code, goal in levels.items():
        assert rows[(agency_code, "ytd", "digitized_result_rate")].target == pytest.approx(goal)
    assert rows[(ROOT, "ytd", "on_time_rate")].target == pytest.approx(1.0)
    assert rows[(ROOT, "ytd", "on_time_rate")].meets_target is False  # 15/21
    assert rows[(COMM, "ytd", "digitized_result_rate")].meets_target is True  # 2/2
    assert rows[(ROOT, "ytd", "service_online_uptake_rate")].target == pytest.approx(1.0)


def test_before_the_merger_the_old_commune_has_its_own_rows(warehouse):
    load_fixture(warehouse)
    day = date(2022, 4, 20)
    rows = snapshot_rows(warehouse, day)
    assert {k[0] for k in rows} == {ROOT, DEPT, DIST, COMM, OLD}
    # o1 received 04-05 online, o3 02-14 by post (o2 not yet received)
    assert (rows[(OLD, "ytd", "online_dossier_rate")].numerator,
            rows[(OLD, "ytd", "online_dossier_rate")].denominator) == (1, 2)
    with warehouse.begin() as conn:
        assert_same(warehouse_snapshot(conn, day), reference_snapshot(conn, day), "2022-04-20")


def test_a_range_run_equals_day_by_day_runs_across_the_merger(warehouse):
    load_fixture(warehouse)
    start, end = date(2022, 4, 25), date(2022, 5, 17)
    with warehouse.begin() as conn:
        indicators.publish_range(warehouse, start, end, "lao_cai", conn)
        ranged = {d: warehouse_snapshot(conn, d) for d in (start + timedelta(i) for i in range((end - start).days + 1))}
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        with warehouse.begin() as conn:
            indicators.publish_snapshot(warehouse, conn, day, "lao_cai")
            single = warehouse_snapshot(conn, day)
            assert_same(ranged[day], single, f"range vs single {day}")
            assert_same(single, reference_snapshot(conn, day), f"single vs reference {day}")
    assert ranged[D] == {k: v for k, v in expected_figures().items()} | {
        k: v for k, v in ranged[D].items() if k not in expected_figures()}


def test_republishing_a_range_replaces_its_rows(warehouse):
    load_fixture(warehouse)
    indicators.publish_range(warehouse, date(2022, 5, 1), D, "lao_cai")
    indicators.publish_range(warehouse, date(2022, 5, 10), D, "lao_cai")
    with warehouse.begin() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM mart.indicator_snapshot").scalar()
        per_day = conn.exec_driver_sql(
            "SELECT count(DISTINCT snapshot_date), count(*) FROM mart.indicator_snapshot "
            "WHERE snapshot_date = DATE '2022-05-16'").one()
    assert n == 16 * 5 * 4 * 18
    assert per_day == (1, 5 * 4 * 18)


def test_a_range_across_new_year_restarts_the_year_to_date(warehouse):
    load_fixture(warehouse)
    start, end = date(2021, 12, 30), date(2022, 2, 1)
    indicators.publish_range(warehouse, start, end, "lao_cai")
    with warehouse.begin() as conn:
        ranged = {start + timedelta(i): warehouse_snapshot(conn, start + timedelta(i)) for i in range(34)}
    for day in (date(2021, 12, 31), date(2022, 1, 1), date(2022, 1, 20), end):
        with warehouse.begin() as conn:
            assert_same(ranged[day], reference_snapshot(conn, day), f"{day}")
    assert ranged[date(2021, 12, 31)][(ROOT, "ytd", "full_online_service_rate")] == (0, 0)  # no config in 2021
    assert ranged[date(2022, 1, 1)][(ROOT, "ytd", "full_online_service_rate")] == (6, 7)  # DEPT P1/P2, COMM P1/P2, OLD P1/P2, DIST P1: all but DEPT P2 full
    # c4 (received 01-15) is first known from its version of 01-20, a8 (received 01-10) from 02-01:
    # a snapshot counts what the warehouse knew at the end of its date
    assert ranged[date(2022, 1, 19)][(ROOT, "ytd", "online_dossier_rate")] == (0, 0)
    assert ranged[date(2022, 1, 20)][(ROOT, "ytd", "online_dossier_rate")] == (0, 1)
    assert ranged[end][(ROOT, "ytd", "online_dossier_rate")] == (0, 2)
    assert ranged[end][(ROOT, "mtd", "online_dossier_rate")] == (0, 0)


# Supplement requests: the clock stops at the request, not before. COMM, P2, counter; alone in the
# warehouse (so COMM = DIST = ROOT), snapshot dates 05-04 .. 05-16.
def _s(code, updated, status, received, due, requests=(), finished=None):
    return V(code, COMM, P2, updated, status=status, received=received, due=due, finished=finished,
             requests=list(requests))


S1_REQ = supplement_request("20220504100000", "20220506170000")
S1_DONE = supplement_request("20220504100000", "20220506170000", "20220510100000", "20220512170000")
S2_REQ = supplement_request("20220505100000", "20220504170000")
S2_DONE = supplement_request("20220505100000", "20220504170000", "20220509100000", "20220510170000")
SUPPLEMENT_DOSSIERS = [
    # s1 received 05-02, due 05-06; supplement requested 05-04 (before the due date) and supplied
    #    05-10, due moved to 05-12; processed 05-11: on time throughout (waiting past 05-06 too)
    _s("s1", "20220502090000", 2, "20220502090000", "20220506170000"),
    _s("s1", "20220504100000", 5, "20220502090000", "20220506170000", [S1_REQ]),
    _s("s1", "20220510100000", 4, "20220502090000", "20220512170000", [S1_DONE]),
    _s("s1", "20220511150000", 9, "20220502090000", "20220512170000", [S1_DONE], finished="20220511150000"),
    # s2 received 05-02, due 05-04 17:00; requested 05-05 (after the due date): late while waiting,
    #    and after: supplied 05-09, due moved to 05-10 17:00, processed 05-10 09:00 before it: late
    _s("s2", "20220502090000", 2, "20220502090000", "20220504170000"),
    _s("s2", "20220505100000", 5, "20220502090000", "20220504170000", [S2_REQ]),
    _s("s2", "20220509100000", 4, "20220502090000", "20220510170000", [S2_DONE]),
    _s("s2", "20220510090000", 9, "20220502090000", "20220510170000", [S2_DONE], finished="20220510090000"),
    # s3 received 05-03, due 05-06 17:00; requested at 05-06 17:00 exactly ("on or before"): on time,
    #    still waiting on 05-16
    _s("s3", "20220503090000", 2, "20220503090000", "20220506170000"),
    _s("s3", "20220506170000", 5, "20220503090000", "20220506170000", [supplement_request("20220506170000", "20220506170000")]),
    # s4 received 05-09, due 05-10 17:00 (overdue from the end of 05-10); requested 05-12: still late
    _s("s4", "20220509090000", 2, "20220509090000", "20220510170000"),
    _s("s4", "20220512090000", 5, "20220509090000", "20220510170000", [supplement_request("20220512090000", "20220510170000")]),
]
# date -> on_time_rate "numerator/denominator" for day and mtd (= qtd = ytd: everything is in May).
# Before the rule stopped the clock at the request, s2 was on time from 05-05 (waiting) until
# it ended: 05-05 3/3, 05-06 3/3, 05-09 4/4, 05-10 3/4, 05-11 day 2/3 mtd 3/4, 05-12 on mtd 3/4.
SUPPLEMENT_EXPECTED = {
    date(2022, 5, 4): "2/3 2/3",    # s1 waiting ✓, s2 open past its due date ✗, s3 ✓
    date(2022, 5, 5): "2/3 2/3",    # s2 waiting, requested after its due date ✗
    date(2022, 5, 6): "2/3 2/3",    # s3 requested at its due date ✓
    date(2022, 5, 9): "3/4 3/4",    # s1 waiting past its first due date ✓; s2 supplied, new due 05-10 ✗; s4 ✓
    date(2022, 5, 10): "2/4 2/4",   # s2 processed before its new due date ✗; s4 overdue ✗
    date(2022, 5, 11): "2/3 2/4",   # s1 processed on time ✓, s3 ✓, s4 ✗ (mtd: + s2 ✗)
    date(2022, 5, 12): "1/2 2/4",   # s4 waiting, requested after its due date ✗
    date(2022, 5, 16): "1/2 2/4",
}


def test_on_time_stops_the_clock_at_the_supplement_request(warehouse):
    load_reference_and_dossiers(warehouse, [SUPPLEMENT_DOSSIERS])
    start, end = date(2022, 5, 4), date(2022, 5, 16)
    with warehouse.begin() as conn:
        indicators.publish_range(warehouse, start, end, "lao_cai", conn)
        stored = dict(conn.exec_driver_sql(
            "SELECT dossier_code, supplement_requested_at FROM core.dossier WHERE dossier_code = 's2'").all())
        assert str(stored["s2"]) == "2022-05-05 10:00:00"
        for day, text in SUPPLEMENT_EXPECTED.items():
            got = warehouse_snapshot(conn, day)
            day_pair, month_pair = text.split()
            for period, pair in (("day", day_pair), ("mtd", month_pair), ("qtd", month_pair), ("ytd", month_pair)):
                for agency_code in (COMM, DIST, ROOT):
                    assert got[(agency_code, period, "on_time_rate")] == tuple(map(int, pair.split("/"))), \
                        (day, period, agency_code)
            assert_same(got, reference_snapshot(conn, day), f"reference {day}")


def test_measure_files_take_their_code_as_a_bound_parameter():
    codes = indicators.measure_codes()
    for code in codes:
        text = (indicators.MEASURES_DIR / f"{code}.sql").read_text(encoding="utf-8")
        assert ":indicator_code" in text, code
        assert [c for c in codes if f"'{c}'" in text] == [], f"{code}.sql writes an indicator code literally"


def test_the_working_tables_are_named_in_prepare_sql_only():
    """indicators.py analyzes the tables prepare.sql creates (on PostgreSQL), read from the file."""
    prepared, later = set(indicators.PREPARED_TABLES), set(indicators.FILLED_LATER_TABLES)
    assert later == {"ind_fact", "ind_service_fact", "ind_service_scope", "ind_code"}
    assert {"ind_version", "ind_run", "ind_recv", "ind_ended", "ind_open", "ind_sync"} <= prepared
    read = {t for p in indicators.MEASURES_DIR.glob("*.sql")
            for t in re.findall(r"(?:FROM|JOIN) (ind_\w+)", p.read_text(encoding="utf-8"))}
    assert read and read <= prepared, read - prepared
