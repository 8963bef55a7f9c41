"""The indicator step over a year of daily snapshots: how long it takes, and that its cost grows
with the number of snapshot dates (not with their square).

    .venv/bin/python benchmarks/bench_indicators.py [--dossiers-per-year 1000000] [--chunk 1000000] [--url URL]
                                                    [--ranges 30,90,365] [--daily 7] [--keep]
                                                    [--publish 2022-12-27] [--nightly 3 --nights 2022-12-03,2022-12-31]
                                                    [--incremental-only] [--statements 10]

Data. The simulator's Lào Cai 2022 profile gives the reference data (176 agencies, 460
procedures, the service configuration with its mid-year changes, the national-portal
integrations), loaded through the pipeline's own validated loaders. The dossiers are NOT
fetched over HTTP: at 1 million a year that would take hours. Instead this script generates a
year of them with numpy (a million at a time: --chunk), shaped like the simulator's (each agency's volume, online share,
lateness, supplements, postal use, digitization, payments; one version per status change, 7 a
dossier on average), with their payments, PayGov transactions, national-portal sync receipts
and postal orders, and bulk-inserts them straight into the core tables (COPY on PostgreSQL, a
DataFrame scan on DuckDB), bypassing validation. Only the indicator step is timed.

What is timed: `etl.indicators.publish_range` for the first N dates of the year, for each N of
--ranges (one run each, written to mart.indicator_snapshot), and --daily single-date runs
(`publish_snapshot`) at the end of the year, to compare; with --nightly N, N interleaved rounds of the
nightly restatement of each of --nights (default 31 December: 28-31 December) in full against
incremental (from the published date before: what `python -m etl run` and the DAG do).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import config, indicators, load, targets, transform
from etl.warehouse import Warehouse

YEAR = 2022
DAY = np.timedelta64(1, "D")
HOUR = np.timedelta64(3600, "s")


# -- reference data ---------------------------------------------------------------------------
def load_reference(wh: Warehouse, province: str):
    from mocks.catalog import load_profile
    from mocks.server import integrated_services

    profile = load_profile("lao_cai_2022")
    records = {
        "agency": [a.row() for a in profile.agencies],
        "procedure": [p.row() for p in profile.procedures],
        "service_config": [c.row() for c in profile.configs],
        "integrated_service": integrated_services(profile),
    }
    for name, rows in records.items():
        spec = load.entity(name)
        with wh.begin() as conn:
            load.load_batch(wh, conn, spec, [rows], load.open_batch(wh, spec.source, name, None, None))
    with wh.begin() as conn:
        targets.load_targets(wh, conn, province)
    return profile


def offer_arrays(profile, d: date) -> pd.DataFrame:
    """The services offered on d with the probability that a dossier is for each."""
    agencies, cum, offers = profile.offer_table(d)
    total = cum[-1]
    rows = []
    prev = 0.0
    for a, c in zip(agencies, cum, strict=False):
        share = (c - prev) / total
        prev = c
        configs, pc = offers[a.code]
        last = 0.0
        for cfg, p in zip(configs, pc, strict=False):
            proc = profile.proc_by_code[cfg.procedure]
            rows.append({
                "agency_code": a.code, "procedure_code": cfg.procedure, "weight": share * (p - last) / pc[-1],
                "mode": cfg.mode, "online_payment": cfg.online_payment, "bcci": cfg.bcci, "has_fee": proc.has_fee,
                "fee": proc.fee, "days": proc.days, "online": a.online, "late": a.late, "post_in": a.post_in,
                "post_out": a.post_out, "digitize": a.digitize, "result_digitized": a.result_digitized,
                "signed": a.signed, "online_pay": a.online_pay, "supplement": a.supplement})
            last = p
    frame = pd.DataFrame(rows)
    frame["weight"] /= frame["weight"].sum()
    return frame


# -- synthetic dossiers ------------------------------------------------------------------------
def synthetic_year(profile, per_year: int, seed: int = 2022, number_from: int = 0) -> dict[str, pd.DataFrame]:
    """`per_year` dossiers spread over the year, numbered from `number_from` (so that chunks of a larger
    year, each with its own seed, never share a code)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(f"{YEAR}-01-01", f"{YEAR}-12-31", freq="D")
    weight = np.where(days.dayofweek == 5, 0.3, np.where(days.dayofweek == 6, 0.1, 1.0))
    n = int(per_year)
    day_idx = rng.choice(len(days), size=n, p=weight / weight.sum())
    day_idx.sort()
    sub_day = days.values[day_idx]
    # the services: the first half-year's offer, then the configuration changed on 1 July
    first, second = offer_arrays(profile, date(YEAR, 1, 1)), offer_arrays(profile, date(YEAR, 7, 1))
    h2 = sub_day >= np.datetime64(f"{YEAR}-07-01")
    svc = pd.concat([first.iloc[rng.choice(len(first), size=int((~h2).sum()), p=first["weight"].values)],
                     second.iloc[rng.choice(len(second), size=int(h2.sum()), p=second["weight"].values)]],
                    ignore_index=True)
    u = lambda: rng.random(n)  # noqa: E731
    p_online = np.where(svc["mode"] == "TOAN_TRINH", svc["online"], np.where(svc["mode"] == "MOT_PHAN",
                                                                               svc["online"] * 0.55, 0.0))
    r = u()
    channel = np.where(r < p_online, 2, np.where(svc["bcci"].values & (u() < svc["post_in"].values), 3, 1))
    result_channel = np.where((channel == 2) & (svc["mode"].values == "TOAN_TRINH") & (u() < 0.75), 2,
                              np.where(svc["bcci"].values & (u() < np.where(channel == 3, 0.8, svc["post_out"])), 3, 1))
    secs = lambda lo, hi: (rng.integers(lo, hi, n)).astype("timedelta64[s]")  # noqa: E731
    sub = sub_day + np.where(channel == 2, secs(0, 86400), secs(7 * 3600 + 1800, 17 * 3600))
    rec = sub + np.where(channel == 1, secs(180, 2400), secs(3600, 2 * 86400))
    due = rec + (svc["days"].values * 1.4 * 86400).astype("timedelta64[s]")
    rejected = u() < 0.025
    fate = u()
    withdrawn, stopped = (~rejected) & (fate < 0.008), (~rejected) & (fate >= 0.008) & (fate < 0.015)
    supp = (~rejected) & (u() < svc["supplement"].values)
    supp2 = supp & (u() < 0.15)
    fee = svc["has_fee"].values
    pay_online = np.where(fee & svc["online_payment"].values & (channel != 1) & (u() < svc["online_pay"].values),
                          np.where(u() < 0.6, 1, 2), 0)
    pay_late = fee & (u() < 0.45)           # paid after an "awaiting payment" step, else at submission
    late = u() < svc["late"].values
    never_returned = u() < 0.03

    t_proc = rec + secs(3600, 86400)
    t5 = t_proc + secs(3600, 3 * 86400)
    wait = secs(2 * 3600, 5 * 86400)
    t4 = t5 + wait
    t5b, t4b = t4 + secs(3600, 86400), t4 + secs(3600, 86400) + wait
    due1 = np.where(supp, due + wait, due)
    due2 = np.where(supp2, due1 + wait, due1)
    last = np.where(supp2, t4b, np.where(supp, t4, t_proc))
    end_w = last + secs(86400, 5 * 86400)                                   # withdrawn / stopped
    finish = np.where(late, np.maximum(due2, last) + secs(86400, 8 * 86400),
                      last + ((due2 - last) * rng.uniform(0.2, 0.95, n)).astype("timedelta64[s]"))
    finish = np.maximum(finish, last + np.timedelta64(600, "s"))
    t6 = last + ((finish - last) * 0.3).astype("timedelta64[s]")
    t6_paid = t6 + ((finish - t6) * 0.5).astype("timedelta64[s]")
    ret = finish + np.where(result_channel == 2, secs(60, 3 * 3600), secs(3600, 5 * 86400))

    numbers = np.arange(number_from, number_from + n)
    codes = np.array([f"{a}-{i:07d}" for a, i in zip(svc["agency_code"].values, numbers, strict=True)], dtype=object)
    base = {
        "dossier_code": codes, "procedure_code": svc["procedure_code"].values, "agency_code": svc["agency_code"].values,
        "channel": channel, "submitted_at": sub, "result_channel": result_channel,
        "fee_amount": np.where(fee, svc["fee"].values, 0),
    }
    versions = []

    def version(mask, at, status, **fields):
        part = {k: v[mask] for k, v in base.items()}
        part.update({"updated_at": at[mask], "status": np.full(mask.sum(), status)})
        for k, v in fields.items():
            part[k] = v[mask] if isinstance(v, np.ndarray) else np.full(mask.sum(), v)
        versions.append(pd.DataFrame(part))

    everyone = np.ones(n, dtype=bool)
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    digit = (channel == 2) | (u() < svc["digitize"].values)
    paid_at_sub = np.where(pay_late, 0, pay_online)
    received = dict(received_at=rec, due_at=due, has_digitized_components=digit, paid_online=paid_at_sub,
                    supplement_count=0)
    version(everyone, sub, 1, paid_online=paid_at_sub, supplement_count=0)
    version(rejected, rec, 3, rejected_at=rec, supplement_count=0, paid_online=paid_at_sub)
    ok = ~rejected
    version(ok, rec, 2, **received)
    version(ok, t_proc, 4, **received)
    version(supp, t5, 5, **{**received, "supplement_count": 1})
    version(supp, t4, 4, **{**received, "supplement_count": 1, "due_at": due1})
    version(supp2, t5b, 5, **{**received, "supplement_count": 2, "due_at": due1})
    version(supp2, t4b, 4, **{**received, "supplement_count": 2, "due_at": due2})
    sc = np.where(supp2, 2, np.where(supp, 1, 0))
    open_state = {**received, "supplement_count": sc, "due_at": due2}
    version(withdrawn, end_w, 7, **open_state)
    version(stopped, end_w, 8, **open_state, finished_at=end_w)
    goes_on = ok & ~withdrawn & ~stopped
    version(goes_on & pay_late, t6, 6, **open_state)
    version(goes_on & pay_late, t6_paid, 4, **{**open_state, "paid_online": pay_online})
    done = {**open_state, "paid_online": pay_online, "finished_at": finish,
            "result_digitized": u() < svc["result_digitized"].values, "digitally_signed": u() < svc["signed"].values}
    version(goes_on, finish, 9, **done)
    version(goes_on & ~never_returned, ret, 10, **done, returned_at=ret)
    history = pd.concat(versions, ignore_index=True)
    versions.clear()
    history.sort_values(["dossier_code", "updated_at"], inplace=True, kind="stable")
    history["valid_to"] = history.groupby("dossier_code", sort=False)["updated_at"].shift(-1)
    for col in ("received_at", "due_at", "finished_at", "returned_at", "rejected_at", "supplement_requested_at",
                "supplement_due_at"):  # no supplement request times: judged as requested on time
        history[col] = history[col].fillna(pd.NaT) if col in history else pd.NaT
    for col in ("has_digitized_components", "result_digitized", "digitally_signed"):
        history[col] = history[col].astype("boolean") if col in history else pd.NA
    history["paid_online"] = history["paid_online"].astype("Int64")
    history["supplement_count"] = history["supplement_count"].astype("int64")
    history["applicant_key"] = None
    history["batch_id"] = 0
    history = history[["dossier_code", "updated_at", "valid_to", *[c for c in transform.DOSSIER_COLUMNS
                                                                      if c not in ("dossier_code", "updated_at")],
                       "batch_id"]]

    # payments: online ones (8 % after a cancelled attempt; refunded when the dossier was stopped or
    # withdrawn), counter ones at receipt; PayGov sees the national-portal ones
    paid_when = np.where(pay_late, t6_paid, np.where(pay_online > 0, sub, rec))
    pays = fee & ~rejected & (~pay_late | goes_on)
    online_tx = pays & (pay_online > 0)
    tx_ids = np.array([f"TX{i:09d}" for i in numbers], dtype=object)
    refund = online_tx & (withdrawn | stopped) & (u() < 0.7)
    payment = pd.DataFrame({
        "transaction_id": tx_ids[pays], "dossier_code": codes[pays], "amount": base["fee_amount"][pays],
        "method": np.where(pay_online[pays] > 0, 2, 1),
        "channel": np.select([pay_online[pays] == 1, pay_online[pays] == 2], ["DVCQG", "CONG_TINH"], "TAI_QUAY"),
        "status": np.where(refund[pays], "refunded", "paid"), "transaction_at": paid_when[pays],
        "updated_at": np.where(refund[pays], end_w[pays] + 86400 * np.timedelta64(1, "s"), paid_when[pays]),
        "receipt_no": None, "batch_id": 0})
    failed = online_tx & (u() < 0.08)
    cancelled = pd.DataFrame({
        "transaction_id": np.char.add("TF", numbers[failed].astype(str)).astype(object),
        "dossier_code": codes[failed], "amount": base["fee_amount"][failed], "method": 2,
        "channel": np.where(pay_online[failed] == 1, "DVCQG", "CONG_TINH"), "status": "cancelled",
        "transaction_at": paid_when[failed] - np.timedelta64(3600, "s"),
        "updated_at": paid_when[failed] - np.timedelta64(2700, "s"), "receipt_no": None, "batch_id": 0})
    payment = pd.concat([payment, cancelled], ignore_index=True)
    national = payment[payment["channel"] == "DVCQG"]
    paygov = pd.DataFrame({
        "transaction_id": national["transaction_id"].values, "dossier_code": national["dossier_code"].values,
        "amount": national["amount"].values,
        "error_code": np.where(national["status"].values == "cancelled", "51", "00"),
        "transaction_at": national["transaction_at"].values, "channel": "VNPTPAY", "batch_id": 0})

    # one sync receipt per version; 3 % rejected first and accepted an hour later
    m = len(history)
    lag = rng.integers(20, 1200, m).astype("timedelta64[s]")
    first_try = history["updated_at"].values + lag
    bad = rng.random(m) < 0.03
    sync = pd.concat([
        pd.DataFrame({"dossier_code": history["dossier_code"].values, "synced_at": first_try,
                      "sync_type": "UPDATE", "error_code": np.where(bad, 500, 0)}),
        pd.DataFrame({"dossier_code": history["dossier_code"].values[bad], "synced_at": first_try[bad] + HOUR,
                      "sync_type": "UPDATE", "error_code": 0}),
    ], ignore_index=True)
    sync["procedure_code"], sync["agency_code"], sync["error_message"], sync["batch_id"] = None, None, None, 0
    sync = sync.drop_duplicates(["dossier_code", "synced_at", "sync_type"])

    post_in, post_out = channel == 3, (result_channel == 3) & goes_on
    postal = pd.concat([
        pd.DataFrame({"item_code": np.char.add("EL", numbers[post_in].astype(str)).astype(object),
                      "dossier_code": codes[post_in], "service_type": "THU_GOM", "collection_status": 3,
                      "created_at": sub[post_in], "delivered_at": rec[post_in], "updated_at": rec[post_in]}),
        pd.DataFrame({"item_code": np.char.add("EB", numbers[post_out].astype(str)).astype(object),
                      "dossier_code": codes[post_out], "service_type": "PHAT_KQ", "collection_status": 3,
                      "created_at": finish[post_out], "delivered_at": ret[post_out], "updated_at": ret[post_out]}),
    ], ignore_index=True)
    postal["cod_amount"], postal["receiver_province"], postal["batch_id"] = 0, "Lào Cai", 0
    del nat
    return {"core.dossier_history": history, "core.payment": payment, "core.paygov_transaction": paygov,
            "core.sync_receipt": sync, "core.postal_order": postal}


