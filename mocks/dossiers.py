"""Dossiers, generated day by day and served as a change log.

Each day's dossiers come from `random.Random("<seed>|<profile>|hoso|<yyyy-mm-dd>")`, so any
day can be regenerated alone, in any order, in any process. A dossier is a list of events
(status changes), each carrying the fields that change with it; version k of the dossier is
the fields known after event k, with `NgayCapNhat` = the time of event k. A window
[tuNgay, denNgay) returns every version whose NgayCapNhat falls in it, so it needs the
dossiers submitted from `tuNgay - LIFETIME_DAYS` on: every event of a dossier happens within
LIFETIME_DAYS of its submission (later events are dropped; the dossier stays open).
Generated days are kept in an LRU cache, so consecutive daily windows are cheap.
"""
from __future__ import annotations

import bisect
import hashlib
import heapq
import random
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from mocks import names as N
from mocks.catalog import Agency, Procedure, Profile, ServiceConfig
from mocks.timefmt import (
    add_workdays,
    at_seconds,
    fmt_onestop,
    is_workday,
    work_after,
    work_between,
    work_time_on,
    workdays_between,
)

LIFETIME_DAYS = 60
# how far back a window looks for the dossiers behind its records: a dossier's life, plus a
# postal delivery after the result, plus a late arrival (late_updates fault)
LOOKBACK_DAYS = LIFETIME_DAYS + 12

# Output field order of a dossier version.
FIELDS = (
    "MaHoSo", "MaTTHC", "MaLinhVuc", "DonViXuLy", "KenhThucHien", "TrangThaiHoSo", "NgayNopHoSo",
    "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi", "HinhThucTraKetQua",
    "HoSoCoThanhPhanSoHoa", "KetQuaDuocSoHoa", "DuocKySo", "DuocThanhToanTrucTuyen", "DanhSachLePhi",
    "DanhSachHoSoBoSung", "DanhSachGiayToKetQua", "ChuHoSo", "NgayCapNhat",
)
_EMPTY = dict.fromkeys(FIELDS)

STATUS_REGISTERED, STATUS_RECEIVED, STATUS_REJECTED, STATUS_PROCESSING = 1, 2, 3, 4
STATUS_SUPPLEMENT, STATUS_PAYMENT, STATUS_WITHDRAWN, STATUS_STOPPED = 5, 6, 7, 8
STATUS_PROCESSED, STATUS_RETURNED = 9, 10


class Dossier:
    """Static fields plus events [(datetime, status, {changed fields})], strictly increasing times."""
    __slots__ = ("agency", "base", "code", "events", "fee_total", "payment", "procedure")

    def __init__(self, code: str, base: dict, agency: str, procedure: str):
        self.code = code
        self.base = base
        self.events: list[tuple[datetime, int, dict]] = []
        self.agency = agency
        self.procedure = procedure
        self.fee_total = 0
        self.payment: dict | None = None   # filled for fee-bearing dossiers (see payments.py)

    def version(self, k: int) -> dict:
        out = dict(_EMPTY)
        out.update(self.base)
        for _ts, _status, delta in self.events[: k + 1]:
            out.update(delta)
        ts, status, _ = self.events[k]
        out["TrangThaiHoSo"] = status
        out["NgayCapNhat"] = fmt_onestop(ts)
        return out


class DayBatch:
    """The dossiers submitted on one day, and the records derived from them per stream
    (built on first use; see DossierGenerator.builders)."""

    def __init__(self, day: date, dossiers: list[Dossier]):
        self.day = day
        self.dossiers = dossiers
        self.streams: dict[str, list[tuple]] = {}
        self.lock = threading.Lock()


def _person(rng: random.Random, addr_area: str) -> dict:
    female = rng.random() < 0.48
    family = rng.choices(N.FAMILY_NAMES, weights=N.FAMILY_WEIGHTS)[0]
    middle = rng.choice(N.MIDDLE_FEMALE if female else N.MIDDLE_MALE)
    given = rng.choice(N.GIVEN_FEMALE if female else N.GIVEN_MALE)
    year = rng.randint(1950, 2005)
    century = 0 if year < 2000 else 2
    sodinhdanh = f"010{century + int(female)}{year % 100:02d}{rng.randint(0, 999999):06d}"
    phone = rng.choice(N.MOBILE_PREFIXES) + f"{rng.randint(0, 9999999):07d}"
    hamlet = f"{rng.choice(N.HAMLETS)} {rng.choice(N.HAMLET_NAMES)}"
    return {"HoVaTen": f"{family} {middle} {given}", "SoDinhDanh": sodinhdanh, "SoDienThoai": phone,
            "DiaChi": f"{hamlet}, {addr_area}, tỉnh Lào Cai" if addr_area else f"{hamlet}, tỉnh Lào Cai"}


