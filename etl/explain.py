"""The drill-down behind a figure: for one row of mart.indicator_snapshot (date, period, agency,
indicator), the dossiers in its denominator -- payment transactions for
online_payment_transaction_rate, services (agency x procedure) for the service-level indicators --
whether each is in the numerator, and the fields that decided it. No personal data.

It recomputes the date from the warehouse, in SQL (sql/explain/): indicators.prepare (sql/indicators/) for that
single date builds the same working tables the measures read, one file per indicator
(sql/explain/<kind>/<indicator>.sql) lists the items of those tables with the measure's
conditions, and scope.sql applies the same agency mapping, roll-up and period windows as
aggregate.sql. So the items add up to the published numerator and denominator; `explain` checks it.
list_<kind>.sql keeps the listed figures' items in a working table, from which they are read into Python
(a table on screen, the items a page shows) or written as CSV by the database (write_csvs).
"""
from __future__ import annotations

import csv
import itertools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from etl import indicators
from etl.reports.data import PERIOD_LABEL, PERIOD_LABEL_EN, period_text
from etl.warehouse import SQL_DIR, Warehouse, copy_csv, execute_named, split_statements, sql_file

log = logging.getLogger(__name__)
EXPLAIN_DIR = SQL_DIR / "explain"
KINDS = ("dossier", "transaction", "service")
WORK_TABLES = ("exp_item", "exp_service_dossier")
# Listing rows fetched and handled at a time, when a listing is read into Python (`explain` as a table,
# the items a page shows): at the year's end, at 1 million dossiers a year, a report lists ~670,000 rows
# (~1 GB as Python dicts). Its CSVs are written by the database.
CHUNK = 20_000
# What list_<kind>.sql fills: the listed figures' items, numbered in their order by `seq`.
LISTED = "exp_listed_{kind}"

# What each indicator's listing shows after the columns every listing has (COMMON).
COMMON = ("in_num", "basis", "counted_for", "counted_for_name", "agency_code", "item_code")
_DOSSIER = ("procedure_code", "status", "received_at")
_SERVICE = ("procedure_name",)
FIELDS = {
    "online_dossier_rate": _DOSSIER + ("channel",),
    "online_dossier_full_online_rate": _DOSSIER + ("channel",),
    "digitized_dossier_rate": _DOSSIER + ("channel", "has_digitized_components"),
    "bcci_receive_rate": _DOSSIER + ("channel", "post_collect_at"),
    "online_payment_dossier_rate": _DOSSIER + ("channel", "fee_amount", "paid_online", "paid_online_at"),
    "national_portal_sync_rate": _DOSSIER + ("changed_at", "synced_at"),
    "digitized_result_rate": _DOSSIER + ("ended_at", "result_digitized"),
    "online_signed_processing_rate": _DOSSIER + ("ended_at", "digitally_signed"),
    "online_result_return_rate": _DOSSIER + ("ended_at", "result_channel"),
    "bcci_return_rate": _DOSSIER + ("ended_at", "result_channel", "post_deliver_at"),
    "on_time_rate": _DOSSIER + ("due_at", "ended_at", "supplement_count", "supplement_requested_at",
                                "supplement_due_at"),
    "online_payment_transaction_rate": ("dossier_code", "payment_method", "payment_channel", "payment_status",
                                        "transaction_at", "amount"),
    "full_online_service_rate": _SERVICE + ("service_level",),
    "national_portal_integration_rate": _SERVICE + ("service_level", "integrated_from", "integrated_to"),
    "fee_online_payment_enabled_rate": _SERVICE + ("service_level", "online_payment"),
    "service_online_uptake_rate": _SERVICE + ("service_level", "dossiers", "hits"),
    "fee_online_paid_procedure_rate": _SERVICE + ("service_level", "dossiers", "hits"),
    "bcci_procedure_rate": _SERVICE + ("service_level", "bcci", "dossiers", "hits"),
}

