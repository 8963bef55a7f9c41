"""The pipeline's steps. The Airflow DAGs and the CLI (run, backfill, demo) call exactly these.

Each step owns one local day (its data interval) and writes in one transaction, so a failed
step can be re-run and converges to the same warehouse state.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from etl import config, indicators, load, targets
from etl.pii import pii_key
from etl.sources.ndxp import NdxpClient
from etl.sources.onestop import OneStopClient
from etl.sources.vnpost import VnpostClient
from etl.timeutil import Window, days
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)


class QualityGateFailed(RuntimeError):
    """The day's data did not pass a batch-level gate; indicators were not published."""


@dataclass
class Resources:
    """What a step needs, built from the environment (the DAGs export Airflow connections to it)."""
    warehouse: Warehouse
    onestop: OneStopClient
    ndxp: NdxpClient
    vnpost: VnpostClient
    province: str = field(default_factory=config.province)

    @classmethod
    def from_env(cls, warehouse_url: str | None = None) -> "Resources":
        s = config.SourceSettings.from_env()
        return cls(Warehouse(warehouse_url), OneStopClient(s.onestop_url, s.onestop_api_key),
                   NdxpClient(s.ndxp_url, s.ndxp_client_id, s.ndxp_client_secret),
                   VnpostClient(s.vnpost_url, s.vnpost_username, s.vnpost_password))

    def __enter__(self) -> "Resources":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.warehouse.dispose()
        for client in (self.onestop, self.ndxp, self.vnpost):
            client.session.close()


def migrate(res: Resources) -> list[str]:
    return res.warehouse.migrate()


def _load(res: Resources, entity: load.Entity, pages: Iterable[list[dict]],
          window: Window | None = None) -> load.BatchResult:
    """One batch of one entity: recorded in ops.batch, loaded in one transaction with its watermark."""
    batch = load.open_batch(res.warehouse, entity.source, entity.name, window and window.start, window and window.end)
    try:
        with res.warehouse.begin() as conn:
            load.load_batch(res.warehouse, conn, entity, pages, batch)
            if window is not None:
                load.advance_watermark(conn, batch, window.end)
        return batch
    except BaseException as exc:
        load.fail_batch(res.warehouse, batch, exc)
        raise


def extraction_window(res: Resources, source: str, entity: str, day: date) -> Window:
    """The day, plus a look-back for late updates, reaching back to the watermark if a gap was left."""
    own = Window.for_day(day)
    start = own.start - timedelta(days=config.lookback_days())
    with res.warehouse.begin() as conn:
        mark = load.watermark(conn, source, entity)
    if mark is not None and mark < start:
        log.warning("%s.%s loaded only until %s: extracting from there", source, entity, mark)
        start = mark
    return Window(start, own.end)


def pages_of(res: Resources, entity_name: str) -> Callable[[Window], Iterable[list[dict]]]:
    """The client call that streams one daily entity's records changed in a window, page by page."""
    return {"dossier": res.onestop.dossier_pages, "payment": res.onestop.payment_pages,
            "sync_receipt": res.ndxp.sync_receipt_pages, "paygov_transaction": res.ndxp.paygov_pages,
            "postal_order": res.vnpost.order_pages}[entity_name]


def load_window(res: Resources, entity_name: str, window: Window) -> load.BatchResult:
    """Every record of one daily entity changed in `window`, streamed into one batch."""
    return _load(res, load.entity(entity_name, pii_key()), pages_of(res, entity_name)(window), window)


def _load_day(res: Resources, entity_name: str, day: date) -> load.BatchResult:
    entity = load.entity(entity_name)
    return load_window(res, entity_name, extraction_window(res, entity.source, entity.name, day))


def load_reference(res: Resources, day: date) -> dict[str, int]:
    """Agencies, procedures, service configuration, integrated services (as the sources have them
    now) and the targets, each validated like any batch."""
    counts = {}
    for name, fetch in [("agency", res.onestop.agencies), ("procedure", res.onestop.procedures),
                        ("service_config", res.onestop.service_configs),
                        ("integrated_service", res.ndxp.integrated_services)]:
        counts[name] = _load(res, load.entity(name), [fetch()]).loaded
    with res.warehouse.begin() as conn:
        counts["target"] = targets.load_targets(res.warehouse, conn, res.province)
    log.info("reference data for %s: %s", day, counts)
    return counts


def daily(entity_name: str):
    """Marks a step as the daily load of an entity (the quality gates check its batch)."""
    def mark(step):
        step.entity = entity_name
        return step
    return mark


