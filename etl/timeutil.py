"""Local days and the source systems' date formats. All warehouse times are
Asia/Ho_Chi_Minh local time without offset (the one-stop system's own convention)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ONESTOP_FORMAT = "%Y%m%d%H%M%S"


@dataclass(frozen=True)
class Window:
    """A half-open interval [start, end) of local time."""
    start: datetime
    end: datetime

    @classmethod
    def for_day(cls, day: date) -> Window:
        start = datetime.combine(day, time())
        return cls(start, start + timedelta(days=1))

    def __str__(self) -> str:
        return f"[{self.start:%Y-%m-%d %H:%M}, {self.end:%Y-%m-%d %H:%M})"

    def split(self, days: int) -> Iterator[Window]:
        """Consecutive windows of at most `days` days covering this one: the clients ask a source
        for a few days at a time, so a catch-up over months costs it no more per call than a night."""
        start = self.start
        while start < self.end:
            end = min(self.end, start + timedelta(days=days))
            yield Window(start, end)
            start = end


def local_now() -> datetime:
    """Now as naive Asia/Ho_Chi_Minh time, whatever the worker's clock zone: ops tables keep local time
    like every other warehouse time."""
    return datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)


def to_local_naive(value: datetime) -> datetime:
    """An aware datetime (Airflow's data interval is UTC) as naive local time."""
    if value.tzinfo is None:
        return value
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def format_onestop(value: datetime) -> str:
    return value.strftime(ONESTOP_FORMAT)


def parse_onestop(series: pd.Series) -> pd.Series:
    """yyyyMMddHHmmss strings to timestamps; anything else (impossible dates too) to NaT."""
    return pd.to_datetime(series.astype("string"), format=ONESTOP_FORMAT, errors="coerce")


def period_starts(day: date) -> dict[str, date]:
    """The first day of each reporting period that ends on `day`."""
    return {
        "day": day,
        "mtd": day.replace(day=1),
        "qtd": date(day.year, 3 * ((day.month - 1) // 3) + 1, 1),
        "ytd": date(day.year, 1, 1),
    }


def days(start: date, end: date) -> list[date]:
    """Every day from start to end, both included."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