def _online_submit_time(d: date, rng: random.Random) -> datetime:
    r = rng.random()
    if r < 0.03:
        return at_seconds(d, rng.randint(23 * 3600 + 50 * 60, 86399))      # just before midnight
    if r < 0.05:
        return at_seconds(d, rng.randint(0, 10 * 60))                       # just after midnight
    if r < 0.72:
        return work_time_on(d, rng)
    return at_seconds(d, rng.randint(5 * 3600, 23 * 3600 + 49 * 60))


# Public holidays (month, day) with about a seventh of a usual day's dossiers: New Year, 30 April, 1 May, 2 September.
QUIET_DAYS = ((1, 1), (4, 30), (5, 1), (9, 2))


class DossierGenerator:
    def __init__(self, profile: Profile, seed: int, dossiers_per_year: int, cache_days: int = 200,
                 late_rate: float = 0.0, memory_dossiers: int = 150_000):
        self.profile = profile
        self.late_rate = late_rate
        # stream name -> builder(DayBatch) -> sorted [(arrival, ts, key, n, ref)]; more in streams.py
        self.builders = {"hoso": self._dossier_stream}
        self.seed = seed
        self.per_year = max(0, dossiers_per_year)
        self._cache: OrderedDict[date, DayBatch] = OrderedDict()
        # keep about `memory_dossiers` dossiers in memory; when a window's look-back needs more,
        # windows are served from disk (spill.py), one submission day generated at a time
        per_day = max(1.0, self.per_year / 365)
        self.spill = None
        if per_day * (LOOKBACK_DAYS + 8) > memory_dossiers:
            from mocks.spill import SpillStore
            self.spill = SpillStore(self)
        self._cache_days = max(1 if self.spill else LOOKBACK_DAYS + 8, min(cache_days, int(memory_dossiers / per_day)))
        self._lock = threading.Lock()
        self._day_locks: dict[date, threading.Lock] = {}
        self._windows: OrderedDict[tuple, list] = OrderedDict()
        # mean per weekday so that a year sums to per_year: weekday 1, Saturday .3, Sunday .1
        self._per_unit = self.per_year / (52.18 * (5 + 0.3 + 0.1))
        # applicants' addresses: a commune's own area; a district's communes; anywhere for departments
        communes = [a for a in profile.agencies if a.kind == "commune"]
        self._areas: dict[str, list[str]] = {}
        for a in profile.agencies:
            if a.kind == "commune":
                self._areas[a.code] = [a.area]
            elif a.kind == "district":
                self._areas[a.code] = [c.area for c in communes if c.parent == a.code] or [a.area]
            else:
                self._areas[a.code] = [c.area for c in communes] or [a.area]

    # ---------------------------------------------------------------- day batches
    def day(self, d: date) -> DayBatch:
        with self._lock:
            hit = self._cache.get(d)
            if hit is not None:
                self._cache.move_to_end(d)
                return hit
            lock = self._day_locks.setdefault(d, threading.Lock())
        with lock:
            with self._lock:
                hit = self._cache.get(d)
            if hit is None:
                hit = self._generate_day(d)
                with self._lock:
                    self._cache[d] = hit
                    while len(self._cache) > self._cache_days:
                        self._cache.popitem(last=False)
                    self._day_locks.pop(d, None)
        return hit

    def count_for_day(self, d: date, rng: random.Random) -> int:
        if d < self.profile.data_start or d > self.profile.data_end:
            return 0
        w = {5: 0.3, 6: 0.1}.get(d.weekday(), 1.0)
        if (d.month, d.day) in QUIET_DAYS:
            w *= 0.15
        mean = self._per_unit * w * rng.uniform(0.85, 1.15)
        n = int(mean)
        return n + (1 if rng.random() < mean - n else 0)

    def _generate_day(self, d: date) -> DayBatch:
        rng = random.Random(f"{self.seed}|{self.profile.name}|hoso|{d.isoformat()}")
        n = self.count_for_day(d, rng)
        agencies, cum, offers = self.profile.offer_table(d)
        dossiers: list[Dossier] = []
        seq: dict[str, int] = {}
        if agencies:
            total = cum[-1]
            for _ in range(n):
                a = agencies[bisect.bisect_right(cum, rng.random() * total)]
                rows, pc = offers[a.code]
                cfg = rows[min(len(rows) - 1, bisect.bisect_right(pc, rng.random() * pc[-1]))]
                seq[a.code] = seq.get(a.code, 0) + 1
                code = f"{a.code}-{d:%y%m%d}-{seq[a.code]:04d}"
                dossiers.append(self._lifecycle(rng, d, a, self.profile.proc_by_code[cfg.procedure], cfg, code))
        return DayBatch(d, dossiers)

    # ---------------------------------------------------------------- one dossier's life
    def _lifecycle(self, rng: random.Random, d: date, a: Agency, p: Procedure, cfg: ServiceConfig,
                   code: str) -> Dossier:
        mode = cfg.mode
        p_online = {"TOAN_TRINH": a.online, "MOT_PHAN": a.online * 0.55}.get(mode, 0.0)
        if not is_workday(d) and p_online:
            p_online = min(0.98, p_online * 1.5 + 0.2)
        r = rng.random()
        if r < p_online:
            channel = 2
        elif cfg.bcci and rng.random() < a.post_in:
            channel = 3
        else:
            channel = 1
        sub = _online_submit_time(d, rng) if channel == 2 else work_time_on(d, rng)
        # how the result will be returned (chosen by the applicant at submission)
        if channel == 2 and mode == "TOAN_TRINH" and rng.random() < 0.75:
            result_channel = 2
        elif cfg.bcci and rng.random() < (0.8 if channel == 3 else a.post_out):
            result_channel = 3
        else:
            result_channel = 1
        fees = []
        if p.has_fee:
            fees.append({"MaPhiLePhi": f"LP{p.code.replace('.', '')}",
                         "TenPhiLePhi": f"Lệ phí {p.name[0].lower()}{p.name[1:]}"[:120],
                         "Gia": p.fee, "HinhThucThu": 2 if channel == 2 else 1})
            if rng.random() < 0.15:
                fees.append({"MaPhiLePhi": f"PHI{p.code.replace('.', '')}", "TenPhiLePhi": "Phí thẩm định hồ sơ",
                             "Gia": rng.choice([50_000, 100_000, 200_000]), "HinhThucThu": fees[0]["HinhThucThu"]})
        base = {
            "MaHoSo": code, "MaTTHC": p.code, "MaLinhVuc": p.field_code, "DonViXuLy": a.code,
            "KenhThucHien": None if channel == 1 and rng.random() < 0.04 else channel,
            "NgayNopHoSo": fmt_onestop(sub), "HinhThucTraKetQua": result_channel,
            "DanhSachLePhi": fees, "DanhSachHoSoBoSung": [], "DanhSachGiayToKetQua": [],
            "ChuHoSo": _person(rng, rng.choice(self._areas.get(a.code) or [a.area])), "DuocThanhToanTrucTuyen": 0,
        }
        x = Dossier(code, base, a.code, p.code)
        x.fee_total = sum(f["Gia"] for f in fees)
        ev = x.events
        limit = sub + timedelta(days=LIFETIME_DAYS)

        def add(ts: datetime, status: int, delta: dict | None = None) -> datetime:
            if ev and ts <= ev[-1][0]:
                ts = ev[-1][0] + timedelta(seconds=rng.randint(1, 90))
            ev.append((ts, status, delta or {}))
            return ts

        add(sub, STATUS_REGISTERED)
        # payment decided up front: online (at submission or after a request) or at the counter
        pay_online = 0
        pays_at_submission = False
        if p.has_fee:
            can_online = cfg.online_payment and channel in (2, 3)
            if can_online and rng.random() < a.online_pay:
                pay_online = 1 if rng.random() < 0.6 else 2
            # online payers may pay right at submission; counter payers at the counter on receipt
            pays_at_submission = rng.random() < 0.55 and (pay_online > 0 or channel == 1)
            x.payment = {"online": pay_online, "paid_at": None, "requested_at": None}
        if pays_at_submission and pay_online:
            ev[0][2]["DuocThanhToanTrucTuyen"] = pay_online
            x.payment["paid_at"] = sub
        # receipt
        if channel == 1:
            rec = sub + timedelta(seconds=rng.randint(180, 2400))
        else:
            rec = work_after(sub, rng, rng.choice([0, 0, 0, 1, 1, 2]))
        if rng.random() < 0.025:
            add(rec, STATUS_REJECTED, {"NgayTuChoi": fmt_onestop(rec)})
            return self._clip(x, limit)
        due = add_workdays(rec, p.days)
        if pays_at_submission and not pay_online:
            x.payment["paid_at"] = rec
        rec = add(rec, STATUS_RECEIVED, {"NgayTiepNhan": fmt_onestop(rec), "NgayHenTra": fmt_onestop(due),
                                         "HoSoCoThanhPhanSoHoa": int(channel == 2 or rng.random() < a.digitize)})
        t = add(work_after(rec, rng, rng.choice([0, 0, 1])), STATUS_PROCESSING)
        r = rng.random()
        if r < 0.008:
            add(work_after(t, rng, rng.randint(1, 5)), STATUS_WITHDRAWN)
            return self._clip(x, limit)
        if r < 0.015:
            stop = work_after(t, rng, rng.randint(1, 5))
            add(stop, STATUS_STOPPED, {"NgayKetThucXuLy": fmt_onestop(stop)})
            return self._clip(x, limit)
        # supplement requests (one, occasionally two)
        if rng.random() < a.supplement:
            requests: list[dict] = []
            for _ in range(2 if rng.random() < 0.15 else 1):
                req = (work_between(ev[-1][0], max(due, ev[-1][0] + timedelta(hours=1)), rng)
                       or work_after(ev[-1][0], rng, 1))
                entry = {"NgayYeuCau": fmt_onestop(req), "NgayBoSung": None, "NgayHenTraCu": fmt_onestop(due),
                         "NgayHenTraMoi": None}
                req = add(req, STATUS_SUPPLEMENT, {"DanhSachHoSoBoSung": [*requests, entry]})
                if rng.random() < 0.08:   # never supplied: withdrawn or stopped after weeks
                    end = work_after(req, rng, rng.randint(10, 25))
                    if rng.random() < 0.5:
                        add(end, STATUS_WITHDRAWN)
                    else:
                        add(end, STATUS_STOPPED, {"NgayKetThucXuLy": fmt_onestop(end)})
                    return self._clip(x, limit)
                sup = req + timedelta(hours=rng.randint(2, 24 * rng.choice([1, 2, 3, 5, 8])))
                if sup <= req:
                    sup = req + timedelta(minutes=5)
                due = add_workdays(due, max(1, workdays_between(req.date(), sup.date())))
                entry = {**entry, "NgayBoSung": fmt_onestop(sup), "NgayHenTraMoi": fmt_onestop(due)}
                requests.append(entry)
                add(sup, STATUS_PROCESSING, {"DanhSachHoSoBoSung": list(requests), "NgayHenTra": fmt_onestop(due)})
        # when processing finishes: on time (before the due date) or late
        late = rng.random() < a.late
        last = ev[-1][0]
        finish = None if late else work_between(last, due, rng)
        if finish is None:
            finish = work_after(max(due, last), rng, rng.randint(1, 8))
        # awaiting payment before the result
        if p.has_fee and not pays_at_submission:
            t6 = add(work_between(last, finish, rng) or work_after(last, rng, 0), STATUS_PAYMENT)
            paid = work_after(t6, rng, rng.choice([0, 0, 1, 2]))
            paid = add(paid, STATUS_PROCESSING, {"DuocThanhToanTrucTuyen": pay_online})
            x.payment["requested_at"], x.payment["paid_at"] = t6, paid
            if finish <= ev[-1][0]:
                finish = work_after(ev[-1][0], rng, 0)
        results = [{"MaGiayTo": f"KQ{p.code.replace('.', '')}", "TenGiayTo": f"Kết quả: {p.name}"[:160]}]
        if rng.random() < 0.1:
            results.append({"MaGiayTo": "VBTB", "TenGiayTo": "Văn bản thông báo kết quả giải quyết"})
        finish = add(finish, STATUS_PROCESSED, {
            "NgayKetThucXuLy": fmt_onestop(finish), "KetQuaDuocSoHoa": int(rng.random() < a.result_digitized),
            "DuocKySo": int(rng.random() < a.signed), "DanhSachGiayToKetQua": results})
        if rng.random() < 0.03:   # result never collected
            return self._clip(x, limit)
        if result_channel == 2:
            ret = finish + timedelta(minutes=rng.randint(1, 180))
        elif result_channel == 3:
            ret = work_after(finish, rng, rng.randint(1, 4))
        else:
            ret = work_after(finish, rng, rng.choice([0, 0, 1, 1, 2, 3, 5, 8]))
        add(ret, STATUS_RETURNED, {"NgayTra": fmt_onestop(ret)})
        return self._clip(x, limit)

    @staticmethod
    def _clip(x: Dossier, limit: datetime) -> Dossier:
        if x.events[-1][0] > limit:
            x.events = [e for e in x.events if e[0] <= limit]
        return x

    # ---------------------------------------------------------------- change-log windows
    def stream_index(self, name: str, batch: DayBatch) -> list[tuple]:
        """The day's entries of one stream, sorted by arrival: (arrival, ts, key, n, ref)."""
        idx = batch.streams.get(name)
        if idx is None:
            with batch.lock:
                idx = batch.streams.get(name)
                if idx is None:
                    idx = self.builders[name](batch)
                    batch.streams[name] = idx
        return idx

    def window(self, name: str, start: datetime, end: datetime) -> Sequence[tuple]:
        """Entries of stream `name` arriving in [start, end), ordered by (ts, key): (ts, key, n, ref),
        ref being the row itself or (for dossiers kept in memory) where to build it from.
        Without the late_updates fault an entry arrives at its own time ts."""
        if self.spill is not None:
            return self.spill.window(name, start, end)
        key = (name, start, end)
        with self._lock:
            hit = self._windows.get(key)
            if hit is not None:
                self._windows.move_to_end(key)
                return hit
        first = datetime.combine(self.profile.data_start, datetime.min.time())
        lo_d = max(self.profile.data_start, (max(start, first) - timedelta(days=LOOKBACK_DAYS)).date())
        hi_d = self.profile.data_end if end.date() > self.profile.data_end else (end - timedelta(microseconds=1)).date()
        a, b = fmt_onestop(start), fmt_onestop(end)
        parts = []
        d = lo_d
        while d <= hi_d:
            idx = self.stream_index(name, self.day(d))
            i = bisect.bisect_left(idx, (a,))
            j = bisect.bisect_left(idx, (b,))
            if i < j:
                part = [e[1:] for e in idx[i:j]]
                part.sort(key=lambda e: e[:3])
                parts.append(part)
            d += timedelta(days=1)
        out = list(heapq.merge(*parts, key=lambda e: e[:3]))
        with self._lock:
            self._windows[key] = out
            # keep recent windows for paging, bounded in count and in entries held
            while len(self._windows) > 1 and (len(self._windows) > 24 or
                                              sum(map(len, self._windows.values())) > 2_000_000):
                self._windows.popitem(last=False)
        return out

    def arrival(self, ts: datetime, key: str) -> datetime:
        """When a record with time ts arrives: at ts, or up to 3 days later under late_updates."""
        if self.late_rate <= 0:
            return ts
        h = _hash(f"{self.seed}|late|{key}")
        if h % 1_000_000 >= self.late_rate * 1_000_000:
            return ts
        return ts + timedelta(minutes=30 + (h >> 20) % (3 * 24 * 60))

    def _dossier_stream(self, batch: DayBatch) -> list[tuple]:
        out = []
        for i, x in enumerate(batch.dossiers):
            for k, (ts, _s, _d) in enumerate(x.events):
                t = fmt_onestop(ts)
                arrives = self.arrival(ts, f"{x.code}#{k}") if self.late_rate > 0 else ts
                out.append((t if arrives is ts else fmt_onestop(arrives), t, x.code, k, (batch.day, i, k)))
        out.sort(key=lambda e: e[:4])
        return out

    def materialize(self, entry: tuple) -> dict:
        if isinstance(entry[3], dict):
            return entry[3]
        d, i, k = entry[3]
        return self.day(d).dossiers[i].version(k)

    def dossiers_submitted(self, d: date) -> list[Dossier]:
        return self.day(d).dossiers


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
