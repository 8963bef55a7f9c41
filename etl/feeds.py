"""The feed registry: every source system and each kind of record it delivers, declared once.

The pipeline, the loaders, the quality gates, the DAGs (which import this module at parse time, so
it imports nothing heavy), the pools file (checked against it by the tests) and docs/sources.md's
table all follow it. Adding a kind of record is one entry here, plus its frame spec in
etl/transform.py, its suite in expectations/<name>.json, its table in a migration (a daily feed's
table also has `record_hash text`: etl/load.py sets re-read records aside by it), and a test.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The source systems in the order a night loads them: the one-stop system first, because the other
# systems' records refer to its dossiers. One Airflow pool each (airflow/pools.json), so a backfill
# never sends a system more than one extraction at a time.
SYSTEMS = ("onestop", "ndxp", "vnpost")


@dataclass(frozen=True)
class Feed:
    name: str                   # expectations/<name>.json, ops.batch.entity, the task load_<name>
    system: str                 # one of SYSTEMS: whose client fetches it
    fetch: Callable[..., Any]   # (client) -> records, or (client, window) -> pages for a daily feed
    frame: str                  # its frame spec in etl.transform
    record_key: str             # the column that names a record in ops.quarantine / ops.pending
    table: str                  # the core table
    key: tuple[str, ...]        # its natural key
    daily: bool = True          # windowed by day; False: reference data, fetched whole
    newer: str | None = None    # of two rows with the same key, the later by this column wins
    merge_sql: str | None = None  # instead of an upsert: staging.<name>, then this SQL file
    references_dossier: bool = False  # waits in ops.pending until its dossier is in the warehouse
    # The record's change time first (a day's volume counts it), then any other time from which it
    # counts in a snapshot (the earliest bounds the snapshot dates a change restates).
    stamps: tuple[str, ...] = ()
    # What the snapshots read of a stored row (columns, or SQL over `{t}.column`; sql/indicators and
    # sql/explain): a row changed only elsewhere (a postal order delivered, not cancelled) restates
    # from its change time, not from its event time. None: every change counts. tests/test_feeds.py
    # changes every other column and checks that no snapshot moves.
    restating: tuple[str, ...] | None = None

    @property
    def pool(self) -> str:
        return f"source_{self.system}"


FEEDS: tuple[Feed, ...] = (
    Feed("agency", "onestop", lambda c: c.agencies(), "AGENCY", "agency_code", "core.agency", ("agency_code",),
         daily=False),
    Feed("procedure", "onestop", lambda c: c.procedures(), "PROCEDURE", "procedure_code", "core.procedure",
         ("procedure_code",), daily=False),
    Feed("service_config", "onestop", lambda c: c.service_configs(), "SERVICE_CONFIG", "procedure_code",
         "core.service_config", ("agency_code", "procedure_code", "valid_from"), daily=False),
    Feed("integrated_service", "ndxp", lambda c: c.integrated_services(), "INTEGRATED_SERVICE", "procedure_code",
         "core.integrated_service", ("procedure_code", "agency_code", "integrated_from"), daily=False),
    Feed("dossier", "onestop", lambda c, w: c.dossier_pages(w), "DOSSIER", "dossier_code", "core.dossier_history",
         ("dossier_code", "updated_at"), newer="status", merge_sql="load/merge_dossier.sql", stamps=("updated_at",)),
    Feed("payment", "onestop", lambda c, w: c.payment_pages(w), "PAYMENT", "transaction_id", "core.payment",
         ("transaction_id",), newer="updated_at", references_dossier=True, stamps=("updated_at", "transaction_at"),
         restating=("dossier_code", "method", "transaction_at", "{t}.status IN ('paid', 'refunded')")),
    Feed("sync_receipt", "ndxp", lambda c, w: c.sync_receipt_pages(w), "SYNC_RECEIPT", "dossier_code",
         "core.sync_receipt", ("dossier_code", "synced_at", "sync_type", "error_code"), references_dossier=True,
         stamps=("synced_at",)),
    Feed("paygov_transaction", "ndxp", lambda c, w: c.paygov_pages(w), "PAYGOV", "transaction_id",
         "core.paygov_transaction", ("transaction_id",), references_dossier=True, stamps=("transaction_at",)),
    Feed("postal_order", "vnpost", lambda c, w: c.order_pages(w), "POSTAL_ORDER", "item_code", "core.postal_order",
         ("item_code",), newer="updated_at", references_dossier=True, stamps=("updated_at", "created_at"),
         restating=("dossier_code", "service_type", "created_at", "{t}.collection_status = 4")),
)
BY_NAME = {feed.name: feed for feed in FEEDS}


def feed(name: str) -> Feed:
    return BY_NAME[name]


def reference_feeds() -> list[Feed]:
    return [f for f in FEEDS if not f.daily]


def daily_feeds() -> list[Feed]:
    """In the order a night loads them: the dossiers first."""
    return [f for system in SYSTEMS for f in FEEDS if f.daily and f.system == system]


def daily_by_system() -> dict[str, list[Feed]]:
    """{system: its daily feeds in order}: one task group each in dvc_daily."""
    return {system: [f for f in daily_feeds() if f.system == system] for system in SYSTEMS}
