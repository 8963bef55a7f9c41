"""A night's dossier load on a big history, statement by statement, in a transaction rolled back.

    .venv/bin/python benchmarks/bench_night_load.py --url postgresql://postgres@127.0.0.1:5432/bi_country \
        [--stored 300000] [--new 150000] [--explain]

The warehouse is one `bench_indicators.py` built (15 million dossiers a year: `--dossiers-per-year 15000000
--chunk 1000000`). The night: a later version (status 10, a day later) of up to --stored dossiers sampled from
the history's current versions, and --new dossiers never seen, shuffled. Chunk by chunk of
etl.load.CHUNK_RECORDS it runs what etl.load does after parsing: the fingerprints' probe
(Warehouse.stored_fingerprints), then etl.load.write_versions; then each statement of the merge
(sql/load/merge_dossier.sql), each timed; with --explain, the plan of every INSERT and UPDATE with its
estimated and actual rows (where PostgreSQL's estimates go wrong). Nothing is kept: the transaction is
rolled back, so the same warehouse serves run after run.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl import load, transform
from etl.warehouse import Warehouse, execute_named, query_frame, split_statements, sql_file

BATCH = 999_999_999  # a batch id no real batch has (rolled back anyway)


def night(wh: Warehouse, stored: int, new: int) -> pd.DataFrame:
    columns = list(transform.DOSSIER_COLUMNS)
    with wh.begin() as conn:
        total = conn.exec_driver_sql(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'core.dossier_history'::regclass").scalar()
        share = min(100.0, 300.0 * stored / max(total, 1))  # a third of the sampled versions are current
        later = query_frame(conn, f"SELECT {', '.join(columns)} FROM core.dossier_history "
                                  f"TABLESAMPLE SYSTEM ({share}) WHERE valid_to IS NULL LIMIT {stored}")
    later["updated_at"] += pd.Timedelta(days=1)
    later["status"] = 10
    fresh = later.sample(n=new, replace=new > len(later), random_state=1).reset_index(drop=True)
    fresh["dossier_code"] = [f"NEW-{i:09d}" for i in range(len(fresh))]
    rows = pd.concat([later, fresh], ignore_index=True).sample(frac=1, random_state=2).reset_index(drop=True)
    print(f"history ~{total:,} versions; the night: {len(later):,} later versions of stored dossiers and "
          f"{len(fresh):,} new dossiers", flush=True)
    return rows.assign(record_hash=[f"{i:032x}" for i in range(len(rows))])


def plan_lines(node: dict, depth: int = 0):
    yield (f"{'  ' * depth}{node['Node Type']} {node.get('Relation Name', '')} {node.get('Index Name', '')} "
           f"estimated {node['Plan Rows']:,} actual {node['Actual Rows']:,} x {node['Actual Loops']:,} "
           f"{node['Actual Total Time']:.0f} ms")
    for child in node.get("Plans", []):
        yield from plan_lines(child, depth + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="a PostgreSQL warehouse built by bench_indicators.py")
    parser.add_argument("--stored", type=int, default=300_000, help="later versions of stored dossiers (at most)")
    parser.add_argument("--new", type=int, default=150_000, help="versions of new dossiers")
    parser.add_argument("--explain", action="store_true", help="print the plans of the merge's INSERT and UPDATEs")
    args = parser.parse_args()
    wh = Warehouse(args.url)
    if wh.dialect != "postgresql":
        sys.exit("bench_night_load.py: --url must name a PostgreSQL warehouse (the plans measured are PostgreSQL's)")
    spec = load.entity("dossier")
    rows = night(wh, args.stored, args.new)
    began = time.perf_counter()
    with wh.rolled_back() as conn:
        probe = write = 0.0
        for start in range(0, len(rows), load.CHUNK_RECORDS):
            chunk = rows.iloc[start:start + load.CHUNK_RECORDS]
            t = time.perf_counter()
            state = wh.stored_fingerprints(conn, chunk.assign(_row=range(len(chunk))), spec.table, spec.key[0])
            probe += time.perf_counter() - t
            t = time.perf_counter()
            load.write_versions(wh, conn, spec, chunk[spec.loaded].assign(batch_id=BATCH),
                                (state == "new").set_axis(chunk.index))
            write += time.perf_counter() - t
        print(f"{probe:8.2f} s  the fingerprints' probe\n{write:8.2f} s  write_versions", flush=True)
        for stmt in split_statements(sql_file(spec.merge_sql)):
            label = next(line for line in stmt.strip().splitlines() if not line.startswith("--"))[:70]
            t = time.perf_counter()
            if args.explain and stmt.lstrip().upper().startswith(("INSERT", "UPDATE")):
                [[plan]] = execute_named(conn, "EXPLAIN (ANALYZE, FORMAT JSON) " + stmt, {"batch_id": BATCH}).one()
                print("\n".join(plan_lines(plan["Plan"])))
            else:
                execute_named(conn, stmt, {"batch_id": BATCH})
            print(f"{time.perf_counter() - t:8.2f} s  {label}", flush=True)
    print(f"{time.perf_counter() - began:8.2f} s  the night's dossier load (rolled back)")
    wh.dispose()


if __name__ == "__main__":
    main()
