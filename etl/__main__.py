import logging
import os
import sys
import traceback

from etl.cli import main

try:
    code = main()
except SystemExit as exc:  # argparse has already said why
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
except BaseException:  # noqa: BLE001 - under -v the traceback is the point
    traceback.print_exc()
    code = 1
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
# Every resource is closed by now. Skipping interpreter finalization avoids DuckDB's nanobind
# "leaked instances" report, which Great Expectations' lingering module state triggers at exit.
os._exit(code)
