"""The simulator at national volume: windows served from disk, one submission day generated at a
time, with the same rows as the in-memory path (mocks/spill.py)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import requests

from etl.config import env
from mocks import streams
from mocks.catalog import load_profile
from mocks.dossiers import LOOKBACK_DAYS, DossierGenerator
from mocks.testing import run_simulator

PROFILE = load_profile("lao_cai_2022")


def generator(per_year: int, **kw) -> DossierGenerator:
    gen = DossierGenerator(PROFILE, 7, per_year, **kw)
    streams.install(gen)
    return gen


def rows(gen: DossierGenerator, name: str, start: datetime, end: datetime) -> list[tuple]:
    w = gen.window(name, start, end)
    return [(e[0], e[1], e[2], gen.materialize(e)) for e in w[0:len(w)]]


def test_a_day_at_15_million_a_year_generates_that_day_only():
    gen = generator(15_000_000)
    assert gen.spill is not None
    n = len(gen.window("hoso", datetime(2022, 1, 1), datetime(2022, 1, 2)))
    assert n > 1_000   # a Saturday and a holiday, at 15 M a year
    assert gen.spill.generated == [date(2022, 1, 1)]
    assert not gen._cache   # no dossiers kept in memory
    gen.window("dongbo", datetime(2022, 1, 1), datetime(2022, 1, 2))
    assert gen.spill.generated == [date(2022, 1, 1)]


def test_consecutive_nights_generate_one_new_day_each():
    gen = generator(5_000, memory_dossiers=100)
    night = datetime(2022, 5, 15)
    gen.window("hoso", night - timedelta(days=3), night + timedelta(days=1))
    first = night.date() - timedelta(days=3 + LOOKBACK_DAYS)
    assert gen.spill.generated == [first + timedelta(days=i) for i in range((night.date() - first).days + 1)]
    for k in range(1, 30):   # past the store's keep_days: old days go, days still filling stay
        before = len(gen.spill.generated)
        for name in gen.builders:
            gen.window(name, night + timedelta(days=k - 3), night + timedelta(days=k + 1))
        assert gen.spill.generated[before:] == [night.date() + timedelta(days=k)]
    assert len(gen.spill.used) < LOOKBACK_DAYS + 30


def test_spilled_windows_equal_the_in_memory_ones_in_any_order():
    windows = [(datetime(2022, 6, 10), datetime(2022, 6, 14)), (datetime(2022, 2, 1, 12), datetime(2022, 2, 3, 7)),
               (datetime(2021, 12, 20), datetime(2022, 1, 3))]
    for late in (0.0, 0.1):
        memory = generator(5_000, late_rate=late)
        disk = generator(5_000, late_rate=late, memory_dossiers=100)
        assert memory.spill is None and disk.spill is not None
        for name in memory.builders:
            for start, end in windows:
                expected = rows(memory, name, start, end)
                assert expected or start.year == 2021
                assert rows(disk, name, start, end) == expected
        if not late:
            continue
        # windows split exactly, served again after the store evicted their days
        disk.spill.keep_days = 1
        a, b, c = datetime(2022, 4, 1), datetime(2022, 4, 2, 9, 30), datetime(2022, 4, 4)
        split = rows(disk, "hoso", a, b) + rows(disk, "hoso", b, c)
        assert split == rows(memory, "hoso", a, b) + rows(memory, "hoso", b, c)
        assert sorted(split, key=lambda e: e[:3]) == rows(memory, "hoso", a, c)
        assert rows(disk, "dongbo", *windows[0]) == rows(memory, "dongbo", *windows[0])


def test_the_server_above_the_memory_budget_serves_the_same_dossiers():
    opts = {"seed": 7, "profile": "lao_cai_2022", "dossiers_per_year": 1_000_000}
    memory = generator(1_000_000, memory_dossiers=10**9)
    start, end = datetime(2022, 1, 2), datetime(2022, 1, 3, 12)
    expected = [memory.materialize(e) for e in memory.window("hoso", start, end)]
    with run_simulator(**opts) as url:
        got, page = [], 1
        while True:
            r = requests.get(f"{url}/onestop/api/v1/hoso", headers={"X-API-Key": env("ONESTOP_API_KEY")}, timeout=120,
                             params={"tuNgay": f"{start:%Y%m%d%H%M%S}", "denNgay": f"{end:%Y%m%d%H%M%S}", "page": page})
            r.raise_for_status()
            body = r.json()
            got += body["data"]
            if not body["data"]:
                break
            page += 1
    assert body["total"] == len(expected) > 1_000
    assert got == expected


def test_the_memory_budget_is_a_serve_option():
    """`mocks serve --memory-dossiers`: a budget holding the look-back keeps every day in memory (the catch-up
    benchmark reads a month of past days from a warm simulator); the default spills at 1 million a year."""
    from mocks.__main__ import parser, sim_config
    from mocks.server import SimState

    def served(*argv: str) -> DossierGenerator:
        return SimState(sim_config(parser().parse_args(["serve", "--dossiers-per-year", "1000000", *argv]))).generator

    assert served("--memory-dossiers", "400000").spill is None
    assert served().spill is not None
