"""mart.target_trajectory (sql/migrations/0031_target_trajectory.sql): the road to each year target,
worked out by hand from ytd snapshot rows written directly, on DuckDB and PostgreSQL: a dossier
indicator behind its pace, a strict target, a leap year, a zero denominator, no target, the year's
last days, a target already secured, and a service indicator."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

ROOT, DEPT, DIST = "P00", "D01", "H01"

# (snapshot date, agency, indicator, numerator, denominator, target)
ROWS = [
    # 2022-03-31 is day 90 of 365: expected round(150 x 365 / 90 = 608.33) = 608, 458 still to come;
    # ceil(0.65 x 608 = 395.2) = 396 needed by year-end, 351 more: 351 / 458 = 76.6 % from now on
    (date(2022, 3, 31), DEPT, "online_dossier_rate", 45, 150, 0.65),
    # strict "> 5 %" on day 73: expected 100 x 365 / 73 = 500; 0.05 x 500 = 25 is not enough: 26,
    # 16 more of 400: 4 %, below the 10 % so far: on track
    (date(2022, 3, 14), DEPT, "bcci_receive_rate", 10, 100, 0.05),
    # 2024 is a leap year: 2024-02-29 is day 60 of 366: expected 60 x 366 / 60 = 366 (365 in 2023);
    # ceil(0.5 x 366) = 183, 153 more of 306: exactly the 50 % so far
    (date(2024, 2, 29), DIST, "online_dossier_rate", 30, 60, 0.5),
    # no dossier yet: nothing to project
    (date(2022, 3, 31), ROOT, "online_dossier_rate", 0, 0, 0.65),
    # no target: not in the view
    (date(2022, 3, 31), DIST, "digitized_dossier_rate", 5, 10, None),
    # day 364: expected round(100 x 365 / 364) = 100, none still to come: 20 short, out of reach
    (date(2022, 12, 30), DIST, "on_time_rate", 80, 100, 1.0),
    # day 181: expected round(100 x 365 / 181 = 201.66) = 202, ceil(0.3 x 202 = 60.6) = 61 <= 80: secured
    (date(2022, 6, 30), DIST, "online_payment_dossier_rate", 80, 100, 0.3),
    # services: the year-end count is today's; 2 of the 2 services not yet full-online must become so
    (date(2022, 3, 31), DEPT, "full_online_service_rate", 8, 10, 1.0),
]


@pytest.fixture
def trajectory(warehouse):
    with warehouse.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO core.agency (agency_code, name, level, parent_code, valid_from) VALUES "
            "(:r, 'UBND tỉnh', 1, NULL, '2020-01-01'), (:d, 'Sở Tư pháp', 1, :r, '2020-01-01'), "
            "(:h, 'UBND huyện Bát Xát', 2, :r, '2020-01-01')"), {"r": ROOT, "d": DEPT, "h": DIST})
        conn.exec_driver_sql(
            "INSERT INTO core.target (province, year, indicator_code, scope, agency_code, target, strict, source) "
            "VALUES ('lao_cai', 2022, 'bcci_receive_rate', 'all', NULL, 0.05, TRUE, 'plan III.4'), "
            "('lao_cai', 2022, 'online_dossier_rate', 'all', NULL, 0.65, FALSE, 'plan II.3')")
        for day, agency, code, num, den, target in ROWS:
            for period in ("ytd", "qtd"):  # only ytd rows count
                conn.execute(sa.text(
                    "INSERT INTO mart.indicator_snapshot (snapshot_date, period, agency_code, indicator_code, "
                    "numerator, denominator, value, target) VALUES (:s, :p, :a, :i, :n, :d, :v, :t)"),
                    {"s": day, "p": period, "a": agency, "i": code, "n": num, "d": den,
                     "v": num / den if den else None, "t": target})
        rows = conn.exec_driver_sql("SELECT * FROM mart.target_trajectory").all()
    return {(r.snapshot_date, r.agency_code, r.indicator_code): r for r in rows}


def test_behind_its_pace(trajectory):
    r = trajectory[(date(2022, 3, 31), DEPT, "online_dossier_rate")]
    assert (r.days_elapsed, r.days_in_year, r.expected_denominator, r.remaining) == (90, 365, 608, 458)
    assert (r.required_numerator, r.needed_numerator, r.strict) == (396, 351, False)
    assert r.needed_rate == pytest.approx(351 / 458) and r.needed_rate_pct == 76.64
    assert (r.reachable, r.on_track, r.status_vi) == (True, False, "cần tăng tốc")
    assert (r.value_pct, r.target_pct, r.projection, r.agency_name) == (30.0, 65.0, "pace", "Sở Tư pháp")
    assert r.explanation_vi == ("Dự kiến đến 31/12 có khoảng 608 hồ sơ; cần ít nhất 396 đạt: thêm 351 trong "
                                "khoảng 458 hồ sơ từ nay (76.6 %), so với 30.0 % đến nay")


def test_strict_target_needs_one_more(trajectory):
    r = trajectory[(date(2022, 3, 14), DEPT, "bcci_receive_rate")]
    assert (r.strict, r.expected_denominator, r.required_numerator, r.needed_numerator) == (True, 500, 26, 16)
    assert r.needed_rate == pytest.approx(16 / 400)
    assert (r.reachable, r.on_track, r.status_vi) == (True, True, "đúng tiến độ")


def test_leap_year(trajectory):
    r = trajectory[(date(2024, 2, 29), DIST, "online_dossier_rate")]
    assert (r.days_elapsed, r.days_in_year, r.expected_denominator, r.remaining) == (60, 366, 366, 306)
    assert (r.required_numerator, r.needed_numerator, r.needed_rate) == (183, 153, 0.5)
    assert (r.on_track, r.status_vi) == (True, "đúng tiến độ")


def test_zero_denominator_and_no_target(trajectory):
    r = trajectory[(date(2022, 3, 31), ROOT, "online_dossier_rate")]
    assert (r.expected_denominator, r.needed_rate, r.reachable, r.on_track) == (None, None, None, None)
    assert r.status_vi == "chưa có số liệu" and r.explanation_vi is None
    assert (date(2022, 3, 31), DIST, "digitized_dossier_rate") not in trajectory
    assert len(trajectory) == len(ROWS) - 1  # ytd only, every row with a target


def test_out_of_reach_and_secured(trajectory):
    late = trajectory[(date(2022, 12, 30), DIST, "on_time_rate")]
    assert (late.days_elapsed, late.expected_denominator, late.remaining, late.needed_numerator) == (364, 100, 0, 20)
    assert (late.needed_rate, late.reachable, late.on_track, late.status_vi) == (None, False, False, "không thể đạt")
    safe = trajectory[(date(2022, 6, 30), DIST, "online_payment_dossier_rate")]
    assert (safe.expected_denominator, safe.required_numerator, safe.needed_numerator) == (202, 61, 0)
    assert (safe.needed_rate, safe.reachable, safe.on_track, safe.status_vi) == (0, True, True, "đã chắc chắn đạt")


def test_services_count_what_there_is(trajectory):
    r = trajectory[(date(2022, 3, 31), DEPT, "full_online_service_rate")]
    assert (r.projection, r.unit_vi, r.expected_denominator, r.remaining) == ("stock", "dịch vụ", 10, 2)
    assert (r.required_numerator, r.needed_numerator, r.needed_rate) == (10, 2, 1.0)
    assert (r.reachable, r.on_track, r.status_vi) == (True, False, "cần bổ sung")
    assert r.explanation_vi == "Hiện có 10 dịch vụ, 8 đạt; cần ít nhất 10 đạt: thêm 2 dịch vụ"