def as_of(frames: dict[str, pd.DataFrame], until: date) -> dict[str, pd.DataFrame]:
    """What a warehouse loaded night by night holds after the night of `until`: nothing written later
    (the versions, receipts, transactions and orders of later dates; a later refund not yet made)."""
    cut = np.datetime64(until + timedelta(days=1))
    history = frames["core.dossier_history"]
    history = history[history["updated_at"].values < cut].copy()
    history.loc[history["valid_to"].values >= cut, "valid_to"] = pd.NaT
    payment = frames["core.payment"]
    payment = payment[payment["transaction_at"].values < cut].copy()
    later = payment["updated_at"].values >= cut
    payment.loc[later, "status"] = "paid"
    payment.loc[later, "updated_at"] = payment.loc[later, "transaction_at"]
    paygov, sync = frames["core.paygov_transaction"], frames["core.sync_receipt"]
    postal = frames["core.postal_order"]
    postal = postal[postal["created_at"].values < cut].copy()
    later = postal["updated_at"].values >= cut
    postal.loc[later, "delivered_at"] = pd.NaT
    postal.loc[later, "updated_at"] = postal.loc[later, "created_at"]
    return {"core.dossier_history": history, "core.payment": payment,
            "core.paygov_transaction": paygov[paygov["transaction_at"].values < cut],
            "core.sync_receipt": sync[sync["synced_at"].values < cut], "core.postal_order": postal}


