"""Run the simulator in a subprocess for tests and scripts.

    from mocks.testing import run_simulator
    with run_simulator(seed=7, profile="lao_cai_2022", dossiers_per_year=20_000) as base_url:
        requests.get(base_url + "/onestop/api/v1/donvi", headers={"X-API-Key": ...})

Options map to the CLI flags (`fault_rate=0.1` -> `--fault-rate 0.1`, `faults=["rate429"]`
-> `--fault rate429`, `faults={"bad_records": 0.05}` -> `--fault bad_records=0.05`,
`outage=["2022-03-01", "2022-03-15=0.3"]` -> `--outage 2022-03-01 --outage 2022-03-15=0.3`,
`token_ttl=2` -> `--token-ttl 2`). `env` adds environment variables
(e.g. other credentials) for the server process.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _args(opts: dict) -> list[str]:
    out = []
    for key, value in opts.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if key == "faults":
            if isinstance(value, dict):
                values = [k if r is None else f"{k}={r}" for k, r in value.items()]
            else:
                values = [value] if isinstance(value, str) else list(value)
            for v in values:
                out += ["--fault", v]
        elif value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                out += [flag, str(v)]
        else:
            out += [flag, str(value)]
    return out


def wait_healthy(base_url: str, proc: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"simulator exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(base_url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = str(exc)
        time.sleep(0.1)
    raise TimeoutError(f"simulator at {base_url} not healthy after {timeout}s: {last}")


@contextlib.contextmanager
def run_simulator(*, host: str = "127.0.0.1", port: int | None = None, env: dict | None = None,
                  startup_timeout: float = 30.0, **opts) -> Iterator[str]:
    """Start `python -m mocks serve` on a free port, wait for /health, yield the base URL,
    terminate the process on exit. Defaults: seed 0, profile lao_cai_2022, 20000 dossiers/year."""
    port = port or free_port()
    opts = {"seed": 0, "profile": "lao_cai_2022", "dossiers_per_year": 20_000, **opts}
    cmd = [sys.executable, "-m", "mocks", "serve", "--host", host, "--port", str(port), *_args(opts)]
    proc_env = {**os.environ, **(env or {})}
    proc_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), proc_env.get("PYTHONPATH")]))
    proc = subprocess.Popen(cmd, cwd=str(ROOT), env=proc_env)
    base_url = f"http://{host}:{port}"
    try:
        wait_healthy(base_url, proc, startup_timeout)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
