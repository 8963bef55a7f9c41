"""Province profiles: agencies, the procedure catalogue, the per-agency service configuration
(with history) and each agency's behaviour. Fixed per profile (independent of --seed), so
agency and procedure codes are stable across runs and can be used in target tables.

Agency code scheme (after the QĐ 20/2020/QĐ-TTg "XXX.YY.ZZ.Hnn" layout; Lào Cai = H13):
  root                 000.00.00.H13
  departments TT 1-18  000.00.01.H13 ... 000.00.18.H13 (the decision's order)
  districts  TT 19-27  000.00.19.H13 ... 000.00.27.H13 (the decision's order)
  communes             000.KK.DD.H13  (KK = 01.. within district DD)
"""
from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from mocks import names as N


@dataclass
class Agency:
    code: str
    name: str
    level: int                      # 1 province (root and departments), 2 district, 3 commune
    parent: str | None
    valid_from: date
    valid_to: date | None = None    # last valid day, inclusive
    successor: str | None = None
    kind: str = "dept"              # root | dept | district | commune
    weight: float = 1.0             # share of dossier volume
    has_fees: bool = True
    area: str = ""                  # address text ("huyện Bát Xát")
    # behaviour (probabilities)
    online: float = 0.7             # online share where the service allows it
    late: float = 0.05              # share finished after the due date
    post_in: float = 0.03           # share submitted by post where BCCI is on
    post_out: float = 0.15          # share of results returned by post where BCCI is on
    digitize: float = 0.8           # received dossiers with digitized components
    result_digitized: float = 0.7
    signed: float = 0.8
    online_pay: float = 0.5         # fee dossiers paid online where possible
    supplement: float = 0.06

    def row(self) -> dict:
        return {
            "MaDonVi": self.code, "TenDonVi": self.name, "Cap": self.level, "MaDonViCha": self.parent,
            "HieuLucTu": self.valid_from.strftime("%Y%m%d") + "000000",
            "HieuLucDen": self.valid_to.strftime("%Y%m%d") + "235959" if self.valid_to else None,
            "MaDonViKeThua": self.successor,
        }

    def valid_on(self, d: date) -> bool:
        return self.valid_from <= d and (self.valid_to is None or d <= self.valid_to)


@dataclass
class Procedure:
    code: str
    name: str
    field_code: str
    field_name: str
    levels: list[int]
    full_online_eligible: bool
    has_fee: bool
    days: int                       # processing time in working days
    fee: int                        # VND
    popularity: float
    owner: int | None = None        # department index for province-level procedures

    def row(self) -> dict:
        return {
            "MaTTHC": self.code, "TenTTHC": self.name, "MaLinhVuc": self.field_code,
            "TenLinhVuc": self.field_name, "CapThucHien": list(self.levels),
            "DuDieuKienToanTrinh": int(self.full_online_eligible), "CoPhiLePhi": int(self.has_fee),
        }


@dataclass
class ServiceConfig:
    agency: str
    procedure: str
    level: str | int                # TOAN_TRINH / MOT_PHAN / TRUC_TIEP or legacy 4 / 3 / 2
    online_payment: bool
    bcci: bool
    valid_from: date
    valid_to: date | None = None

    @property
    def mode(self) -> str:
        return {4: "TOAN_TRINH", 3: "MOT_PHAN", 2: "TRUC_TIEP"}.get(self.level, self.level)  # type: ignore[arg-type]

    def row(self) -> dict:
        return {
            "MaDonVi": self.agency, "MaTTHC": self.procedure, "MucDo": self.level,
            "CoThanhToanTrucTuyen": int(self.online_payment), "CoBCCI": int(self.bcci),
            "HieuLucTu": self.valid_from.strftime("%Y%m%d") + "000000",
            "HieuLucDen": self.valid_to.strftime("%Y%m%d") + "235959" if self.valid_to else None,
        }

    def valid_on(self, d: date) -> bool:
        return self.valid_from <= d and (self.valid_to is None or d <= self.valid_to)


