"""Loading: every entity validated then upserted on its natural key (dossier versions merged through staging),
quarantine, validation results, ops.batch and ops.watermark."""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from etl import config, feeds, transform
from etl.timeutil import days, local_now
from etl.validate import ROW_ID, Outcome, validate
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)
CHUNK_RECORDS = 20_000
# The expectation a record fails when its dossier is not (yet) in the warehouse: it waits in
# ops.pending instead of quarantine (records of another system often arrive before their dossier).
DOSSIER_UNKNOWN = "expect_column_values_to_be_in_set(_dossier_known)"


@dataclass
class BatchResult:
    batch_id: int
    source: str
    entity: str
    day: date | None = None     # the run day whose window the batch loads (None: reference data)
    first_day: date | None = None  # the first of the days the batch is for (a backfill's span), else `day`
    extracted: int = 0
    unchanged: int = 0          # extracted records stored exactly so already (set aside before validation)
    loaded: int = 0
    quarantined: int = 0
    day_records: int = 0        # extracted records stamped within `day` itself
    day_quarantined: int = 0    # ... of them, quarantined
    earlier_days: dict[date, int] = field(default_factory=dict)  # ... within each of first_day .. day - 1
    quarantined_earlier: dict[date, int] = field(default_factory=dict)  # quarantined, stamped on those days
    quarantined_judged: int = 0  # quarantined, stamped on none of its days, and first by a batch for an earlier day
    orphans: int = 0            # of the quarantined, records whose dossier never came (settle_pending)
    retried: int = 0            # records re-tried from ops.pending
    pending: int = 0            # records of the entity still waiting after the batch
    changed_from: datetime | None = None  # the earliest event time among the loaded rows

    @property
    def quarantine_share(self) -> float:
        return self.quarantined / self.extracted if self.extracted else 0.0


# -- ops.batch ------------------------------------------------------------------------
def open_batch(wh: Warehouse, source: str, entity: str, start: datetime | None, end: datetime | None,
               first_day: date | None = None) -> BatchResult:
    """Record a batch as running, in its own transaction so that a failure stays visible. A daily feed's
    batch is for the day its window ends with, or for each day from `first_day` (a backfill's span)."""
    day = (end - timedelta(microseconds=1)).date() if end is not None else None
    first_day = first_day or day
    with wh.begin() as conn:
        batch_id = wh.next_batch_id(conn)
        conn.execute(sa.text(
            "INSERT INTO ops.batch (batch_id, source, entity, window_start, window_end, first_day, status, started_at) "
            "VALUES (:b, :s, :e, :ws, :we, :f, 'running', :t)"),
            {"b": batch_id, "s": source, "e": entity, "ws": start, "we": end, "f": first_day, "t": local_now()})
    return BatchResult(batch_id, source, entity, day, first_day)


def close_batch(conn: Connection, batch: BatchResult) -> None:
    conn.execute(sa.text(
        "UPDATE ops.batch SET status = 'succeeded', extracted = :x, loaded = :l, quarantined = :q, "
        "day_records = :dr, retried = :r, pending = :p, changed_from = :c, finished_at = :t WHERE batch_id = :b"),
        {"x": batch.extracted, "l": batch.loaded, "q": batch.quarantined, "dr": batch.day_records,
         "r": batch.retried, "p": batch.pending, "c": batch.changed_from, "t": local_now(), "b": batch.batch_id})
    if batch.day is not None:
        earlier = days(batch.first_day, batch.day - timedelta(days=1))
        rows = [{"d": d, "n": batch.earlier_days.get(d, 0), "x": batch.earlier_days.get(d, 0),
                 "q": batch.quarantined_earlier.get(d, 0), "o": None} for d in earlier]
        # Each day its own records, a night's as a span's. The others quarantined for the first time (late, an
        # unreadable stamp) are a share of their own, against the whole batch. The look-back's bad records,
        # quarantined again each night that re-reads them, were judged before: in no share (they held the three
        # nights after a bad day). Nor are orphans: records of earlier days whose dossier never came (mostly a
        # quarantined dossier's); counted against a quiet weekend night's few records, they held it.
        q = batch.day_quarantined
        rows.append({"d": batch.day, "n": batch.day_records, "x": batch.day_records, "q": q,
                     "o": batch.quarantined - q - sum(r["q"] for r in rows) - batch.quarantined_judged
                     - batch.orphans})
        conn.execute(sa.text(
            "INSERT INTO ops.day_records (batch_id, data_day, records, extracted, quarantined, other_quarantined) "
            "VALUES (:b, :d, :n, :x, :q, :o)"), [{"b": batch.batch_id, **r} for r in rows])


