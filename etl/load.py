"""Loading: every entity validated then upserted on its natural key (dossiers through staging),
quarantine, validation results, ops.batch and ops.watermark."""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from etl import transform
from etl.validate import Outcome, validate
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)
CHUNK_RECORDS = 20_000


@dataclass
class BatchResult:
    batch_id: int
    source: str
    entity: str
    extracted: int = 0
    loaded: int = 0
    quarantined: int = 0

    @property
    def quarantine_share(self) -> float:
        return self.quarantined / self.extracted if self.extracted else 0.0


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


# -- ops.batch ------------------------------------------------------------------------
def open_batch(wh: Warehouse, source: str, entity: str, start: datetime | None, end: datetime | None) -> BatchResult:
    """Record a batch as running, in its own transaction so that a failure stays visible."""
    with wh.begin() as conn:
        batch_id = wh.next_batch_id(conn)
        conn.execute(sa.text(
            "INSERT INTO ops.batch (batch_id, source, entity, window_start, window_end, status, started_at) "
            "VALUES (:b, :s, :e, :ws, :we, 'running', :t)"),
            {"b": batch_id, "s": source, "e": entity, "ws": start, "we": end, "t": _now()})
    return BatchResult(batch_id, source, entity)


def close_batch(conn: Connection, batch: BatchResult) -> None:
    conn.execute(sa.text(
        "UPDATE ops.batch SET status = 'succeeded', extracted = :x, loaded = :l, quarantined = :q, "
        "finished_at = :t WHERE batch_id = :b"),
        {"x": batch.extracted, "l": batch.loaded, "q": batch.quarantined, "t": _now(), "b": batch.batch_id})


def fail_batch(wh: Warehouse, batch: BatchResult, error: BaseException) -> None:
    with wh.begin() as conn:
        conn.execute(sa.text(
            "UPDATE ops.batch SET status = 'failed', finished_at = :t, message = :m WHERE batch_id = :b"),
            {"t": _now(), "m": f"{type(error).__name__}: {error}"[:2000], "b": batch.batch_id})


# -- quarantine & validation results --------------------------------------------------
def quarantine(wh: Warehouse, conn: Connection, outcome: Outcome, batch: BatchResult, key_column: str) -> int:
    rejected = outcome.rejected
    if rejected.empty:
        return 0
    frame = pd.DataFrame({
        "source": batch.source,
        "entity": batch.entity,
        "record_key": rejected[key_column].astype("string").fillna("?").values,
        "payload_hash": [hashlib.sha256(p.encode()).hexdigest() for p in rejected["_payload"]],
        "payload": rejected["_payload"].values,
        "failed_expectations": rejected["failed_expectations"].values,
        "batch_id": batch.batch_id,
    }).drop_duplicates(["record_key", "payload_hash"])
    wh.upsert_frame(conn, frame, "ops.quarantine", key=["source", "entity", "record_key", "payload_hash"])
    return len(rejected)


@dataclass
class ValidationTally:
    """What ops.validation_result keeps of a batch's chunks: counts, not the chunks (memory stays
    bounded whatever the window)."""
    suite: str
    evaluated: int = 0
    rows_checked: int = 0
    rows_failed: int = 0
    unexpected: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.evaluated = max(self.evaluated, outcome.evaluated)
        self.rows_checked += len(outcome.valid) + len(outcome.rejected)
        self.rows_failed += len(outcome.rejected)
        for d in outcome.details:
            self.unexpected[d["expectation"]] = self.unexpected.get(d["expectation"], 0) + d["unexpected"]


def record_validation(conn: Connection, batch: BatchResult, tally: ValidationTally) -> None:
    if not tally.rows_checked:
        return
    conn.execute(sa.text(
        "INSERT INTO ops.validation_result (batch_id, suite, success, evaluated, failed, rows_checked, "
        "rows_failed, details) VALUES (:b, :s, :ok, :e, :f, :rc, :rf, :d)"),
        {"b": batch.batch_id, "s": tally.suite, "ok": tally.rows_failed == 0, "e": tally.evaluated,
         "f": sum(1 for v in tally.unexpected.values() if v), "rc": tally.rows_checked, "rf": tally.rows_failed,
         "d": json.dumps(tally.unexpected, sort_keys=True)})


# -- entities ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Entity:
    """How one kind of source record is validated and loaded."""
    name: str                   # expectation suite (expectations/<name>.json) and ops.batch.entity
    source: str                 # onestop | ndxp | vnpost
    to_frame: Callable[[list[dict]], pd.DataFrame]
    record_key: str             # the column that names a record in ops.quarantine
    columns: list[str]          # the columns that load
    table: str                  # the core table
    key: list[str]              # its natural key
    newer: str | None = None    # of two rows with the same key, the one whose `newer` column is later wins
    merge_sql: str | None = None  # instead of an upsert: staging.<name> then this SQL file
    references_dossier: bool = False


