"""Great Expectations' cost in a long process: validation of a night's batches, then the Data Docs
built once (etl.validate.build_data_docs), night after night.

    .venv/bin/python benchmarks/bench_validate.py [--dossiers-per-year 60000] [--nights 8] [--batches 9]

The simulator serves one window of dossier versions (2022-03-11 to 03-15, what a nightly run with
its three-day look-back reads); the records are split into --batches frames (a nightly run
validates about nine batches: four reference entities, five daily ones), and each "night"
validates them all against the dossier suite, then builds the Data Docs once. Results and pages
go to a temporary DATA_DOCS_DIR. Prints the first call (imports, suite and checkpoint set-up),
then seconds per night: flat means nothing grows with the process.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.sources.onestop import OneStopClient
from etl.timeutil import Window
from mocks.testing import run_simulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers-per-year", type=int, default=60_000)
    parser.add_argument("--nights", type=int, default=8)
    parser.add_argument("--batches", type=int, default=9)
    args = parser.parse_args()
    os.environ["DATA_DOCS_DIR"] = tempfile.mkdtemp(prefix="bench_validate_")
    with run_simulator(seed=7, dossiers_per_year=args.dossiers_per_year, startup_timeout=120) as url:
        client = OneStopClient(url, "dev-onestop-key")
        records = [r for page in client.dossier_pages(Window(datetime(2022, 3, 11), datetime(2022, 3, 16)))
                   for r in page]
        parameters = {"known_agencies": [a["MaDonVi"] for a in client.agencies()],
                      "known_procedures": [p["MaTTHC"] for p in client.procedures()]}

    started = time.perf_counter()
    from etl import load, transform, validate

    spec = load.entity("dossier", b"bench")
    size = -(-len(records) // args.batches)
    frames = []
    for i in range(args.batches):
        chunk = spec.pseudonymized(records[i * size:(i + 1) * size])
        frames.append(transform.frame(spec.spec, [chunk[k] for k in transform.first_copies(chunk)]))
    validate.validate(frames[0].head(50), "dossier", parameters, run_name="warm-up")
    print(f"{len(records):,} records in {args.batches} batches; first call (imports, set-up): "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    nights = []
    for night in range(1, args.nights + 1):
        started = time.perf_counter()
        for i, frame in enumerate(frames):
            validate.validate(frame, "dossier", parameters, run_name=f"night {night} onestop dossier batch {i}")
        validated = time.perf_counter() - started
        validate.build_data_docs()
        nights.append(time.perf_counter() - started)
        print(f"night {night}: {nights[-1]:.1f} s (validation {validated:.1f} s, Data Docs "
              f"{nights[-1] - validated:.1f} s)", flush=True)
    print(f"per night: min {min(nights):.1f} s, median {statistics.median(nights):.1f} s, "
          f"last {nights[-1]:.1f} s; Data Docs in {os.environ['DATA_DOCS_DIR']}")


if __name__ == "__main__":
    main()