# Column headings: Vietnamese first (provincial analysts read them), English second.
LABELS = {
    "in_num": "Tính vào tử số (in numerator)",
    "basis": "Căn cứ (basis)",
    "counted_for": "Tính cho đơn vị (counted for)",
    "counted_for_name": "Tên đơn vị (agency name)",
    "agency_code": "Đơn vị xử lý (agency in the source)",
    "procedure_code": "Mã TTHC (procedure)",
    "status": "Trạng thái (status)",
    "received_at": "Ngày tiếp nhận (received)",
    "channel": "Kênh nộp (channel)",
    "has_digitized_components": "Có thành phần số hóa (digitized components)",
    "post_collect_at": "Đơn thu gom VNPost (collection order)",
    "fee_amount": "Phí, lệ phí (fee, VND)",
    "paid_online": "Cờ thanh toán trực tuyến (paid-online flag)",
    "paid_online_at": "Giao dịch trực tuyến thành công (paid online at)",
    "changed_at": "Cập nhật gần nhất (last change)",
    "synced_at": "Cổng DVCQG chấp nhận (accepted by the national portal)",
    "ended_at": "Kết thúc xử lý (processing ended)",
    "result_digitized": "Kết quả số hóa (result digitized)",
    "digitally_signed": "Ký số (digitally signed)",
    "result_channel": "Hình thức trả kết quả (result returned by)",
    "post_deliver_at": "Đơn phát kết quả VNPost (delivery order)",
    "due_at": "Hạn trả (due)",
    "supplement_count": "Số lần yêu cầu bổ sung (supplement requests)",
    "supplement_requested_at": "Yêu cầu bổ sung lúc (supplement requested)",
    "supplement_due_at": "Hạn trả khi yêu cầu (due when requested)",
    "dossier_code": "Mã hồ sơ (dossier)",
    "payment_method": "Hình thức thanh toán (method)",
    "payment_channel": "Kênh thanh toán (payment channel)",
    "payment_status": "Trạng thái giao dịch (transaction status)",
    "transaction_at": "Thời gian giao dịch (transaction time)",
    "amount": "Số tiền (amount, VND)",
    "procedure_name": "Tên TTHC (procedure name)",
    "service_level": "Mức độ trên D (level on the date)",
    "online_payment": "Có thanh toán trực tuyến (online payment)",
    "bcci": "Có BCCI (postal service)",
    "integrated_from": "Tích hợp từ (integrated from)",
    "integrated_to": "Ngừng tích hợp từ (integrated until)",
    "dossiers": "Số hồ sơ trong kỳ (dossiers in the period)",
}
ITEM_LABEL = {"dossier": "Mã hồ sơ (dossier)", "transaction": "Mã giao dịch (transaction)",
              "service": "Mã TTHC (procedure)"}
HITS_LABEL = {
    "service_online_uptake_rate": "Trong đó nộp trực tuyến (of which online)",
    "fee_online_paid_procedure_rate": "Trong đó thanh toán trực tuyến (of which paid online)",
    "bcci_procedure_rate": "Trong đó qua bưu chính (of which by post)",
}
# The boolean columns, written có / không.
FLAGS = ("has_digitized_components", "result_digitized", "digitally_signed", "online_payment", "bcci")
CODES = {
    "channel": {1: "trực tiếp", 2: "trực tuyến", 3: "bưu chính"},
    "result_channel": {1: "trực tiếp", 2: "trực tuyến", 3: "bưu chính"},
    "status": {1: "mới đăng ký", 2: "đã tiếp nhận", 3: "không tiếp nhận", 4: "đang xử lý", 5: "chờ bổ sung",
               6: "chờ thanh toán", 7: "rút hồ sơ", 8: "dừng xử lý", 9: "đã xử lý xong", 10: "đã trả kết quả"},
    "paid_online": {0: "không", 1: "Cổng DVCQG", 2: "cổng tỉnh"},
    "payment_method": {1: "trực tiếp", 2: "trực tuyến"},
    "payment_status": {"paid": "đã thanh toán", "refunded": "đã hoàn phí"},
    "service_level": {"full_online": "toàn trình", "partial_online": "một phần", "offline": "trực tiếp"},
}


