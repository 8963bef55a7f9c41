"""Profile `two_tier_2025`: Lào Cai's agencies through the July 2025 reform.

Until 2025-06-30 three tiers (province departments, 9 districts, 148 communes). From 2025-07-01
the districts are abolished (HieuLucDen 20250630235959, no successor) and the communes are
merged, 2-5 at a time within a former district, into 49 new communes/wards directly under the
province (Cap 3, parent = root, codes 000.00.31.H13 onwards, valid from 2025-07-01); each old
commune's MaDonViKeThua is its new commune. The new communes take over the district-level
procedures (their CapThucHien becomes [2, 3]). Departments are unchanged (the 2025 merger of
departments and of Lào Cai with Yên Bái are not modelled). Dossiers from 2025-01-01; a dossier
keeps the agency it was submitted to for its whole life, even after that agency ended.
"""
from __future__ import annotations

import random
from datetime import date

from mocks.catalog import (
    Agency,
    Profile,
    _assign,
    _behave,
    _configs_for,
    _lao_cai_agencies,
    build_procedures,
)

MERGE = date(2025, 7, 1)
LAST_OLD_DAY = date(2025, 6, 30)
CONFIG_CHANGE = date(2025, 4, 1)


def _new_name(old: Agency, taken: set[str]) -> str | None:
    name = old.name.replace("UBND thị trấn Nông trường", "UBND xã").replace("UBND thị trấn", "UBND xã")
    return None if name in taken else name


def build_two_tier(profile_name: str) -> Profile:
    rng = random.Random(f"{profile_name}|merge")
    agencies = _lao_cai_agencies(date(2020, 1, 1))
    root = agencies[0].code
    procs = build_procedures(random.Random("lao_cai_2022|catalogue"))
    for p in procs:
        if p.levels == [2]:
            p.levels = [2, 3]
    districts = [a for a in agencies if a.kind == "district"]
    new: list[Agency] = []
    taken: set[str] = set()
    number = 31
    for d in districts:
        d.valid_to = LAST_OLD_DAY
        communes = [a for a in agencies if a.parent == d.code]
        groups, i = [], 0
        while i < len(communes):
            size = rng.choice([2, 3, 3, 3, 4])
            if len(communes) - (i + size) == 1:
                size += 1
            groups.append(communes[i: i + size])
            i += size
        for g in groups:
            name = next((n for n in (_new_name(c, taken) for c in g) if n),
                        f"UBND xã {d.area.split(' ', 1)[1]} {number}")
            taken.add(name)
            code = f"000.00.{number:02d}.H13"
            number += 1
            area = name.removeprefix("UBND ")
            area = area[0].lower() + area[1:]
            new.append(Agency(code, name, 3, root, MERGE, kind="commune", area=area,
                              weight=sum(c.weight for c in g) + d.weight / len(groups)))
            for c in g:
                c.valid_to = LAST_OLD_DAY
                c.successor = code
    configs = _assign(profile_name, agencies, procs, date(2020, 1, 1), CONFIG_CHANGE)
    local = [p for p in procs if 2 in p.levels or 3 in p.levels]
    for a in new:
        arng = random.Random(f"{profile_name}|agency|{a.code}")
        _behave(a, arng, "commune")
        configs += _configs_for(a, local, arng, a.valid_from, CONFIG_CHANGE, None)
    return Profile(profile_name, date(2025, 1, 1), agencies + new, procs, configs)
