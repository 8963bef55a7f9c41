"""The pipeline's steps. The Airflow DAGs and the CLI (run, backfill, demo) call exactly these.

Each step owns one local day (its data interval) and writes in one transaction, so a failed
step can be re-run and converges to the same warehouse state.
"""
from __future__ import annotations

import logging
import statistics
import time as clock
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise

import pandas as pd
import sqlalchemy as sa

from etl import config, feeds, indicators, load, targets, validate
from etl.pii import pii_key
from etl.sources.ndxp import NdxpClient
from etl.sources.onestop import OneStopClient
from etl.sources.prefetch import Prefetch, prefetched
from etl.sources.vnpost import VnpostClient
from etl.timeutil import Window, days, local_now
from etl.warehouse import Warehouse

log = logging.getLogger(__name__)


class QualityGateFailed(RuntimeError):
    """The day's data did not pass a batch-level gate; indicators were not published."""


@dataclass
class Resources:
    """What a step needs, built from one config.Settings: the environment's (the CLI), or with the
    Airflow connections over it (the DAGs)."""
    warehouse: Warehouse
    onestop: OneStopClient
    ndxp: NdxpClient
    vnpost: VnpostClient
    province: str = field(default_factory=lambda: config.settings().province)

    @classmethod
    def from_settings(cls, s: config.Settings, warehouse_url: str | None = None) -> Resources:
        retry = {"max_attempts": s.source_max_attempts}
        return cls(Warehouse(warehouse_url or s.warehouse_url),
                   OneStopClient(s.onestop_url, s.onestop_api_key, **retry),
                   NdxpClient(s.ndxp_url, s.ndxp_client_id, s.ndxp_client_secret, **retry),
                   VnpostClient(s.vnpost_url, s.vnpost_username, s.vnpost_password, **retry), s.province)

    @classmethod
    def from_env(cls, warehouse_url: str | None = None) -> Resources:
        return cls.from_settings(config.settings(), warehouse_url)

    def client(self, system: str):
        return {"onestop": self.onestop, "ndxp": self.ndxp, "vnpost": self.vnpost}[system]

    def __enter__(self) -> Resources:
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
          window: Window | None = None, first_day: date | None = None) -> load.BatchResult:
    """One batch of one entity: recorded in ops.batch, loaded in one transaction with its watermark."""
    batch = load.open_batch(res.warehouse, entity.source, entity.name, window and window.start, window and window.end,
                            first_day)
    try:
        with res.warehouse.begin() as conn:
            load.load_batch(res.warehouse, conn, entity, pages, batch)
            if window is not None:
                load.advance_watermark(conn, batch, window.end)
        return batch
    except BaseException as exc:
        load.fail_batch(res.warehouse, batch, exc)
        raise


def extraction_window(res: Resources, source: str, entity: str, day: date, lookback: bool = True,
                      last: date | None = None) -> Window:
    """The day (to `last`, a backfill's span), plus a look-back for late updates (without `lookback`: the
    same run has just read the days before), reaching back to the watermark if a gap was left."""
    start = Window.for_day(day).start - timedelta(days=config.settings().extract_lookback_days if lookback else 0)
    with res.warehouse.begin() as conn:
        mark = load.watermark(conn, source, entity)
    if mark is not None and mark < start:
        log.warning("%s.%s loaded only until %s: extracting from there", source, entity, mark)
        start = mark
    return Window(start, Window.for_day(last or day).end)


def load_window(res: Resources, name: str, window: Window) -> load.BatchResult:
    """Every record of one daily feed changed in `window`, streamed into one batch."""
    feed = feeds.feed(name)
    return _load(res, load.entity(name, pii_key()), prefetched(feed.fetch(res.client(feed.system), window)), window)


def load_daily(res: Resources, name: str, day: date) -> load.BatchResult:
    """One daily feed's load for `day`: the step the DAG's tasks load_<name> and the CLI call."""
    feed = feeds.feed(name)
    return load_window(res, name, extraction_window(res, feed.system, name, day))


