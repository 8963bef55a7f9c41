"""python -m etl report: the Excel workbook read back with openpyxl (DuckDB and PostgreSQL), and the
HTML dashboard rendered in headless Chromium (its DOM asserted, a screenshot kept under
var/test-artifacts/); the nightly flow's reports (write_reports_for, the DAG's task) and the DuckDB
read-only copy of mart that BI tools open while the pipeline holds the warehouse."""
from __future__ import annotations

import csv
import re
import subprocess
import sys
from datetime import date, timedelta

import openpyxl
import pandas as pd
import pytest

from etl import config, indicators
from etl.pipeline import Resources
from etl.reports import bi, drilldown, report_paths, workbook, write_reports, write_reports_for
from tests.fixtures.all_indicators import DEPT, DIST, ROOT as ROOT_AGENCY, load_fixture
from tests.fixtures.environment import ROOT
from tests.fixtures.listing_csv import python_csv

START, END = date(2022, 4, 25), date(2022, 5, 16)
DECISION_ORDER = [
    "Sở Thông tin và Truyền thông", "Sở Kế hoạch và Đầu tư", "Sở Tài chính", "Ban Dân tộc", "Ban Quản lý khu Kinh tế",
    "Sở Công Thương", "Sở Du lịch", "Sở Giáo dục và Đào tạo", "Sở Lao động –TB&XH", "Sở Nông nghiệp và PTNT",
    "Sở Ngoại vụ", "Sở Văn hoá và Thể thao", "Sở Y tế", "Sở Nội vụ", "Sở Tài nguyên và Môi trường",
    "Sở Giao thông Vận tải - XD", "Sở Tư pháp", "Sở Khoa học và Công nghệ", "UBND huyện Bảo Thắng",
    "UBND huyện Bảo Yên", "UBND huyện Bát Xát", "UBND huyện Bắc Hà", "UBND huyện Mường Khương",
    "UBND huyện Si Ma Cai", "UBND huyện Văn Bàn", "UBND thành phố Lào Cai", "UBND thị xã Sa Pa"]


@pytest.fixture
def published(warehouse):
    load_fixture(warehouse)
    indicators.publish_range(warehouse, START, END, "lao_cai")
    return warehouse


def _rows(wh, sql: str) -> list:
    with wh.begin() as conn:
        return conn.exec_driver_sql(sql).all()


def _snapshot(wh, agency: str, indicator: str, period: str = "ytd"):
    with wh.begin() as conn:
        return conn.exec_driver_sql(
            f"SELECT value, target, numerator, denominator FROM mart.indicator_snapshot WHERE snapshot_date = "
            f"'{END}' AND period = '{period}' AND agency_code = '{agency}' AND indicator_code = '{indicator}'").one()


