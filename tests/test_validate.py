"""Great Expectations validation (etl/validate.py): the row-level split of a batch, and Data Docs
rendered once per run from the stored results of every batch (this process's and earlier ones')."""
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from etl import validate
from tests.fixtures.environment import ROOT
from tests.fixtures.validation import BAD, GOOD, PARAMETERS, dossier_frame


@pytest.fixture
def docs(tmp_path, monkeypatch) -> Path:
    """A Data Docs directory of the test's own (the shared one is written by other processes)."""
    monkeypatch.setenv("DATA_DOCS_DIR", str(tmp_path / "data_docs"))
    return tmp_path / "data_docs"


def test_bad_rows_are_split_off_with_what_they_failed(docs):
    frame = dossier_frame(GOOD + BAD)
    outcome = validate.validate(frame, "dossier", PARAMETERS, run_name=f"test bad rows {uuid.uuid4().hex}")
    assert sorted(outcome.valid["dossier_code"]) == sorted(r["MaHoSo"] for r in GOOD)
    reasons = dict(zip(outcome.rejected["dossier_code"].fillna("?"), outcome.rejected["failed_expectations"]))
    assert reasons == {
        "bad-agency": "expect_column_values_to_be_in_set(agency_code)",
        "bad-due": "expect_column_pair_values_a_to_be_greater_than_b(due_at,received_at)",
        "bad-date": "expect_column_values_to_match_strftime_format(received_at_raw)",
        "?": "expect_column_values_to_not_be_null(dossier_code)",
    }
    assert outcome.evaluated == len(validate.load_suite_config("dossier")["expectations"])
    assert outcome.failed == 4 and not outcome.success
    failing = {d["expectation"]: d["unexpected"] for d in outcome.details if not d["success"]}
    assert failing == {"expect_column_values_to_be_in_set(agency_code)": 1,
                       "expect_column_pair_values_a_to_be_greater_than_b(due_at,received_at)": 1,
                       "expect_column_values_to_match_strftime_format(received_at_raw)": 1,
                       "expect_column_values_to_not_be_null(dossier_code)": 1}


def _page(run_name: str) -> list[Path]:
    return list((Path(validate.data_docs_dir()) / "validations" / "dossier" / run_name).rglob("*.html"))


def test_data_docs_are_built_once_per_run_from_every_batch_result(docs):
    tag = uuid.uuid4().hex[:8]
    # An earlier process (another Airflow task, yesterday's run) validated a batch and exited.
    earlier = f"2022-01-04 onestop dossier batch {tag}-0"
    subprocess.run([sys.executable, "-c", (
        "import sys; from etl import validate; from tests.fixtures.validation import GOOD, PARAMETERS, dossier_frame; "
        "validate.validate(dossier_frame(GOOD), 'dossier', PARAMETERS, run_name=sys.argv[1])"), earlier],
        check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=300)
    runs = [f"2022-01-05 onestop dossier batch {tag}-{i}" for i in range(1, 4)]
    for run in runs:
        outcome = validate.validate(dossier_frame(GOOD + BAD[:1]), "dossier", PARAMETERS, run_name=run)
        assert len(outcome.rejected) == 1
    assert not any(_page(run) for run in [earlier, *runs]), "validate() must not render Data Docs"

    index = validate.build_data_docs()
    assert index and index.endswith("index.html")
    for run in [earlier, *runs]:
        pages = _page(run)
        assert len(pages) == 1, run
    assert "agency_code" in _page(runs[0])[0].read_text(), "the page shows the failed expectation's column"
    index_html = (docs / "index.html").read_text()
    for run in [earlier, *runs]:
        assert run.replace(" ", "%20") in index_html, run
    # Nothing new: the next build renders nothing (and says so).
    rendered = {p: p.stat().st_mtime_ns for run in runs for p in _page(run)}
    assert validate.build_data_docs() is None
    assert {p: p.stat().st_mtime_ns for p in rendered} == rendered


def test_results_older_than_the_retention_are_pruned_with_their_pages(docs, monkeypatch):
    run = f"2020-01-05 onestop dossier batch {uuid.uuid4().hex[:8]}"
    validate.validate(dossier_frame(GOOD), "dossier", PARAMETERS, run_name=run)
    results = docs / "results" / "dossier" / run
    (stored,) = results.rglob("*.json")
    old = results / "20200105T010203.000000Z"  # a result stored in January 2020
    old.mkdir()
    shutil.move(stored, old / stored.name)
    shutil.rmtree(stored.parent)
    monkeypatch.setenv("DATA_DOCS_KEEP_DAYS", "100000")
    validate.build_data_docs()
    assert len(_page(run)) == 1
    monkeypatch.setenv("DATA_DOCS_KEEP_DAYS", "30")
    validate.build_data_docs()
    assert not results.exists()
    assert not _page(run)
    assert run.replace(" ", "%20") not in (docs / "index.html").read_text()
