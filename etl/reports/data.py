"""What the workbook and the dashboard show, read once from the warehouse (mart views and the SQL
files in sql/reports/), with the Vietnamese labels both use."""
from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from etl.warehouse import SQL_DIR, Warehouse, query_frame, sql_file

PERIODS = ["day", "mtd", "qtd", "ytd"]
PERIOD_LABEL = {"day": "Trong ngày", "mtd": "Lũy kế tháng", "qtd": "Lũy kế quý", "ytd": "Lũy kế năm"}
PERIOD_LABEL_EN = {"day": "day", "mtd": "month to date", "qtd": "quarter to date", "ytd": "year to date"}
GROUPS = [("department", "sở-ngành", "Các sở, ban, ngành"),
          ("district", "huyện", "UBND các huyện, thị xã, thành phố")]
COMMUNES = ("commune", "xã", "UBND các xã, phường, thị trấn")


def period_start(day: date, period: str) -> date:
    if period == "day":
        return day
    if period == "mtd":
        return day.replace(day=1)
    if period == "qtd":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def period_text(day: date, period: str) -> str:
    """'Từ ngày 01/01/2022 đến ngày 31/01/2022' (the seeds' wording for a reporting window)."""
    if period == "day":
        return f"Ngày {day:%d/%m/%Y}"
    return f"Từ ngày {period_start(day, period):%d/%m/%Y} đến ngày {day:%d/%m/%Y}"


@functools.cache  # the same few hundred names, sorted again and again
def name_key(name: str) -> str:
    """Sort key close to Vietnamese alphabetical order (letters before their accented forms)."""
    base = unicodedata.normalize("NFD", name.replace("Đ", "Dz").replace("đ", "dz"))
    return "".join(ch for ch in base if not unicodedata.combining(ch)).casefold() + "\0" + name


def sort_rows(frame: pd.DataFrame, columns: list[str], key) -> pd.DataFrame:
    """The frame's rows ordered by key(*that row's values of `columns`): a Python sort, for the
    Vietnamese name order, over plain lists (not a pandas lookup per comparison)."""
    values = list(zip(*(frame[c].tolist() for c in columns), strict=True))
    return frame.iloc[sorted(range(len(frame)), key=lambda i: key(*values[i]))]


@dataclass
class DecisionTable:
    """The per-agency targets one document sets (e.g. the Lào Cai 2022 decision), in its order."""
    source: str
    year: int
    indicators: list[str]
    rows: pd.DataFrame  # tt, scope, agency_code, group; in the document's order


@dataclass
class ReportData:
    day: date
    period: str
    province: str
    province_name: str
    min_denominator: float
    snapshot: pd.DataFrame      # every agency x indicator x period of the day (mart.snapshot_detail)
    indicators: pd.DataFrame    # mart.indicator in display order
    agencies: pd.DataFrame      # agencies with a snapshot that day
    trend: pd.DataFrame         # the province's ytd and mtd figures from 1 January
    targets: pd.DataFrame       # mart.target of the province
    decisions: list[DecisionTable]
    eligible: pd.DataFrame      # procedures eligible to be full-online
    procedures: pd.DataFrame
    freshness: pd.DataFrame
    scores: pd.DataFrame        # mart.agency_score of the day and period
    score_groups: pd.DataFrame  # the score's groups (mart.score_criterion): code, names, maximum, computable
    trajectory: pd.DataFrame    # mart.target_trajectory of the day (year targets, from the ytd figures)
    generated_at: datetime
    drilldowns: list = field(default_factory=list)  # etl.explain.Drilldown of the figures that miss their target
    # per service and level, dossiers received from 1 January (received_per_service): the workbook's only, asked
    # for while the drill-down runs
    received: pd.DataFrame | None = None

    def figures(self, period: str) -> pd.DataFrame:
        return self.snapshot[self.snapshot["period"] == period]

    def cell(self, period: str, agency_code: str, indicator_code: str):
        """The snapshot row (a namedtuple) of one figure, or None."""
        return self._index.get((period, agency_code, indicator_code))

    def __post_init__(self) -> None:
        self._index = {(r.period, r.agency_code, r.indicator_code): r
                       for r in self.snapshot.itertuples(index=False)}

    def ordered_agencies(self, peer_group: str) -> pd.DataFrame:
        frame = self.agencies[self.agencies["peer_group"] == peer_group]
        return sort_rows(frame, ["name"], name_key)

    def ranked_scores(self, peer_group: str) -> pd.DataFrame:
        """The peer group's 0-100 scores, best first, with their rank among peers (ties share one)."""
        frame = self.scores[(self.scores["peer_group"] == peer_group) & self.scores["score"].notna()]
        frame = sort_rows(frame, ["score", "agency_name"], lambda score, name: (-score, name_key(name)))
        return frame.assign(rank=frame["score"].rank(method="min", ascending=False).astype(int))

    def communes_of(self, district_code: str) -> pd.DataFrame:
        frame = self.agencies[(self.agencies["parent_code"] == district_code)]
        return sort_rows(frame, ["name"], name_key)


# The dossiers of sql/reports/received_ytd.sql counted per service in the database: the report lists
# services, and a year's dossiers need not travel to Python for that.
RECEIVED_PER_SERVICE = """
SELECT agency_code, procedure_code, service_level, COUNT(*) AS dossiers,
       SUM(CASE WHEN channel = 2 THEN 1 ELSE 0 END) AS online,
       SUM(CASE WHEN channel = 3 OR collected = 1 THEN 1 ELSE 0 END) AS by_post,
       SUM(CASE WHEN result_channel = 3 OR delivered = 1 THEN 1 ELSE 0 END) AS result_by_post
FROM ({received}
) r
GROUP BY agency_code, procedure_code, service_level"""


