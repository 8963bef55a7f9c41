"""The sync receipts' fingerprints probe (etl.warehouse.Warehouse.stored_fingerprints, as etl.load calls it for
each chunk) on a large warehouse, with ANALYZE's own estimate of the distinct dossier codes of core.sync_receipt
against the estimate sql/migrations/postgresql/0038 sets (n_distinct = -0.2), alternated; every round in a
transaction rolled back.

    .venv/bin/python benchmarks/bench_receipt_probe.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bi_midyear
        [--rounds 6] [--dossiers 4000 | --distinct 20000]

The warehouse is one bench_indicators.py built (e.g. --dossiers-per-year 15000000 --until 2022-05-28). A chunk is
the receipts of --dossiers random dossiers (a night's shape: a dossier's receipts arrive together), or with
--distinct that many receipts of distinct dossiers. The time is the probe's whole (its temporary table, COPY,
ANALYZE and query).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.warehouse import Warehouse, query_frame


def chunk_sql(args, seed: int) -> str:
    if args.distinct:
        return ("SELECT dossier_code, record_hash FROM core.sync_receipt "
                f"TABLESAMPLE BERNOULLI (0.1) REPEATABLE ({seed}) LIMIT {args.distinct}")
    return ("SELECT r.dossier_code, r.record_hash FROM core.sync_receipt r JOIN (SELECT DISTINCT dossier_code "
            f"FROM core.sync_receipt TABLESAMPLE BERNOULLI (0.05) REPEATABLE ({seed}) LIMIT {args.dossiers}) d "
            "ON d.dossier_code = r.dossier_code")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="a PostgreSQL warehouse built by bench_indicators.py")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--dossiers", type=int, default=4000)
    parser.add_argument("--distinct", type=int, default=0)
    args = parser.parse_args()
    wh = Warehouse(args.url)
    if wh.dialect != "postgresql":
        sys.exit("bench_receipt_probe.py: --url must name a PostgreSQL warehouse (the estimates are PostgreSQL's)")
    times: dict[str, list[float]] = {"sampled": [], "-0.2": []}
    for r in range(args.rounds):
        for n, kind in enumerate(("sampled", "-0.2") if r % 2 == 0 else ("-0.2", "sampled")):
            with wh.rolled_back() as conn:  # the pipeline's work_mem
                conn.exec_driver_sql("ALTER TABLE core.sync_receipt ALTER COLUMN dossier_code SET (n_distinct = "
                                     f"{'0' if kind == 'sampled' else '-0.2'})")
                conn.exec_driver_sql("ANALYZE core.sync_receipt")
                estimate = conn.exec_driver_sql(
                    "SELECT n_distinct FROM pg_stats WHERE schemaname = 'core' AND tablename = 'sync_receipt' "
                    "AND attname = 'dossier_code'").scalar()
                chunk = query_frame(conn, chunk_sql(args, 100 + 2 * r + n))
                began = time.perf_counter()
                wh.stored_fingerprints(conn, chunk.assign(_row=range(len(chunk))), "core.sync_receipt", "dossier_code")
                took = time.perf_counter() - began
            times[kind].append(took)
            print(f"round {r} n_distinct {kind:7s} (pg_stats {estimate:,.1f}) {len(chunk):,} receipts "
                  f"{took * 1000:7.0f} ms", flush=True)
    for kind, values in times.items():
        values.sort()
        print(f"{kind}: min {values[0] * 1000:.0f} ms, median {values[len(values) // 2] * 1000:.0f} ms")
    wh.dispose()


if __name__ == "__main__":
    main()
