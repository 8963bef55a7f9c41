"""The reports' part of every migrate (etl.warehouse.Warehouse.migrate calls after_migrate):
the indicators' display order, a Vietnamese + English comment on every mart object and column,
and on PostgreSQL the read-only role through which BI tools read mart."""
from __future__ import annotations

import logging

import pandas as pd
from sqlalchemy.engine import Connection

from etl.config import settings
from etl.warehouse import SQL_DIR, Warehouse, sql_file

log = logging.getLogger(__name__)
COMMENTS_CSV = SQL_DIR / "reports" / "mart_comments.csv"
BI_ROLE_DEFAULT = "dvc_bi_reader"


def after_migrate(wh: Warehouse, conn: Connection) -> None:
    set_indicator_order(conn)
    apply_mart_comments(wh, conn)
    ensure_bi_reader_role(wh, conn)


def set_indicator_order(conn: Connection) -> None:
    codes = pd.read_csv(SQL_DIR / "seeds" / "indicators.csv", dtype=str)["indicator_code"]
    current = dict(conn.exec_driver_sql("SELECT indicator_code, display_order FROM mart.indicator").all())
    for order, code in enumerate(codes, start=1):
        if current.get(code) != order:
            conn.exec_driver_sql(f"UPDATE mart.indicator SET display_order = {order} WHERE indicator_code = '{code}'")


# -- comments ------------------------------------------------------------------------------
def mart_comments() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """(object -> comment, (object, column) -> comment); object '*' holds a column's shared comment."""
    frame = pd.read_csv(COMMENTS_CSV, dtype=str, keep_default_na=False)
    objects = {r.object: r.comment for r in frame.itertuples() if not r.column}
    columns = {(r.object, r.column): r.comment for r in frame.itertuples() if r.column}
    return objects, columns


def mart_columns(conn: Connection) -> dict[tuple[str, str], list[str]]:
    """(object, 'VIEW' | 'BASE TABLE') -> its columns, in order."""
    rows = conn.exec_driver_sql(
        "SELECT t.table_name, t.table_type, c.column_name FROM information_schema.tables t "
        "JOIN information_schema.columns c ON c.table_schema = t.table_schema AND c.table_name = t.table_name "
        "WHERE t.table_schema = 'mart' ORDER BY t.table_name, c.ordinal_position").all()
    out: dict[tuple[str, str], list[str]] = {}
    for name, kind, column in rows:
        out.setdefault((name, kind), []).append(column)
    return out


def apply_mart_comments(wh: Warehouse, conn: Connection) -> list[str]:
    """COMMENT ON every mart object and column that sql/reports/mart_comments.csv describes and whose
    comment differs; returns the objects and columns it has no comment for."""
    objects, columns = mart_comments()
    have = wh.comments(conn, "mart")
    missing = []

    def comment(target: str, key: tuple[str, str], text: str | None) -> None:
        if text is None:
            missing.append(".".join(k for k in key if k))
        elif have.get(key) != text:
            wh.execute_literal(conn, f"COMMENT ON {target} IS '{text.replace(chr(39), chr(39) * 2)}'")

    for (name, kind), cols in mart_columns(conn).items():
        comment(f"{'VIEW' if kind == 'VIEW' else 'TABLE'} mart.{name}", (name, ""), objects.get(name))
        for col in cols:
            comment(f"COLUMN mart.{name}.{col}", (name, col), columns.get((name, col), columns.get(("*", col))))
    if missing:
        log.warning("no comment in %s for: %s", COMMENTS_CSV.name, ", ".join(missing))
    return missing


def data_dictionary_markdown(conn: Connection) -> str:
    """The mart part of docs/data_dictionary.md, from the warehouse's own columns and comments."""
    objects, columns = mart_comments()
    lines = []
    for (name, kind), cols in sorted(mart_columns(conn).items()):
        lines += [f"### `mart.{name}` ({'view' if kind == 'VIEW' else 'table'})", "", objects.get(name, ""), "",
                  "| column | meaning |", "|---|---|"]
        lines += [f"| `{c}` | {columns.get((name, c), columns.get(('*', c), ''))} |" for c in cols]
        lines.append("")
    return "\n".join(lines)


# -- the BI tools' read-only role (PostgreSQL) ---------------------------------------------
def bi_reader_role() -> str | None:
    """The role's name: $DVC_BI_READER_ROLE, default dvc_bi_reader; set empty, no role is made."""
    return settings().dvc_bi_reader_role


def ensure_bi_reader_role(wh: Warehouse, conn: Connection) -> str | None:
    """Create or update the read-only BI role (sql/reports/bi_reader_role.sql): SELECT on every
    mart table and view, nothing on staging, core, ops. NOLOGIN unless $DVC_BI_READER_PASSWORD is
    set (then LOGIN with that password). Idempotent. Returns the role's name (None: no role, or a
    database without roles)."""
    role = bi_reader_role()
    if role is None:
        return None
    script = sql_file("reports/bi_reader_role.sql").replace(BI_ROLE_DEFAULT, role)
    made = wh.ensure_read_only_role(conn, role, script, settings().dvc_bi_reader_password)
    return role if made else None