def fail_batch(wh: Warehouse, batch: BatchResult, error: BaseException) -> None:
    with wh.begin() as conn:
        conn.execute(sa.text(
            "UPDATE ops.batch SET status = 'failed', finished_at = :t, message = :m WHERE batch_id = :b"),
            {"t": local_now(), "m": f"{type(error).__name__}: {error}"[:2000], "b": batch.batch_id})


# -- quarantine & validation results --------------------------------------------------
RECORD_ID = ["source", "entity", "record_key", "payload_hash"]


def _records(rejected: pd.DataFrame, batch: BatchResult, key_column: str) -> pd.DataFrame:
    """Rejected rows as ops records: who they are (RECORD_ID) and the payload as received."""
    return pd.DataFrame({
        "source": batch.source,
        "entity": batch.entity,
        "record_key": rejected[key_column].astype("string").fillna("?").values,
        "payload_hash": [hashlib.sha256(p.encode()).hexdigest() for p in rejected["_payload"]],
        "payload": rejected["_payload"].values,
    }).drop_duplicates(["record_key", "payload_hash"])


def quarantine(wh: Warehouse, conn: Connection, rejected: pd.DataFrame, batch: BatchResult, key_column: str) -> int:
    if rejected.empty:
        return 0
    frame = _records(rejected, batch, key_column)
    reasons = dict(zip(rejected["_payload"], rejected["failed_expectations"], strict=True))
    frame["failed_expectations"] = frame["payload"].map(reasons)
    frame["batch_id"] = frame["first_batch_id"] = batch.batch_id
    wh.upsert_frame(conn, frame, "ops.quarantine", key=RECORD_ID, insert_only=["first_batch_id"])
    return len(rejected)


def hold_pending(wh: Warehouse, conn: Connection, waiting: pd.DataFrame, batch: BatchResult, key_column: str,
                 stamp: str | None = None) -> None:
    """Records whose dossier is not in the warehouse yet wait in ops.pending (first sighting kept). A backfill's
    span sees each on the day its `stamp` falls on, as that day's night would have (settle_pending's clock)."""
    if waiting.empty:
        return
    frame = _records(waiting, batch, key_column)
    codes = dict(zip(waiting["_payload"], waiting["dossier_code"], strict=True))
    frame["dossier_code"] = frame["payload"].map(codes)
    frame["first_seen_day"] = batch.day
    if stamp is not None and batch.first_day != batch.day:
        seen = [batch.day if pd.isna(t) else min(max(t.date(), batch.first_day), batch.day) for t in waiting[stamp]]
        frame["first_seen_day"] = frame["payload"].map(dict(zip(waiting["_payload"], seen, strict=True)))
    frame["first_batch_id"] = frame["last_batch_id"] = batch.batch_id
    wh.upsert_frame(conn, frame, "ops.pending", key=RECORD_ID, insert_only=["first_seen_day", "first_batch_id"])


def pending_records(conn: Connection, spec: Entity) -> list[dict]:
    """The records of an entity waiting for their dossier, as received: re-tried by every batch."""
    return [json.loads(p) for (p,) in conn.execute(sa.text(
        "SELECT payload FROM ops.pending WHERE source = :s AND entity = :e ORDER BY record_key, payload_hash"),
        {"s": spec.source, "e": spec.name})]


