"""The HTML dashboard of a report date: one self-contained file (inline CSS and SVG drawn here, no
script, no external resource), so it opens offline and can be mailed as it is."""
from __future__ import annotations

from datetime import date
from html import escape
from pathlib import Path

import pandas as pd

from etl.reports import drilldown, replacing, report_paths
from etl.reports.data import COMMUNES, GROUPS, PERIOD_LABEL, PERIOD_LABEL_EN, ReportData, period_text

CSS = """
body{font-family:"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;margin:0;color:#1f2933;background:#f7f8fa}
header{background:#0b4f8a;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.9}main{padding:8px 24px 40px}
h2{font-size:18px;border-bottom:2px solid #0b4f8a;padding-bottom:4px;margin-top:28px}
.en{color:#6b7785;font-weight:normal;font-size:.85em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.card{background:#fff;border:1px solid #d9dee4;border-radius:6px;padding:8px}
.card h3{font-size:13px;margin:0 0 4px;min-height:32px}
.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}
table{border-collapse:collapse;background:#fff;font-size:12px}
th,td{border:1px solid #d9dee4;padding:3px 6px;text-align:right}th{background:#e8eef5}
td.name,th.name{text-align:left}
details{margin:6px 0;background:#fff;border:1px solid #d9dee4;border-radius:6px;padding:6px}
summary{cursor:pointer;font-weight:600}.note{color:#52606d;font-size:12px}
.legend span{display:inline-block;padding:2px 8px;margin-right:4px;font-size:12px}
nav a{color:#fff;margin-right:14px}
"""

GOOD, BAD, NEUTRAL = "#1a7f37", "#c62828", "#607080"


def _text(v) -> str:
    """Escaped text; a missing value (None or pandas' NaN) is empty."""
    return "" if v is None or pd.isna(v) else escape(str(v))


def _pct(v) -> str:
    return "–" if v is None or pd.isna(v) else f"{100 * v:.1f}%"


def gap_colour(value, target) -> str:
    """Green above the target, red below it, stronger with the gap; grey without a target."""
    if value is None or pd.isna(value):
        return "#ffffff"
    if target is None or pd.isna(target):
        return "#e4e7eb"
    gap = value - target
    strength = min(abs(gap) / 0.3, 1.0)
    if gap >= 0:
        r, g, b = 230 - 140 * strength, 245 - 60 * strength, 230 - 140 * strength
    else:
        r, g, b = 255 - 40 * strength, 225 - 150 * strength, 225 - 150 * strength
    return f"#{int(r):02x}{int(g):02x}{int(b):02x}"