def bulk_load(wh: Warehouse, frames: dict[str, pd.DataFrame], replace: bool = True) -> None:
    with wh.begin() as conn:
        for table, frame in frames.items():
            if replace:
                conn.exec_driver_sql(f"DELETE FROM {table}")
            wh.bulk_insert(conn, frame, table)
        wh.analyze(conn, *frames)


def build_year(wh: Warehouse, profile, per_year: int, chunk: int, until: date | None) -> None:
    """The synthetic year generated and bulk-inserted `chunk` dossiers at a time, each chunk a year of
    its own seed, so that memory follows the chunk (15 million a year in one frame would not fit)."""
    for number_from in range(0, per_year, chunk):
        size = min(chunk, per_year - number_from)
        began = time.perf_counter()
        frames = synthetic_year(profile, size, seed=2022 + number_from // chunk, number_from=number_from)
        if until:
            frames = as_of(frames, until)
        sizes = ", ".join(f"{t.split('.')[1]} {len(f):,}" for t, f in frames.items())
        print(f"generated dossiers {number_from:,}..{number_from + size - 1:,} "
              f"in {time.perf_counter() - began:.0f} s: {sizes}", flush=True)
        began = time.perf_counter()
        bulk_load(wh, frames, replace=number_from == 0)
        print(f"bulk-inserted into core in {time.perf_counter() - began:.0f} s", flush=True)
        del frames
    if wh.dialect == "postgresql":
        with wh.begin() as conn:
            conn.exec_driver_sql("ANALYZE")  # the reference tables too


# -- the benchmark ------------------------------------------------------------------------------
def timed(label: str, fn):
    began = time.perf_counter()
    out = fn()
    took = time.perf_counter() - began
    return took, out


@contextmanager
def statement_times(wh: Warehouse) -> Iterator[dict[str, list[float]]]:
    """Seconds of each statement run meanwhile, by its first words (and the measure it computes)."""
    seconds: dict[str, list[float]] = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["statement_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        bound = getattr(context, "compiled_parameters", None) or [{}]
        code = bound[0].get("indicator_code") or ""
        key = f"{code} {' '.join(statement.split())[:80]}".strip()
        seconds.setdefault(key, []).append(time.perf_counter() - conn.info.pop("statement_started"))

    sa.event.listen(wh.engine, "before_cursor_execute", before)
    sa.event.listen(wh.engine, "after_cursor_execute", after)
    try:
        yield seconds
    finally:
        sa.event.remove(wh.engine, "before_cursor_execute", before)
        sa.event.remove(wh.engine, "after_cursor_execute", after)


def nightly_full_vs_incremental(wh: Warehouse, province: str, night: date, rounds: int, statements: int = 0,
                                kinds: tuple[str, ...] = ("full", "incremental")) -> None:
    """What the nightly run does on `night`: restate its look-back dates and the night's date, in full and
    incrementally from the published date before them, interleaved, each rolled back. With `statements`,
    the slowest statements of the last incremental round and the dossiers it read."""
    start, end = night - timedelta(days=config.settings().extract_lookback_days), night
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    results = set()
    for _ in range(rounds):
        for kind in times:
            with wh.rolled_back() as conn, statement_times(wh) as seconds:
                took, _ = timed(kind, lambda: indicators.publish_range(
                    wh, start, end, province, conn, incremental=kind == "incremental"))  # noqa: B023
                results.add(tuple(conn.execute(sa.text(
                    "SELECT count(*), sum(numerator), sum(denominator), sum(numerator * denominator) "
                    "FROM mart.indicator_snapshot WHERE snapshot_date BETWEEN :a AND :b"),
                    {"a": start, "b": end}).one()))
                if kind == "incremental" and statements:
                    read = conn.execute(sa.text("SELECT count(*) FROM ind_changed")).scalar()
                    slowest = sorted(seconds.items(), key=lambda item: -sum(item[1]))[:statements]
            times[kind].append(took)
    if len(results) != 1:
        raise SystemExit(f"full and incremental runs of {start} .. {end} differ: {results}")
    for kind, values in times.items():
        values.sort()
        print(f"nightly restatement {start:%m-%d}..{end:%m-%d}, {kind}: min {values[0]:.1f} s, "
              f"median {values[len(values) // 2]:.1f} s over {rounds} rounds", flush=True)
    rows = results.pop()[0]
    print(f"  the same rows either way: {rows:,} (count, sums of numerators and denominators)" if len(times) > 1
          else f"  rows: {rows:,}")
    if statements:
        print(f"  the last incremental round read {read:,} dossiers; its slowest statements:")
        for key, values in slowest:
            print(f"  {sum(values):6.2f} s  {len(values):3d}x  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers-per-year", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000,
                        help="dossiers generated and inserted at a time (memory follows it)")
    parser.add_argument("--url", default="duckdb:///var/bench_indicators.duckdb",
                        help="warehouse URL; for PostgreSQL a database that may be dropped and re-created")
    parser.add_argument("--ranges", default="30,90,365", help="numbers of snapshot dates from 1 January")
    parser.add_argument("--daily", type=int, default=3, help="single-date runs to time (nightly-style)")
    parser.add_argument("--keep", action="store_true", help="reuse the data already in the warehouse")
    parser.add_argument("--nightly", type=int, default=0,
                        help="rounds of the nightly restatement of each --nights, full against incremental "
                             "(needs the dates before them published: --ranges 361)")
    parser.add_argument("--until", type=date.fromisoformat,
                        help="load only what the nights up to this date would have loaded (the year's data as of "
                             "its end), e.g. the night of --nights whose look-back starts a month")
    parser.add_argument("--nights", default=f"{YEAR}-12-31",
                        help="the nights restated by --nightly (comma-separated dates; each restates its date "
                             "and the EXTRACT_LOOKBACK_DAYS before), e.g. 2022-12-03 for one whose look-back "
                             "starts a month")
    parser.add_argument("--publish", default="",
                        help="dates to publish in full, one at a time, before --nightly (comma-separated), "
                             "e.g. 2022-12-27, the date before 31 December's look-back: what an incremental "
                             "night starts from, without --ranges 361")
    parser.add_argument("--incremental-only", action="store_true",
                        help="with --nightly, time only the incremental restatement (the full one reads the "
                             "whole year to date: long at the country's volume)")
    parser.add_argument("--statements", type=int, default=0,
                        help="with --nightly, print this many of the incremental run's slowest statements")
    args = parser.parse_args()
    province = "lao_cai"

    url = args.url
    if url.startswith("postgresql") and not args.keep:
        admin = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
    elif url.startswith("duckdb:///") and not args.keep:
        Path(url[len("duckdb:///"):]).unlink(missing_ok=True)
    wh = Warehouse(url)
    try:
        wh.migrate()
    except sa.exc.OperationalError as exc:
        sys.exit(f"bench_indicators.py: cannot open {url} ({str(exc.orig).strip().splitlines()[-1]}); "
                 "--keep reuses a warehouse built before: leave it out to build one")
    if not args.keep:
        took, profile = timed("reference", lambda: load_reference(wh, province))
        print(f"reference data (simulator profile lao_cai_2022) loaded in {took:.0f} s", flush=True)
        build_year(wh, profile, args.dossiers_per_year, args.chunk, args.until)
    with wh.begin() as conn:
        versions = conn.exec_driver_sql("SELECT count(*) FROM core.dossier_history").scalar()
        agencies = conn.exec_driver_sql("SELECT count(*) FROM core.agency").scalar()

    print(f"\nwarehouse {wh.dialect}: {versions:,} dossier versions, {agencies} agencies")
    ranges = [int(x) for x in args.ranges.split(",") if x.strip()]
    if ranges:
        print(f"{'snapshot dates':>15} {'seconds':>9} {'s / date':>9} {'rows written':>13}")
    results = []
    for n_dates in ranges:
        start = date(YEAR, 1, 1)
        end = start + timedelta(days=n_dates - 1)
        took, rows = timed("range", lambda: indicators.publish_range(wh, start, end, province))  # noqa: B023
        results.append((n_dates, took))
        print(f"{n_dates:>15} {took:>9.1f} {took / n_dates:>9.3f} {rows:>13,}", flush=True)
    for day in [date.fromisoformat(d) for d in args.publish.split(",") if d.strip()]:
        took, rows = timed("publish", lambda: indicators.publish_range(wh, day, day, province))  # noqa: B023
        print(f"published {day} in full: {took:.1f} s, {rows:,} rows", flush=True)
    if args.daily:
        single = []
        for i in range(args.daily):
            day = date(YEAR, 12, 31) - timedelta(days=i)
            with wh.begin() as conn:
                took, _ = timed("day", lambda: indicators.publish_snapshot(wh, conn, day, province))  # noqa: B023
            single.append(took)
        mean = sum(single) / len(single)
        print(f"single-date run (nightly, at year end): {mean:.1f} s each "
              f"-> a year day by day ≈ {365 * mean / 60:.0f} min")
    if args.nightly:
        for night in args.nights.split(","):
            nightly_full_vs_incremental(wh, province, date.fromisoformat(night), args.nightly, args.statements,
                                        kinds=("incremental",) if args.incremental_only else ("full", "incremental"))
    if len(results) >= 2:
        (n0, t0), (n1, t1) = results[0], results[-1]
        print(f"cost ratio {n1} vs {n0} dates: {t1 / t0:.1f}x for {n1 / n0:.1f}x the dates "
              f"(linear: ≈ {n1 / n0:.1f}x; quadratic: ≈ {(n1 / n0) ** 2:.0f}x)")
    wh.dispose()


if __name__ == "__main__":
    main()
