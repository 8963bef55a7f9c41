"""python -m etl report: the Excel workbook read back with openpyxl (DuckDB and PostgreSQL), and the
HTML dashboard rendered in headless Chromium (its DOM asserted, a screenshot kept under
var/test-artifacts/)."""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date

import openpyxl
import pandas as pd
import pytest

from etl import indicators
from etl.reports import report_paths, workbook, write_reports
from tests.fixtures.environment import IN_CI, ROOT
from tests.fixtures.all_indicators import DEPT, DIST, ROOT as ROOT_AGENCY, load_fixture

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
                             "Lũy kế quý", "Lũy kế năm", workbook.SHEET_TREND, workbook.SHEET_NOTES]

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
    ontime = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 2).value == "Tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn")
    assert ws.cell(ontime, 8).value == pytest.approx(_snapshot(published, ROOT_AGENCY, "on_time_rate", "mtd").value)

    postal = {(r[1], r[2]): r[4:] for r in wb[workbook.SHEET_POSTAL].iter_rows(min_row=4, values_only=True)}
    assert postal[("Sở Ngoại vụ", "1.000002")][1:] == (1, 1)  # a4: filed by post, result by post
    online_only = {(r[1], r[2]) for r in wb[workbook.SHEET_ONLINE_ONLY].iter_rows(min_row=4, values_only=True)}
    assert ("Sở Ngoại vụ", "1.000001") not in online_only  # a2 came to the counter

    eligible = [ws_row for ws_row in wb[workbook.SHEET_ELIGIBLE].iter_rows(min_row=4, values_only=True)]
    assert [(r[1], r[4], r[5]) for r in eligible] == [("1.000001", 4, 2), ("1.000002", 3, 2)]  # on 05-16: P1 full-online at DEPT, COMM


def test_report_command_writes_both_files(published, tmp_path, capsys):
    from etl.cli import main

    assert main(["--warehouse-url", published.url, "report", "--date", str(END), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(p) for p in report_paths(tmp_path, END, "ytd").values()]
    assert main(["--warehouse-url", published.url, "report", "--date", "2022-04-01", "--out", str(tmp_path)]) == 1
    assert "no snapshot for 2022-04-01" in capsys.readouterr().err


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if IN_CI:
        pytest.fail("CI=true and chromium is missing: .ci/run installs it (apt-get install -y chromium)")
    pytest.skip("chromium not installed (apt-get install -y chromium); with CI=true this fails instead")


def test_dashboard_renders_offline_in_chromium(published, tmp_path):
    browser = _chromium()
    [path] = write_reports(published, END, "lao_cai", tmp_path, formats=("html",))
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
                  "Province trend against target"):
        assert label in page
    shot = artifacts / "dashboard.png"
    shot.unlink(missing_ok=True)
    done = subprocess.run(flags + ["--window-size=1400,2000", f"--screenshot={shot}", path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.stat().st_size > 20_000, done.stderr[-2000:]
