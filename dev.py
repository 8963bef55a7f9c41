#!/usr/bin/env python3
"""Bootstrap a local virtual environment, then run the demo or the tests.

    python3 dev.py demo [args...]   # python -m etl demo, inside .venv
    python3 dev.py test [args...]   # python -m pytest, inside .venv

Needs only Python 3.11. The venv is (re)installed when requirements.txt or
constraints.txt change; otherwise it is reused.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".requirements.sha256"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
COMMANDS = {"demo": ["-m", "etl", "demo"], "test": ["-m", "pytest"], "etl": ["-m", "etl"]}


def _requirements_hash() -> str:
    digest = hashlib.sha256()
    for name in ("requirements.txt", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_venv() -> None:
    if sys.version_info[:2] != (3, 11):
        print(f"warning: this project is tested on Python 3.11, not {sys.version.split()[0]}", file=sys.stderr)
    wanted = _requirements_hash()
    if PY.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PY.exists():
        print(f"creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing requirements (first run only) ...", flush=True)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "-r", str(ROOT / "requirements.txt")], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_venv()
    cmd = [str(PY), *COMMANDS[argv[0]], *argv[1:]]
    return subprocess.run(cmd, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
