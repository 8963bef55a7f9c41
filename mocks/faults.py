"""Fault injection (mocks/README.md, "Fault injection"). Off unless asked for.

Per request (data endpoints only; /health and the auth endpoints never fail):
  rate429    429 with `Retry-After: 1` (the system's error body)
  http5xx    500, or 503 (half of them an HTML page from a "gateway")
  slow       the answer is delayed by --slow-seconds
  malformed  HTTP 200 with a truncated JSON body
Decided by hash(seed, kind, request, n) where n counts the identical requests seen so far, so a
retry of the same request can succeed and a run replays identically for the same request sequence.

Per data (deterministic from the seed and the data, the same however often it is fetched):
  duplicates    on paged lists, the last row of a page is repeated as the first row of the next
                (`total` counts the repeats, so paging to the end still returns every row)
  late_updates  a record arrives up to 3 days after its own NgayCapNhat/LastModified/time, so it
                is served in a later window than the one its timestamp belongs to
  bad_records   a row corrupted: unknown procedure or agency code, due date before receipt,
                negative amount, impossible date (month 13, 30 February...), missing keys
  outages       (--outage DAY[=SHARE]) only SHARE of the records stamped on DAY are served, on every fetch
"""
from __future__ import annotations

import copy
import json
import threading
import time
from collections import defaultdict

from fastapi import Request, Response

from mocks.common import json_response
from mocks.config import FAULTS, SimConfig
from mocks.dossiers import _hash

SCALE = 1_000_000