class ExplainError(ValueError):
    """The drill-down cannot be given as asked (one line that says what to change)."""


def indicator_kinds() -> dict[str, str]:
    """indicator code -> kind (dossier, transaction, service): the directory of its file in sql/explain/."""
    return {p.stem: kind for kind in KINDS for p in sorted((EXPLAIN_DIR / kind).glob("*.sql"))}


def prepare(wh: Warehouse, conn: Connection, day: date, province: str, codes: list[str] | None = None,
            agency: str | None = None, period: str | None = None,
            figures: list[tuple[str, str]] | None = None) -> None:
    """Fill the working tables of the drill-down of `day` in `conn` (a transaction that writes nothing
    but temporary tables): the items of `codes` (default: all), for `agency` and `period` (default: all),
    and only those of the (agency, indicator) `figures` when given (default: all): then only the dossiers of
    their agencies are read."""
    kinds = indicator_kinds()
    codes = codes or sorted(kinds)
    params = indicators.range_params(day, day, province)
    wh.run_script(conn, "explain/wanted.sql")
    if figures:
        _want(conn, figures)
    # only the figures' agencies' dossiers, and the working tables of their indicators
    indicators.prepare(wh, conn, params, scope="explain/agencies.sql", codes=codes)
    wh.run_script(conn, "explain/prepare.sql", params)
    for code in codes:
        wh.run_script(conn, f"explain/{kinds[code]}/{code}.sql", {**params, "indicator_code": code})
    wh.analyze(conn, *WORK_TABLES)
    wh.run_script(conn, "explain/scope.sql", {**params, "agency": agency, "period": period}, analyze=True)


@dataclass
class Piece:
    """Consecutive rows of a query, column by column: a listing read into Python is read a column at a
    time (making a dict of each of a year's ~670,000 rows took more time than handling them)."""
    columns: dict[str, Sequence]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()), ()))

    def rows(self) -> list[dict]:
        return [{name: values[i] for name, values in self.columns.items()} for i in range(len(self))]


def _query(conn: Connection, relpath: str, params: dict | None = None, kind: str | None = None) -> list[dict]:
    """The rows of a file holding one SELECT, as dicts."""
    return [row for piece in _pieces(conn, _statement(relpath, kind), params) for row in piece.rows()]


def _statement(relpath: str, kind: str | None = None) -> str:
    """The one statement of a file; with `kind`, the file reads that kind's listing, named {listed} in
    it (a table name cannot be a bind parameter); any other brace in the file is SQL's."""
    text = sql_file(relpath)
    (stmt,) = split_statements(text.replace("{listed}", LISTED.format(kind=kind)) if kind else text)
    return stmt


def _pieces(conn: Connection, stmt: str, params: dict | None = None) -> Iterator[Piece]:
    """The rows of one SELECT, CHUNK at a time (a server-side cursor on PostgreSQL)."""
    result = execute_named(conn, stmt, params, stream=True)
    keys = list(result.keys())
    while rows := result.fetchmany(CHUNK):
        yield Piece(dict(zip(keys, zip(*rows, strict=True), strict=True)))


