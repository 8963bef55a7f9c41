"""Date formats of the three systems and working-time arithmetic (Mon-Fri, 07:30-17:00)."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

ONESTOP_FMT = "%Y%m%d%H%M%S"
VN_OFFSET = timezone(timedelta(hours=7))
DAY_START = 7 * 3600 + 30 * 60   # 07:30
DAY_END = 17 * 3600              # 17:00


def fmt_onestop(value: datetime | None) -> str | None:
    if value is None:
        return None
    return f"{value.year:04d}{value:%m%d%H%M%S}"


def parse_onestop(text: str) -> datetime:
    """yyyyMMddHHmmss (also accepts yyyyMMdd) -> naive local datetime; ValueError otherwise."""
    if not isinstance(text, str) or not text.isdigit() or len(text) not in (8, 14):
        raise ValueError(f"expected yyyyMMddHHmmss, got {text!r}")
    return datetime.strptime(text, ONESTOP_FMT if len(text) == 14 else "%Y%m%d")


def fmt_iso(value: datetime | None) -> str | None:
    """Naive local time -> ISO 8601 with the +07:00 offset (NDXP)."""
    return None if value is None else value.replace(tzinfo=VN_OFFSET).isoformat()


def fmt_vnpost(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%d/%m/%Y %H:%M:%S")


def is_workday(d: date) -> bool:
    return d.weekday() < 5


def next_workday(d: date) -> date:
    d += timedelta(days=1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def add_workdays(dt: datetime, n: int) -> datetime:
    """n working days (Mon-Fri) after dt, same time of day. Public holidays are not modelled."""
    d = dt.date()
    for _ in range(n):
        d = next_workday(d)
    return datetime.combine(d, dt.time())


def workdays_between(a: date, b: date) -> int:
    """Working days in (a, b]."""
    n, d = 0, a
    while d < b:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n += 1
    return n


def at_seconds(d: date, seconds: int) -> datetime:
    return datetime.combine(d, time()) + timedelta(seconds=seconds)


def work_time_on(d: date, rng: random.Random) -> datetime:
    """A time in office hours on day d (morning busier than afternoon, lunch quieter)."""
    if rng.random() < 0.58:
        s = rng.randint(DAY_START, 11 * 3600 + 30 * 60)
    elif rng.random() < 0.1:
        s = rng.randint(11 * 3600 + 30 * 60, 13 * 3600 + 30 * 60)
    else:
        s = rng.randint(13 * 3600 + 30 * 60, DAY_END - 1)
    return at_seconds(d, s)


def work_after(dt: datetime, rng: random.Random, wdays: int) -> datetime:
    """A working-hours time strictly after dt, `wdays` working days later (0 = later the same
    working day when there is time left, else the next working day)."""
    d = dt.date()
    if wdays <= 0:
        secs = dt.hour * 3600 + dt.minute * 60 + dt.second
        if is_workday(d) and secs < DAY_END - 600:
            lo = max(secs + 60, DAY_START)
            hi = min(lo + 4 * 3600, DAY_END - 1)
            return at_seconds(d, rng.randint(lo, hi))
        wdays = 1
    for _ in range(wdays):
        d = next_workday(d)
    return work_time_on(d, rng)


def work_between(a: datetime, b: datetime, rng: random.Random) -> datetime | None:
    """A working-hours time in (a, b], or None when there is none."""
    days = []
    d = a.date()
    while d <= b.date():
        if is_workday(d):
            days.append(d)
        d += timedelta(days=1)
    rng.shuffle(days)
    for d in days[:4]:
        lo = at_seconds(d, DAY_START)
        hi = at_seconds(d, DAY_END - 1)
        if d == a.date():
            lo = max(lo, a + timedelta(seconds=60))
        if d == b.date():
            hi = min(hi, b)
        if lo < hi:
            return lo + timedelta(seconds=rng.randint(0, int((hi - lo).total_seconds())))
    return None