def _entities(pii_key_value: bytes | None = None) -> dict[str, Entity]:
    t = transform
    return {e.name: e for e in [
        Entity("agency", "onestop", t.agency_frame, "agency_code", t.AGENCY_COLUMNS, "core.agency", ["agency_code"]),
        Entity("procedure", "onestop", t.procedure_frame, "procedure_code", t.PROCEDURE_COLUMNS, "core.procedure",
               ["procedure_code"]),
        Entity("service_config", "onestop", t.service_config_frame, "procedure_code", t.SERVICE_CONFIG_COLUMNS,
               "core.service_config", ["agency_code", "procedure_code", "valid_from"]),
        Entity("dossier", "onestop", partial(t.dossier_frame, key=pii_key_value or b""), "dossier_code",
               t.DOSSIER_COLUMNS, "core.dossier_history", ["dossier_code", "updated_at"], newer="status",
               merge_sql="load/merge_dossier.sql"),
        Entity("payment", "onestop", t.payment_frame, "transaction_id", t.PAYMENT_COLUMNS, "core.payment",
               ["transaction_id"], newer="updated_at", references_dossier=True),
        Entity("paygov_transaction", "ndxp", t.paygov_frame, "transaction_id", t.PAYGOV_COLUMNS,
               "core.paygov_transaction", ["transaction_id"], references_dossier=True),
        Entity("sync_receipt", "ndxp", t.sync_receipt_frame, "dossier_code", t.SYNC_COLUMNS, "core.sync_receipt",
               ["dossier_code", "synced_at", "sync_type"], references_dossier=True),
        Entity("integrated_service", "ndxp", t.integrated_service_frame, "procedure_code", t.INTEGRATED_COLUMNS,
               "core.integrated_service", ["procedure_code", "agency_code", "integrated_from"]),
        Entity("postal_order", "vnpost", t.postal_order_frame, "item_code", t.POSTAL_COLUMNS, "core.postal_order",
               ["item_code"], newer="updated_at", references_dossier=True),
    ]}


def entity(name: str, pii_key_value: bytes | None = None) -> Entity:
    return _entities(pii_key_value)[name]


def _chunks(pages: Iterable[list[dict]], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for page in pages:
        chunk.extend(page)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def reference_parameters(conn: Connection) -> dict[str, list[str]]:
    """Suite parameters: the codes records may refer to."""
    return {
        "known_agencies": [r[0] for r in conn.exec_driver_sql("SELECT agency_code FROM core.agency")],
        "known_procedures": [r[0] for r in conn.exec_driver_sql("SELECT procedure_code FROM core.procedure")],
    }


def _mark_known_dossiers(wh: Warehouse, conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """Adds `_dossier_known`: the record's dossier is in core.dossier (looked up set-based)."""
    codes = pd.DataFrame({"dossier_code": frame["dossier_code"].dropna().unique()})
    conn.exec_driver_sql("DROP TABLE IF EXISTS _ref_codes")
    conn.exec_driver_sql("CREATE TEMPORARY TABLE _ref_codes (dossier_code text)")
    wh.bulk_insert(conn, codes, "_ref_codes")
    known = {r[0] for r in conn.exec_driver_sql(
        "SELECT r.dossier_code FROM _ref_codes r JOIN core.dossier d ON d.dossier_code = r.dossier_code")}
    conn.exec_driver_sql("DROP TABLE _ref_codes")
    return frame.assign(_dossier_known=frame["dossier_code"].isin(known))


def load_batch(wh: Warehouse, conn: Connection, spec: Entity, pages: Iterable[list[dict]],
               batch: BatchResult) -> BatchResult:
    """Stream pages -> frame -> validate -> quarantine the failures, load the rest. One transaction."""
    parameters = reference_parameters(conn)
    tally = ValidationTally(spec.name)
    for records in _chunks(pages, CHUNK_RECORDS):
        frame = spec.to_frame(records)
        # A record repeated across pages is the same record: keep one, it is not an error.
        frame = frame.drop_duplicates("_payload").assign(_row=lambda f: range(len(f)))
        if spec.references_dossier:
            frame = _mark_known_dossiers(wh, conn, frame)
        batch.extracted += len(frame)
        outcome = validate(frame, spec.name, parameters, run_name=f"batch-{batch.batch_id}")
        tally.add(outcome)
        batch.quarantined += quarantine(wh, conn, outcome, batch, spec.record_key)
        valid = outcome.valid[spec.columns].assign(batch_id=batch.batch_id)
        if spec.merge_sql:  # one row per key: the merge inserts each once
            valid = valid.sort_values(spec.newer, kind="stable").drop_duplicates(spec.key, keep="last")
            batch.loaded += wh.bulk_insert(conn, valid, f"staging.{spec.name}")
        else:
            if "batch_id" not in _table_columns(conn, spec.table):
                valid = valid.drop(columns="batch_id")
            batch.loaded += wh.upsert_frame(conn, valid, spec.table, spec.key, newer=spec.newer)
    record_validation(conn, batch, tally)
    if spec.merge_sql:
        wh.run_script(conn, spec.merge_sql, {"batch_id": batch.batch_id})
    close_batch(conn, batch)
    log.info("batch %d %s.%s: %d extracted, %d loaded, %d quarantined", batch.batch_id, batch.source,
             batch.entity, batch.extracted, batch.loaded, batch.quarantined)
    return batch


def _table_columns(conn: Connection, table: str) -> set[str]:
    return set(conn.exec_driver_sql(f"SELECT * FROM {table} WHERE 1 = 0").keys())


def advance_watermark(conn: Connection, batch: BatchResult, loaded_until: datetime) -> None:
    """Record that the source is loaded up to `loaded_until`; never moves backwards."""
    conn.execute(sa.text(
        "INSERT INTO ops.watermark (source, entity, loaded_until, batch_id) VALUES (:s, :e, :u, :b) "
        "ON CONFLICT (source, entity) DO UPDATE SET loaded_until = excluded.loaded_until, batch_id = excluded.batch_id "
        "WHERE excluded.loaded_until > ops.watermark.loaded_until"),
        {"s": batch.source, "e": batch.entity, "u": loaded_until, "b": batch.batch_id})


def watermark(conn: Connection, source: str, entity_name: str) -> datetime | None:
    return conn.execute(sa.text("SELECT loaded_until FROM ops.watermark WHERE source = :s AND entity = :e"),
                        {"s": source, "e": entity_name}).scalar()