def decision_tables(targets: pd.DataFrame, province: str, year: int) -> list[DecisionTable]:
    """The documents that set targets agency by agency for the province, the most recent year <= year,
    with their agencies and indicators in the order of sql/seeds/targets.csv (the documents' order)."""
    seed = pd.read_csv(SQL_DIR / "seeds" / "targets.csv", dtype=str, keep_default_na=False)
    named = seed[(seed["province"] == province) & (seed["scope"] != "all") & ~seed["scope"].str.startswith("level:")
                 & (seed["year"].astype(int) <= year)]
    if named.empty:
        return []
    latest = named[named["year"].astype(int) == named["year"].astype(int).max()]
    codes = {(r.scope, r.year): r.agency_code for r in targets.itertuples(index=False)}
    levels = dict(zip(targets["agency_code"], targets["agency_level"], strict=True))
    out = []
    for source, rows in latest.groupby("source", sort=False):
        scopes = list(dict.fromkeys(rows["scope"]))
        y = int(rows["year"].iloc[0])
        table = pd.DataFrame({"tt": range(1, len(scopes) + 1), "scope": scopes})
        table["agency_code"] = [codes.get((s, y)) for s in scopes]
        table["group"] = ["district" if levels.get(c) == 2 or s.startswith("UBND") else "department"
                          for s, c in zip(scopes, table["agency_code"], strict=True)]
        out.append(DecisionTable(source, y, list(dict.fromkeys(rows["indicator_code"])), table))
    return out


def received_per_service(wh: Warehouse, day: date) -> pd.DataFrame:
    """ReportData.received: a count of the year's dossiers (20-27 s at the end of a year of 15 million)."""
    year_start = datetime.combine(day.replace(month=1, day=1), datetime.min.time())
    with wh.begin() as conn:
        return query_frame(conn, RECEIVED_PER_SERVICE.format(received=sql_file("reports/received_ytd.sql").rstrip()
                                                             .rstrip(";")),
                           {"day": day, "year_start": year_start,
                            "next_day": datetime.combine(day + timedelta(days=1), datetime.min.time())})


def load(wh: Warehouse, day: date, period: str, province: str) -> ReportData:
    year_start = day.replace(month=1, day=1)
    with wh.begin() as conn:
        snapshot = query_frame(conn, sql_file("reports/snapshot.sql"), {"day": day})
        if snapshot.empty:
            raise LookupError(f"no snapshot for {day} in {wh}: publish it first (python -m etl run --date {day}) "
                              f"or pick a published date (SELECT max(snapshot_date) FROM mart.indicator_snapshot)")
        indicators = query_frame(conn, "SELECT indicator_code, name_vi, name_en, display_order FROM mart.indicator "
                                       "ORDER BY display_order, indicator_code")
        agencies = query_frame(conn, "SELECT agency_code, name, level, parent_code, level_label, peer_group "
                                     "FROM mart.agency")
        trend = query_frame(conn, sql_file("reports/trend.sql"), {"day": day, "year_start_date": year_start})
        targets = query_frame(conn, "SELECT t.*, a.level AS agency_level FROM mart.target t "
                                    "LEFT JOIN mart.agency a ON a.agency_code = t.agency_code "
                                    "WHERE t.province = :p", {"p": province})
        eligible = query_frame(conn, sql_file("reports/eligible_procedures.sql"), {"day": day})
        procedures = query_frame(conn, "SELECT procedure_code, name, field_name FROM core.procedure")
        freshness = query_frame(conn, "SELECT * FROM mart.data_freshness ORDER BY source, entity")
        scores = query_frame(conn, "SELECT * FROM mart.agency_score WHERE snapshot_date = :day AND period = :period",
                             {"day": day, "period": period})
        score_groups = query_frame(conn, "SELECT group_code, group_order, group_name_vi, group_name_en, "
                                         "MAX(group_max) AS group_max, COUNT(indicator_code) AS computable "
                                         "FROM mart.score_criterion GROUP BY group_code, group_order, group_name_vi, "
                                         "group_name_en ORDER BY group_order")
        trajectory = query_frame(conn, "SELECT * FROM mart.target_trajectory WHERE snapshot_date = :day "
                                       "ORDER BY agency_code, indicator_order", {"day": day})
        setting = conn.execute(sa.text(
            "SELECT value FROM mart.report_setting WHERE name = 'min_denominator'")).scalar()
    agencies = agencies[agencies["agency_code"].isin(set(snapshot["agency_code"]))].reset_index(drop=True)
    root = agencies[agencies["peer_group"] == "province"]
    return ReportData(
        day=day, period=period, province=province,
        province_name=root["name"].iloc[0] if len(root) else province,
        min_denominator=float(setting if setting is not None else 0),
        snapshot=snapshot, indicators=indicators.reset_index(drop=True), agencies=agencies, trend=trend,
        targets=targets, decisions=decision_tables(targets, province, day.year),
        eligible=eligible, procedures=procedures, freshness=freshness, scores=scores, score_groups=score_groups,
        trajectory=trajectory, generated_at=datetime.now().replace(microsecond=0))