def totals(conn: Connection) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(agency, period, indicator) -> (numerator, denominator) summed over the prepared items."""
    return {(r["agency_code"], r["period"], r["indicator_code"]): (int(r["numerator"]), int(r["denominator"]))
            for r in _query(conn, "explain/totals.sql")}


def listings(conn: Connection, day: date, period: str,
             figures: list[tuple[str, str]]) -> dict[tuple[str, str], list[dict]]:
    """(agency, indicator) -> the prepared items of that snapshot row of `period`, each a dict of the
    columns of list_<kind>.sql: one query per kind for all the figures."""
    found: dict[tuple[str, str], list[dict]] = {(agency, indicator): [] for agency, indicator in figures}
    for figure, piece in stream_listings(conn, day, period, figures):
        found[figure].extend(piece.rows())
    return found


def stream_listings(conn: Connection, day: date, period: str,
                    figures: list[tuple[str, str]]) -> Iterator[tuple[tuple[str, str], Piece]]:
    """listings() a piece at a time: ((agency, indicator), some of its items), at most CHUNK items at once,
    without the columns that name the figure. A figure's pieces come one after another, in the order of
    its listing; a figure without items yields nothing."""
    numbered = _want(conn, figures)
    for kind in _list(conn, day, period, figures):
        for piece in _pieces(conn, _statement("explain/listed.sql", kind)):
            yield from _by_figure(piece, numbered)


def _by_figure(piece: Piece, numbered: dict[int, tuple[str, str]]) -> Iterator[tuple[tuple[str, str], Piece]]:
    """A piece of exp_listed_<kind> (in `seq` order) cut into its figures' parts, each with the columns its
    indicator shows (Drilldown.columns) and in_den: a kind's listing has the columns of all its indicators, and
    those another indicator shows are prepared only for that one (versions.sql's want_<indicator>)."""
    start = 0
    for number, items in itertools.groupby(piece.columns["figure"]):
        stop = start + sum(1 for _ in items)
        agency, indicator = numbered[number]
        shown = {*COMMON, *FIELDS[indicator], "in_den"}
        yield (agency, indicator), Piece({c: v[start:stop] for c, v in piece.columns.items() if c in shown})
        start = stop


def _list(conn: Connection, day: date, period: str, figures: list[tuple[str, str]]) -> list[str]:
    """Fill exp_listed_<kind> (sql/explain/list_<kind>.sql) for each kind of the figures in exp_wanted;
    returns those kinds."""
    kinds = indicator_kinds()
    listed = sorted({kinds[indicator] for _agency, indicator in figures})
    for kind in listed:
        for stmt in split_statements(sql_file(f"explain/list_{kind}.sql")):
            execute_named(conn, stmt, {"period": period, "range_end": day})
        Warehouse.analyze(conn, LISTED.format(kind=kind))
    return listed


def _want(conn: Connection, figures: list[tuple[str, str]]) -> dict[int, tuple[str, str]]:
    """exp_wanted: the (agency, indicator) figures to list, numbered; returns them by number."""
    kinds = indicator_kinds()
    numbered = dict(enumerate(dict.fromkeys(figures)))
    conn.execute(sa.text("DELETE FROM exp_wanted"))
    conn.execute(sa.text("INSERT INTO exp_wanted (kind, indicator_code, ancestor_code, figure) "
                         "VALUES (:k, :i, :a, :f)"),
                 [{"k": kinds[indicator], "i": indicator, "a": agency, "f": n}
                  for n, (agency, indicator) in numbered.items()])
    # Without statistics PostgreSQL took exp_scope and exp_wanted for a few rows each and joined them by
    # a nested loop: 26 million comparisons, 2.6 s for the report of one night at 1 M a year.
    Warehouse.analyze(conn, "exp_wanted")
    return numbered


def items(conn: Connection, day: date, indicator: str, agency: str, period: str) -> list[dict]:
    """The prepared items of one snapshot row, each a dict of the columns of list_<kind>.sql."""
    return listings(conn, day, period, [(agency, indicator)])[(agency, indicator)]


@dataclass
class Drilldown:
    day: date
    period: str
    agency: str
    agency_name: str
    indicator: str
    indicator_name: str
    kind: str
    snapshot: tuple[int, int]  # (numerator, denominator) in mart.indicator_snapshot
    # The items kept: all of them, or (explain_many's keep_out) the first ones out of the numerator.
    rows: list[dict] = field(default_factory=list)
    items: int = 0  # items listed, kept or not
    numerator: int = 0
    denominator: int = 0
    out: int = 0  # items in the denominator and not in the numerator (the late dossiers...)

    def add(self, piece: Piece) -> None:
        """Count a piece of the listing in and keep it."""
        in_num, in_den = [int(v) for v in piece.columns["in_num"]], [int(v) for v in piece.columns["in_den"]]
        self.count(len(piece), sum(in_num), sum(in_den),
                   sum(1 for num, den in zip(in_num, in_den, strict=True) if misses(num, den)))
        self.rows += piece.rows()

    def count(self, items: int, numerator: int, denominator: int, out: int) -> None:
        self.items += items
        self.numerator += numerator
        self.denominator += denominator
        self.out += out

    @property
    def matches(self) -> bool:
        return (self.numerator, self.denominator) == self.snapshot

    def columns(self) -> list[str]:
        return list(COMMON) + list(FIELDS[self.indicator])

    def headings(self) -> list[str]:
        return [ITEM_LABEL[self.kind] if c == "item_code" else HITS_LABEL.get(self.indicator, c) if c == "hits"
                else LABELS[c] for c in self.columns()]

    def summary(self) -> list[str]:
        value = f"{100 * self.numerator / self.denominator:.2f} %" if self.denominator else "không tính (no value)"
        check = ("khớp với mart.indicator_snapshot (matches the published figure)" if self.matches else
                 f"KHÁC số đã công bố {self.snapshot[0]}/{self.snapshot[1]} (differs from the published figure): "
                 f"dữ liệu đã thay đổi sau khi công bố, chạy lại: python -m etl publish --start {self.day} "
                 f"--end {self.day}")
        return [
            f"Chỉ tiêu (indicator): {self.indicator_name} ({self.indicator})",
            f"Đơn vị (agency): {self.agency_name} ({self.agency}), gồm các đơn vị trực thuộc và đơn vị đã sáp nhập "
            f"(includes the agencies under it and those merged into it)",
            f"Kỳ (period): {PERIOD_LABEL[self.period]}, {period_text(self.day, self.period)} "
            f"({PERIOD_LABEL_EN[self.period]})",
            f"Tử số (numerator): {self.numerator} · Mẫu số (denominator): {self.denominator} · Tỷ lệ (value): {value}",
            f"Kiểm tra (check): {check}",
        ]


def explain(wh: Warehouse, day: date, period: str, agency: str, indicator: str, province: str) -> Drilldown:
    """The drill-down of one row of mart.indicator_snapshot, recomputed from the warehouse."""
    return explain_many(wh, day, period, [(agency, indicator)], province)[0]


def explain_many(wh: Warehouse, day: date, period: str, figures: list[tuple[str, str]], province: str,
                 keep_out: int | None = None) -> list[Drilldown]:
    """The drill-downs of several (agency, indicator) rows of one date and period, in that order,
    from one preparation of the date (the dashboard's listings). Each keeps every item, or (keep_out)
    only its first items out of the numerator: then the items are counted by the database and only those
    kept are read, so that a year's listings need not pass through Python."""
    if not figures:
        return []
    with wh.begin() as conn:
        drills = _prepared(wh, conn, day, period, figures, province)
        if keep_out is None:
            for figure, piece in stream_listings(conn, day, period, figures):
                drills[figure].add(piece)
        else:
            _tally(conn, day, period, figures, drills, keep_out)
    return [drills[figure] for figure in figures]


def write_csvs(wh: Warehouse, day: date, period: str, figures: list[tuple[str, str]], province: str,
               open_csv: Callable[[Drilldown], TextIO], keep_out: int = 0, sessions: int = 1) -> list[Drilldown]:
    """explain_many() with each figure's listing written as CSV to the file `open_csv(drill)` gives (asked
    for once per figure, from any of the sessions' threads): the headings, then its rows written by the
    database (etl.warehouse.copy_csv) in the format of csv_cell(), never held in Python: a province's figure
    at the year's end lists about a million items. A figure without items gets the headings alone. The
    drill-downs keep `keep_out` items out of the numerator (default none).
    On PostgreSQL the figures are split by agency into at most `sessions` groups (by_agency), each prepared
    and written in its own session at the same time: a session's statements over temporary tables run on
    one core, and each group reads only its agencies' dossiers; the sessions plan no parallel workers of their
    own (set DRILLDOWN_SESSIONS to the server's cores). DuckDB runs every statement on all cores: one session."""
    if not figures:
        return []
    with wh.begin() as conn:
        drills = _published(conn, day, period, figures)
    groups = by_agency(figures, {f: d.snapshot[1] for f, d in drills.items()},
                       sessions if wh.dialect == "postgresql" else 1)

    def write(group: list[tuple[str, str]]) -> None:
        began = time.monotonic()
        with wh.begin() as conn:
            if len(groups) > 1:
                # The sessions are the parallelism: parallel workers under each fought them for the same cores
                # (the year-end reports at 15 million a year on 2 cores: 269-280 s with them, 253-263 s without).
                conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
            _prepare_figures(wh, conn, day, period, group, province)
            numbered = _tally(conn, day, period, group, drills, keep_out)
            for number, figure in numbered.items():
                drill = drills[figure]
                out = open_csv(drill)
                write_csv_headings(out, drill)
                cells = ", ".join(f"{csv_cell(column)} AS {column}" for column in drill.columns())
                copy_csv(conn, f"SELECT {cells} FROM {LISTED.format(kind=drill.kind)} WHERE figure = {number} "
                               f"ORDER BY seq", out)
        log.info("drill-down of %s (%s): %d figure(s) of %d agency(ies) written in %.1f s (%d session(s))", day, period,
                 len(group), len({a for a, _i in group}), time.monotonic() - began, len(groups))

    with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="explain") as pool:
        list(pool.map(write, groups))  # waits for every group; raises the first failure
    return [drills[figure] for figure in figures]


