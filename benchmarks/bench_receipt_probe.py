"""The sync receipts' fingerprints probe (the statement of etl.warehouse.Warehouse.stored_fingerprints) on a
large warehouse, with ANALYZE's own estimate of the distinct dossier codes of core.sync_receipt against the
estimate sql/migrations/postgresql/0038 sets (n_distinct = -0.2), alternated; every round rolled back.

    .venv/bin/python benchmarks/bench_receipt_probe.py --url postgresql://postgres@127.0.0.1:5432/bi_midyear
        [--rounds 6] [--dossiers 4000 | --distinct 20000]

A chunk is the receipts of --dossiers random dossiers (a night's shape: a dossier's receipts arrive together),
or with --distinct that many receipts of distinct dossiers. Prints each round's plan and time.
"""
from __future__ import annotations

import argparse
import time

import psycopg

PROBE = ("SELECT t._row, count(c.dossier_code) FROM _fp t LEFT JOIN core.sync_receipt c "
         "ON c.dossier_code = t.dossier_code GROUP BY t._row "
         "HAVING max(CASE WHEN c.record_hash = t.record_hash THEN 1 ELSE 0 END) = 0")


def chunk(args, seed: int) -> str:
    if args.distinct:
        return ("SELECT dossier_code, record_hash FROM core.sync_receipt "
                f"TABLESAMPLE BERNOULLI (0.1) REPEATABLE ({seed}) LIMIT {args.distinct}")
    return ("SELECT r.dossier_code, r.record_hash FROM core.sync_receipt r JOIN (SELECT DISTINCT dossier_code "
            f"FROM core.sync_receipt TABLESAMPLE BERNOULLI (0.05) REPEATABLE ({seed}) LIMIT {args.dossiers}) d "
            "ON d.dossier_code = r.dossier_code")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="a PostgreSQL warehouse (libpq URL), e.g. bench_indicators.py's")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--dossiers", type=int, default=4000)
    parser.add_argument("--distinct", type=int, default=0)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"sampled": [], "-0.2": []}
    with psycopg.connect(args.url) as conn:
        for r in range(args.rounds):
            for n, kind in enumerate(("sampled", "-0.2") if r % 2 == 0 else ("-0.2", "sampled")):
                with conn.cursor() as cur:
                    cur.execute("SET LOCAL work_mem = '256MB'")  # the pipeline's WAREHOUSE_WORK_MEM
                    cur.execute("ALTER TABLE core.sync_receipt ALTER COLUMN dossier_code SET (n_distinct = "
                                f"{'0' if kind == 'sampled' else '-0.2'})")
                    cur.execute("ANALYZE core.sync_receipt")
                    cur.execute(f"CREATE TEMPORARY TABLE _fp AS SELECT dossier_code, record_hash, "
                                f"row_number() OVER () AS _row FROM ({chunk(args, 100 + 2 * r + n)}) x")
                    cur.execute("ANALYZE _fp")
                    began = time.perf_counter()
                    cur.execute(PROBE)
                    cur.fetchall()
                    took = time.perf_counter() - began
                    cur.execute("EXPLAIN " + PROBE)
                    plan = [row[0].strip() for row in cur.fetchall()]
                conn.rollback()
                times[kind].append(took)
                joins = [line[:40] for line in plan if "Join" in line or "Scan on sync_receipt" in line][:2]
                print(f"round {r} n_distinct {kind:7s} {took * 1000:7.0f} ms  {joins}", flush=True)
    for kind, values in times.items():
        values.sort()
        print(f"{kind}: min {values[0] * 1000:.0f} ms, median {values[len(values) // 2] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