def load_reference(res: Resources, day: date) -> dict[str, int]:
    """Agencies, procedures, service configuration, integrated services (as the sources have them
    now) and the targets, each validated like any batch."""
    counts = {feed.name: _load(res, load.entity(feed.name), [feed.fetch(res.client(feed.system))]).loaded
              for feed in feeds.reference_feeds()}
    with res.warehouse.begin() as conn:
        counts["target"] = targets.load_targets(res.warehouse, conn, res.province)
    log.info("reference data for %s: %s", day, counts)
    return counts


def reference_is_fresh(res: Resources) -> bool:
    """Every reference entity has a succeeded batch finished within REFERENCE_MAX_AGE_HOURS (default 12)."""
    with res.warehouse.begin() as conn:
        latest = dict(conn.execute(sa.text(
            "SELECT entity, max(finished_at) FROM ops.batch WHERE status = 'succeeded' AND window_end IS NULL "
            "AND entity IN :names GROUP BY entity").bindparams(sa.bindparam("names", expanding=True)),
            {"names": [feed.name for feed in feeds.reference_feeds()]}).all())
    cutoff = local_now() - timedelta(hours=config.settings().reference_max_age_hours)
    return all(latest.get(f.name) is not None and latest[f.name] >= cutoff for f in feeds.reference_feeds())


def refresh_reference(res: Resources, day: date) -> dict[str, int] | None:
    """load_reference unless the warehouse got all of it within REFERENCE_MAX_AGE_HOURS (None then)."""
    if reference_is_fresh(res):
        log.info("reference data loaded within REFERENCE_MAX_AGE_HOURS: not reloaded")
        return None
    return load_reference(res, day)


@dataclass
class Reading:
    """The daily feeds of a day (or of the days first..last: a backfill's span) being read: their windows, and
    a reader per feed (pages fetched ahead)."""
    first: date
    last: date
    windows: list[Window]
    readers: list[Prefetch]

    def close(self) -> None:
        for reader in self.readers:
            reader.close()


def start_reading(res: Resources, day: date, lookback: bool = True, behind: Reading | None = None,
                  last: date | None = None) -> Reading:
    """Start reading every daily feed for `day` (to `last`): each system by one thread that reads its feeds in
    turn, in the registry's order (dossiers first), so a feed's pages arrive while the feeds before it load. The
    windows come from the watermarks: the loads of the days before must have committed. With `behind` (the
    day before's reading, not yet loaded), each window starts where `behind`'s ends, as the watermark will
    once those loads commit (`lookback` does not apply), and each system's first feed is read once `behind`
    has read that system."""
    daily = feeds.daily_feeds()
    last = last or day
    if behind is None:
        windows = [extraction_window(res, feed.system, feed.name, day, lookback, last) for feed in daily]
    else:
        windows = [Window(before.end, Window.for_day(last).end) for before in behind.windows]
    reading = Reading(day, last, windows, [])
    system_reader: dict[str, Prefetch] = {} if behind is None else {
        feed.system: reader for feed, reader in zip(daily, behind.readers, strict=True)}
    try:
        for feed, window in zip(daily, windows, strict=True):
            system_reader[feed.system] = Prefetch(feed.fetch(res.client(feed.system), window),
                                                  after=system_reader.get(feed.system), name=f"read {feed.name} {day}")
            reading.readers.append(system_reader[feed.system])
    except BaseException:
        reading.close()
        raise
    return reading


def load_sources(res: Resources, day: date, reading: Reading | None = None,
                 last: date | None = None) -> list[load.BatchResult]:
    """Every daily feed for `day` (to `last`: one batch per feed for the span), loaded in the registry's order,
    from `reading` if it was started before."""
    reading = reading or start_reading(res, day, last=last)
    try:
        return [_load(res, load.entity(feed.name, pii_key()), reader, window, reading.first)
                for feed, reader, window in zip(feeds.daily_feeds(), reading.readers, reading.windows, strict=True)]
    finally:
        reading.close()


