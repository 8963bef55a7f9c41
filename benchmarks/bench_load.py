"""Load throughput into PostgreSQL: our dossier load (COPY into staging, then the merge into
core: history, valid_to, current row) against a bare COPY of the same rows into a plain table,
in the same run, round after round.

    .venv/bin/python benchmarks/bench_load.py [--rows 1000000] [--runs 3] [--url postgresql+psycopg://postgres@127.0.0.1/postgres]

The rows are synthetic dossier versions shaped like the one-stop system's (a simulated year at
1 million dossiers a year ≈ 1 million first versions). Every side starts from the same validated
DataFrame; validation is not timed (bench_extract_memory.py measures the whole extraction). Two
bare COPYs, each into a plain table without keys:
- "bare COPY, same encoder": encoded exactly as our load encodes (etl.warehouse._to_csv);
- "bare COPY, pandas CSV": `DataFrame.to_csv` in 50,000-row chunks, what a script would write
  (and what our load did before it encoded with DuckDB).
Each round empties the tables first; the output is one line per round and min / median ratios.
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


def bare_same_encoder(wh: Warehouse, frame: pd.DataFrame) -> None:
    with wh.begin() as conn, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.csv"
        _to_csv(frame, path)
        with path.open("rb") as encoded:
            _copy(conn.connection.driver_connection, "bare_copy", list(frame.columns),
                  iter(lambda: encoded.read(1 << 20), b""))


def bare_pandas_csv(wh: Warehouse, frame: pd.DataFrame) -> None:
    def chunks():
        for start in range(0, len(frame), 50_000):
            yield frame.iloc[start:start + 50_000].to_csv(header=False, index=False, na_rep="\\N",
                                                          date_format="%Y-%m-%d %H:%M:%S")
    with wh.begin() as conn:
        _copy(conn.connection.driver_connection, "bare_copy", list(frame.columns), chunks())


def ours(wh: Warehouse, frame: pd.DataFrame) -> None:
    """The load step of etl.load for one validated batch: staging COPY, then the merge into core."""
    batch = load.open_batch(wh, "onestop", "dossier", None, None)
    with wh.begin() as conn:
        wh.bulk_insert(conn, frame.assign(batch_id=batch.batch_id), "staging.dossier")
        wh.run_script(conn, "load/merge_dossier.sql", {"batch_id": batch.batch_id})
    with wh.begin() as conn:
        loaded = conn.exec_driver_sql("SELECT count(*) FROM core.dossier").scalar()
    assert loaded == len(frame), loaded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    admin = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS dvc_bench WITH (FORCE)")
        conn.exec_driver_sql("CREATE DATABASE dvc_bench")
    admin.dispose()
    url = args.url.rsplit("/", 1)[0] + "/dvc_bench"
    wh = Warehouse(url)
    wh.migrate()
    frame = synthetic_versions(args.rows)
    bare_frame = frame.assign(batch_id=1)[["batch_id", *transform.DOSSIER_COLUMNS]]
    print(f"{len(frame):,} dossier versions, {frame.memory_usage(deep=True).sum() / 2**20:.0f} MiB in memory")
    with wh.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bare_copy AS SELECT * FROM staging.dossier WHERE 1 = 0")

    sides = {"bare COPY, same encoder": lambda: bare_same_encoder(wh, bare_frame),
             "bare COPY, pandas CSV": lambda: bare_pandas_csv(wh, bare_frame),
             "our load (to core)": lambda: ours(wh, frame)}
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    for run in range(1, args.runs + 1):
        with wh.begin() as conn:
            conn.exec_driver_sql("TRUNCATE bare_copy, core.dossier_history")
        with wh.begin() as conn:  # reclaim the emptied tables' space outside the timings
            conn.exec_driver_sql("CHECKPOINT")
        for name, side in sides.items():
            started = time.perf_counter()
            side()
            seconds[name].append(time.perf_counter() - started)
            if name.startswith("bare"):
                with wh.begin() as conn:
                    conn.exec_driver_sql("TRUNCATE bare_copy")
        print(f"run {run}: " + "  ".join(f"{name} {s[-1]:.1f} s" for name, s in seconds.items()), flush=True)

    ours_s = seconds["our load (to core)"]
    for name, bare in seconds.items():
        print(f"{name:24s} min {min(bare):6.1f} s  median {statistics.median(bare):6.1f} s  "
              f"{len(frame) / statistics.median(bare):10,.0f} rows/s")
    for name in ("bare COPY, same encoder", "bare COPY, pandas CSV"):
        ratios = [b / o for b, o in zip(seconds[name], ours_s, strict=False)]
        print(f"ours / {name}: min {min(ratios):.2f}  median {statistics.median(ratios):.2f} (throughput)")
    wh.dispose()


if __name__ == "__main__":
    main()