@daily("dossier")
def load_dossiers(res: Resources, day: date) -> load.BatchResult:
    return _load_day(res, "dossier", day)


@daily("payment")
def load_payments(res: Resources, day: date) -> load.BatchResult:
    return _load_day(res, "payment", day)


@daily("sync_receipt")
def load_sync_receipts(res: Resources, day: date) -> load.BatchResult:
    return _load_day(res, "sync_receipt", day)


@daily("paygov_transaction")
def load_paygov_transactions(res: Resources, day: date) -> load.BatchResult:
    return _load_day(res, "paygov_transaction", day)


@daily("postal_order")
def load_postal_orders(res: Resources, day: date) -> load.BatchResult:
    return _load_day(res, "postal_order", day)


# The extraction steps of each source system, in the order they run (dossiers first: the others
# refer to them). The DAGs build one task group per system from this registry.
SOURCE_STEPS = {
    "onestop": [load_dossiers, load_payments],
    "ndxp": [load_sync_receipts, load_paygov_transactions],
    "vnpost": [load_postal_orders],
}


def load_sources(res: Resources, day: date) -> None:
    for steps in SOURCE_STEPS.values():
        for step in steps:
            step(res, day)


def check_quality_gates(res: Resources, day: date) -> None:
    """Every daily batch of the day must have succeeded with a tolerable quarantine share."""
    end = Window.for_day(day).end
    limit = config.quarantine_max_share()
    problems = []
    with res.warehouse.begin() as conn:
        for steps in SOURCE_STEPS.values():
            for step in steps:
                problems += _gate(conn, load.entity(step.entity), end, limit)
    if problems:
        raise QualityGateFailed(f"indicators for {day} not published: " + " | ".join(problems))


def _gate(conn, entity: load.Entity, end: datetime, limit: float) -> list[str]:
    row = conn.execute(sa.text(
        "SELECT batch_id, status, extracted, quarantined, message FROM ops.batch "
        "WHERE source = :s AND entity = :e AND window_end = :end ORDER BY batch_id DESC LIMIT 1"),
        {"s": entity.source, "e": entity.name, "end": end}).first()
    if row is None:
        return [f"no {entity.source} {entity.name} batch ends at {end}: run its load step first"]
    if row.status != "succeeded":
        return [f"{entity.source} {entity.name} batch {row.batch_id} {row.status}: {row.message}"]
    problems = []
    share = (row.quarantined or 0) / row.extracted if row.extracted else 0.0
    if share > limit:
        problems.append(
            f"{entity.source} {entity.name} batch {row.batch_id}: {row.quarantined} of {row.extracted} records "
            f"quarantined ({share:.1%} > QUARANTINE_MAX_SHARE {limit:.1%}); see ops.quarantine WHERE batch_id = "
            f"{row.batch_id} and ops.validation_result")
    recent = [r[0] for r in conn.execute(sa.text(
        "SELECT extracted FROM ops.batch WHERE source = :s AND entity = :e AND status = 'succeeded' "
        "AND window_end < :end ORDER BY window_end DESC LIMIT 14"), {"s": entity.source, "e": entity.name, "end": end})]
    if len(recent) >= 7:
        median = sorted(recent)[len(recent) // 2]
        low, high = config.volume_bounds()
        if median > 0 and not low * median <= row.extracted <= high * median:
            problems.append(
                f"{entity.source} {entity.name} batch {row.batch_id}: {row.extracted} records, against a median of "
                f"{median} over the last {len(recent)} days (allowed {low:g}x to {high:g}x, VOLUME_MIN_RATIO / "
                f"VOLUME_MAX_RATIO); check the source system's availability or a change of its API before "
                f"publishing, then re-run the load")
    return problems


def publish_indicators(res: Resources, day: date) -> int:
    with res.warehouse.begin() as conn:
        return indicators.publish_snapshot(res.warehouse, conn, day, res.province)


def run_day(res: Resources, day: date) -> int:
    """One day's pipeline, in the order of the nightly DAG's tasks."""
    migrate(res)
    load_reference(res, day)
    load_sources(res, day)
    check_quality_gates(res, day)
    return publish_indicators(res, day)


def backfill(res: Resources, start: date, end: date) -> None:
    migrate(res)
    load_reference(res, end)
    for day in days(start, end):
        load_sources(res, day)
        check_quality_gates(res, day)
        publish_indicators(res, day)