# -- quality gates ---------------------------------------------------------------------------
def daily_entities() -> list[load.Entity]:
    return [load.entity(feed.name) for feed in feeds.daily_feeds()]


def check_quality_gates(res: Resources, day: date, problems: list[str] | None = None) -> None:
    """Every daily batch of the day succeeded, with no more quarantined than noise and a volume its
    recent days make plausible (docs: README, Operations); `problems`: gate_problems' findings for the day,
    if asked already. A failure is recorded in ops.day_run."""
    problems = gate_problems(res, [day])[day] if problems is None else problems
    if problems:
        message = f"indicators for {day} not published: " + " | ".join(problems)
        with res.warehouse.begin() as conn:
            record_day(res.warehouse, conn, day, "gate_failed", message=message)
        raise QualityGateFailed(message)


def gate_problems(res: Resources, span: list[date]) -> dict[date, list[str]]:
    """What the quality gates find wrong with each of the consecutive days of `span` (nothing: they pass):
    two queries per daily feed and one for the days held back, whatever the span's length (a backfill gates a
    month at once). The days are judged in order, as nights would judge them."""
    first, last = span[0], span[-1]
    found: dict[date, list[str]] = {day: [] for day in span}
    holidays = config.settings().holidays
    for day in sorted(set(span) & holidays):
        log.info("%s is in PUBLIC_HOLIDAYS: its volume holds it back only for a spike", day)
    gated = []  # (entity, day -> its latest batch, earlier day -> records stamped on it)
    with res.warehouse.begin() as conn:
        # a listed holiday, or a day still held back, is no usual day: no later day is judged against it
        unusual = holidays | {d for d, in res.warehouse.query(conn, "ops/held_days.sql", {
            "a": first - timedelta(days=28), "b": first - timedelta(days=1), "day": first})}
        for entity in daily_entities():
            latest = {}
            for row in res.warehouse.query(conn, "ops/gate_batch.sql", {
                    "s": entity.source, "e": entity.name, "first": first, "last": last,
                    "first_end": Window.for_day(first).end, "last_end": Window.for_day(last).end}):
                if row.data_day not in latest or row.batch_id > latest[row.data_day].batch_id:
                    latest[row.data_day] = row
            gated.append((entity, latest, {d: n for d, n in res.warehouse.query(conn, "ops/volume_history.sql", {
                "s": entity.source, "e": entity.name, "lo": first - timedelta(days=28), "hi": last})
                if d not in unusual}))
    for day in span:  # in order, as nights would: a day held here is left out of the span's later days
        for entity, latest, counts in gated:
            found[day] += _gate(entity, day, latest.get(day), counts)
        if found[day]:
            for _, _, counts in gated:
                counts.pop(day, None)
    return found


