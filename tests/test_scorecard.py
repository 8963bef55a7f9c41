"""mart.agency_score and mart.agency_score_part (sql/migrations/0030_agency_score.sql): scores worked
out by hand for two agencies and the province from snapshot rows written directly, on DuckDB and
PostgreSQL; the criteria table adds up to the portal's 100 points; every published snapshot row
gets its score."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from etl import indicators
from tests.fixtures.all_indicators import load_fixture

D = date(2022, 6, 30)
ROOT, DEPT, DIST = "P00", "D01", "H01"

# (numerator, denominator) per indicator; indicators not listed are 0 / 0.
FIGURES = {
    # DEPT: online_payment_dossier_rate has no fee-bearing dossier (0 / 0): left out of the maximum.
    #   sync 0.9 x 14 = 12.6 | on time 0.95 x 20 = 19 | full-online 0.8 x 4 = 3.2
    #   uptake 0.75 < 0.8: 0.75 x 4 / 0.8 = 3.75 | online dossiers 0.6 >= 0.5: 4
    #   digitized dossiers 0.5 x 8 = 4 | digitized results 0.7 x 8 = 5.6 | paid procedures 0.5 x 5 = 2.5
    #   points 54.65 of 72 - 5 = 67: score 100 x 54.65 / 67 = 81.567...
    DEPT: {"national_portal_sync_rate": (90, 100), "on_time_rate": (95, 100), "full_online_service_rate": (8, 10),
           "service_online_uptake_rate": (6, 8), "online_dossier_rate": (60, 100),
           "digitized_dossier_rate": (50, 100), "digitized_result_rate": (70, 100),
           "fee_online_paid_procedure_rate": (2, 4), "bcci_receive_rate": (3, 100)},
    # DIST: every computable criterion has a value.
    #   sync 14 | on time 0.75 x 20 = 15 | full-online 4 | uptake exactly 0.8: 4
    #   online dossiers 0.25 < 0.5: 0.25 x 4 / 0.5 = 2 | digitized dossiers 8 | digitized results 0.5 x 8 = 4
    #   paid procedures 5 | paid dossiers 0.3 x 5 = 1.5 | points 57.5 of 72: score 79.861...
    DIST: {"national_portal_sync_rate": (100, 100), "on_time_rate": (30, 40), "full_online_service_rate": (5, 5),
           "service_online_uptake_rate": (4, 5), "online_dossier_rate": (10, 40),
           "digitized_dossier_rate": (40, 40), "digitized_result_rate": (20, 40),
           "fee_online_paid_procedure_rate": (3, 3), "online_payment_dossier_rate": (9, 30)},
    # The province: only on-time figures: 125 / 140 x 20 = 17.857 of 20.
    ROOT: {"on_time_rate": (125, 140)},
}


def write_snapshot(conn, figures: dict, day: date = D, period: str = "ytd") -> None:
    conn.execute(sa.text(
        "INSERT INTO core.agency (agency_code, name, level, parent_code, valid_from) VALUES "
        "(:r, 'UBND tỉnh', 1, NULL, '2020-01-01'), (:d, 'Sở Tư pháp', 1, :r, '2020-01-01'), "
        "(:h, 'UBND huyện Bát Xát', 2, :r, '2020-01-01')"), {"r": ROOT, "d": DEPT, "h": DIST})
    codes = conn.exec_driver_sql("SELECT indicator_code FROM mart.indicator").scalars().all()
    for agency, own in figures.items():
        for code in codes:
            num, den = own.get(code, (0, 0))
            conn.execute(sa.text(
                "INSERT INTO mart.indicator_snapshot (snapshot_date, period, agency_code, indicator_code, numerator, "
                "denominator, value) VALUES (:s, :p, :a, :i, :n, :d, :v)"),
                {"s": day, "p": period, "a": agency, "i": code, "n": num, "d": den, "v": num / den if den else None})


def test_scores_worked_out_by_hand(warehouse):
    with warehouse.begin() as conn:
        write_snapshot(conn, FIGURES)
        rows = {r.agency_code: r for r in conn.exec_driver_sql(
            "SELECT * FROM mart.agency_score WHERE snapshot_date = '2022-06-30' AND period = 'ytd'").all()}
    assert set(rows) == {ROOT, DEPT, DIST}
    dept, dist, root = rows[DEPT], rows[DIST], rows[ROOT]
    assert (dept.points, dept.points_max, dept.score) == (54.65, 67, 81.57)
    assert (dept.points_not_computable, dept.points_no_data, dept.criteria_scored) == (28, 5, 8)
    assert (dept.transparency_points, dept.progress_points, dept.online_service_points,
            dept.digitization_points, dept.online_payment_points) == (12.6, 19, 10.95, 9.6, 2.5)
    assert dept.agency_name == "Sở Tư pháp" and dept.level_label == "sở-ngành" and dept.peer_group == "department"
    assert (dist.points, dist.points_max, dist.score, dist.points_no_data) == (57.5, 72, 79.86, 0)
    assert dist.online_service_points == 10 and dist.online_payment_points == 6.5
    assert (root.points, root.points_max, root.score) == (17.86, 20, 89.29)
    assert root.level_label == "tỉnh" and root.transparency_points is None


def test_parts_one_row_per_criterion_with_the_reason_for_none(warehouse):
    with warehouse.begin() as conn:
        write_snapshot(conn, FIGURES)
        parts = {r.criterion_code: r for r in conn.exec_driver_sql(
            "SELECT * FROM mart.agency_score_part WHERE agency_code = 'D01' ORDER BY criterion_order").all()}
        per_key = conn.exec_driver_sql(
            "SELECT count(*) FROM mart.agency_score_part GROUP BY snapshot_date, period, agency_code").scalars().all()
    assert per_key == [12, 12, 12]
    assert parts["services_with_online_dossiers"].points == pytest.approx(3.75)
    assert parts["services_with_online_dossiers"].threshold == 0.8
    assert (parts["online_dossiers"].value, parts["online_dossiers"].points) == (0.6, 4)
    assert parts["paid_online_dossiers"].points is None
    assert parts["paid_online_dossiers"].status_vi == "không có số liệu (mẫu số 0)"
    assert parts["satisfaction"].indicator_code is None and parts["satisfaction"].points is None
    assert parts["satisfaction"].status_vi == "không tính được từ nguồn dữ liệu"
    assert parts["satisfaction"].group_max == 18 and parts["satisfaction"].group_name_vi == "Mức độ hài lòng"
    assert parts["on_time"].status_vi == "đã chấm" and parts["on_time"].points == pytest.approx(19)


def test_criteria_add_up_to_the_portal_scale(warehouse):
    with warehouse.begin() as conn:
        groups = conn.exec_driver_sql(
            "SELECT group_code, MIN(group_max), SUM(max_points), SUM(CASE WHEN indicator_code IS NULL "
            "THEN max_points ELSE 0 END) FROM mart.score_criterion GROUP BY group_code").all()
        unknown = conn.exec_driver_sql(
            "SELECT c.indicator_code FROM mart.score_criterion c LEFT JOIN mart.indicator i "
            "ON i.indicator_code = c.indicator_code WHERE c.indicator_code IS NOT NULL "
            "AND i.indicator_code IS NULL").all()
    by_group = {g: (mx, total, missing) for g, mx, total, missing in groups}
    assert by_group == {"transparency": (18, 18, 4), "progress": (20, 20, 0), "online_service": (12, 12, 0),
                        "digitization": (22, 22, 6), "satisfaction": (18, 18, 18), "online_payment": (10, 10, 0)}
    assert unknown == []


def test_every_published_snapshot_gets_a_score(warehouse):
    load_fixture(warehouse)
    indicators.publish_range(warehouse, date(2022, 5, 15), date(2022, 5, 16), "lao_cai")
    with warehouse.begin() as conn:
        keys = conn.exec_driver_sql(
            "SELECT count(*) FROM (SELECT DISTINCT snapshot_date, period, agency_code "
            "FROM mart.indicator_snapshot) k").scalar()
        scores = conn.exec_driver_sql(
            "SELECT count(*), min(score), max(score), count(score) FROM mart.agency_score").one()
        parts = conn.exec_driver_sql("SELECT count(*) FROM mart.agency_score_part").scalar()
    assert keys > 0 and scores[0] == keys and parts == 12 * keys
    assert 0 <= scores[1] <= scores[2] <= 100 and scores[3] > 0