def test_workbook_sheets_decision_table_and_values(published, tmp_path):
    [path] = write_reports(published, END, "lao_cai", tmp_path, formats=("xlsx",))
    assert path == report_paths(tmp_path, END, "ytd")["xlsx"]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [workbook.SHEET_DECISION, workbook.SHEET_OUTLINE, workbook.SHEET_ELIGIBLE,
                             workbook.SHEET_ONLINE_ONLY, workbook.SHEET_POSTAL, "Trong ngày", "Lũy kế tháng",
                             "Lũy kế quý", "Lũy kế năm", workbook.SHEET_TREND, workbook.SHEET_SCORE,
                             workbook.SHEET_TRAJECTORY, workbook.SHEET_NOTES]

    ws = wb[workbook.SHEET_DECISION]
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.freeze_panes == "C5" and ws.print_title_rows == "$1:$4"
    assert [ws.cell(3, c).value for c in (3, 6, 9, 12)] == [
        "Tỷ lệ DVCTT toàn trình", "Tỷ lệ DVCTT có phát sinh hồ sơ trực tuyến", "Tỷ lệ hồ sơ trực tuyến toàn trình",
        "Tỷ lệ hồ sơ thanh toán trực tuyến"]
    rows = {ws.cell(r, 2).value: r for r in range(5, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int)}
    assert list(rows) == DECISION_ORDER
    assert [ws.cell(r, 1).value for r in rows.values()] == list(range(1, 28))
    groups = [ws.cell(r, 2).value for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value is None
              and str(ws.cell(r, 2).value or "").startswith("I")]
    assert groups == ["I. Các sở, ban, ngành", "II. UBND các huyện, thị xã, thành phố"]
    assert rows["Sở Thông tin và Truyền thông"] < rows["UBND huyện Bảo Thắng"]
    # Sở Ngoại vụ (the fixture's department), online dossiers of full-online services: 3/4 against 100 %
    r = rows["Sở Ngoại vụ"]
    expected = _snapshot(published, DEPT, "online_dossier_full_online_rate")
    assert (ws.cell(r, 9).value, ws.cell(r, 10).value, ws.cell(r, 11).value) == (1.0, expected.value, "Không đạt")
    assert expected.value == pytest.approx(0.75) and ws.cell(r, 10).number_format == "0.0%"
    assert (ws.cell(r, 12).value, ws.cell(r, 14).value) == ("Không có phí", "–")
    district = _snapshot(published, DIST, "online_dossier_full_online_rate")
    assert ws.cell(rows["UBND huyện Bảo Thắng"], 10).value == pytest.approx(district.value)
    assert ws.cell(rows["Sở Y tế"], 10).value is None  # no such agency in the fixture

    ws = wb[workbook.SHEET_OUTLINE]
    names = [ws.cell(r, 2).value for r in range(5, ws.max_row + 1)]
    province = _snapshot(published, ROOT_AGENCY, "service_online_uptake_rate")
    r = 5 + names.index("UBND tỉnh Lào Cai")
    assert (ws.cell(r, 6).value, ws.cell(r, 7).value) == (province.numerator, province.denominator)
    assert ws.cell(r, 8).value == pytest.approx(province.value)

    ws = wb["Lũy kế năm"]
    frame = pd.DataFrame(ws.iter_rows(min_row=3, values_only=True))
    frame.columns = frame.iloc[0]
    frame = frame.iloc[1:]
    assert len(frame) == 5 * 18  # agencies valid on END x indicators
    dept = frame[(frame["Cơ quan, đơn vị"] == "Sở Ngoại vụ") & (frame["Chỉ số"] == "Tỷ lệ hồ sơ trực tuyến toàn trình")]
    assert dept["Chênh lệch"].iloc[0] == pytest.approx(-0.25) and dept["Đánh giá"].iloc[0] == "Không đạt"
    assert frame["Loại đơn vị"].iloc[0] == "tỉnh"

    ws = wb[workbook.SHEET_TREND]
    assert [ws.cell(3, c).value for c in range(4, 10)] == ["Tháng 1", "Tháng 2", "Tháng 3", "Tháng 4", "Tháng 5",
                                                          "Lũy kế năm"]
    ontime = next(r for r in range(4, ws.max_row + 1)
                  if ws.cell(r, 2).value == "Tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn")
    assert ws.cell(ontime, 8).value == pytest.approx(_snapshot(published, ROOT_AGENCY, "on_time_rate", "mtd").value)

    postal = {(r[1], r[2]): r[4:] for r in wb[workbook.SHEET_POSTAL].iter_rows(min_row=4, values_only=True)}
    assert postal[("Sở Ngoại vụ", "1.000002")][1:] == (1, 1)  # a4: filed by post, result by post
    online_only = {(r[1], r[2]) for r in wb[workbook.SHEET_ONLINE_ONLY].iter_rows(min_row=4, values_only=True)}
    assert ("Sở Ngoại vụ", "1.000001") not in online_only  # a2 came to the counter

    eligible = list(wb[workbook.SHEET_ELIGIBLE].iter_rows(min_row=4, values_only=True))
    # on 05-16: P1 full-online at DEPT, COMM
    assert [(r[1], r[4], r[5]) for r in eligible] == [("1.000001", 4, 2), ("1.000002", 3, 2)]