def _gate(entity: load.Entity, day: date, row, counts: dict[date, int]) -> list[str]:
    name = f"{entity.source} {entity.name}"
    if row is None:
        return [f"no {name} batch ends at {Window.for_day(day).end}: run its load step first"]
    if row.status != "succeeded":
        return [f"{name} batch {row.batch_id} {row.status}: {row.message}"]
    s = config.settings()
    limit, floor = s.quarantine_max_share, s.quarantine_min_count
    # a day's own records (before migration 0041, a night's: its whole batch's), then those of no day
    own = row.spans_days or row.other_quarantined is not None
    shares = [(row.quarantined or 0, row.extracted, f"{f' stamped {day}' if own else ''} quarantined")]
    if row.other_quarantined is not None:
        shares.append((row.other_quarantined, row.batch_extracted, " of the batch, stamped on none of its days and "
                       "new to the quarantine (late, or an unreadable stamp), quarantined"))
    problems = []
    for quarantined, extracted, which in shares:
        share = quarantined / extracted if extracted else 0.0
        if share > limit and quarantined >= floor:
            problems.append(
                f"{name} batch {row.batch_id}: {quarantined} of {extracted} records{which} ({share:.1%} > "
                f"QUARANTINE_MAX_SHARE {limit:.1%}); see ops.quarantine WHERE batch_id = {row.batch_id} and "
                "ops.validation_result")
    baseline, basis, same_weekday = _volume_baseline(counts, day)
    if baseline is not None and baseline >= s.volume_min_baseline:
        low, high = s.volume_min_ratio, s.volume_max_ratio
        count = row.day_records or 0
        quiet = day in s.holidays  # a public holiday may be silent or quiet; only a spike holds it
        if count == 0 and not quiet and (same_weekday or day.weekday() < 5):
            problems.append(
                f"{name}: no records stamped {day} ({day:%A}), against a median of {baseline:g} on {basis}: "
                f"the source may be down or its API changed; check it, then re-run the day (a public holiday: "
                f"add it to PUBLIC_HOLIDAYS)")
        elif count > high * baseline or (same_weekday and not quiet and 0 < count < low * baseline):
            problems.append(
                f"{name} batch {row.batch_id}: {count} records stamped {day}, against a median of {baseline:g} "
                f"on {basis} (allowed {low:g}x to {high:g}x, VOLUME_MIN_RATIO / VOLUME_MAX_RATIO); check the "
                f"source system's availability or a change of its API before publishing, then re-run the load"
                + (" (a public holiday: add it to PUBLIC_HOLIDAYS)" if count < baseline else ""))
    return problems


def _volume_baseline(counts: dict[date, int], day: date) -> tuple[float | None, str, bool]:
    """The usual number of records stamped on such a day, from `counts` (records stamped per earlier day,
    ops/volume_history.sql; public holidays and days still held back left out): the median of the same weekday
    over the last four weeks (at least two known), else of the last 14 days (at least seven known; weekends
    mixed in, so then only silence on a weekday and spikes are judged). The last item says which."""
    same = [counts[k] for k in (day - timedelta(days=7 * w) for w in range(1, 5)) if k in counts]
    if len(same) >= 2:
        return statistics.median(same), f"the last {len(same)} {day:%A}s", True
    recent = [v for k, v in counts.items() if day - timedelta(days=14) <= k < day]
    if len(recent) >= 7:
        return statistics.median(recent), f"the last {len(recent)} days", False
    return None, "", False


# -- publication ---------------------------------------------------------------------------
def restated_dates(wh: Warehouse, conn, day: date) -> set[date]:
    """The snapshot dates a run for `day` (re)publishes: from the earliest date its loads changed (at least
    EXTRACT_LOOKBACK_DAYS back, never before the first date ever published) to `day` or the latest date
    already published, less the days whose own gate failed (they wait for a re-run or a manual publish)."""
    [(changed, first, last)] = wh.query(conn, "ops/restatement.sql", {"end": Window.for_day(day).end})
    start = day - timedelta(days=config.settings().extract_lookback_days)
    if changed is not None:
        start = min(start, changed.date())
    start = max(start, first) if first is not None else day
    stop = max(day, last) if last is not None else day
    held = {r[0] for r in wh.query(conn, "ops/held_days.sql", {"a": start, "b": stop, "day": day})}
    return set(days(start, stop)) - held


def contiguous(dates: Iterable[date]) -> list[tuple[date, date]]:
    """Dates as the fewest ranges (first, last), in order."""
    ranges: list[tuple[date, date]] = []
    for d in sorted(dates):
        if ranges and ranges[-1][1] == d - timedelta(days=1):
            ranges[-1] = (ranges[-1][0], d)
        else:
            ranges.append((d, d))
    return ranges