def settle_pending(wh: Warehouse, conn: Connection, batch: BatchResult) -> int:
    """After a batch: waiting records whose dossier has arrived are gone (they loaded); those still
    waiting EXTRACT_LOOKBACK_DAYS after they first arrived become orphans in ops.quarantine.
    Returns the orphans."""
    lookback = config.settings().extract_lookback_days
    params = {"s": batch.source, "e": batch.entity, "b": batch.batch_id,
              "horizon": batch.day - timedelta(days=lookback),
              "reason": f"orphan: its dossier is not in the warehouse {lookback} days after the record arrived "
                        f"(EXTRACT_LOOKBACK_DAYS) ({DOSSIER_UNKNOWN})"}
    orphans = conn.execute(sa.text(
        "SELECT count(*) FROM ops.pending p WHERE source = :s AND entity = :e AND first_seen_day < :horizon "
        "AND NOT EXISTS (SELECT 1 FROM core.dossier_history h WHERE h.dossier_code = p.dossier_code)"),
        params).scalar()
    wh.run_script(conn, "load/settle_pending.sql", params)
    batch.pending = conn.execute(sa.text(
        "SELECT count(*) FROM ops.pending WHERE source = :s AND entity = :e"), params).scalar()
    return int(orphans)


def resolve_quarantine(wh: Warehouse, conn: Connection, valid: pd.DataFrame, batch: BatchResult,
                       key_column: str) -> None:
    """Quarantined records of which this batch loaded a valid version are marked resolved: what is
    left unresolved in ops.quarantine is what is still wrong."""
    keys = pd.DataFrame({"record_key": valid[key_column].astype("string").dropna().unique()})
    if keys.empty:
        return
    conn.exec_driver_sql("DROP TABLE IF EXISTS _loaded_keys")
    conn.exec_driver_sql("CREATE TEMPORARY TABLE _loaded_keys (record_key text)")
    wh.bulk_insert(conn, keys, "_loaded_keys")
    conn.execute(sa.text(
        "UPDATE ops.quarantine SET resolved_batch_id = :b, resolved_at = :t "
        "WHERE source = :s AND entity = :e AND resolved_batch_id IS NULL "
        "AND record_key IN (SELECT record_key FROM _loaded_keys)"),
        {"b": batch.batch_id, "t": local_now(), "s": batch.source, "e": batch.entity})
    conn.exec_driver_sql("DROP TABLE _loaded_keys")


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
    """A feed of etl/feeds.py with what loading it needs: its frame spec and loaded columns."""
    name: str
    source: str
    spec: transform.Spec
    pii_key: bytes | None
    record_key: str
    table: str
    key: list[str]
    newer: str | None = None
    merge_sql: str | None = None
    references_dossier: bool = False
    stamps: tuple[str, ...] = ()
    restating: tuple[str, ...] | None = None

    @property
    def columns(self) -> list[str]:
        """The columns compared with a stored row (Warehouse.stored_state)."""
        return self.spec.columns

    @property
    def fingerprinted(self) -> bool:
        """A daily feed: its rows keep `record_hash`, so that a re-read record is found before parsing."""
        return bool(self.stamps)

    @property
    def loaded(self) -> list[str]:
        return [*self.columns, "record_hash"] if self.fingerprinted else self.columns

    def pseudonymized(self, records: list[dict]) -> list[dict]:
        return transform.pseudonymized(self.spec, records, self.pii_key or b"")

    def fingerprints(self, records: list[dict]) -> list[str]:
        return transform.fingerprints(records, self.pii_key)