class Faults:
    def __init__(self, config: SimConfig):
        self.config = config
        self.rates = {k: config.rate(k) for k in FAULTS}
        self.seed = config.seed
        self._seen: dict[str, int] = defaultdict(int)
        self.outages = dict(config.outages)
        self._lock = threading.Lock()

    def on(self, kind: str) -> bool:
        return self.rates.get(kind, 0.0) > 0

    def hit(self, kind: str, key: str) -> bool:
        rate = self.rates.get(kind, 0.0)
        if rate <= 0:
            return False
        return _hash(f"{self.seed}|{kind}|{key}") % SCALE < rate * SCALE

    # ------------------------------------------------------------------ per request
    def before(self, request: Request, system: str) -> Response | None:
        """Call first in a data endpoint (after auth): an error response to send instead, or None."""
        if not any(self.on(k) for k in ("rate429", "http5xx", "slow", "malformed")):
            return None
        key = request.url.path + "?" + "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))
        with self._lock:
            n = self._seen[key]
            self._seen[key] = n + 1
        rkey = f"{key}#{n}"
        request.state.fault_key = rkey
        if self.hit("rate429", rkey):
            return _error(system, 429, "Too many requests, retry later", {"Retry-After": "1"})
        if self.hit("http5xx", rkey):
            if system == "vnpost" and _hash(rkey + "200") % 2:   # VNPost: an error inside an HTTP 200
                return json_response({"Status": "500", "Message": "Hệ thống đang bận, vui lòng thử lại",
                                      "Total": 0, "Items": []})
            if _hash(rkey) % 2:
                return _error(system, 500, "Internal server error")
            if _hash(rkey + "html") % 2:
                return Response("<html><head><title>503 Service Temporarily Unavailable</title></head>"
                                "<body><center><h1>503 Service Temporarily Unavailable</h1></center>"
                                "<hr><center>nginx</center></body></html>", status_code=503, media_type="text/html")
            return _error(system, 503, "Service unavailable")
        if self.hit("slow", rkey):
            time.sleep(self.config.slow_seconds)
        return None

    def respond(self, request: Request, body, status_code: int = 200) -> Response:
        resp = json_response(body, status_code)
        rkey = getattr(request.state, "fault_key", None)
        if rkey is not None and self.hit("malformed", rkey + "|body"):
            cut = max(1, len(resp.body) * 3 // 5)
            return Response(resp.body[:cut], status_code=200, media_type="application/json")
        return resp

    # ------------------------------------------------------------------ per data
    def served(self, rows: list) -> list:
        """A window's entries (ts, key, n, ref) less those an outage lost: of a record stamped on an outage
        day, kept only if its hash falls in the day's share."""
        if not self.outages:
            return rows
        out = []
        for e in rows:
            share = self.outages.get(e[0][:8])
            if share is None or _hash(f"{self.seed}|outage|{e[1]}|{e[2]}") % SCALE < share * SCALE:
                out.append(e)
        return out

    def duplicate(self, rows: list, page_size: int, key: str) -> list:
        """The list as served: at some page boundaries the previous row is repeated."""
        if not self.on("duplicates") or len(rows) <= page_size:
            return rows
        out: list = []
        last = len(rows) - 1
        for i, r in enumerate(rows):
            out.append(r)
            if len(out) % page_size == 0 and i < last and self.hit("duplicates", f"{key}|{page_size}|{len(out)}"):
                out.append(r)
        return out

    def corrupt(self, stream: str, row: dict, key: str) -> dict:
        if not self.on("bad_records") or not self.hit("bad_records", f"{stream}|{key}"):
            return row
        row = copy.deepcopy(row)
        how = _hash(f"{self.seed}|how|{stream}|{key}")
        CORRUPT[stream](row, how)
        return row


def _error(system: str, status: int, message: str, headers: dict | None = None) -> Response:
    if system == "onestop":
        body = {"error_code": status, "message": message, "total": 0, "page": 0, "pageSize": 0, "data": []}
    elif system == "vnpost":
        body = {"Status": str(status), "Message": message, "Total": 0, "Items": []}
    else:
        body = {"error": "rate_limited" if status == 429 else "server_error", "message": message}
    return json_response(body, status, headers)


# ---------------------------------------------------------------------- corruptions per stream
def _impossible_onestop(value: str | None, how: int) -> str:
    value = value or "20220101080000"
    return value[:4] + ("1345", "0230", "0631", "0000")[how % 4] + value[8:]


def _drop(row: dict, keys: list[str], how: int) -> None:
    for k in keys[: 1 + how % 2]:
        row.pop(k, None)


def _hoso(row: dict, how: int) -> None:
    kind = (how >> 8) % 6
    if kind == 0:
        row["MaTTHC"] = f"9.{how % 999999:06d}"
    elif kind == 1:
        row["DonViXuLy"] = "000.00.99.H13"
    elif kind == 2:
        base = row.get("NgayTiepNhan") or row["NgayNopHoSo"]
        row["NgayTiepNhan"] = base
        row["NgayHenTra"] = f"{int(base[:8]) - 3 if base[6:8] > '03' else int(base[:8]) - 100:08d}" + base[8:]
    elif kind == 3:
        fees = row.get("DanhSachLePhi") or [
            {"MaPhiLePhi": "LPX", "TenPhiLePhi": "Lệ phí", "Gia": 50_000, "HinhThucThu": 1}]
        row["DanhSachLePhi"] = [{**fees[0], "Gia": -abs(fees[0]["Gia"] or 1000)}, *fees[1:]]
    elif kind == 4:
        field = ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra")[how % 3]
        row[field] = _impossible_onestop(row.get(field) or row.get("NgayNopHoSo"), how >> 4)
    else:
        required = ("MaTTHC", "DonViXuLy", "NgayNopHoSo", "TrangThaiHoSo", "MaHoSo")[how % 5]
        _drop(row, [required, "KenhThucHien"], how >> 3)


def _thanhtoan(row: dict, how: int) -> None:
    kind = (how >> 8) % 4
    if kind == 0:
        row["SoTien"] = -abs(row["SoTien"])
    elif kind == 1:
        row["MaHoSo"] = "000.00.99.H13-000000-0000"
    elif kind == 2:
        row["ThoiGianGD"] = _impossible_onestop(row["ThoiGianGD"], how)
    else:
        _drop(row, [("MaHoSo", "SoTien", "TrangThai")[how % 3], "KenhThanhToan"], how >> 3)


def _paygov(row: dict, how: int) -> None:
    kind = (how >> 8) % 4
    if kind == 0:
        row["soTien"] = -abs(row["soTien"])
    elif kind == 1:
        # a 12-hour clock (hh): 14:05 becomes 02:05 - ambiguous (docs/sources.md)
        t = row["thoiGianGD"]
        row["thoiGianGD"] = t[:8] + f"{(int(t[8:10]) % 12) or 12:02d}" + t[10:]
    elif kind == 2:
        row["thoiGianGD"] = _impossible_onestop(row["thoiGianGD"], how)
    else:
        _drop(row, [("maThamChieu", "soTien", "maLoi")[how % 3]], how >> 3)


def _dongbo(row: dict, how: int) -> None:
    kind = (how >> 8) % 3
    if kind == 0:
        row["maTTHC"] = f"9.{how % 999999:06d}"
    elif kind == 1:
        t = row["thoiDiemDongBo"]
        row["thoiDiemDongBo"] = t[:5] + ("13-45", "02-30", "06-31")[how % 3] + t[10:]
    else:
        _drop(row, [("maHoSo", "errorCode", "loaiDongBo")[how % 3]], how >> 3)


def _bcci(row: dict, how: int) -> None:
    kind = (how >> 8) % 4
    if kind == 0:
        row["CODAmount"] = -abs(row["CODAmount"] or 15_000)
    elif kind == 1:
        row["OrderNumber"] = "000.00.99.H13-000000-0000"
    elif kind == 2:
        t = row["LastModified"]
        row["LastModified"] = ("31/02", "45/13", "00/00")[how % 3] + t[5:]
    else:
        _drop(row, [("OrderNumber", "ServiceType", "CollectionStatus")[how % 3]], how >> 3)


CORRUPT = {"hoso": _hoso, "thanhtoan": _thanhtoan, "paygov": _paygov, "dongbo": _dongbo, "bcci": _bcci}


def dumps(body) -> bytes:  # pragma: no cover - convenience for debugging
    return json.dumps(body, ensure_ascii=False).encode()