def publish_range(res: Resources, ranges: list[tuple[date, date]], run_day: date) -> int:
    """Compute and replace the snapshots of the date ranges in one transaction; ops.publication records
    each date's (re)publication and how many of its rows changed (counted from what the write changed:
    one year at a time, as indicators.publish_range keeps the last year's difference)."""
    rows = 0
    with res.warehouse.begin() as conn:
        res.warehouse.lock(conn, "publish")
        for start, end in (chunk for r in ranges for chunk in indicators.year_chunks(*r)):
            params = {"start": start, "end": end, "run_day": run_day, "t": local_now(), "rules": indicators.rules()}
            [(current,)] = res.warehouse.query(conn, "ops/publication_current.sql", {
                "base": start - timedelta(days=1), "next_ts": datetime.combine(start, time()),
                "rules": params["rules"]})
            rows += indicators.publish_range(res.warehouse, start, end, res.province, conn, incremental=bool(current))
            res.warehouse.run_script(conn, "ops/publication_after.sql", params)
    return rows


def publish_indicators(res: Resources, day: date) -> str:
    """The day's snapshot, and the restatement of every earlier date its loads changed."""
    return publish_days(res, [day])


def publish_days(res: Resources, run_days: list[date]) -> str:
    """Publish days whose loads passed their gates, together: every date any of them restates is computed
    once (a backfill's month, rather than each date again on each of the next EXTRACT_LOOKBACK_DAYS nights).
    Each day is recorded published in ops.day_run; returns the dates published, "first .. last"."""
    with res.warehouse.begin() as conn:
        ranges = contiguous(set().union(*(restated_dates(res.warehouse, conn, d) for d in run_days)))
    rows = publish_range(res, ranges, run_days[-1])
    with res.warehouse.begin() as conn:
        record_days(res.warehouse, conn, run_days, "published", ranges[0][0], ranges[-1][1])
    log.info("published %s: snapshot dates %s (%d rows)",
             run_days[0] if len(run_days) == 1 else f"{run_days[0]} .. {run_days[-1]} ({len(run_days)} days)",
             ", ".join(f"{a}..{b}" if a != b else str(a) for a, b in ranges), rows)
    return f"{ranges[0][0]} .. {ranges[-1][1]}"


def publish_by_hand(res: Resources, start: date, end: date) -> int:
    """`python -m etl publish`: the dates start..end from the warehouse as it is, no gates. Days held back by
    a gate are the operator's to release: they count as published from now on (later nights restate them)."""
    rows = publish_range(res, [(start, end)], end)
    with res.warehouse.begin() as conn:
        conn.execute(sa.text(
            "UPDATE ops.day_run SET status = 'published', message = 'published by hand (python -m etl publish) "
            "after: ' || COALESCE(message, ''), finished_at = :t "
            "WHERE status = 'gate_failed' AND run_day >= :a AND run_day <= :b"),
            {"t": local_now(), "a": start, "b": end})
    return rows


def record_day(wh: Warehouse, conn, day: date, status: str, published_from: date | None = None,
               published_to: date | None = None, message: str | None = None) -> None:
    record_days(wh, conn, [day], status, published_from, published_to, message)


def record_days(wh: Warehouse, conn, run_days: list[date], status: str, published_from: date | None = None,
                published_to: date | None = None, message: str | None = None) -> None:
    now, message = local_now(), (message or "")[:2000] or None
    wh.upsert_frame(conn, pd.DataFrame([{
        "run_day": day, "status": status, "published_from": published_from, "published_to": published_to,
        "message": message, "finished_at": now} for day in run_days]), "ops.day_run", ["run_day"])


# -- a day, a range of days ------------------------------------------------------------------
@dataclass
class DayOutcome:
    day: date
    status: str                  # published | gate_failed | failed | skipped (done before, --resume) |
                                 # gates_passed (a backfill's day waiting for its month's publication)
    dossiers: int = 0            # dossier versions extracted
    quarantined: int = 0         # records quarantined, every source
    pending: int = 0             # records waiting for their dossier after the day
    published: str = ""          # the snapshot dates (re)published
    publishes_with: date | None = None  # gates_passed: the day whose end publishes it
    message: str = ""
    seconds: float = 0.0