def entity(name: str, pii_key_value: bytes | None = None) -> Entity:
    feed = feeds.feed(name)
    return Entity(feed.name, feed.system, getattr(transform, feed.frame), pii_key_value, feed.record_key, feed.table,
                  list(feed.key), feed.newer, feed.merge_sql, feed.references_dossier, feed.stamps, feed.restating)


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
    # an index lookup per code (the history's key starts with the code), not a scan of every dossier
    known = {r[0] for r in conn.exec_driver_sql(
        "SELECT r.dossier_code FROM _ref_codes r "
        "WHERE EXISTS (SELECT 1 FROM core.dossier_history h WHERE h.dossier_code = r.dossier_code)")}
    conn.exec_driver_sql("DROP TABLE _ref_codes")
    return frame.assign(_dossier_known=frame["dossier_code"].isin(known))


def _chunk_stream(conn: Connection, spec: Entity, batch: BatchResult,
                  pages: Iterable[list[dict]]) -> Iterator[tuple[list[dict], bool]]:
    """(records, retried): first the entity's records waiting for their dossier, then the source's."""
    if spec.references_dossier and batch.day is not None:
        waiting = pending_records(conn, spec)
        if waiting:
            yield waiting, True
    for records in _chunks(pages, CHUNK_RECORDS):
        yield records, False


def _count_day_records(spec: Entity, batch: BatchResult, extracted: pd.DataFrame) -> None:
    if spec.stamps and batch.day is not None:
        stamp = extracted[spec.stamps[0]]
        batch.day_records += _on_day(stamp, batch.day)
        _add_by_earlier_day(batch, stamp, batch.earlier_days)


def _count_day_quarantined(wh: Warehouse, conn: Connection, spec: Entity, batch: BatchResult,
                           rejected: pd.DataFrame) -> None:
    """The quarantined records stamped on each day the batch is for, so that each day's quarantine gate judges
    that day's share; of the others, those judged before (close_batch)."""
    if not spec.stamps or batch.day is None or rejected.empty:
        return
    stamp = rejected[spec.stamps[0]]
    batch.day_quarantined += _on_day(stamp, batch.day)
    _add_by_earlier_day(batch, stamp, batch.quarantined_earlier)
    first = datetime.combine(batch.first_day, time())
    others = rejected[~((stamp >= first) & (stamp < datetime.combine(batch.day, time()) + timedelta(days=1)))]
    if not others.empty:
        conn.exec_driver_sql("DROP TABLE IF EXISTS _rejected")
        conn.exec_driver_sql("CREATE TEMPORARY TABLE _rejected (record_key text, payload_hash text)")
        wh.bulk_insert(conn, _records(others, batch, spec.record_key)[["record_key", "payload_hash"]], "_rejected")
        [(judged,)] = wh.query(conn, "ops/judged_before.sql", {"s": batch.source, "e": batch.entity,
                                                                "first_start": first})
        conn.exec_driver_sql("DROP TABLE _rejected")
        batch.quarantined_judged += int(judged)


def _on_day(stamp: pd.Series, day: date) -> int:
    start = datetime.combine(day, time())
    return int(((stamp >= start) & (stamp < start + timedelta(days=1))).sum())


def _add_by_earlier_day(batch: BatchResult, stamp: pd.Series, counts: dict[date, int]) -> None:
    """Add to `counts` the stamps that fall on each day of a span before its last (none for a night's batch)."""
    if batch.first_day == batch.day or stamp.empty:
        return
    first, last = datetime.combine(batch.first_day, time()), datetime.combine(batch.day, time())
    earlier = stamp[(stamp >= first) & (stamp < last)]
    for day, n in earlier.dt.date.value_counts().items():
        counts[day] = counts.get(day, 0) + int(n)


def _unique(records: list[dict], hashes: list[str]) -> tuple[list[dict], list[str]]:
    """A record repeated across pages is the same record: its first copy is kept, it is not an error."""
    first: dict[str, dict] = {}
    for fingerprint, record in zip(hashes, records, strict=True):
        first.setdefault(fingerprint, record)
    return list(first.values()), list(first)