@dataclass
class Profile:
    name: str
    data_start: date
    agencies: list[Agency]
    procedures: list[Procedure]
    configs: list[ServiceConfig]
    data_end: date = date(2035, 12, 31)
    province_code: str = N.PROVINCE_CODE
    by_code: dict[str, Agency] = field(default_factory=dict)
    proc_by_code: dict[str, Procedure] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_code = {a.code: a for a in self.agencies}
        self.proc_by_code = {p.code: p for p in self.procedures}
        self._configs_by_agency: dict[str, list[ServiceConfig]] = {}
        for c in self.configs:
            self._configs_by_agency.setdefault(c.agency, []).append(c)
        bounds = {self.data_start}
        for x in [*self.agencies, *self.configs]:
            bounds.add(x.valid_from)
            if x.valid_to:
                bounds.add(x.valid_to + timedelta(days=1))
        self._bounds = sorted(bounds)
        self._epoch_cache: dict[int, tuple] = {}

    def epoch(self, d: date) -> int:
        return bisect.bisect_right(self._bounds, d)

    def offer_table(self, d: date) -> tuple:
        """(agencies with dossiers, cumulative weights, {agency: (configs, cumulative popularity)})
        valid on day d; cached per epoch between configuration changes."""
        e = self.epoch(d)
        hit = self._epoch_cache.get(e)
        if hit is not None:
            return hit
        agencies, cum, offers, total = [], [], {}, 0.0
        for a in self.agencies:
            if not a.valid_on(d) or a.weight <= 0:
                continue
            rows = [c for c in self._configs_by_agency.get(a.code, []) if c.valid_on(d)]
            if not rows:
                continue
            pc, t = [], 0.0
            for c in rows:
                t += self.proc_by_code[c.procedure].popularity
                pc.append(t)
            offers[a.code] = (rows, pc)
            total += a.weight
            agencies.append(a)
            cum.append(total)
        hit = (agencies, cum, offers)
        self._epoch_cache[e] = hit
        return hit


# --------------------------------------------------------------------------------------------
# Building the catalogue


def _variants(name: str) -> list[str]:
    out = [name]
    if name.startswith(("Cấp giấy phép ", "Cấp chứng chỉ ", "Cấp giấy chứng nhận ")):
        rest = name[4:]
        out.append("Cấp lại " + rest)
        if name.startswith("Cấp giấy phép "):
            out.append("Gia hạn " + rest)
            out.append("Sửa đổi, bổ sung " + rest)
    elif name.startswith("Đăng ký ") and ("khai tử" in name or "kết hôn" in name) and "," not in name:
        out.append("Đăng ký lại " + name[8:])
    return out


def _procedure_codes(rng: random.Random, n: int) -> list[str]:
    seen: set[str] = set()
    out = []
    while len(out) < n:
        if rng.random() < 0.72:
            code = f"1.{rng.randint(1, 12999):06d}"
        else:
            code = f"2.{rng.randint(1, 2999):06d}"
        if code not in seen:
            seen.add(code)
            out.append(code)
    return out


def build_procedures(rng: random.Random) -> list[Procedure]:
    """Province procedures (owned by one department each), then district- and commune-level ones."""
    specs: list[tuple] = []   # (name, field_code, field_name, levels, owner, has_fees_owner)
    for j, (dept, fname, procs) in enumerate(N.PROVINCE_FIELDS):
        fcode = f"{N.DEPARTMENTS[dept][1]}{j + 1:02d}"
        for p in procs:
            for v in _variants(p):
                specs.append((v, fcode, fname, [1], dept, N.DEPARTMENTS[dept][3]))
    local_codes: dict[str, str] = {}
    for lvl, fields in ((2, N.DISTRICT_FIELDS), (3, N.COMMUNE_FIELDS)):
        for fname, procs in fields:
            fcode = local_codes.setdefault(fname, f"DP{len(local_codes) + 1:02d}")
            for p in procs:
                for v in _variants(p):
                    levels = [2, 3] if v in N.BOTH_LEVELS else [lvl]
                    specs.append((v, fcode, fname, levels, None, True))
    codes = _procedure_codes(rng, len(specs))
    out = []
    for (name, fcode, fname, levels, owner, fees_ok), code in zip(specs, codes, strict=True):
        lvl = levels[0]
        days_choices = {1: [3, 5, 7, 10, 12, 15, 20], 2: [1, 3, 5, 7, 10, 15], 3: [1, 1, 2, 3, 5, 7]}[lvl]
        free_field = fname in ("Hộ tịch",) and lvl == 3 and "kết hôn" in name.lower()
        has_fee = fees_ok and not free_field and rng.random() < (0.6 if lvl == 1 else 0.45)
        fees = [10_000, 20_000, 30_000, 50_000, 100_000, 150_000, 200_000, 300_000, 500_000, 1_000_000]
        fee = rng.choice(fees) if has_fee else 0
        if lvl == 3 and has_fee:
            fee = rng.choice([2_000, 5_000, 8_000, 10_000, 15_000, 20_000, 50_000])
        out.append(Procedure(
            code=code, name=name, field_code=fcode, field_name=fname, levels=levels,
            full_online_eligible=rng.random() < 0.72, has_fee=has_fee,
            days=rng.choice(days_choices), fee=fee,
            popularity=rng.paretovariate(1.3)
            * (3.0 if name in ("Đăng ký khai sinh", "Chứng thực bản sao từ bản chính giấy tờ, văn bản") else 1.0),
            owner=owner,
        ))
    return out


def _behave(a: Agency, rng: random.Random, kind: str) -> None:
    lo, hi = {"dept": (0.55, 0.99), "district": (0.45, 0.88), "commune": (0.2, 0.9)}[kind]
    a.online = rng.uniform(lo, hi)
    a.late = rng.choice([0.005, 0.01, 0.02, 0.04, 0.08, 0.15])
    a.post_in = rng.uniform(0.02, 0.2)
    a.post_out = rng.uniform(0.1, 0.5)
    a.digitize = rng.uniform(0.5, 0.99)
    a.result_digitized = rng.uniform(0.4, 0.98)
    a.signed = rng.uniform(0.5, 0.99)
    a.online_pay = rng.uniform(0.3, 0.95)
    a.supplement = rng.uniform(0.02, 0.1)