def nightly(res: Resources, day: date) -> DayOutcome:
    """`python -m etl run`: exactly the nightly DAGs' tasks for one day, reports included."""
    from etl.reports import write_reports_for

    migrate(res)
    refresh_reference(res, day)
    try:
        outcome = run_day(res, day)
    finally:
        validate.build_data_docs()
    if outcome.status == "published":
        write_reports_for(res, day)
    return outcome


def run_day(res: Resources, day: date) -> DayOutcome:
    """One day's loads, gates and publication, in the order of the nightly DAG's tasks (after
    migrate and the reference data). A failed gate does not undo the loads."""
    began = clock.monotonic()
    return finish_day(res, day, load_day(res, day), began)


def load_day(res: Resources, day: date, reading: Reading | None = None,
             last: date | None = None) -> list[load.BatchResult]:
    """The day's loads (to `last`: a backfill's span; load_sources); a failure is recorded in ops.day_run for
    each of the days, and raised."""
    try:
        return load_sources(res, day, reading, last)
    except Exception as exc:
        with res.warehouse.begin() as conn:
            record_days(res.warehouse, conn, days(day, last or day), "failed", message=f"{type(exc).__name__}: {exc}")
        raise


def finish_day(res: Resources, day: date, batches: list[load.BatchResult], began: float,
               publish_with: date | None = None, problems: list[str] | None = None) -> DayOutcome:
    """After the day's loads: its gates, then its publication if they pass; with `publish_with` (the day, or a
    later one, whose end publishes it: backfill), the publication is left to the caller (status gates_passed).
    Of a backfill's span, each day tells the records quarantined stamped on it, and its last day also the rest (a
    stamp on none of its days, orphans) and the records still waiting; the gates' `problems` are found for the
    whole span at once (gate_problems)."""
    own = day == batches[0].day
    outcome = DayOutcome(day, "published",
                         dossiers=batches[0].day_records if own else batches[0].earlier_days.get(day, 0),
                         quarantined=sum(b.quarantined - sum(b.quarantined_earlier.values()) if own
                                         else b.quarantined_earlier.get(day, 0) for b in batches),
                         pending=sum(b.pending for b in batches) if own else 0)
    try:
        check_quality_gates(res, day, problems)
    except QualityGateFailed as exc:
        outcome.status, outcome.message = "gate_failed", str(exc)
    else:
        if publish_with is None:
            outcome.published = publish_indicators(res, day)
        else:
            outcome.status, outcome.publishes_with = "gates_passed", publish_with
    outcome.seconds = clock.monotonic() - began
    return outcome


def finished_days(res: Resources, first: date, last: date) -> set[date]:
    with res.warehouse.begin() as conn:
        return {r[0] for r in conn.execute(sa.text(
            "SELECT run_day FROM ops.day_run WHERE status = 'published' AND run_day >= :a AND run_day <= :b"),
            {"a": first, "b": last})}


def read_ahead(res: Resources, span: list[date] | None, lookback: bool = True,
               behind: Reading | None = None) -> Reading | None:
    """start_reading(the span's days) before the span's turn; None if there is no such span or it fails. The days
    before are then still loaded, gated and published, and the span's own load_day reads again (and, if that
    fails too, records the failure): a source down for the next days must not leave these loaded and
    unpublished."""
    if not span:
        return None
    try:
        return start_reading(res, span[0], lookback, behind, last=span[-1])
    except Exception as exc:  # noqa: BLE001 - the span's own load reads again and raises what it meets
        log.warning("could not start reading the sources of %s early (%s: %s); its load reads them again",
                    span[0], type(exc).__name__, exc)
        return None


def publication_day(day: date, last: date) -> date:
    """The day a backfill publishes `day` with: the last of its month, or `last` (the end of the range)."""
    following_month = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return min(following_month - timedelta(days=1), last)