def _set_aside_rereads(wh: Warehouse, conn: Connection, spec: Entity, batch: BatchResult, records: list[dict],
                       hashes: list[str]) -> tuple[list[dict], list[str], list[str | None]]:
    """The records not stored exactly as they are, with their hashes and what the fingerprints tell of
    them (Warehouse.stored_fingerprints: "new", or None for "compare"). A night re-reads its look-back
    days: those records were validated and loaded before, and are counted here without being parsed."""
    probe = transform.parse_columns(spec.spec, records, (spec.key[0],))
    state = wh.stored_fingerprints(conn, probe.assign(record_hash=hashes, _row=range(len(records))), spec.table,
                                   spec.key[0]).tolist()
    reread = [record for record, s in zip(records, state, strict=True) if s == "same"]
    if reread:
        batch.extracted += len(reread)
        batch.unchanged += len(reread)
        _count_day_records(spec, batch, transform.parse_columns(spec.spec, reread, spec.stamps[:1]))
    rest = [i for i, s in enumerate(state) if s != "same"]
    return [records[i] for i in rest], [hashes[i] for i in rest], [state[i] for i in rest]


def _drop_unchanged(wh: Warehouse, conn: Connection, spec: Entity, batch: BatchResult,
                    frame: pd.DataFrame) -> pd.DataFrame:
    """The rows not stored exactly as they are, with `_state` (Warehouse.stored_state, for the rows whose
    fingerprint did not tell)."""
    if not spec.stamps or frame.empty:
        return frame.assign(_state="new")
    unknown = frame["_state"].isna()
    if unknown.any():
        state = wh.stored_state(conn, frame.loc[unknown, [*spec.columns, "_row"]], spec.table, spec.key,
                                spec.restating)
        frame = frame.assign(_state=frame["_state"].where(~unknown, state))
    same = frame["_state"] == "same"
    batch.unchanged += int(same.sum())
    return frame[~same]


def _note_change(spec: Entity, batch: BatchResult, valid: pd.DataFrame) -> None:
    """Lower batch.changed_from to the earliest date the rows that change the warehouse change a snapshot:
    the earliest of their stamps, or only their change time when what the snapshots read is unchanged."""
    if not spec.stamps or valid.empty:
        return
    new = valid["_state"] == "new"
    found = [t for t in [*(valid.loc[new, col].min() for col in spec.stamps), valid[spec.stamps[0]].min()]
             if not pd.isna(t)]
    if found:
        earliest = min(found).to_pydatetime()
        batch.changed_from = earliest if batch.changed_from is None else min(batch.changed_from, earliest)


def _parse(wh: Warehouse, conn: Connection, spec: Entity, batch: BatchResult, records: list[dict],
           retried: bool) -> tuple[pd.DataFrame, list[dict]]:
    """A chunk's records, without those re-read as they are stored, as a frame and as the records (pseudonymized)
    its `_row` points to."""
    state: list[str | None] | None = None
    if spec.fingerprinted:
        records, hashes = _unique(records, spec.fingerprints(records))
        state = [None] * len(records)
        if not retried:
            records, hashes, state = _set_aside_rereads(wh, conn, spec, batch, records, hashes)
            if not records:
                return pd.DataFrame(), []
    records = spec.pseudonymized(records)
    # Copies differing only in personal data are the same record once pseudonymized.
    kept = transform.first_copies(records)
    if len(kept) < len(records):
        records = [records[i] for i in kept]
        if state is not None:
            hashes, state = [hashes[i] for i in kept], [state[i] for i in kept]
    frame = transform.frame(spec.spec, records)
    if state is not None:
        frame = frame.assign(record_hash=hashes, _state=pd.Series(state, index=frame.index, dtype=object),
                             _key_new=[s == "new" for s in state])
    return frame, records


def _with_payloads(rows: pd.DataFrame, records: list[dict]) -> pd.DataFrame:
    """`rows` with `_payload`: their records as quarantine and ops.pending keep them."""
    return rows.assign(_payload=[transform.payload(records[i]) for i in rows[ROW_ID]])