def by_agency(figures: list[tuple[str, str]], weight: dict[tuple[str, str], int],
              groups: int) -> list[list[tuple[str, str]]]:
    """The (agency, indicator) figures in at most `groups` groups of whole agencies (an agency's figures
    share its dossiers: one group prepares them once), balanced by the summed `weight` of their figures
    (the heaviest agency first into the lightest group), each in the order of `figures`."""
    total: dict[str, int] = {}
    for agency, indicator in figures:
        total[agency] = total.get(agency, 0) + weight[(agency, indicator)]
    loads = [0] * max(1, min(groups, len(total)))
    group_of = {}
    for agency in sorted(total, key=lambda a: (-total[a], a)):
        lightest = loads.index(min(loads))
        group_of[agency] = lightest
        loads[lightest] += total[agency]
    return [[f for f in figures if group_of[f[0]] == n] for n in range(len(loads))]


def _prepared(wh: Warehouse, conn: Connection, day: date, period: str, figures: list[tuple[str, str]],
              province: str) -> dict[tuple[str, str], Drilldown]:
    """The figures' drill-downs, with their published figures and nothing listed yet, and the date
    prepared in `conn` for their listings."""
    drills = _published(conn, day, period, figures)
    _prepare_figures(wh, conn, day, period, figures, province)
    return drills