def test_workbook_score_and_trajectory_sheets(published, tmp_path):
    [path] = write_reports(published, END, "lao_cai", tmp_path, formats=("xlsx",))
    wb = openpyxl.load_workbook(path)

    ws = wb[workbook.SHEET_SCORE]
    assert ws.page_setup.orientation == "landscape" and ws.freeze_panes == "C4"
    head = [ws.cell(3, c).value for c in range(1, ws.max_column + 1)]
    assert head[:5] == ["Xếp hạng", "Cơ quan, đơn vị, địa phương", "Điểm (0-100)", "Điểm đạt", "Tối đa tính được"]
    assert head[5:] == ["Công khai, minh bạch (tối đa 18)", "Tiến độ giải quyết (tối đa 20)",
                        "Dịch vụ công trực tuyến (tối đa 12)", "Số hóa hồ sơ (tối đa 22)",
                        "Mức độ hài lòng (tối đa 18)", "Thanh toán trực tuyến (tối đa 10)"]
    lines = [[ws.cell(r, c).value for c in range(1, 12)] for r in range(4, ws.max_row + 1)]
    assert lines[0][1] == "UBND tỉnh Lào Cai" and lines[0][0] is None  # the province first, unranked
    assert [line[1] for line in lines if line[0] is None and str(line[1] or "").startswith("I")] == [
        "I. Các sở, ban, ngành", "II. UBND các huyện, thị xã, thành phố", "III. UBND các xã, phường, thị trấn"]
    scored = {line[1]: line for line in lines if isinstance(line[2], float)}
    expected = {name: (score, points, top, transparency, progress, online, digitization, payment)
                for name, score, points, top, transparency, progress, online, digitization, payment in _rows(
                    published, f"SELECT agency_name, score, points, points_max, transparency_points, progress_points, "
                    f"online_service_points, digitization_points, online_payment_points FROM mart.agency_score "
                    f"WHERE snapshot_date = '{END}' AND period = 'ytd'")}
    assert set(scored) == set(expected) and len(expected) == 5
    for name, line in scored.items():
        assert tuple(line[2:9]) + (line[10],) == pytest.approx(expected[name]), name
        assert line[9] == "Không tính được"  # satisfaction: not in our sources
    assert scored["Sở Ngoại vụ"][2] == pytest.approx(56.18)  # by hand: 40.45 of the 72 points computable
    communes = [line for line in lines if line[1] in ("UBND xã Phong Niên", "UBND xã Xuân Quang mới")]
    assert [(line[0], line[1]) for line in communes] == [(1, "UBND xã Xuân Quang mới"), (2, "UBND xã Phong Niên")]
    assert communes[0][2] > communes[1][2]  # ranked by score among peers

    ws = wb[workbook.SHEET_TRAJECTORY]
    frame = pd.DataFrame(ws.iter_rows(min_row=3, values_only=True))
    frame.columns = frame.iloc[0]
    frame = frame.iloc[1:]
    view = _rows(published, f"SELECT agency_name, indicator_name_vi, value, target, needed_rate, status_vi, "
                            f"explanation_vi FROM mart.target_trajectory WHERE snapshot_date = '{END}'")
    assert len(frame) == len(view) == 66
    assert frame["Cơ quan, đơn vị"].iloc[0] == "UBND tỉnh Lào Cai"
    row = frame[(frame["Cơ quan, đơn vị"] == "UBND huyện Bảo Thắng") & (frame["Chỉ số"] == "Tỷ lệ hồ sơ được số hóa")]
    assert row["Đánh giá"].iloc[0] == "không thể đạt" and row["Cần đạt từ nay"].iloc[0] == pytest.approx(29 / 24)
    assert row["Giải thích"].iloc[0] == (
        "Dự kiến đến 31/12 có khoảng 38 hồ sơ; cần ít nhất 38 đạt: thêm 29 trong khoảng 24 hồ sơ từ nay (120.8 %), "
        "so với 64.3 % đến nay")
    by_key = {(r[0], r[1]): r for r in view}
    for r in frame.itertuples(index=False):
        _agency, _indicator, value, target, needed, status, explanation = by_key[(r[0], r[2])]
        assert (r[6], r[7]) == (status, explanation)
        assert (r[3], r[4], r[5]) == pytest.approx((value, target, needed))