def _configs_for(a: Agency, procs: list[Procedure], rng: random.Random, start: date,
                 change: date, end: date | None) -> list[ServiceConfig]:
    """One row per procedure offered; about a quarter of them changed on `change` (the old row,
    often in legacy numbering, ends the day before)."""
    cover = rng.uniform(0.82, 1.0)          # share of eligible procedures made full-online
    out = []
    for p in procs:
        if p.full_online_eligible:
            level = "TOAN_TRINH" if rng.random() < cover else "MOT_PHAN"
        else:
            level = "MOT_PHAN" if rng.random() < 0.6 else "TRUC_TIEP"
        pay = p.has_fee and level != "TRUC_TIEP" and rng.random() < 0.85
        bcci = rng.random() < 0.55
        if change > start and rng.random() < 0.25 and (end is None or end > change):
            old_level = {"TOAN_TRINH": rng.choice([3, 3, "MOT_PHAN"]), "MOT_PHAN": rng.choice([2, 3, "TRUC_TIEP"]),
                         "TRUC_TIEP": 2}[level]
            if rng.random() < 0.7 and isinstance(old_level, str):
                old_level = {"MOT_PHAN": 3, "TRUC_TIEP": 2}[old_level]
            out.append(ServiceConfig(a.code, p.code, old_level, pay and rng.random() < 0.5, bcci, start,
                                     change - timedelta(days=1)))
            out.append(ServiceConfig(a.code, p.code, level, pay, bcci, change, end))
        else:
            if rng.random() < 0.04:         # a few current rows never migrated off the legacy numbers
                level = {"TOAN_TRINH": 4, "MOT_PHAN": 3, "TRUC_TIEP": 2}[level]
            out.append(ServiceConfig(a.code, p.code, level, pay, bcci, start, end))
    return out


def _lao_cai_agencies(valid_from: date) -> list[Agency]:
    root = "000.00.00.H13"
    agencies = [Agency(root, N.PROVINCE_ROOT_NAME, 1, None, valid_from, kind="root", weight=0.0, area="")]
    for i, (name, _abbr, weight, fees) in enumerate(N.DEPARTMENTS, start=1):
        agencies.append(Agency(f"000.00.{i:02d}.H13", name, 1, root, valid_from, kind="dept",
                               weight=weight, has_fees=fees, area="thành phố Lào Cai"))
    for j, (name, area, communes) in enumerate(N.DISTRICTS, start=19):
        dcode = f"000.00.{j:02d}.H13"
        agencies.append(Agency(dcode, name, 2, root, valid_from, kind="district", weight=3.5, area=area))
        urban = "thành phố" in area or "thị xã" in area
        for k, cname in enumerate(communes, start=1):
            agencies.append(Agency(f"000.{k:02d}.{j:02d}.H13", "UBND " + cname[0].lower() + cname[1:], 3, dcode,
                                   valid_from, kind="commune", weight=(0.9 if urban else 0.45),
                                   area=f"{cname[0].lower() + cname[1:]}, {area}"))
    return agencies


def _assign(profile_name: str, agencies: list[Agency], procs: list[Procedure], start: date,
            change: date) -> list[ServiceConfig]:
    configs: list[ServiceConfig] = []
    by_level = {lvl: [p for p in procs if lvl in p.levels] for lvl in (1, 2, 3)}
    dept_index = {a.code: i for i, a in enumerate([a for a in agencies if a.kind == "dept"])}
    for a in agencies:
        rng = random.Random(f"{profile_name}|agency|{a.code}")
        if a.kind == "root":
            continue
        _behave(a, rng, a.kind)
        if a.kind == "dept":
            offered = [p for p in by_level[1] if p.owner == dept_index[a.code]]
        else:
            share = 1.0 if a.kind == "district" else rng.uniform(0.85, 1.0)
            offered = [p for p in by_level[2 if a.kind == "district" else 3] if rng.random() < share]
        configs += _configs_for(a, offered, rng, a.valid_from, change, a.valid_to)
    return configs


@lru_cache(maxsize=4)
def load_profile(name: str) -> Profile:
    if name == "lao_cai_2022":
        start = date(2020, 1, 1)
        agencies = _lao_cai_agencies(start)
        procs = build_procedures(random.Random(f"{name}|catalogue"))
        configs = _assign(name, agencies, procs, start, date(2022, 7, 1))
        return Profile(name, date(2022, 1, 1), agencies, procs, configs)
    if name == "two_tier_2025":
        from mocks.two_tier import build_two_tier
        return build_two_tier(name)
    raise ValueError(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")


PROFILES = ("lao_cai_2022", "two_tier_2025")