def _prepare_figures(wh: Warehouse, conn: Connection, day: date, period: str, figures: list[tuple[str, str]],
                     province: str) -> None:
    agencies = {agency for agency, _i in figures}
    prepare(wh, conn, day, province, sorted({i for _a, i in figures}),
            next(iter(agencies)) if len(agencies) == 1 else None, period, figures)


def _published(conn: Connection, day: date, period: str,
               figures: list[tuple[str, str]]) -> dict[tuple[str, str], Drilldown]:
    """The figures' drill-downs, with their published figures and nothing listed yet."""
    kinds = indicator_kinds()
    for _agency, indicator in figures:
        if indicator not in kinds:
            raise ExplainError(f"--indicator {indicator!r} is not an indicator; use one of: {', '.join(sorted(kinds))}")
    heads = {(r.agency_code, r.indicator_code): r for r in conn.execute(sa.text(
        "SELECT s.agency_code, s.indicator_code, s.numerator, s.denominator, a.name AS agency_name, i.name_vi "
        "FROM mart.indicator_snapshot s JOIN core.agency a ON a.agency_code = s.agency_code "
        "JOIN mart.indicator i ON i.indicator_code = s.indicator_code "
        "WHERE s.snapshot_date = :d AND s.period = :p AND s.agency_code IN :a AND s.indicator_code IN :i"
    ).bindparams(sa.bindparam("a", expanding=True), sa.bindparam("i", expanding=True)),
        {"d": day, "p": period, "a": sorted({a for a, _i in figures}), "i": sorted({i for _a, i in figures})})}
    drills = {}
    for agency, indicator in figures:
        head = heads.get((agency, indicator))
        if head is None:
            raise ExplainError(
                f"--date {day} --agency {agency}: no published figure in mart.indicator_snapshot; check the "
                f"agency code (valid on that date) or publish the date first: "
                f"python -m etl publish --start {day} --end {day}")
        drills[(agency, indicator)] = Drilldown(day, period, agency, head.agency_name, indicator, head.name_vi,
                                                kinds[indicator], (int(head.numerator), int(head.denominator)))
    return drills