def test_report_command_writes_both_files(published, tmp_path, capsys):
    from etl.cli import main

    assert main(["--warehouse-url", published.url, "report", "--date", str(END), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    copy = [bi.mart_snapshot_path(published)] if published.dialect == "duckdb" else []  # refreshed too
    assert printed == [str(p) for p in [*report_paths(tmp_path, END, "ytd").values(), *copy]]
    assert main(["--warehouse-url", published.url, "report", "--date", "2022-04-01", "--out", str(tmp_path)]) == 1
    assert "no snapshot for 2022-04-01" in capsys.readouterr().err


def test_dashboard_renders_offline_in_chromium(published, tmp_path, chromium):
    browser = chromium
    path, folder = write_reports(published, END, "lao_cai", tmp_path, formats=("html",))
    assert folder == report_paths(tmp_path, END, "ytd")["csv"]
    html = path.read_text(encoding="utf-8")
    # self-contained: no script, no external resource of any kind
    assert not re.search(r"https?://|<script|<link|src=|@import|url\(", html)
    artifacts = ROOT / "var" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(flags + ["--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr
    page = dom.stdout
    assert page.count('class="chart trend"') == 18
    assert page.count('class="value"') >= 17 and page.count('class="target"') >= 10  # lines drawn, target lines
    assert page.count('class="chart heatmap"') == 1 and page.count('class="cell"') == 2 * 18  # DEPT, DIST
    assert "UBND huyện Bảo Thắng" in page and "UBND xã Phong Niên" in page  # drill to the communes
    assert f"id=\"d-{DIST}\"" in page
    for label in ("Diễn biến toàn tỉnh so với chỉ tiêu", "Xếp hạng so với chỉ tiêu", "Bản đồ nhiệt",
                  "Province trend against target", "Điểm đánh giá 0–100", "Lộ trình đạt chỉ tiêu năm",
                  "Hồ sơ sau các chỉ số chưa đạt chỉ tiêu"):
        assert label in page
    # the 0-100 scores: departments and districts apart, a bar an agency; the province's score in words
    assert page.count('class="chart score"') == 2 and page.count('class="bar"') == 2
    [(province_score,)] = _rows(published, f"SELECT score FROM mart.agency_score WHERE snapshot_date = '{END}' "
                                           f"AND period = 'ytd' AND agency_code = '{ROOT_AGENCY}'")
    assert re.search(rf"UBND tỉnh Lào Cai: <b>{province_score:.2f}</b> / 100", page)
    # the road to the target: the province's indicators with a target, then the statuses counted per peer group
    road = _rows(published, f"SELECT peer_group, status_vi, count(*) FROM mart.target_trajectory "
                            f"WHERE snapshot_date = '{END}' GROUP BY peer_group, status_vi")
    province_rows = re.search(r'<table class="trajectory">(.*?)</table>', page, re.DOTALL).group(1)
    assert province_rows.count("<tr>") == 1 + sum(n for group, _s, n in road if group == "province")
    assert "Dự kiến đến 31/12 có khoảng" in province_rows
    summary = re.search(r'<table class="trajectory-summary">(.*?)</table>', page, re.DOTALL).group(1)
    statuses = re.findall(r"<th style=[^>]*>([^<]+)</th>", summary)
    for group in ("department", "district", "commune"):
        cells = re.search(rf'<tr data-group="{group}">(.*?)</tr>', summary, re.DOTALL).group(1)
        counts = [int(n) for n in re.findall(r"<td>(\d+)</td>", cells)]
        assert dict(zip(statuses, counts, strict=True)) == {s: sum(n for g, st, n in road if g == group and st == s)
                                               for s in statuses}, group
    shot = artifacts / "dashboard.png"
    shot.unlink(missing_ok=True)
    done = subprocess.run(flags + ["--window-size=1400,2000", f"--screenshot={shot}", path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.stat().st_size > 20_000, done.stderr[-2000:]


def test_the_dashboard_lists_the_dossiers_behind_the_figures_that_miss_their_target(published, tmp_path):
    out = tmp_path / "reports"
    html_path, folder = write_reports(published, END, "lao_cai", out, formats=("html",))
    page = html_path.read_text(encoding="utf-8")
    with published.begin() as conn:
        snapshot = {(r[0], r[1]): (int(r[2]), int(r[3]), r[4]) for r in conn.exec_driver_sql(
            f"SELECT agency_code, indicator_code, numerator, denominator, meets_target FROM mart.indicator_snapshot "
            f"WHERE snapshot_date = '{END}' AND period = 'ytd' AND agency_code IN ('{DEPT}', '{DIST}')")}
    missed = {k for k, (_n, d, met) in snapshot.items() if met is False and d > 0}
    tables = re.findall(r"<table class='explain' data-agency='([^']+)' data-indicator='([^']+)' data-out='(\d+)'>"
                        r"(.*?)</table>", page, re.DOTALL)
    # the fixture has one department and one district: every figure of theirs that misses its target is listed
    assert {(a, i) for a, i, _o, _t in tables} == missed and len(missed) >= 10
    for agency, indicator, listed_out, table in tables:
        numerator, denominator, _met = snapshot[(agency, indicator)]
        assert int(listed_out) == denominator - numerator  # the items out of the numerator...
        assert table.count("<tr class='item'>") == min(denominator - numerator, drilldown.ROWS_SHOWN)  # ...shown
        # ...and the whole denominator in the CSV the page links to, adding up to the published figure
        name = f"{indicator}__{agency}.csv"
        assert f"href='{folder.name}/{name}'" in page
        with (folder / name).open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == denominator, name
        assert sum(r["Tính vào tử số (in numerator)"] == "có" for r in rows) == numerator, name
    # Sở Ngoại vụ, online dossiers of full-online services 3/4: the one not filed online is a2 (no channel)
    a2 = re.search(rf"data-agency='{DEPT}' data-indicator='online_dossier_full_online_rate'.*?</table>", page,
                   re.DOTALL).group(0)
    assert "<td class='name'>a2</td>" in a2 and "Mã hồ sơ (dossier)" in a2 and "<td class='name'>Sở Ngoại vụ</td>" in a2
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{i}__{a}.csv" for a, i in missed)
    # the next run replaces the folder as a whole
    (folder / "stale.csv").write_text("x")
    write_reports(published, END, "lao_cai", out, formats=("html",))
    assert not (folder / "stale.csv").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted([html_path.name, folder.name])


def test_the_drilldown_csvs_are_written_by_the_database_and_equal_the_listings(published, tmp_path, monkeypatch):
    """The report's listings never pass through Python whole: the database counts each figure's items and
    writes its CSV, and only the items the page shows are read (pieces of 3 rows here: a figure's rows span
    pieces, a piece holds the ends of several figures). Every CSV is byte for byte the listing of
    `python -m etl explain` written in Python."""
    from etl import explain
    from etl.reports import data

    monkeypatch.setattr(explain, "CHUNK", 3)
    monkeypatch.setattr(drilldown, "ROWS_SHOWN", 2)
    out = tmp_path / "reports"
    html_path, folder = write_reports(published, END, "lao_cai", out, formats=("html",))
    figures = drilldown.selected(data.load(published, END, "ytd", "lao_cai"))
    page, sizes = html_path.read_text(encoding="utf-8"), []
    for agency, indicator in figures:
        whole = explain.explain(published, END, "ytd", agency, indicator, "lao_cai")
        assert (folder / f"{indicator}__{agency}.csv").read_bytes() == python_csv(whole).encode("utf-8-sig")
        assert whole.items == len(whole.rows) == whole.denominator and whole.matches
        shown = re.search(rf"data-agency='{agency}' data-indicator='{indicator}' data-out='(\d+)'>(.*?)</table>",
                          page, re.DOTALL)
        assert int(shown.group(1)) == whole.out == whole.denominator - whole.numerator
        assert shown.group(2).count("<tr class='item'>") == min(whole.out, 2)
        assert f"({whole.items} dòng)" in page
        sizes.append(whole.items)
    assert len(figures) >= 10 and max(sizes) > 3 and min(sizes) < 3, sizes
    kept = explain.explain_many(published, END, "ytd", figures, "lao_cai", keep_out=2)
    assert all(len(d.rows) == min(d.out, 2) and all(map(explain.is_out, d.rows)) and d.matches for d in kept)


def _is_locked(path) -> str:
    """What another process is told when it opens a DuckDB file read-only ('' if it could)."""
    code = (f"import duckdb\ntry:\n    duckdb.connect({str(path)!r}, read_only=True).close()\n    print('')\n"
            f"except duckdb.Error as exc:\n    print(exc)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


READER = """import duckdb, sys
db = duckdb.connect(sys.argv[1], read_only=True)
for line in sys.stdin:  # a BI tool: one query per line, the file held open in between
    print(db.execute(line).fetchone()[0], flush=True)
"""


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_bi_tools_read_a_copy_of_mart_while_the_pipeline_holds_the_warehouse(published, tmp_path):
    path = bi.export_mart_snapshot(published)
    assert path == bi.mart_snapshot_path(published) == tmp_path / "bi" / "dvc_mart.duckdb"
    with published.begin() as conn:
        objects = sorted(name for name, _kind in bi.mart_columns(conn))
        counts = {name: conn.exec_driver_sql(f"SELECT count(*) FROM mart.{name}").scalar() for name in objects}
        comments = published.comments(conn, "mart")
        assert "Could not set lock" in _is_locked(tmp_path / "warehouse.duckdb")  # why the copy exists
        assert _is_locked(path) == ""
        reader = subprocess.Popen([sys.executable, "-c", READER, str(path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            for name in objects:  # every table and view, as tables, with every row
                reader.stdin.write(f"SELECT count(*) FROM mart.{name}\n")
                reader.stdin.flush()
                assert int(reader.stdout.readline()) == counts[name], name
            assert counts["indicator_snapshot"] > 0 and counts["agency_score"] > 0 and len(objects) >= 15
            reader.stdin.write("SELECT count(*) FROM duckdb_views() WHERE NOT internal\n")
            reader.stdin.flush()
            assert int(reader.stdout.readline()) == 0
            # the next night's copy replaces it while the reader still has it open
            conn.exec_driver_sql(f"DELETE FROM mart.indicator_snapshot WHERE snapshot_date = '{END}'")
            conn.commit()
            assert bi.export_mart_snapshot(published) == path
            reader.stdin.write("SELECT count(*) FROM mart.indicator_snapshot\n")
            reader.stdin.flush()
            assert int(reader.stdout.readline()) == counts["indicator_snapshot"]  # its own, whole copy
        finally:
            reader.stdin.close()
            reader.wait(timeout=30)
    import duckdb

    with duckdb.connect(str(path), read_only=True) as copy:
        assert copy.execute("SELECT count(*) FROM mart.indicator_snapshot").fetchone()[0] < counts["indicator_snapshot"]
        copied = {(t, c or ""): text for t, c, text in copy.execute(
            "SELECT table_name, NULL, comment FROM duckdb_tables() UNION ALL "
            "SELECT table_name, column_name, comment FROM duckdb_columns()").fetchall() if text}
    assert copied == comments and len(comments) > 200  # what BI tools show as descriptions
    assert sorted(p.name for p in path.parent.iterdir()) == ["dvc_mart.duckdb"]  # no temporary file left


def test_the_nightly_reports_of_a_day_and_of_a_quarter_end(published, tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    indicators.publish_range(published, date(2022, 6, 30), date(2022, 6, 30), "lao_cai")
    res = Resources.from_settings(config.settings(), published.url)
    try:
        day = write_reports_for(res, END)
        quarter_end = write_reports_for(res, date(2022, 6, 30))
    finally:
        res.close()
    copy = [bi.mart_snapshot_path(published)] if published.dialect == "duckdb" else []
    assert day == list(report_paths(tmp_path / "reports", END, "ytd").values()) + copy
    assert quarter_end == [*report_paths(tmp_path / "reports", date(2022, 6, 30), "ytd").values(),
                           *report_paths(tmp_path / "reports", date(2022, 6, 30), "qtd").values()] + copy
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted(
        p.name for p in day[:3] + quarter_end[:6])  # nothing half-written left beside them
    ws = openpyxl.load_workbook(quarter_end[3])[workbook.SHEET_SCORE]
    assert "Từ ngày 01/04/2022 đến ngày 30/06/2022" in ws.cell(2, 1).value  # the quarter's scores


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_the_indicators_dag_writes_the_reports_after_each_day_is_published(published, tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / "dvc_indicators.py"))
    assert bag.import_errors == {}
    dag = bag.dags["dvc_indicators"]
    task = dag.get_task("publish_day.write_reports")
    assert task.upstream_task_ids == {"days_to_publish", "publish_day.publish_indicators"}  # days: its mapped input
    assert not task.downstream_task_ids
    # what the task runs, with the settings a worker has (no Airflow connection here: the environment's)
    monkeypatch.setenv("WAREHOUSE_URL", published.url)
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    assert task.python_callable(str(END)) == [
        str(p) for p in [*report_paths(tmp_path / "reports", END, "ytd").values(), bi.mart_snapshot_path(published)]]


def test_missing_texts_render_empty_not_nan():
    """A trajectory without an explanation (NULL read as NaN) must not break the dashboard."""
    from etl.reports import dashboard

    assert dashboard._text(float("nan")) == dashboard._text(None) == ""
    assert dashboard._text("<Sở>") == "&lt;Sở&gt;"


def test_a_list_with_nothing_to_show_says_so(published, tmp_path, monkeypatch):
    """A list sheet with no rows (e.g. on 1 January) is written by openpyxl alone, with "(Không có)"."""
    every = workbook.online_only_services
    monkeypatch.setattr(workbook, "online_only_services", lambda data: every(data).iloc[0:0])
    [path] = write_reports(published, END, "lao_cai", tmp_path, formats=("xlsx",))
    ws = openpyxl.load_workbook(path)[workbook.SHEET_ONLINE_ONLY]
    assert "(Không có)" in [c.value for row in ws.iter_rows() for c in row]


def test_control_characters_from_a_source_do_not_break_the_workbook():
    import xml.etree.ElementTree as ET

    body = workbook._rows_xml(5, [[("Sở\x01 Tư pháp\x1f", "l"), (3, "c")]], lambda style: 0)
    cells = ET.fromstring(f"<sheetData>{body}</sheetData>").iter("t")
    assert [c.text for c in cells] == ["Sở Tư pháp"]


def _copy_rows(path) -> dict[str, list]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as copy:
        names = [r[0] for r in copy.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'mart' ORDER BY 1").fetchall()]
        return {n: sorted(map(repr, copy.execute(f"SELECT * FROM mart.{n}").fetchall())) for n in names}


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_the_next_bi_copy_rewrites_only_the_dates_republished_and_equals_a_whole_copy(warehouse, tmp_path, caplog):
    from etl import pipeline

    load_fixture(warehouse)
    with Resources.from_settings(config.settings(), warehouse.url) as res:
        pipeline.publish_range(res, [(START, END)], END)   # ops.publication knows every date
        path = bi.export_mart_snapshot(warehouse)
        before = _copy_rows(path)
        # late data restates the last three dates: one dossier more, received on END - 2
        with warehouse.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO core.dossier_history SELECT * REPLACE ('late-1' AS dossier_code, "
                f"TIMESTAMP '{END - timedelta(days=2)} 09:00:00' AS updated_at, "
                f"TIMESTAMP '{END - timedelta(days=2)} 09:00:00' AS received_at) "
                "FROM core.dossier_history WHERE received_at IS NOT NULL AND valid_to IS NULL LIMIT 1")
        pipeline.publish_range(res, [(END - timedelta(days=2), END)], END)
    caplog.set_level("INFO", logger="etl.reports.bi")
    assert bi.export_mart_snapshot(warehouse) == path
    assert f"dates from {END - timedelta(days=2)} refreshed" in caplog.text
    whole = bi.export_mart_snapshot(warehouse, tmp_path / "whole" / "dvc_mart.duckdb")
    incremental = _copy_rows(path)
    assert incremental == _copy_rows(whole)
    changed = {name for name in incremental if incremental[name] != before[name]}
    assert {"indicator_snapshot", "snapshot_detail", "snapshot_revision", "agency_score"} <= changed, changed


def test_every_mart_object_by_snapshot_date_is_copied_by_date_or_whole_on_purpose(duckdb_url):
    """A new view with a snapshot date must be placed: by date (its rows of a date read only that date)
    or whole (it reads the latest date, say)."""
    from etl.warehouse import Warehouse

    wh = Warehouse(duckdb_url)
    wh.migrate()
    with wh.begin() as conn:
        dated = {name for (name, _kind), cols in bi.mart_columns(conn).items() if "snapshot_date" in cols}
    assert dated == set(bi.BY_DATE) | {"below_target", "scorecard_latest"}


def test_a_night_without_dossiers_publishes_and_writes_its_reports(warehouse_url, source_env, tmp_path, monkeypatch):
    """The night before the sources' first dossier, as `python -m etl run` does it: every figure is empty, so
    the drill-down lists nothing; the night publishes and writes its reports like any other."""
    from etl import cli

    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("DATA_DOCS_DIR", str(tmp_path / "docs"))
    day = date(2021, 12, 29)
    assert cli.main(["--warehouse-url", warehouse_url, "run", "--date", str(day)]) == 0
    paths = report_paths(tmp_path / "reports", day, "ytd")
    assert all(p.exists() for p in paths.values()) and not any(paths["csv"].iterdir())
    assert "Hồ sơ chưa đạt" in paths["html"].read_text(encoding="utf-8")


def test_the_nightly_flow_deletes_the_drilldown_folders_older_than_drilldown_keep_days(published, tmp_path,
                                                                                      monkeypatch):
    """Counted back from the night's date, not today's; only the drill-down folders go."""
    out = tmp_path / "reports"
    monkeypatch.setenv("REPORTS_DIR", str(out))
    monkeypatch.setenv("DRILLDOWN_KEEP_DAYS", "2")
    old = [out / "drilldown_dvc_2022-01-01", out / "drilldown_dvc_2022-03-31_qtd",
           out / f"drilldown_dvc_{END - timedelta(days=3)}"]
    kept = [out / f"drilldown_dvc_{END - timedelta(days=2)}", out / "drilldown_dvc_notes"]
    for folder in old + kept:
        folder.mkdir(parents=True)
        (folder / "a.csv").write_text("x")
    (out / "bao_cao_dvc_2022-01-01.xlsx").write_text("x")
    res = Resources.from_settings(config.settings(), published.url)
    try:
        written = write_reports_for(res, END)
    finally:
        res.close()
    assert not any(folder.exists() for folder in old)
    assert all((folder / "a.csv").exists() for folder in kept) and (out / "bao_cao_dvc_2022-01-01.xlsx").exists()
    assert report_paths(out, END, "ytd")["csv"] in written and report_paths(out, END, "ytd")["csv"].is_dir()


def test_a_failed_drilldown_stops_the_reports_with_its_own_error(published, tmp_path):
    """The drill-down runs beside the workbook: its error still reaches the caller, and no dashboard is
    written without it."""
    paths = report_paths(tmp_path, END, "ytd")
    (tmp_path / f".{paths['csv'].name}.tmp").write_text("in the way")  # where the drill-down writes first
    with pytest.raises(FileExistsError, match=paths["csv"].name):
        write_reports(published, END, "lao_cai", tmp_path)
    assert paths["xlsx"].exists() and not paths["html"].exists() and not paths["csv"].exists()


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_a_failed_bi_copy_fails_the_nightly_reports_after_they_are_written(published, tmp_path, monkeypatch):
    """The BI copy runs beside the reports: its error still fails the night (the DAG's task retries)."""
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    copy = bi.mart_snapshot_path(published)
    (copy.parent / f".{copy.name}.tmp").mkdir(parents=True)  # where the copy is written first
    res = Resources.from_settings(config.settings(), published.url)
    try:
        with pytest.raises(IsADirectoryError, match=copy.name):
            write_reports_for(res, END)
    finally:
        res.close()
    assert all(path.exists() for path in report_paths(tmp_path / "reports", END, "ytd").values())
    assert not copy.exists()


@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_when_the_reports_and_the_bi_copy_both_fail_the_reports_error_is_raised_and_the_copys_logged(
        published, tmp_path, monkeypatch, caplog):
    out = tmp_path / "reports"
    monkeypatch.setenv("REPORTS_DIR", str(out))
    out.mkdir()
    (out / f".{report_paths(out, END, 'ytd')['csv'].name}.tmp").write_text("in the way")
    copy = bi.mart_snapshot_path(published)
    (copy.parent / f".{copy.name}.tmp").mkdir(parents=True)
    res = Resources.from_settings(config.settings(), published.url)
    try:
        with pytest.raises(FileExistsError):
            write_reports_for(res, END)
    finally:
        res.close()
    assert any(r.levelname == "ERROR" and "BI copy of mart failed too: IsADirectoryError" in r.getMessage()
               for r in caplog.records)


def test_the_reports_read_query_rows_into_the_frame_pandas_builds_from_rows(warehouse):
    """etl.warehouse.query_frame (plain tuples, for speed) gives the frame pandas gives from the rows
    themselves: the same columns, values, NULLs and dtypes."""
    import sqlalchemy as sa

    from etl.warehouse import query_frame

    sql = ("SELECT * FROM (VALUES (1, 'Sở Y tế', DATE '2022-05-16', CAST(0.75 AS double precision), NULL), "
           "(2, NULL, NULL, NULL, 'x')) AS t(n, name, day, share, note) WHERE n >= :low ORDER BY n")
    with warehouse.begin() as conn:
        ours = query_frame(conn, sql, {"low": 1})
        rows = conn.execute(sa.text(sql), {"low": 1})
        pandas = pd.DataFrame(rows.fetchall(), columns=list(rows.keys()))
        empty = query_frame(conn, sql, {"low": 3})
    pd.testing.assert_frame_equal(ours, pandas)
    assert list(ours.columns) == ["n", "name", "day", "share", "note"] and ours["day"].iloc[0] == date(2022, 5, 16)
    assert empty.empty and list(empty.columns) == list(ours.columns)