def spans(to_run: list[date], end: date, daily: bool = False) -> list[list[date]]:
    """The days a backfill loads together: consecutive days published together (publication_day); each day
    alone with `daily`."""
    groups: list[list[date]] = []
    for day in to_run:
        if (not daily and groups and groups[-1][-1] == day - timedelta(days=1)
                and publication_day(groups[-1][-1], end) == publication_day(day, end)):
            groups[-1].append(day)
        else:
            groups.append([day])
    return groups


def backfill(res: Resources, start: date, end: date, resume: bool = False,
             progress: Callable[[int, int, DayOutcome], None] | None = None, daily: bool = False) -> list[DayOutcome]:
    """Every day from start to end in order; a day whose gate fails is reported and the next one runs.
    With `resume`, days already published (ops.day_run) are skipped. Consecutive days published together (a
    month, or the rest of the range) load together: one batch per feed over their days, each day then gated
    on its own records (ops.day_records), and published with the others at the end of the month and of the
    range (publish_days: each date computed once), or before an error stops the run. With `daily`, each day
    loads alone, as the nights do. The next days' sources are read as soon as the days before have been, while
    those load and are gated (the sources' past days do not change meanwhile)."""
    migrate(res)
    refresh_reference(res, end)
    todo = days(start, end)
    done = finished_days(res, start, end) if resume else set()
    groups = spans([day for day in todo if day not in done], end, daily)
    starting = {group[0]: group for group in groups}
    following = {group[0]: after for group, after in pairwise(groups)}
    outcomes = []
    waiting: list[DayOutcome] = []  # gates passed, not yet published

    def publish_waiting() -> None:
        group = waiting[:]
        waiting.clear()  # tried once: a publication that failed is not tried again on the way out
        if group:
            published = publish_days(res, [o.day for o in group])
            for o in group:
                o.status, o.published = "published", published

    ahead: Reading | None = None
    batches: list[load.BatchResult] = []
    findings: dict[date, list[str]] = {}
    try:
        for number, day in enumerate(todo, 1):
            began = clock.monotonic()
            if day in done:
                outcome = DayOutcome(day, "skipped")
            else:
                if day in starting:
                    span = starting[day]
                    if len(span) > 1:
                        log.info("loading %s .. %s (%d days): one batch per source", span[0], span[-1], len(span))
                    reading = ahead or read_ahead(res, span)
                    after = following.get(day, [])
                    # The next span is read as soon as this one's sources are, while this one loads; it skips its
                    # look-back when it follows this one (the run reads those windows just before).
                    follows = bool(after) and after[0] == span[-1] + timedelta(days=1)
                    ahead = read_ahead(res, after, lookback=False, behind=reading) if follows and reading else None
                    batches = load_day(res, span[0], reading, span[-1])
                    findings = gate_problems(res, span)
                    if ahead is None:  # after a gap, or if that failed: the windows come from the watermarks
                        ahead = read_ahead(res, after, lookback=not follows)
                outcome = finish_day(res, day, batches, began, publication_day(day, end), findings[day])
                if outcome.status == "gates_passed":
                    waiting.append(outcome)
            outcomes.append(outcome)
            if progress:
                progress(number, len(todo), outcome)
            if day == publication_day(day, end):
                publish_waiting()
    except Exception:
        if ahead is not None:
            ahead.close()  # not read on while the days that passed their gates publish
        unpublished = [str(o.day) for o in waiting]
        try:
            publish_waiting()  # what loaded and passed its gates before the error
        except Exception:  # the first error is the one to raise
            log.exception("could not publish %s (loaded, gates passed) before stopping on the error that follows; "
                          "re-run with --resume", ", ".join(unpublished))
        raise
    finally:
        if ahead is not None:
            ahead.close()
        validate.build_data_docs()  # once per run: rendering is the expensive part
    return outcomes