def _tally(conn: Connection, day: date, period: str, figures: list[tuple[str, str]],
           drills: dict[tuple[str, str], Drilldown], keep_out: int) -> dict[int, tuple[str, str]]:
    """List the figures (exp_listed_<kind>), count each one's items in the database, and keep its first
    `keep_out` items out of the numerator; returns the figures by their number in the listings."""
    numbered = _want(conn, figures)
    for kind in _list(conn, day, period, figures):
        for r in _query(conn, "explain/tally.sql", kind=kind):
            drills[numbered[r["figure"]]].count(*(int(r[k]) for k in ("items", "in_num", "in_den", "missed")))
        if keep_out:
            for piece in _pieces(conn, _statement("explain/kept.sql", kind), {"keep_out": keep_out}):
                for figure, part in _by_figure(piece, numbered):
                    drills[figure].rows += part.rows()
    return numbered


def is_out(row: dict) -> bool:
    """In the denominator and not in the numerator: what the figure misses."""
    return misses(int(row["in_num"]), int(row["in_den"]))


def misses(in_num: int, in_den: int) -> bool:
    """is_out() on the two flags, for a piece's columns."""
    return in_den == 1 and in_num == 0


def cell_text(column: str, value) -> str:
    """One value as the listings show it on screen: codes with their Vietnamese label, dates day first."""
    if value is None:
        return ""
    if column == "in_num":
        return "có" if value == 1 else "không" if value == 0 else str(value)
    if isinstance(value, bool):
        return "có" if value else "không"
    if column in CODES:
        label = CODES[column].get(value)
        return f"{value} – {label}" if label and not isinstance(value, str) else label or str(value)
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y %H:%M:%S}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, Decimal):
        return str(int(value)) if value == int(value) else str(value)
    return str(value)


def csv_cell(column: str) -> str:
    """The SQL expression that writes a listed column as its CSV cell: the screen's codes and labels
    (cell_text), times and dates ISO (YYYY-MM-DD HH:MM:SS), NULL (an empty field) for no value."""
    if column == "in_num":
        return f"CASE {column} WHEN 1 THEN 'có' WHEN 0 THEN 'không' ELSE CAST({column} AS text) END"
    if column in FLAGS:
        return f"CASE WHEN {column} THEN 'có' WHEN NOT {column} THEN 'không' END"
    if column in CODES:
        whens = " ".join(f"WHEN {_literal(code)} THEN {_literal(cell_text(column, code))}"
                         for code in CODES[column])
        return f"CASE {column} {whens} ELSE CAST({column} AS text) END"
    return f"NULLIF(CAST({column} AS text), '')"  # an empty text as no value, as the screen shows it


def _literal(value: int | str) -> str:
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


def write_csv_headings(out: TextIO, drill: Drilldown) -> None:
    csv.writer(out, lineterminator="\n").writerow(drill.headings())


def to_table(drill: Drilldown) -> str:
    """The summary, then the listing as an aligned text table."""
    cells = [[cell_text(c, row[c]) for c in drill.columns()] for row in drill.rows]
    heads = drill.headings()
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(heads)]
    lines = drill.summary() + [""]
    lines.append("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    if not cells:
        lines.append("(không có mục nào: mẫu số bằng 0 — nothing counted, the denominator is 0)")
    return "\n".join(lines) + "\n"
