"""Load throughput into PostgreSQL: our dossier load (COPY into staging, then the merge into
core: history, valid_to, current row) against a bare COPY of the same rows into a plain table,
in the same run.

    .venv/bin/python benchmarks/bench_load.py [--rows 1000000] [--url postgresql+psycopg://postgres@127.0.0.1/bench]

The rows are synthetic dossier versions shaped like the one-stop system's (a simulated year at
1 million dossiers a year ≈ 1 million first versions). Both sides start from the same validated
DataFrame and encode it the same way; validation is not timed (bench_extract_memory.py measures
the whole extraction).
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import load, transform  # noqa: E402
from etl.warehouse import Warehouse, _to_csv  # noqa: E402


def synthetic_versions(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    received = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
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
        "supplement_count": rng.integers(0, 2, n),
        "applicant_key": [f"{i:032x}" for i in range(n)],
    })
    return frame[transform.DOSSIER_COLUMNS]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
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
    print(f"{len(frame):,} dossier versions, {frame.memory_usage(deep=True).sum() / 2**20:.0f} MiB in memory")

    # Bare COPY of the same rows (same CSV encoding) into a plain table without keys.
    with wh.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bare_copy AS SELECT * FROM staging.dossier WHERE 1 = 0")
    started = time.perf_counter()
    with wh.begin() as conn:
        raw = conn.connection.driver_connection
        cols = ", ".join(["batch_id", *transform.DOSSIER_COLUMNS])
        with raw.cursor() as cur, cur.copy(f"COPY bare_copy ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as cp:
            for start in range(0, len(frame), 50_000):
                buf = io.StringIO()
                _to_csv(frame.iloc[start:start + 50_000].assign(batch_id=1)[["batch_id", *transform.DOSSIER_COLUMNS]],
                        buf)
                cp.write(buf.getvalue())
    bare = time.perf_counter() - started

    # Ours: staging COPY + merge into core (the load step of etl.load, without validation).
    batch = load.open_batch(wh, "onestop", "dossier", None, None)
    started = time.perf_counter()
    with wh.begin() as conn:
        wh.bulk_insert(conn, frame.assign(batch_id=batch.batch_id), "staging.dossier")
        wh.run_script(conn, "load/merge_dossier.sql", {"batch_id": batch.batch_id})
    ours = time.perf_counter() - started
    with wh.begin() as conn:
        loaded = conn.exec_driver_sql("SELECT count(*) FROM core.dossier").scalar()
    assert loaded == len(frame), loaded

    print(f"bare COPY:          {bare:7.1f} s  {len(frame) / bare:10,.0f} rows/s")
    print(f"our load (to core): {ours:7.1f} s  {len(frame) / ours:10,.0f} rows/s  "
          f"= {bare / ours:.0%} of bare COPY throughput")
    wh.dispose()


if __name__ == "__main__":
    main()
