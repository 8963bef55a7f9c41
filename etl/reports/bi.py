"""The reports' part of every migrate (etl.warehouse.Warehouse.migrate calls after_migrate):
the indicators' display order, a Vietnamese + English comment on every mart object and column,
and on PostgreSQL the read-only role through which BI tools read mart."""
from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
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


# -- the BI tools' read-only copy of mart (DuckDB) ------------------------------------------
SNAPSHOT_SCHEMA = "bi_snapshot"


def mart_snapshot_path(wh: Warehouse) -> Path | None:
    """Where the read-only copy of a DuckDB warehouse's mart goes: `bi/dvc_mart.duckdb` beside the
    warehouse file (var/bi/dvc_mart.duckdb by default; not mart.duckdb: a catalog named like its
    schema makes `mart.x` ambiguous). None on PostgreSQL, which readers share anyway."""
    database = wh.engine.url.database
    if wh.dialect != "duckdb" or not database or database == ":memory:":
        return None
    return Path(database).parent / "bi" / "dvc_mart.duckdb"


# Objects whose rows of a snapshot date depend only on that date's snapshot (and reference data): the
# next copy refreshes only the dates republished since. Every other object is copied whole each time
# (small, or reading the latest date, or the loads' data quality).
BY_DATE = ("indicator_snapshot", "snapshot_detail", "snapshot_revision", "agency_ranking", "agency_score",
           "agency_score_part", "province_trend", "target_trajectory")
# What the copied rows are made of besides the snapshots: when any of it changes, the next copy is whole.
REFERENCE = ("ops.schema_migration", "core.agency", "core.target", "core.procedure", "mart.indicator",
             "mart.indicator_projection", "mart.score_criterion", "mart.report_setting")


def _reference_fingerprint(conn: Connection) -> str:
    digest = hashlib.sha256()
    for table in REFERENCE:
        for row in sorted(map(repr, conn.exec_driver_sql(f"SELECT * FROM {table}").all())):
            digest.update(row.encode())
    return digest.hexdigest()


@dataclass
class CopyPlan:
    whole: bool                 # no usable previous copy: every object copied whole
    since: date | None = None   # else the first date republished since it (None: none)


def _copy_plan(conn: Connection, previous: Path, fingerprint: str) -> CopyPlan:
    """Whether the previous copy can be continued (it exists, is readable, and the reference data and
    the schema are as it recorded) and, if so, from which snapshot date it needs rewriting."""
    if not previous.exists():
        return CopyPlan(whole=True)
    import duckdb

    try:
        with duckdb.connect(str(previous), read_only=True) as copy:
            state = copy.execute("SELECT reference FROM ops.copy_state").fetchone()
            copied = dict(copy.execute("SELECT snapshot_date, times_published FROM ops.copied_publication").fetchall())
    except duckdb.Error:  # a damaged copy, or one from before copy_state existed: made whole again
        log.info("the previous BI copy %s has no state to continue from; making it whole", previous)
        return CopyPlan(whole=True)
    if state is None or state[0] != fingerprint:
        return CopyPlan(whole=True)
    now = dict(conn.exec_driver_sql("SELECT snapshot_date, times_published FROM ops.publication").all())
    if not now or set(copied) - set(now):  # snapshots written outside a publication, or dates gone
        return CopyPlan(whole=True)
    return CopyPlan(whole=False, since=min((d for d, times in now.items() if copied.get(d) != times), default=None))


def export_mart_snapshot(wh: Warehouse, path: Path | None = None) -> Path | None:
    """Copy every mart table and view (materialized as a table, with its comments) into a separate
    DuckDB file that BI tools open read-only while the pipeline holds the warehouse: DuckDB lets one
    process write a file, and no other process open it meanwhile. Written beside, then moved over the
    previous copy (a reader that has the old one open keeps reading it). The previous copy is reused:
    of the objects kept by date (BY_DATE) only the dates republished since are written again, so a
    night's copy follows the night, not the history. Returns its path; None on PostgreSQL."""
    from etl.reports import replacing

    path = path or mart_snapshot_path(wh)
    if path is None:
        return None
    with replacing(path) as tmp, wh.engine.connect() as conn:
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        fingerprint = _reference_fingerprint(conn)
        plan = _copy_plan(conn, path, fingerprint)
        conn.rollback()
        if not plan.whole:
            shutil.copyfile(path, tmp)
        conn.exec_driver_sql(f"ATTACH '{str(tmp).replace(chr(39), chr(39) * 2)}' AS {SNAPSHOT_SCHEMA}")
        try:
            if plan.whole:
                conn.exec_driver_sql(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}.mart")
                conn.exec_driver_sql(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}.ops")
            for name, _kind in mart_columns(conn):
                target = f"{SNAPSHOT_SCHEMA}.mart.{name}"
                if plan.whole:
                    conn.exec_driver_sql(f"CREATE TABLE {target} AS SELECT * FROM mart.{name}")
                elif name in BY_DATE:
                    if plan.since is not None:
                        conn.execute(sa.text(f"DELETE FROM {target} WHERE snapshot_date >= :d"), {"d": plan.since})
                        conn.execute(sa.text(f"INSERT INTO {target} SELECT * FROM mart.{name} "
                                             "WHERE snapshot_date >= :d"), {"d": plan.since})
                else:
                    conn.exec_driver_sql(f"DELETE FROM {target}")
                    conn.exec_driver_sql(f"INSERT INTO {target} SELECT * FROM mart.{name}")
            if plan.whole:
                comments = []
                for (name, column), text in wh.comments(conn, "mart").items():
                    target = f"{SNAPSHOT_SCHEMA}.mart.{name}"
                    target = f"COLUMN {target}.{column}" if column else f"TABLE {target}"
                    comments.append(f"COMMENT ON {target} IS '{text.replace(chr(39), chr(39) * 2)}'")
                conn.exec_driver_sql(";\n".join(comments))  # one round trip for the ~300 comments
            # what the next copy compares: the reference data, and each date's number of publications
            conn.execute(sa.text(f"CREATE OR REPLACE TABLE {SNAPSHOT_SCHEMA}.ops.copy_state AS "
                                 "SELECT CAST(:r AS text) AS reference"), {"r": fingerprint})
            conn.exec_driver_sql(f"CREATE OR REPLACE TABLE {SNAPSHOT_SCHEMA}.ops.copied_publication AS "
                                 "SELECT snapshot_date, times_published FROM ops.publication")
            conn.commit()
            conn.exec_driver_sql(f"CHECKPOINT {SNAPSHOT_SCHEMA}")
        finally:
            conn.rollback()
            conn.exec_driver_sql(f"DETACH {SNAPSHOT_SCHEMA}")
    log.info("read-only copy of mart for BI tools (%s): %s",
             "whole" if plan.whole else f"dates from {plan.since} refreshed" if plan.since else "no date refreshed",
             path)
    return path
