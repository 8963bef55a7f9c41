"""The Excel workbook of a report date, in Vietnamese with the seed documents' wording, ready to
print (A4 landscape, fitted to the page width, header rows frozen and repeated on every page)."""
from __future__ import annotations

import io
import numbers
import re
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from etl.reports import replacing
from etl.reports.data import COMMUNES, GROUPS, PERIOD_LABEL, PERIODS, ReportData, name_key, period_text, sort_rows

FONT = "Times New Roman"
PCT = "0.0%"
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
GROUP_FILL = PatternFill("solid", fgColor="F2F2F2")
MET_FONT = Font(name=FONT, size=11, color="006100")
MISSED_FONT = Font(name=FONT, size=11, color="9C0006", bold=True)
WRAP = Alignment(wrap_text=True, vertical="center", horizontal="center")

SHEET_DECISION = "Chỉ tiêu giao"
SHEET_OUTLINE = "Báo cáo quý II.1-II.2"
SHEET_ELIGIBLE = "TTHC đủ ĐK toàn trình"
SHEET_ONLINE_ONLY = "DVC chỉ nhận trực tuyến"
SHEET_POSTAL = "TTHC có BCCI"
SHEET_TREND = "Diễn biến theo tháng"
SHEET_SCORE = "Điểm đánh giá (0-100)"
SHEET_TRAJECTORY = "Lộ trình đạt chỉ tiêu"
SHEET_NOTES = "Ghi chú"
NOT_MET, MET = "Không đạt", "Đạt"


Body = tuple[int, list[list[tuple]]]  # a long sheet's first body row, and its rows of (value, style name)


