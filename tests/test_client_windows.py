"""Long windows are asked for a few days at a time (a catch-up over months must cost a source no
more per call than a night), and give exactly the records of the same days asked one by one."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from etl import config
from etl.sources.http import DAYS_PER_REQUEST
from etl.sources.ndxp import NdxpClient
from etl.sources.onestop import OneStopClient
from etl.sources.vnpost import VnpostClient
from etl.timeutil import Window

FIRST, DAYS = date(2022, 1, 3), 17


def test_a_window_splits_into_consecutive_parts_of_at_most_n_days():
    window = Window(datetime(2022, 1, 1), datetime(2022, 1, 20))
    parts = list(window.split(7))
    assert [(p.start.day, p.end.day) for p in parts] == [(1, 8), (8, 15), (15, 20)]
    assert list(Window.for_day(FIRST).split(7)) == [Window.for_day(FIRST)]


def records(pages, key: str) -> list[str]:
    return sorted(str(sorted(r.items())) for page in pages for r in page if r.get(key))


def test_long_windows_give_the_records_of_their_days(simulator):
    assert DAYS > 2 * DAYS_PER_REQUEST
    s = config.SourceSettings.from_env()
    onestop = OneStopClient(simulator, s.onestop_api_key)
    ndxp = NdxpClient(simulator, s.ndxp_client_id, s.ndxp_client_secret)
    vnpost = VnpostClient(simulator, s.vnpost_username, s.vnpost_password)
    long = Window(datetime.combine(FIRST, datetime.min.time()),
                  datetime.combine(FIRST + timedelta(days=DAYS), datetime.min.time()))
    for pages_of, key in [(onestop.dossier_pages, "MaHoSo"), (ndxp.sync_receipt_pages, "maHoSo"),
                          (ndxp.paygov_pages, "maGiaoDich"), (vnpost.order_pages, "ItemCode")]:
        whole = records(pages_of(long), key)
        by_day = records((page for i in range(DAYS) for page in pages_of(Window.for_day(FIRST + timedelta(days=i)))),
                         key)
        assert whole, f"{pages_of.__name__}: no records to compare"
        assert whole == by_day, pages_of.__name__
