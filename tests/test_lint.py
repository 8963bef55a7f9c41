"""The repository passes ruff with the rules committed in pyproject.toml (Airflow's AIR rules among them)."""
import subprocess
import sys

from tests.fixtures.environment import ROOT


def test_ruff_passes_with_the_committed_rules():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"ruff check . found problems:\n{result.stdout}{result.stderr}"
