"""Load throughput into PostgreSQL: our dossier load (etl.load's load step: chunk by chunk
etl.load.write_versions, then sql/load/merge_dossier.sql into core.dossier_history) against a bare COPY of
the same rows into a plain table, in the same run, round after round.

    .venv/bin/python benchmarks/bench_load.py [--rows 1000000] [--night 18000] [--runs 3] \
        [--url postgresql+psycopg://postgres@127.0.0.1/postgres] [--database dvc_bench]

The rows are synthetic dossier versions shaped like the one-stop system's (a simulated year at
1 million dossiers a year ≈ 1 million first versions). Every side starts from the same validated
DataFrame; validation is not timed (bench_extract_memory.py measures the whole extraction). Two
bare COPYs, each into a plain table without keys:
- "bare COPY, same encoder": encoded exactly as our load encodes (etl.warehouse._to_csv);
- "bare COPY, pandas CSV": `DataFrame.to_csv` in 50,000-row chunks, what a script would write
  (and what our load did before it encoded with DuckDB).
And a ceiling, on the first load only: "COPY into a keyed copy of the history" — the same encoding
`COPY`-ed straight into a table with `core.dossier_history`'s key and indexes (`LIKE ... INCLUDING
ALL`), no staging and no merge. Any load that keeps the history's key and indexes pays at least
that; its ratio to the bare COPY bounds ours.
Two loads each round:
- a first load (a catch-up): every row into an empty history;
- a night (`--night` rows) against the history the first load left: a third new dossiers, two thirds
  new versions of stored dossiers, against the same bare COPYs
  of those rows.
Each round empties the tables first; the output is one line per round and min / median ratios. The
history's statistics are refreshed after the first load, untimed, as the publication that follows a load
does (without them PostgreSQL plans the night's merge as if each dossier had hundreds of versions).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import load, transform
from etl.warehouse import Warehouse, _to_csv

CEILING = "COPY into a keyed copy of the history"


def synthetic_versions(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    received = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
    supplements = rng.integers(0, 2, n)
    frame = pd.DataFrame({
        "dossier_code": [f"000.00.{i % 27 + 1:02d}.H13-{i:09d}" for i in range(n)],
        "updated_at": received,
        "procedure_code": [f"1.{i % 460:06d}" for i in range(n)],
        "agency_code": [f"000.00.{i % 27 + 1:02d}.H13" for i in range(n)],
        "channel": rng.integers(1, 4, n),
        "status": rng.integers(2, 11, n),
        "submitted_at": received,
        "received_at": received,
        "due_at": received + pd.Timedelta(days=10),
        "finished_at": received + pd.Timedelta(days=5),
        "returned_at": pd.NaT,
        "rejected_at": pd.NaT,
        "result_channel": pd.array(rng.integers(1, 4, n), dtype="Int64"),
        "has_digitized_components": rng.random(n) < 0.8,
        "result_digitized": rng.random(n) < 0.6,
        "digitally_signed": rng.random(n) < 0.7,
        "paid_online": pd.array(rng.integers(0, 3, n), dtype="Int64"),
        "fee_amount": pd.array(rng.integers(0, 500_000, n), dtype="Int64"),
        "supplement_count": supplements,
        "supplement_requested_at": (received + pd.Timedelta(days=2)).where(supplements > 0),
        "supplement_due_at": (received + pd.Timedelta(days=12)).where(supplements > 0),
        "applicant_key": [f"{i:032x}" for i in range(n)],
    })
    return frame[transform.DOSSIER_COLUMNS]


def _copy(raw, table: str, columns: list[str], blocks) -> None:
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN "
                                       "WITH (FORMAT csv, NULL '\\N')") as copy:
        for block in blocks:
            copy.write(block)


def bare_same_encoder(wh: Warehouse, frame: pd.DataFrame, table: str = "bare_copy") -> None:
    with wh.begin() as conn, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.csv"
        _to_csv(frame, path)
        with path.open("rb") as encoded:
            _copy(conn.connection.driver_connection, table, list(frame.columns),
                  iter(lambda: encoded.read(1 << 20), b""))


def bare_pandas_csv(wh: Warehouse, frame: pd.DataFrame) -> None:
    def chunks():
        for start in range(0, len(frame), 50_000):
            yield frame.iloc[start:start + 50_000].to_csv(header=False, index=False, na_rep="\\N",
                                                          date_format="%Y-%m-%d %H:%M:%S")
    with wh.begin() as conn:
        _copy(conn.connection.driver_connection, "bare_copy", list(frame.columns), chunks())


def nightly_versions(history: pd.DataFrame, n: int, seed: int = 2) -> pd.DataFrame:
    """A night's versions: n // 3 new dossiers, the rest a later version of a stored dossier each."""
    rng = np.random.default_rng(seed)
    new = synthetic_versions(n // 3, seed=seed)
    new["dossier_code"] = new["dossier_code"].str.replace("H13-", "H13-N", regex=False)
    later = history.iloc[rng.choice(len(history), n - len(new), replace=False)].copy()
    later["updated_at"] = later["updated_at"] + pd.Timedelta(days=1)
    later["status"] = 10
    return pd.concat([new, later], ignore_index=True)[transform.DOSSIER_COLUMNS]


def ours(wh: Warehouse, frame: pd.DataFrame, key_new: pd.Series) -> None:
    """The load step of etl.load for one validated batch, exactly: per chunk of load.CHUNK_RECORDS,
    load.write_versions (the versions of dossiers the history holds none of, alone in their chunk, COPY-ed
    straight into the history, the others into staging.dossier); then the merge; in one transaction.
    `key_new` is what the fingerprints' probe before validation tells the load (not timed, as validation)."""
    spec = load.entity("dossier")
    batch = load.open_batch(wh, "onestop", "dossier", None, None)
    with wh.begin() as conn:
        for start in range(0, len(frame), load.CHUNK_RECORDS):
            rows = slice(start, start + load.CHUNK_RECORDS)
            batch.loaded += load.write_versions(wh, conn, spec, frame.iloc[rows].assign(batch_id=batch.batch_id),
                                                key_new.iloc[rows])
        wh.run_script(conn, spec.merge_sql, {"batch_id": batch.batch_id})
    assert batch.loaded == len(frame), batch.loaded


def _versions(wh: Warehouse) -> int:
    with wh.begin() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM core.dossier_history").scalar()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--night", type=int, default=18_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="dvc_bench", help="created afresh (dropped first)")
    args = parser.parse_args()

    admin = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {args.database}")
    admin.dispose()
    url = args.url.rsplit("/", 1)[0] + "/" + args.database
    wh = Warehouse(url)
    wh.migrate()
    frame = synthetic_versions(args.rows)
    night = nightly_versions(frame, args.night)
    print(f"{len(frame):,} dossier versions, {frame.memory_usage(deep=True).sum() / 2**20:.0f} MiB in memory; "
          f"a night of {len(night):,}")
    with wh.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bare_copy AS SELECT * FROM staging.dossier WHERE 1 = 0")
        conn.exec_driver_sql("CREATE TABLE keyed_copy (LIKE core.dossier_history INCLUDING ALL)")

    def sides(rows: pd.DataFrame, first_load: bool) -> dict:
        bare = rows.assign(batch_id=1)[["batch_id", *transform.DOSSIER_COLUMNS]]
        named = {"bare COPY, same encoder": lambda: bare_same_encoder(wh, bare),
                 "bare COPY, pandas CSV": lambda: bare_pandas_csv(wh, bare)}
        if first_load:
            named[CEILING] = lambda: bare_same_encoder(wh, bare, "keyed_copy")
        # the history holds the first load's dossiers when the night comes, none before
        key_new = pd.Series(True if first_load else ~rows["dossier_code"].isin(frame["dossier_code"]), index=rows.index)
        return {**named, "our load (to core)": lambda: ours(wh, rows, key_new)}

    loads = {"first load": sides(frame, first_load=True), "night": sides(night, first_load=False)}
    seconds = {(load_name, name): [] for load_name, named in loads.items() for name in named}
    for run in range(1, args.runs + 1):
        with wh.begin() as conn:
            conn.exec_driver_sql("TRUNCATE bare_copy, keyed_copy, core.dossier_history")
        with wh.begin() as conn:  # reclaim the emptied tables' space outside the timings
            conn.exec_driver_sql("CHECKPOINT")
        for load_name, named in loads.items():
            for name, side in named.items():
                started = time.perf_counter()
                side()
                seconds[load_name, name].append(time.perf_counter() - started)
                if name != "our load (to core)":
                    with wh.begin() as conn:
                        conn.exec_driver_sql("TRUNCATE bare_copy, keyed_copy")
            print(f"run {run}, {load_name}: " + "  ".join(
                f"{name} {seconds[load_name, name][-1]:.2f} s" for name in named), flush=True)
            with wh.begin() as conn:  # as the publication after a load does (untimed): a night is planned with them
                Warehouse.refresh_statistics(conn)
        assert _versions(wh) == len(frame) + len(night)

    for load_name, named in loads.items():
        rows = len(frame) if load_name == "first load" else len(night)
        print(f"-- {load_name}, {rows:,} rows")
        for name in named:
            s = seconds[load_name, name]
            print(f"{name:24s} min {min(s):7.2f} s  median {statistics.median(s):7.2f} s  "
                  f"{rows / statistics.median(s):10,.0f} rows/s")
        ours_s = seconds[load_name, "our load (to core)"]
        for name in ("bare COPY, same encoder", "bare COPY, pandas CSV"):
            ratios = [b / o for b, o in zip(seconds[load_name, name], ours_s, strict=True)]
            print(f"ours / {name}: min {min(ratios):.2f}  median {statistics.median(ratios):.2f} (throughput)")
        if CEILING in named:
            ratios = [b / c for b, c in zip(seconds[load_name, "bare COPY, same encoder"], seconds[load_name, CEILING],
                                            strict=True)]
            print(f"ceiling / bare COPY, same encoder: min {min(ratios):.2f}  median {statistics.median(ratios):.2f} "
                  "(throughput of a COPY into the history's key and indexes)")
    wh.dispose()


if __name__ == "__main__":
    main()