def write_versions(wh: Warehouse, conn: Connection, spec: Entity, valid: pd.DataFrame, key_new: pd.Series) -> int:
    """A chunk of versions, one row per version, for the merge (`spec.merge_sql`). The versions of dossiers the
    history holds no row of (`key_new`, told by the fingerprints' probe), each alone in the chunk, go straight
    to the history: written once, not staged and inserted again, which most of a catch-up's or a first load's
    rows are (docs/benchmarks.md, "Loading"). The rest go to staging; if a later chunk of the batch sends a
    version of such a dossier, the history holds it by then, so it is staged and merged like any other."""
    valid = valid.assign(_key_new=key_new).sort_values(spec.newer, kind="stable").drop_duplicates(spec.key, keep="last")
    straight = valid.pop("_key_new").astype(bool) & ~valid[spec.key[0]].duplicated(keep=False)
    return (wh.bulk_insert(conn, valid[straight], spec.table)
            + wh.bulk_insert(conn, valid[~straight], f"staging.{spec.name}"))


def load_batch(wh: Warehouse, conn: Connection, spec: Entity, pages: Iterable[list[dict]],
               batch: BatchResult) -> BatchResult:
    """Stream pages -> frame -> validate -> quarantine the failures, hold the records whose dossier has not
    arrived yet (ops.pending), load the rest. One transaction."""
    parameters = reference_parameters(conn)
    tally = ValidationTally(spec.name)
    waits_possible = spec.references_dossier and batch.day is not None
    for records, retried in _chunk_stream(conn, spec, batch, pages):
        frame, records = _parse(wh, conn, spec, batch, records, retried)
        if frame.empty:
            continue
        if retried:
            batch.retried += len(frame)
        else:
            batch.extracted += len(frame)
            _count_day_records(spec, batch, frame)
        frame = _drop_unchanged(wh, conn, spec, batch, frame)
        if spec.references_dossier:
            frame = _mark_known_dossiers(wh, conn, frame)
        outcome = validate(frame, spec.name, parameters,
                           run_name=f"{batch.day or 'reference'}_{batch.source}_{batch.entity}_batch-{batch.batch_id}")
        tally.add(outcome)
        rejected = _with_payloads(outcome.rejected, records)
        if waits_possible:
            waiting = rejected["failed_expectations"] == DOSSIER_UNKNOWN
            hold_pending(wh, conn, rejected[waiting], batch, spec.record_key,
                         spec.stamps[0] if spec.stamps else None)
            rejected = rejected[~waiting]
        batch.quarantined += quarantine(wh, conn, rejected, batch, spec.record_key)
        _count_day_quarantined(wh, conn, spec, batch, rejected)
        _note_change(spec, batch, outcome.valid)
        resolve_quarantine(wh, conn, outcome.valid, batch, spec.record_key)
        valid = outcome.valid[spec.loaded].assign(batch_id=batch.batch_id)
        if spec.merge_sql:
            batch.loaded += write_versions(wh, conn, spec, valid, outcome.valid["_key_new"])
        else:
            if "batch_id" not in _table_columns(conn, spec.table):
                valid = valid.drop(columns="batch_id")
            batch.loaded += wh.upsert_frame(conn, valid, spec.table, spec.key, newer=spec.newer)
    record_validation(conn, batch, tally)
    if spec.merge_sql:
        wh.run_script(conn, spec.merge_sql, {"batch_id": batch.batch_id})
    if waits_possible:
        batch.orphans = settle_pending(wh, conn, batch)
        batch.quarantined += batch.orphans
    close_batch(conn, batch)
    log.info("batch %d %s.%s: %d extracted (%d of them stored already, unchanged), %d loaded, %d quarantined, "
             "%d waiting for their dossier", batch.batch_id, batch.source, batch.entity, batch.extracted,
             batch.unchanged, batch.loaded, batch.quarantined, batch.pending)
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