def line_chart(points: list[tuple[date, float | None]], target, day: date, width: int = 300,
               height: int = 150) -> str:
    """The ytd value from 1 January to the end of the report date's quarter, day by day, against the
    target (dashed), y from 0 to 100 %."""
    left, right, top, bottom = 34, 8, 8, 20
    w, h = width - left - right, height - top - bottom
    start = date(day.year, 1, 1)
    last_month = (day.month - 1) // 3 * 3 + 3
    end = date(day.year + 1, 1, 1) if last_month == 12 else date(day.year, last_month + 1, 1)
    span = (end - start).days

    def x(d: date) -> float:
        return left + w * (d - start).days / span

    def y(v: float) -> float:
        return top + h * (1 - max(0.0, min(1.0, v)))

    parts = [f'<svg class="chart trend" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">']
    for v in (0, 0.5, 1):
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e4e7eb"/>'
                     f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{int(v * 100)}%</text>')
    for m in range(1, last_month + 1, 1 if last_month <= 6 else 3):
        d = date(day.year, m, 1)
        parts.append(f'<text x="{x(d):.1f}" y="{height - 6}" font-size="10">T{m}</text>')
    if target is not None and not pd.isna(target):
        parts.append(f'<line class="target" x1="{left}" x2="{left + w}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
                     f'stroke="{BAD}" stroke-dasharray="4 3"><title>Chỉ tiêu {_pct(target)}</title></line>')
    coords = [f"{x(d):.1f},{y(v):.1f}" for d, v in points if v is not None and not pd.isna(v)]
    if coords:
        parts.append(f'<polyline class="value" fill="none" stroke="#0b4f8a" stroke-width="2" '
                     f'points="{" ".join(coords)}"/>')
        last_d, last_v = next((d, v) for d, v in reversed(points) if v is not None and not pd.isna(v))
        parts.append(f'<circle cx="{x(last_d):.1f}" cy="{y(last_v):.1f}" r="3" fill="#0b4f8a">'
                     f'<title>{last_d:%d/%m/%Y}: {_pct(last_v)}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def _bars(kind: str, bars: list[tuple], width: int, label_w: int, rect_class: str = "") -> str:
    """Horizontal bars, one per (rank, name, share 0-1, colour, tooltip, label, target share or None)."""
    name_w, row_h = 190, 18
    bar_w, height = width - name_w - label_w, row_h * len(bars) + 6
    parts = [f'<svg class="chart {kind}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i, (rank, name, share, colour, tooltip, label, target) in enumerate(bars):
        y0 = 3 + i * row_h
        parts.append(f'<text x="{name_w - 4}" y="{y0 + 12}" font-size="11" text-anchor="end">'
                     f'{int(rank)}. {escape(name[:30])}</text>'
                     f'<rect{rect_class} x="{name_w}" y="{y0 + 2}" width="{bar_w * min(share, 1):.1f}" '
                     f'height="{row_h - 6}" fill="{colour}"><title>{escape(name)}: {tooltip}</title></rect>')
        if target is not None:
            tick = name_w + bar_w * min(target, 1)
            parts.append(f'<line x1="{tick:.1f}" x2="{tick:.1f}" y1="{y0}" y2="{y0 + row_h - 2}" '
                         f'stroke="#000" stroke-width="2"/>')
        parts.append(f'<text x="{name_w + bar_w + 4}" y="{y0 + 12}" font-size="11">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(rows: pd.DataFrame, width: int = 460) -> str:
    """Ranked agencies: a bar per value, a tick at its target, green when met, red when not."""
    return _bars("ranking", [
        (r.rank_in_peers, r.agency_name, r.value, GOOD if bool(r.meets_target) else BAD,
         f"{_pct(r.value)} / chỉ tiêu {_pct(r.target)} ({int(r.numerator)}/{int(r.denominator)})", _pct(r.value),
         r.target) for r in rows.itertuples(index=False)], width, label_w=60)


def heat_map(data: ReportData, figures: pd.DataFrame) -> str:
    """Agencies (departments, then districts) x indicators, each cell coloured by its gap to target."""
    codes = list(data.indicators["indicator_code"])
    agencies = pd.concat([data.ordered_agencies(g) for g, _l, _t in GROUPS])
    cell_w, cell_h, name_w, head_h = 44, 18, 230, 22
    width, height = name_w + cell_w * len(codes) + 4, head_h + cell_h * len(agencies) + 4
    index = {(r.agency_code, r.indicator_code): r for r in figures.itertuples(index=False)}
    parts = [f'<svg class="chart heatmap" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">']
    for j in range(len(codes)):
        parts.append(f'<text x="{name_w + j * cell_w + cell_w / 2}" y="15" font-size="11" text-anchor="middle" '
                     f'font-weight="bold">{j + 1}</text>')
    for i, a in enumerate(agencies.itertuples(index=False)):
        y0 = head_h + i * cell_h
        parts.append(f'<text x="{name_w - 6}" y="{y0 + 13}" font-size="11" text-anchor="end">'
                     f'{escape(a.name[:36])}</text>')
        for j, code in enumerate(codes):
            r = index.get((a.agency_code, code))
            value, target = (None, None) if r is None else (r.value, r.target)
            tip = (f"{a.name} — {data.indicators['name_vi'].iloc[j]}: {_pct(value)}"
                   + ("" if target is None or pd.isna(target) else f" / chỉ tiêu {_pct(target)}")
                   + ("" if r is None else f" ({int(r.numerator)}/{int(r.denominator)})"))
            label = "" if value is None or pd.isna(value) else f"{100 * value:.0f}"
            parts.append(f'<rect class="cell" x="{name_w + j * cell_w}" y="{y0}" width="{cell_w - 1}" '
                         f'height="{cell_h - 1}" fill="{gap_colour(value, target)}"><title>{escape(tip)}</title></rect>'
                         f'<text x="{name_w + j * cell_w + cell_w / 2}" y="{y0 + 13}" font-size="10" '
                         f'text-anchor="middle">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _legend(data: ReportData) -> str:
    items = "".join(f"<li>{escape(r.name_vi)} <span class='en'>· {escape(r.name_en)}</span></li>"
                    for r in data.indicators.itertuples(index=False))
    return f"<ol class='note'>{items}</ol>"


def _trend_section(data: ReportData) -> str:
    ytd = data.trend[data.trend["period"] == "ytd"]
    cards = []
    for r in data.indicators.itertuples(index=False):
        rows = ytd[ytd["indicator_code"] == r.indicator_code]
        points = list(zip(rows["snapshot_date"], rows["value"], strict=True))
        target = rows["target"].iloc[-1] if len(rows) else None
        last = rows["value"].iloc[-1] if len(rows) else None
        cards.append(f"<div class='card'><h3>{escape(r.name_vi)}<br><span class='en'>{escape(r.name_en)}</span></h3>"
                     f"{line_chart(points, target, data.day)}"
                     f"<div class='note'>{data.day:%d/%m/%Y}: <b>{_pct(last)}</b>"
                     f"{'' if target is None or pd.isna(target) else f' · chỉ tiêu {_pct(target)}'}</div></div>")
    return ("<h2 id='trend'>Diễn biến toàn tỉnh so với chỉ tiêu <span class='en'>· Province trend against target "
            "(year to date, day by day)</span></h2><div class='grid'>" + "".join(cards) + "</div>")


def _ranking_section(data: ReportData, figures: pd.DataFrame) -> str:
    rankable = figures["rankable"].fillna(False).astype(bool)
    ranked = figures[rankable & figures["value"].notna() & figures["target"].notna()]
    # split once by (indicator, peer group): a boolean filter of every figure per chart is most of the page's cost
    peers_of = dict(iter(ranked.groupby(["indicator_code", "peer_group"], sort=False)))
    small_of = figures[~rankable].groupby(["indicator_code", "peer_group"], sort=False).size().to_dict()
    blocks = []
    for r in data.indicators.itertuples(index=False):
        cols = []
        for group, _label, title in GROUPS:
            peers = peers_of.get((r.indicator_code, group), ranked.iloc[:0])
            peers = peers.assign(gap=peers["value"] - peers["target"]).sort_values(["gap", "agency_code"],
                                                                                    ascending=[False, True])
            peers = peers.assign(rank_in_peers=peers["gap"].rank(method="min", ascending=False))
            small = small_of.get((r.indicator_code, group), 0)
            body = bar_chart(peers) if len(peers) else "<p class='note'>Không có đơn vị đủ điều kiện xếp hạng.</p>"
            english = "departments" if group == "department" else "districts"
            cols.append(f"<div><h4>{escape(title)} <span class='en'>· {english}"
                        f"</span></h4>{body}<p class='note'>{small} đơn vị có mẫu số dưới "
                        f"{data.min_denominator:g} không xếp hạng.</p></div>")
        if any("<svg" in c for c in cols):
            blocks.append(f"<details class='rank'{' open' if not blocks else ''} data-indicator='{r.indicator_code}'>"
                          f"<summary>{escape(r.name_vi)} "
                          f"<span class='en'>· {escape(r.name_en)}</span></summary><div class='two'>"
                          + "".join(cols) + "</div></details>")
    return ("<h2 id='ranking'>Xếp hạng so với chỉ tiêu: sở, ban, ngành và huyện xếp riêng "
            "<span class='en'>· Ranking against target, departments and districts apart</span></h2>"
            f"<p class='note'>Chỉ xếp hạng đơn vị có chỉ tiêu và mẫu số từ {data.min_denominator:g} trở lên "
            "(hồ sơ hoặc dịch vụ); vạch đen là chỉ tiêu.</p>" + "".join(blocks))


def _drill_section(data: ReportData, figures: pd.DataFrame) -> str:
    codes = list(data.indicators["indicator_code"])
    index = {(r.agency_code, r.indicator_code): r for r in figures.itertuples(index=False)}

    def row(code: str, name: str, cls: str = "") -> str:
        cells = []
        for ind in codes:
            r = index.get((code, ind))
            value, target = (None, None) if r is None else (r.value, r.target)
            tip = "" if r is None else f"{int(r.numerator)}/{int(r.denominator)}"
            cells.append(f"<td style='background:{gap_colour(value, target)}' title='{tip}'>{_pct(value)}</td>")
        return f"<tr class='{cls}'><td class='name'>{escape(name)}</td>{''.join(cells)}</tr>"

    head = "<tr><th class='name'>Đơn vị</th>" + "".join(f"<th>{i}</th>" for i in range(1, len(codes) + 1)) + "</tr>"
    root = data.agencies[data.agencies["peer_group"] == "province"]
    province = "".join(row(a.agency_code, a.name, "province") for a in root.itertuples(index=False))
    districts = []
    for d in data.ordered_agencies("district").itertuples(index=False):
        communes = "".join(row(c.agency_code, c.name, "commune") for c in data.communes_of(d.agency_code).itertuples(
            index=False))
        districts.append(f"<details class='district' id='d-{escape(d.agency_code)}'><summary>{escape(d.name)}</summary>"
                         f"<table>{head}{row(d.agency_code, d.name + ' (gồm các xã)', 'district')}{communes}</table>"
                         "</details>")
    links = " · ".join(f"<a href='#d-{escape(d.agency_code)}'>{escape(d.name)}</a>"
                       for d in data.ordered_agencies("district").itertuples(index=False))
    return ("<h2 id='drill'>Từ tỉnh đến huyện và xã <span class='en'>· Drill down: province, district, communes"
            f"</span></h2><table>{head}{province}</table><p class='note'>{links}</p>" + "".join(districts))


def _explain_table(drill) -> str:
    """The figure's items out of the numerator (the late dossiers, the ones not filed online, the services
    without an online dossier...), the first ROWS_SHOWN, with etl.explain's columns and labels."""
    from etl.explain import cell_text, is_out

    columns = [c for c in drill.columns() if c not in ("in_num", "counted_for")]
    headings = dict(zip(drill.columns(), drill.headings(), strict=True))
    shown = [r for r in drill.rows if is_out(r)][:drilldown.ROWS_SHOWN]
    head = "<tr>" + "".join(f"<th class='name'>{escape(headings[c])}</th>" for c in columns) + "</tr>"
    body = "".join("<tr class='item'>" + "".join(f"<td class='name'>{escape(cell_text(c, r[c]))}</td>"
                                                 for c in columns) + "</tr>" for r in shown)
    more = (f"<p class='note'>… và {drill.out - len(shown)} mục khác trong tệp CSV.</p>"
            if drill.out > len(shown) else "")
    return (f"<table class='explain' data-agency='{escape(drill.agency)}' data-indicator='{drill.indicator}' "
            f"data-out='{drill.out}'>{head}{body}</table>{more}")


def _explain_section(data: ReportData) -> str:
    figures = data.figures(data.period)
    folder = report_paths(Path("."), data.day, data.period)["csv"].name
    blocks = []
    for ind in data.indicators.itertuples(index=False):
        drills = [d for d in data.drilldowns if d.indicator == ind.indicator_code]
        if not drills:
            continue
        parts = []
        for d in drills:
            fig = data.cell(data.period, d.agency, d.indicator)
            unit = "dịch vụ" if d.kind == "service" else "giao dịch" if d.kind == "transaction" else "hồ sơ"
            parts.append(f"<h4>{escape(d.agency_name)}: {_pct(fig.value)} <span class='note'>(chỉ tiêu "
                         f"{_pct(fig.target)}; {d.numerator}/{d.denominator}; {d.denominator - d.numerator} {unit} "
                         f"không tính vào tử số) · <a href='{folder}/{drilldown.csv_name(d)}'>CSV đầy đủ "
                         f"({d.items} dòng)</a></span></h4>{_explain_table(d)}")
        blocks.append(f"<details class='explain' data-indicator='{ind.indicator_code}'><summary>"
                      f"{escape(ind.name_vi)} <span class='en'>· {escape(ind.name_en)}</span>: {len(drills)} đơn vị"
                      "</summary>" + "".join(parts) + "</details>")
    missed = int((figures["meets_target"].astype(object).eq(False)
                  & figures["peer_group"].isin(drilldown.GROUPS)).sum())
    return ("<h2 id='explain'>Hồ sơ sau các chỉ số chưa đạt chỉ tiêu <span class='en'>· The dossiers behind the "
            "figures that miss their target</span></h2>"
            f"<p class='note'>{missed} chỉ số của sở, ban, ngành và huyện chưa đạt chỉ tiêu; mỗi chỉ số liệt kê tối "
            f"đa {drilldown.PER_INDICATOR} đơn vị kém nhất (đủ mẫu số xếp hạng trước, rồi chênh lệch lớn nhất), mỗi "
            f"đơn vị {drilldown.ROWS_SHOWN} mục đầu không tính vào tử số; tệp CSV có mọi mục của mẫu số "
            "(python -m etl explain). Không có dữ liệu cá nhân.</p>"
            + ("".join(blocks) or "<p class='note'>Không có đơn vị nào chưa đạt chỉ tiêu.</p>"))


def score_chart(rows: pd.DataFrame, width: int = 460) -> str:
    """Peers' 0-100 scores, best first, a bar each on a 0-100 scale."""
    return _bars("score", [
        (r.rank, r.agency_name, r.score / 100, "#0b4f8a", f"{r.score:.2f} điểm ({r.points:g}/{r.points_max:g})",
         f"{r.score:.1f}", None) for r in rows.itertuples(index=False)], width, label_w=50, rect_class=' class="bar"')


def _score_section(data: ReportData) -> str:
    province = data.ranked_scores("province")
    lead = ""
    if len(province):
        p = province.iloc[0]
        lead = (f"<p class='score-province'>{escape(p['agency_name'])}: <b>{p['score']:.2f}</b> / 100 "
                f"<span class='note'>({p['points']:g} trên {p['points_max']:g} điểm tính được; "
                f"{p['points_not_computable']:g} điểm không tính được từ nguồn dữ liệu, gồm cả mức độ hài lòng)"
                "</span></p>")
    cols = []
    for group, _label, title in GROUPS:
        peers = data.ranked_scores(group)
        body = score_chart(peers) if len(peers) else "<p class='note'>Không có đơn vị.</p>"
        cols.append(f"<div><h4>{escape(title)} <span class='en'>· "
                    f"{'departments' if group == 'department' else 'districts'}</span></h4>{body}</div>")
    return ("<h2 id='score'>Điểm đánh giá 0–100 theo cách chấm của Cổng Dịch vụ công quốc gia <span class='en'>· "
            f"Score 0–100, the national portal's scheme ({PERIOD_LABEL_EN[data.period]})</span></h2>{lead}"
            "<p class='note'>Điểm = 100 × điểm đạt / tổng điểm tối đa của các tiêu chí tính được; sở, ban, ngành và "
            "huyện xếp riêng.</p><div class='two'>" + "".join(cols) + "</div>")


TRAJECTORY_STATUS = {  # status -> cell colour, in the order shown
    "đã chắc chắn đạt": "#cdebd3", "đang đạt": "#cdebd3", "đúng tiến độ": "#e3f2e6", "cần tăng tốc": "#fff1c2",
    "cần bổ sung": "#fff1c2", "không thể đạt": "#f6cccc", "chưa có số liệu": "#e4e7eb"}


def _trajectory_rows(frame: pd.DataFrame, with_agency: bool) -> str:
    rows = []
    for r in frame.itertuples(index=False):
        agency = f"<td class='name'>{escape(r.agency_name)}</td>" if with_agency else ""
        rows.append(f"<tr>{agency}<td class='name'>{escape(r.indicator_name_vi)}</td><td>{_pct(r.value)}</td>"
                    f"<td>{_pct(r.target)}</td><td>{_pct(r.needed_rate)}</td>"
                    f"<td class='status' style='background:{TRAJECTORY_STATUS.get(r.status_vi, '#fff')}'>"
                    f"{escape(r.status_vi)}</td><td class='name'>{_text(r.explanation_vi)}</td></tr>")
    head = ("<tr>" + ("<th class='name'>Đơn vị</th>" if with_agency else "") + "<th class='name'>Chỉ số</th>"
            "<th>Đến nay</th><th>Chỉ tiêu năm</th><th>Cần đạt từ nay</th><th>Đánh giá</th>"
            "<th class='name'>Giải thích</th></tr>")
    return f"<table class='trajectory'>{head}{''.join(rows)}</table>"


def _trajectory_section(data: ReportData) -> str:
    road = data.trajectory
    province = road[road["peer_group"] == "province"].sort_values("indicator_order")
    statuses = list(TRAJECTORY_STATUS)
    summary = ["<tr><th class='name'>Nhóm đơn vị</th>" + "".join(
        f"<th style='background:{TRAJECTORY_STATUS[s]}'>{escape(s)}</th>" for s in statuses) + "</tr>"]
    lists = []
    for group, _label, title in [*GROUPS, COMMUNES]:
        peers = road[road["peer_group"] == group]
        counts = peers["status_vi"].value_counts()
        summary.append(f"<tr data-group='{group}'><td class='name'>{escape(title)}</td>"
                       + "".join(f"<td>{int(counts.get(s, 0))}</td>" for s in statuses) + "</tr>")
        behind = peers[~peers["status_vi"].isin(["đã chắc chắn đạt", "đang đạt", "đúng tiến độ"])]
        if group != COMMUNES[0] and len(behind):
            lists.append(f"<details><summary>{escape(title)}: {len(behind)} chỉ số cần tăng tốc, cần bổ sung hoặc "
                         f"không thể đạt</summary>{_trajectory_rows(behind, True)}</details>")
    return ("<h2 id='trajectory'>Lộ trình đạt chỉ tiêu năm <span class='en'>· Road to the year target</span></h2>"
            f"<p class='note'>Dự kiến đến ngày 31/12/{data.day.year} theo nhịp độ hiện nay; \"cần đạt từ nay\" "
            "là tỷ lệ phải đạt trên số hồ sơ (dịch vụ) còn lại của năm.</p>" + _trajectory_rows(province, False)
            + "<h4>Số chỉ số theo đánh giá <span class='en'>· agency × indicator by status</span></h4>"
            f"<table class='trajectory-summary'>{''.join(summary)}</table>" + "".join(lists))


def render(data: ReportData) -> str:
    figures = data.figures(data.period)
    period = f"{PERIOD_LABEL[data.period]} ({period_text(data.day, data.period)})"
    fresh = "; ".join(f"{r.source}.{r.entity}: {r.loaded_until if pd.notna(r.loaded_until) else '–'}"
                      for r in data.freshness.itertuples(index=False) if pd.notna(r.loaded_until))
    body = [
        "<header><h1>Chỉ số dịch vụ công trực tuyến — " + escape(data.province_name) + "</h1>",
        f"<p>Ngày báo cáo {data.day:%d/%m/%Y} · {escape(period)} <span class='en'>· {PERIOD_LABEL_EN[data.period]}"
        "</span></p><nav><a href='#trend'>Diễn biến</a><a href='#ranking'>Xếp hạng</a><a href='#heatmap'>Bản đồ nhiệt"
        "</a><a href='#drill'>Huyện, xã</a><a href='#explain'>Hồ sơ chưa đạt</a><a href='#score'>Điểm 0–100</a>"
        "<a href='#trajectory'>Lộ trình</a>"
        "</nav></header><main>",
        _trend_section(data),
        _ranking_section(data, figures),
        "<h2 id='heatmap'>Bản đồ nhiệt: chênh lệch so với chỉ tiêu <span class='en'>· Heat map: gap to target"
        "</span></h2><p class='legend'><span style='background:" + gap_colour(1, 0.7) + "'>vượt chỉ tiêu</span>"
        "<span style='background:" + gap_colour(0.4, 0.7) + "'>chưa đạt</span><span style='background:#e4e7eb'>"
        "không có chỉ tiêu</span><span style='background:#fff;border:1px solid #ccc'>không phát sinh</span> "
        "(số trong ô: tỷ lệ %)</p>" + heat_map(data, figures) + _legend(data),
        _drill_section(data, figures),
        _explain_section(data),
        _score_section(data),
        _trajectory_section(data),
        f"<p class='note'>Lập lúc {data.generated_at:%H:%M %d/%m/%Y} từ mart.indicator_snapshot. "
        f"Dữ liệu đã tải đến: {escape(fresh)}.</p></main>",
    ]
    return ("<!DOCTYPE html><html lang='vi'><head><meta charset='utf-8'>"
            f"<title>Chỉ số DVCTT {data.day:%d/%m/%Y}</title><style>{CSS}</style></head><body>"
            + "".join(body) + "</body></html>")


def write_dashboard(data: ReportData, path: Path) -> Path:
    with replacing(path) as tmp:
        tmp.write_text(render(data), encoding="utf-8")
    return path