def write_workbook(data: ReportData, path: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    _styles(wb)
    bodies: dict[str, Body] = {}
    for table in data.decisions:
        _decision_sheet(wb.create_sheet(SHEET_DECISION if len(data.decisions) == 1 else
                                        f"Chỉ tiêu giao {table.year} ({data.decisions.index(table) + 1})"), data, table)
    _outline_sheet(wb.create_sheet(SHEET_OUTLINE), data)
    bodies[SHEET_ELIGIBLE] = _eligible_sheet(wb.create_sheet(SHEET_ELIGIBLE), data)
    bodies[SHEET_ONLINE_ONLY] = _online_only_sheet(wb.create_sheet(SHEET_ONLINE_ONLY), data)
    bodies[SHEET_POSTAL] = _postal_sheet(wb.create_sheet(SHEET_POSTAL), data)
    for period in PERIODS:
        bodies[PERIOD_LABEL[period]] = _period_sheet(wb.create_sheet(PERIOD_LABEL[period]), data, period)
    _trend_sheet(wb.create_sheet(SHEET_TREND), data)
    _score_sheet(wb.create_sheet(SHEET_SCORE), data)
    bodies[SHEET_TRAJECTORY] = _trajectory_sheet(wb.create_sheet(SHEET_TRAJECTORY), data)
    _notes_sheet(wb.create_sheet(SHEET_NOTES), data)
    with replacing(path) as tmp:
        _save(wb, bodies, tmp)
    return path


# -- the long sheets' bodies ---------------------------------------------------------------------
def _save(wb: Workbook, bodies: dict[str, Body], path: Path) -> None:
    """Save the workbook with the long sheets' body rows (every agency x indicator of a period, the
    trajectory, the lists) written straight into their sheet XML, after openpyxl has written the rest
    (titles, headers, print setup, filters): openpyxl spends some 30 µs serialising a cell, seconds for
    the ~115,000 cells of the period sheets. The cells are those openpyxl would write (inline strings,
    numbers, the named styles' cell formats, styled empty cells)."""
    style_ids: dict[str, int] = {}

    def style_id(name: str) -> int:  # registered before saving, so the stylesheet has it
        if name not in style_ids:
            probe = Cell(wb.worksheets[0])
            probe.style = name
            style_ids[name] = probe.style_id
        return style_ids[name]

    xml = {}
    for i, ws in enumerate(wb.worksheets, start=1):
        if ws.title in bodies and bodies[ws.title][1]:  # an empty list says "(Không có)" through openpyxl
            first, rows = bodies[ws.title]
            assert first > ws.max_row, f"{ws.title}: the body must follow the cells openpyxl writes"
            xml[f"xl/worksheets/sheet{i}.xml"] = (first + len(rows) - 1, _rows_xml(first, rows, style_id))
    buffer = io.BytesIO()
    wb.save(buffer)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename in xml and xml[item.filename][1]:
                last, rows_xml = xml[item.filename]
                content = content.replace(b"</sheetData>", rows_xml.encode() + b"</sheetData>", 1)
                content = re.sub(rb'(<dimension ref="A1:[A-Z]+)\d+"', rb'\g<1>%d"' % last, content, count=1)
            dst.writestr(item, content)


def _rows_xml(first: int, rows: list[list[tuple]], style_id) -> str:
    letters = [get_column_letter(c) for c in range(1, 1 + max((len(r) for r in rows), default=0))]
    ids = {style: style_id(style) for style in {style for row in rows for _v, style in row}}
    out = []
    for n, row in enumerate(rows, start=first):
        out.append(f'<row r="{n}">')
        for letter, (value, style) in zip(letters, row, strict=False):
            cell = f'<c r="{letter}{n}" s="{ids[style]}"'
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters a source sent: XML cannot hold them
                space = ' xml:space="preserve"' if value != value.strip() and value.strip() else ""
                out.append(f'{cell} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>')
            elif value is None or value is pd.NA or (isinstance(value, float) and value != value):  # NaN: empty
                out.append(f'{cell} t="n"/>')
            elif isinstance(value, bool):
                out.append(f'{cell} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, numbers.Number):
                out.append(f'{cell} t="n"><v>{value:.16g}</v></c>')
            else:
                raise TypeError(f"{type(value).__name__} in a sheet body: {value!r}")
        out.append("</row>")
    return "".join(out)


# -- layout helpers --------------------------------------------------------------------------
def _printable(ws: Worksheet, header_rows: int, widths: list[float], freeze_col: int = 1) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.print_title_rows = f"1:{header_rows}"
    ws.freeze_panes = f"{get_column_letter(freeze_col + 1)}{header_rows + 1}"  # no cell: the long bodies are not cells
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width


def _title(ws: Worksheet, lines: list[str], ncols: int) -> int:
    """Centered title lines over ncols columns; returns the next free row."""
    for i, text in enumerate(lines, start=1):
        ws.merge_cells(start_row=i, start_column=1, end_row=i, end_column=ncols)
        cell = ws.cell(row=i, column=1, value=text)
        cell.font = Font(name=FONT, size=13 if i == 1 else 11, bold=i == 1, italic=i > 1)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    return len(lines) + 1


def _head(ws: Worksheet, row: int, col: int, text: str, rowspan: int = 1, colspan: int = 1) -> None:
    if rowspan > 1 or colspan > 1:
        ws.merge_cells(start_row=row, start_column=col, end_row=row + rowspan - 1, end_column=col + colspan - 1)
    for r in range(row, row + rowspan):
        for c in range(col, col + colspan):
            ws.cell(row=r, column=c).border = BOX
            ws.cell(row=r, column=c).fill = HEAD_FILL
    cell = ws.cell(row=row, column=col, value=text)
    cell.font = Font(name=FONT, size=11, bold=True)
    cell.alignment = WRAP


def _styles(wb: Workbook) -> None:
    """Named cell styles, registered once: far faster than a Font/Border per cell."""
    specs = {"c": ("General", "center", Font(name=FONT, size=11)),
             "l": ("General", "left", Font(name=FONT, size=11)),
             "b": ("General", "left", Font(name=FONT, size=11, bold=True)),
             "pct": (PCT, "center", Font(name=FONT, size=11)),
             "int": ("#,##0", "center", Font(name=FONT, size=11)),
             "num": ("0.00", "center", Font(name=FONT, size=11)),
             "gap": ("+0.0%;-0.0%;0.0%", "center", Font(name=FONT, size=11)),
             "met": ("General", "center", MET_FONT),
             "missed": ("General", "center", MISSED_FONT)}
    for name, (fmt, align, font) in specs.items():
        wb.add_named_style(NamedStyle(name=name, number_format=fmt, font=font, border=BOX, alignment=Alignment(
            horizontal=align, vertical="center", wrap_text=align == "left")))


def _put(ws: Worksheet, row: int, col: int, value, style: str = "c"):
    if isinstance(value, float) and pd.isna(value):
        value = None
    cell = ws.cell(row=row, column=col, value=value)
    cell.style = style
    return cell


def _group_row(ws: Worksheet, row: int, label: str, ncols: int) -> None:
    for c in range(1, ncols + 1):
        ws.cell(row=row, column=c).fill = GROUP_FILL
        ws.cell(row=row, column=c).border = BOX
    cell = ws.cell(row=row, column=2, value=label)
    cell.font = Font(name=FONT, size=11, bold=True)


def _verdict(r) -> tuple[str, str]:
    """The verdict's text and cell style of a snapshot row (None: no figure)."""
    return _verdict_of(None, None) if r is None else _verdict_of(r.value, r.meets_target)


def _verdict_of(value, meets_target) -> tuple[str, str]:
    if value is None or pd.isna(value):
        return "Không phát sinh", "c"
    if meets_target is None or pd.isna(meets_target):
        return "–", "c"
    return (MET, "met") if bool(meets_target) else (NOT_MET, "missed")


def _indicator_name(data: ReportData, code: str) -> str:
    row = data.indicators[data.indicators["indicator_code"] == code]
    return row["name_vi"].iloc[0] if len(row) else code


# -- sheets ----------------------------------------------------------------------------------
def _decision_sheet(ws: Worksheet, data: ReportData, table) -> None:
    """The decision's table: TT, agency, then per indicator target / actual / met, departments then
    districts, in the decision's order; actuals from 1 January to the report date."""
    n = 2 + 3 * len(table.indicators)
    row = _title(ws, [f"KẾT QUẢ THỰC HIỆN CHỈ TIÊU CUNG CẤP DỊCH VỤ CÔNG TRỰC TUYẾN NĂM {table.year}",
                      f"(Chỉ tiêu theo Phụ lục giao chỉ tiêu — {table.source}; số liệu "
                      f"{period_text(data.day, 'ytd').lower()})"], n)
    _head(ws, row, 1, "TT", rowspan=2)
    _head(ws, row, 2, "Tên cơ quan, địa phương", rowspan=2)
    for i, code in enumerate(table.indicators):
        col = 3 + 3 * i
        _head(ws, row, col, _indicator_name(data, code), colspan=3)
        for j, sub in enumerate(("Chỉ tiêu", "Thực hiện", "Đánh giá")):
            _head(ws, row + 1, col + j, sub)
    ws.row_dimensions[row].height = 48
    header_rows = row + 1
    row += 2
    own = {(t.scope, t.indicator_code): t.target for t in data.targets.itertuples(index=False)
           if t.year == table.year}
    for g, (group, _label, title) in enumerate(GROUPS):
        rows = table.rows[table.rows["group"] == group]
        if rows.empty:
            continue
        _group_row(ws, row, f"{'I' * (g + 1)}. {title}", n)
        row += 1
        for r in rows.itertuples(index=False):
            _put(ws, row, 1, int(r.tt))
            _put(ws, row, 2, r.scope, "l")
            for i, code in enumerate(table.indicators):
                col = 3 + 3 * i
                target = own.get((r.scope, code))
                fig = data.cell("ytd", r.agency_code, code) if r.agency_code else None
                if target is None or pd.isna(target):
                    _put(ws, row, col, "Không có phí")
                else:
                    _put(ws, row, col, float(target), "pct")
                _put(ws, row, col + 1, None if fig is None else fig.value, "pct")
                verdict, style = _verdict(fig)
                if target is None or pd.isna(target):
                    verdict, style = "–", "c"
                _put(ws, row, col + 2, verdict, style)
            row += 1
    note = ws.cell(row=row + 1, column=2, value=(
        "Ghi chú: Thực hiện = tỷ lệ tính từ ngày 01/01 đến ngày báo cáo; \"Không phát sinh\" = không có hồ sơ "
        "(dịch vụ) trong kỳ; đơn vị không tìm thấy trong danh mục đơn vị để trống."))
    note.font = Font(name=FONT, italic=True)
    _printable(ws, header_rows, [5, 34] + [11, 11, 11] * len(table.indicators), freeze_col=2)


OUTLINE_INDICATORS = [
    ("full_online_service_rate", "Kết quả rà soát, đưa các TTHC đủ điều kiện cung cấp trực tuyến mức độ 4 "
                                 "(toàn trình) lên Cổng Dịch vụ công"),
    ("service_online_uptake_rate", "Tỷ lệ DVCTT mức độ 3, 4 có phát sinh hồ sơ trực tuyến trên tổng số DVCTT "
                                   "mức độ 3, 4 có phát sinh hồ sơ"),
    ("online_dossier_full_online_rate", "Tỷ lệ số hồ sơ được xử lý trực tuyến trên tổng số hồ sơ DVCTT ở "
                                        "mức độ 3, 4"),
    ("online_dossier_rate", "Tỷ lệ hồ sơ TTHC được thực hiện trực tuyến (mọi TTHC)"),
]


def _outline_sheet(ws: Worksheet, data: ReportData) -> None:
    """Phụ lục II of the Cao Bằng plan, II.1: the rates per agency from 1 January to the report date."""
    n = 2 + 3 * len(OUTLINE_INDICATORS)
    row = _title(ws, ["KẾT QUẢ THỰC HIỆN KẾ HOẠCH THÚC ĐẨY HIỆU QUẢ CUNG CẤP, SỬ DỤNG DỊCH VỤ CÔNG TRỰC TUYẾN",
                      "II. KẾT QUẢ THỰC HIỆN — 1. Tỷ lệ dịch vụ công trực tuyến "
                      f"(Số liệu tính từ ngày 01/01 đến thời điểm báo cáo của năm: {period_text(data.day, 'ytd')})"],
                 n)
    _head(ws, row, 1, "TT", rowspan=2)
    _head(ws, row, 2, "Cơ quan, đơn vị, địa phương", rowspan=2)
    for i, (_code, label) in enumerate(OUTLINE_INDICATORS):
        col = 3 + 3 * i
        _head(ws, row, col, label, colspan=3)
        for j, sub in enumerate(("Tử số", "Mẫu số", "Tỷ lệ")):
            _head(ws, row + 1, col + j, sub)
    ws.row_dimensions[row].height = 64
    header_rows = row + 1
    row += 2
    sections = [("province", "Toàn tỉnh")] + [(g, title) for g, _l, title in GROUPS]
    for g, (group, title) in enumerate(sections):
        agencies = data.ordered_agencies(group)
        if agencies.empty:
            continue
        if group != "province":
            _group_row(ws, row, f"{'I' * g}. {title}", n)
            row += 1
        for k, a in enumerate(agencies.itertuples(index=False), start=1):
            _put(ws, row, 1, k if group != "province" else None)
            _put(ws, row, 2, a.name, "b" if group == "province" else "l")
            for i, (code, _label) in enumerate(OUTLINE_INDICATORS):
                fig = data.cell("ytd", a.agency_code, code)
                col = 3 + 3 * i
                _put(ws, row, col, None if fig is None else int(fig.numerator), "int")
                _put(ws, row, col + 1, None if fig is None else int(fig.denominator), "int")
                _put(ws, row, col + 2, None if fig is None else fig.value, "pct")
            row += 1
    ws.cell(row=row + 1, column=2, value=(
        "Mức độ 3, 4 theo cách phân loại cũ; kho dữ liệu phân loại DVCTT toàn trình (mức độ 4) / một phần "
        "(mức độ 3) theo Nghị định 42/2022/NĐ-CP. Các chỉ tiêu dịch vụ tính theo dịch vụ (cơ quan × TTHC); "
        "số liệu của huyện gồm cả các xã.")).font = Font(name=FONT, italic=True)
    _printable(ws, header_rows, [5, 36] + [9, 9, 9] * len(OUTLINE_INDICATORS), freeze_col=2)


def _agency_names(data: ReportData) -> dict[str, str]:
    return dict(zip(data.agencies["agency_code"], data.agencies["name"], strict=True))


def _list_sheet(ws: Worksheet, title: list[str], headers: list[str], rows: list[list], widths: list[float]) -> Body:
    row = _title(ws, title, len(headers))
    for c, text in enumerate(headers, start=1):
        _head(ws, row, c, text)
    header_rows = row
    if not rows:
        ws.cell(row=row + 1, column=2, value="(Không có)").font = Font(name=FONT, italic=True)
    ws.auto_filter.ref = f"A{header_rows}:{get_column_letter(len(headers))}{header_rows + len(rows)}"
    _printable(ws, header_rows, widths, freeze_col=0)
    return header_rows + 1, [[(v, "l" if isinstance(v, str) else "c") for v in values] for values in rows]


def _eligible_sheet(ws: Worksheet, data: ReportData) -> Body:
    rows = [[i, r.procedure_code, r.procedure_name, r.field_name, int(r.services), int(r.full_online_services)]
            for i, r in enumerate(data.eligible.itertuples(index=False), start=1)]
    return _list_sheet(ws, ["DANH MỤC CÁC TTHC ĐỦ ĐIỀU KIỆN CUNG CẤP TRỰC TUYẾN MỨC ĐỘ 4 (TOÀN TRÌNH)",
                            f"(Phụ lục II, mục II.1 — cấu hình dịch vụ ngày {data.day:%d/%m/%Y})"],
                       ["TT", "Mã TTHC", "Tên thủ tục hành chính", "Lĩnh vực", "Số đơn vị cung cấp",
                        "Số đơn vị cung cấp toàn trình"], rows, [6, 12, 60, 28, 12, 14])


def _service_rows(data: ReportData, frame: pd.DataFrame, extra: list[str]) -> list[list]:
    names = _agency_names(data)
    procs = dict(zip(data.procedures["procedure_code"], data.procedures["name"], strict=True))
    frame = frame.assign(agency_name=frame["agency_code"].map(names).fillna(frame["agency_code"]))
    frame = sort_rows(frame, ["agency_name", "procedure_code"], lambda name, code: (name_key(name), code))
    columns = [frame[c].tolist() for c in ["agency_name", "procedure_code", *extra]]
    return [[i, name, code, procs.get(code, "")] + [v if c == "service_level" else int(v)
                                                     for c, v in zip(extra, rest, strict=True)]
            for i, (name, code, *rest) in enumerate(zip(*columns, strict=True), start=1)]


LEVEL_VI = {"full_online": "Toàn trình (mức độ 4)", "partial_online": "Một phần (mức độ 3)"}


def online_only_services(data: ReportData) -> pd.DataFrame:
    """Services (agency x procedure) offered online that received dossiers from 1 January, all online."""
    per = data.received[data.received["service_level"].isin(list(LEVEL_VI))]
    return per[per["dossiers"] == per["online"]]


def postal_procedures(data: ReportData) -> pd.DataFrame:
    """Services with at least one dossier received from 1 January collected or returned by post."""
    per = data.received.groupby(["agency_code", "procedure_code"])[["dossiers", "by_post", "result_by_post"]].sum(
    ).reset_index()
    return per[(per["by_post"] + per["result_by_post"]) > 0]


def _online_only_sheet(ws: Worksheet, data: ReportData) -> Body:
    frame = online_only_services(data).assign(service_level=lambda f: f["service_level"].map(LEVEL_VI))
    return _list_sheet(ws, ["DANH MỤC DVCTT MỨC ĐỘ 3, 4 CHỈ TIẾP NHẬN BẰNG HÌNH THỨC TRỰC TUYẾN",
                            "(Phụ lục II, mục II.1 và II.2.b — dịch vụ có hồ sơ "
                            f"{period_text(data.day, 'ytd').lower()}, tất cả nộp trực tuyến)"],
                       ["TT", "Cơ quan, đơn vị", "Mã TTHC", "Tên thủ tục hành chính", "Mức độ", "Số hồ sơ trực tuyến"],
                       _service_rows(data, frame, ["service_level", "dossiers"]), [6, 30, 12, 56, 20, 12])


def _postal_sheet(ws: Worksheet, data: ReportData) -> Body:
    return _list_sheet(ws, ["DANH MỤC TTHC CÓ TIẾP NHẬN HỒ SƠ, TRẢ KẾT QUẢ QUA DỊCH VỤ BƯU CHÍNH CÔNG ÍCH",
                            f"(Phụ lục II, mục II.2.c — hồ sơ tiếp nhận {period_text(data.day, 'ytd').lower()})"],
                       ["TT", "Cơ quan, đơn vị", "Mã TTHC", "Tên thủ tục hành chính", "Số hồ sơ",
                        "Tiếp nhận qua BCCI", "Trả kết quả qua BCCI"],
                       _service_rows(data, postal_procedures(data), ["dossiers", "by_post", "result_by_post"]),
                       [6, 30, 12, 52, 10, 12, 12])


def _period_sheet(ws: Worksheet, data: ReportData, period: str) -> Body:
    """Every agency x indicator of one period, with target, gap and verdict (filterable)."""
    headers = ["Cơ quan, đơn vị", "Loại đơn vị", "Chỉ số", "Tử số", "Mẫu số", "Tỷ lệ", "Chỉ tiêu",
               "Chênh lệch", "Đánh giá"]
    row = _title(ws, [f"KẾT QUẢ CÁC CHỈ SỐ DỊCH VỤ CÔNG TRỰC TUYẾN — {PERIOD_LABEL[period].upper()}",
                      f"({period_text(data.day, period)}; chênh lệch = tỷ lệ − chỉ tiêu)"], len(headers))
    for c, text in enumerate(headers, start=1):
        _head(ws, row, c, text)
    header_rows = row
    figures = data.figures(period)
    order = {"province": 0, "department": 1, "district": 2, "commune": 3}
    parents = _agency_names(data)
    figures = figures.assign(
        _g=figures["peer_group"].map(order),
        _k=[name_key((parents.get(p, "") if g == "commune" else "") + "\x01" + n)
            for g, p, n in zip(figures["peer_group"], figures["parent_code"], figures["agency_name"], strict=True)])
    figures = figures.sort_values(["_g", "_k", "indicator_order"])
    columns = ["agency_name", "level_label", "indicator_name_vi", "numerator", "denominator", "value", "target",
               "gap_to_target", "meets_target"]
    rows = [[(name, "l"), (level, "c"), (indicator, "l"), (int(num), "int"), (int(den), "int"), (value, "pct"),
             (target, "pct"), (gap, "gap"), _verdict_of(value, meets)]
            for name, level, indicator, num, den, value, target, gap, meets
            in zip(*(figures[c].tolist() for c in columns), strict=True)]  # lists: pandas rows cost ~10x
    ws.auto_filter.ref = f"A{header_rows}:I{header_rows + len(rows)}"
    _printable(ws, header_rows, [34, 10, 52, 9, 9, 9, 9, 10, 14], freeze_col=1)
    return header_rows + 1, rows


def monthly_trend(data: ReportData) -> pd.DataFrame:
    """The province's figure of each month (month to date on its last published day) up to the report date."""
    mtd = data.trend[data.trend["period"] == "mtd"].copy()
    if mtd.empty:
        return mtd
    mtd["month"] = [d.month for d in mtd["snapshot_date"]]
    last = mtd.groupby("month")["snapshot_date"].transform("max")
    return mtd[mtd["snapshot_date"] == last]


def _trend_sheet(ws: Worksheet, data: ReportData) -> None:
    months = list(range(1, data.day.month + 1))
    headers = ["TT", "Chỉ số", "Chỉ tiêu"] + [f"Tháng {m}" for m in months] + ["Lũy kế năm"]
    row = _title(ws, [f"DIỄN BIẾN CÁC CHỈ SỐ TOÀN TỈNH THEO THÁNG NĂM {data.day.year}",
                      f"({data.province_name}; mỗi tháng tính từ ngày đầu tháng đến ngày cuối tháng, tháng "
                      f"{data.day.month} đến ngày {data.day:%d/%m/%Y})"], len(headers))
    for c, text in enumerate(headers, start=1):
        _head(ws, row, c, text)
    header_rows = row
    monthly = {(r.indicator_code, r.month): r.value for r in monthly_trend(data).itertuples(index=False)}
    root = data.agencies[data.agencies["peer_group"] == "province"]["agency_code"]
    root_code = root.iloc[0] if len(root) else None
    for i, ind in enumerate(data.indicators.itertuples(index=False), start=1):
        row += 1
        ytd = data.cell("ytd", root_code, ind.indicator_code)
        _put(ws, row, 1, i)
        _put(ws, row, 2, ind.name_vi, "l")
        _put(ws, row, 3, None if ytd is None else ytd.target, "pct")
        for j, m in enumerate(months):
            _put(ws, row, 4 + j, monthly.get((ind.indicator_code, m)), "pct")
        _put(ws, row, 4 + len(months), None if ytd is None else ytd.value, "pct")
    _printable(ws, header_rows, [5, 52, 9] + [9] * len(months) + [10], freeze_col=2)


SECTIONS = [("province", "Toàn tỉnh")] + [(g, title) for g, _l, title in [*GROUPS, COMMUNES]]
NOT_COMPUTABLE = "Không tính được"


def _score_sheet(ws: Worksheet, data: ReportData) -> None:
    """mart.agency_score: the national portal's 0-100 score, peers ranked with peers, with its groups."""
    groups = list(data.score_groups.itertuples(index=False))
    headers = ["Xếp hạng", "Cơ quan, đơn vị, địa phương", "Điểm (0-100)", "Điểm đạt", "Tối đa tính được"] + [
        f"{g.group_name_vi} (tối đa {g.group_max:g})" for g in groups]
    row = _title(ws, ["ĐIỂM ĐÁNH GIÁ CUNG CẤP DỊCH VỤ CÔNG TRỰC TUYẾN (THANG ĐIỂM 100)",
                      f"(Theo cách chấm của Cổng Dịch vụ công quốc gia; {period_text(data.day, data.period)}; "
                      "điểm = 100 × điểm đạt / tổng điểm tối đa của các tiêu chí tính được)"], len(headers))
    for c, text in enumerate(headers, start=1):
        _head(ws, row, c, text)
    ws.row_dimensions[row].height = 48
    header_rows = row
    row += 1
    numeral = 0
    for group, title in SECTIONS:
        scores = data.ranked_scores(group)
        if scores.empty:
            continue
        if group != "province":
            numeral += 1
            _group_row(ws, row, f"{'I' * numeral}. {title}", len(headers))
            row += 1
        for r in scores.itertuples(index=False):
            _put(ws, row, 1, None if group == "province" else int(r.rank))
            _put(ws, row, 2, r.agency_name, "b" if group == "province" else "l")
            _put(ws, row, 3, r.score, "num")
            _put(ws, row, 4, r.points, "num")
            _put(ws, row, 5, r.points_max, "num")
            for j, g in enumerate(groups):
                if not g.computable:
                    _put(ws, row, 6 + j, NOT_COMPUTABLE)
                else:
                    _put(ws, row, 6 + j, getattr(r, f"{g.group_code}_points", None), "num")
            row += 1
    missing = data.scores["points_not_computable"].max() if len(data.scores) else 0
    ws.cell(row=row + 1, column=2, value=(
        f"Ghi chú: {missing:g} điểm của thang 100 thuộc các tiêu chí không tính được từ nguồn dữ liệu (trong đó cả "
        "nhóm Mức độ hài lòng), không tính vào tối đa; tiêu chí dưới ngưỡng được tỷ lệ × điểm tối đa / ngưỡng. "
        "Xếp hạng trong từng nhóm đơn vị. Chi tiết từng tiêu chí: mart.agency_score_part.")).font = Font(
        name=FONT, italic=True)
    _printable(ws, header_rows, [9, 36, 10, 9, 10] + [13] * len(groups), freeze_col=2)


ON_COURSE, OFF_COURSE = ("đã chắc chắn đạt", "đang đạt", "đúng tiến độ"), ("không thể đạt",)


def _trajectory_sheet(ws: Worksheet, data: ReportData) -> Body:
    """mart.target_trajectory: per agency and indicator with a year target, what is still needed by 31
    December at the current pace, whether it is reachable, explained in a sentence."""
    headers = ["Cơ quan, đơn vị", "Loại đơn vị", "Chỉ số", "Tỷ lệ đến nay", "Chỉ tiêu năm", "Cần đạt từ nay",
               "Đánh giá", "Giải thích"]
    row = _title(ws, [f"LỘ TRÌNH ĐẠT CHỈ TIÊU NĂM {data.day.year}",
                      f"(Số liệu {period_text(data.day, 'ytd').lower()}; dự kiến đến ngày 31/12 theo nhịp độ hiện "
                      "nay; \"cần đạt từ nay\" = tỷ lệ phải đạt trên số hồ sơ còn lại của năm)"], len(headers))
    for c, text in enumerate(headers, start=1):
        _head(ws, row, c, text)
    header_rows = row
    order = {g: i for i, (g, _t) in enumerate(SECTIONS)}
    frame = data.trajectory
    frame = sort_rows(frame, ["peer_group", "agency_name", "indicator_order"], lambda group, name, indicator: (
        order.get(group, len(order)), name_key(name), indicator))
    rows = [[(r.agency_name, "l"), (r.level_label, "c"), (r.indicator_name_vi, "l"), (r.value, "pct"),
             (r.target, "pct"), (r.needed_rate, "pct"),
             (r.status_vi, "met" if r.status_vi in ON_COURSE else "missed" if r.status_vi in OFF_COURSE else "c"),
             (r.explanation_vi, "l")] for r in frame.itertuples(index=False)]
    ws.auto_filter.ref = f"A{header_rows}:H{header_rows + len(rows)}"
    _printable(ws, header_rows, [30, 9, 40, 9, 9, 9, 14, 70], freeze_col=1)
    return header_rows + 1, rows


def _notes_sheet(ws: Worksheet, data: ReportData) -> None:
    lines = [
        ("Báo cáo", f"{data.province_name} — ngày báo cáo {data.day:%d/%m/%Y}, "
                    f"lập lúc {data.generated_at:%H:%M %d/%m/%Y}"),
        ("Nguồn số liệu", "Kho dữ liệu chỉ số DVC (mart.indicator_snapshot); số liệu của huyện gồm cả các xã, "
                          "của tỉnh gồm mọi đơn vị."),
        ("Chỉ tiêu", "sql/seeds/targets.csv: Quyết định giao chỉ tiêu và kế hoạch của tỉnh (xem mart.target)."),
        ("Xếp hạng", f"Đơn vị có mẫu số dưới {data.min_denominator:g} không được xếp hạng (mart.report_setting)."),
    ]
    lines += [(f"Dữ liệu {r.source}.{r.entity}", f"tải đến {r.loaded_until if pd.notna(r.loaded_until) else '–'}; "
               f"lô gần nhất {r.last_batch_status}") for r in data.freshness.itertuples(index=False)]
    for i, (k, v) in enumerate(lines, start=1):
        ws.cell(row=i, column=1, value=k).font = Font(name=FONT, bold=True)
        ws.cell(row=i, column=2, value=v).font = Font(name=FONT)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 110
