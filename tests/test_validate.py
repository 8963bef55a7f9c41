"""Great Expectations validation (etl/validate.py): the row-level split of a batch, and Data Docs
rendered once per run from the stored results of every batch (this process's and earlier ones'),
naming failing rows by their record's key, and rendering offline (etl/data_docs)."""
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from etl import data_docs, validate
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
    rejected = outcome.rejected
    reasons = dict(zip(rejected["dossier_code"].fillna("?"), rejected["failed_expectations"], strict=True))
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



def test_stored_results_name_failing_rows_by_key_without_a_query_to_fetch_them(docs):
    """The stored result lists each failing row by its key and `_row`; no `unexpected_index_query`, the
    `df.filter(...)` of a frame that is gone after the run, which cost a filter of the batch each time."""
    run = f"test stored results {uuid.uuid4().hex}"
    validate.validate(dossier_frame(GOOD + BAD), "dossier", PARAMETERS, run_name=run)
    [stored] = [json.loads(p.read_text()) for p in validate._results_dir(str(docs)).rglob("*.json")
                if json.loads(p.read_text())["meta"]["run_id"]["run_name"] == run]
    failed = [r["result"] for r in stored["results"] if not r["success"]]
    assert len(failed) == 4
    assert sorted(row["dossier_code"] or "?" for result in failed for row in result["unexpected_index_list"]) == [
        "?", "bad-agency", "bad-date", "bad-due"]
    assert all("_row" in row for result in failed for row in result["unexpected_index_list"])
    assert not any("unexpected_index_query" in result for result in failed)


def test_a_checkpoint_found_fresh_is_not_asked_again_and_a_stale_one_still_fails(docs):
    """Great Expectations' freshness check (each object serialized and compared with its stored copy, on every
    run) is answered once per checkpoint and validation definition of ours; an object found stale is asked
    again, and answered as the library answers it."""
    import great_expectations as gx
    from great_expectations.exceptions import CheckpointNotAddedError

    first = validate.validate(dossier_frame(GOOD), "dossier", PARAMETERS, run_name=f"fresh {uuid.uuid4().hex}")
    checkpoint = validate._checkpoint("dossier")
    [definition] = checkpoint.validation_definitions
    for thing in (checkpoint, definition):
        held, diagnostics = validate._FRESH[id(thing)]
        assert held is thing and diagnostics.success and thing.is_fresh() is diagnostics
    second = validate.validate(dossier_frame(GOOD), "dossier", PARAMETERS, run_name=f"fresh {uuid.uuid4().hex}")
    assert first.success and second.success and len(second.valid) == len(GOOD)

    stale = gx.Checkpoint(name=f"never added {uuid.uuid4().hex}", validation_definitions=[definition])
    for _ in range(2):
        diagnostics = stale.is_fresh()
        assert not diagnostics.success and id(stale) not in validate._FRESH
        assert any(isinstance(error, CheckpointNotAddedError) for error in diagnostics.errors)

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


def _render_offline(browser: str, page: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran, with every host name unresolvable (no network at all)."""
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "CONSOLE" not in done.stderr, done.stderr[-2000:]  # e.g. "Uncaught ReferenceError: $ is not defined"
    return done.stdout


def test_data_docs_render_offline_and_name_failing_rows_by_their_key(docs, tmp_path, chromium):
    batch = uuid.uuid4().int % 10**9
    run = f"2022-01-05_onestop_dossier_batch-{batch}"  # as etl/load.py names a batch's run
    outcome = validate.validate(dossier_frame(GOOD + BAD), "dossier", PARAMETERS, run_name=run)
    assert len(outcome.rejected) == 4 and len(outcome.valid) == len(GOOD)
    validate.build_data_docs()

    # The stored result lists a failing row by the record's key (etl/feeds.py) as well as by _row.
    (stored,) = (docs / "results" / "dossier" / run).rglob("*.json")
    listed = {r["expectation_config"]["type"]: r["result"]["unexpected_index_list"]
              for r in json.loads(stored.read_text())["results"] if not r["success"]}
    assert listed["expect_column_values_to_be_in_set"] == [
        {"dossier_code": "bad-agency", "_row": 5, "agency_code": "XX.UNKNOWN"}]
    assert [(r["dossier_code"], r["_row"]) for r in listed["expect_column_values_to_not_be_null"]] == [(None, 8)]
    (page,) = _page(run)
    assert "bad-agency" in page.read_text() and "bad-due" in page.read_text()

    # No page loads anything from the network; everything it loads is in the site.
    pages = list(docs.rglob("*.html"))
    assert len(pages) >= 2 + len(list(validate.EXPECTATIONS_DIR.glob("*.json")))
    for html_page in pages:
        html = html_page.read_text(encoding="utf-8")
        tags = re.findall(r"<(?:script|link|img)\b[^>]*>", html)
        loaded = [m for tag in tags for m in re.findall(r'\b(?:src|href)="([^"]*)"', tag)]
        loaded += re.findall(r"url\(['\"]?([^'\")]+)", html)
        assert not [url for url in loaded if re.match(r"(https?:)?//", url)], html_page
        missing = [url for url in loaded if not url.startswith("data:")
                   and not (html_page.parent / url.split("?")[0]).resolve().is_file()]
        assert not missing, (html_page, missing)
    vendored = docs / data_docs.SITE_VENDOR
    assert {p.relative_to(vendored) for p in vendored.rglob("*") if p.is_file()} >= \
        {Path(f) for f in data_docs.VENDORED.values()}
    for package in data_docs.VENDOR_DIR.iterdir():  # each vendored package keeps its licence
        assert any(f.name.startswith("LICENSE") for f in (vendored / package.name).iterdir()), package.name

    # In a browser without network, the scripts ran (bootstrap-table built the tables) and the index
    # names the run readably.
    browser = chromium
    index = _render_offline(browser, docs / "index.html", tmp_path / "profile")
    assert 'class="bootstrap-table' in index
    assert f"2022-01-05 onestop dossier batch-{batch}" in index
    shown = _render_offline(browser, page, tmp_path / "profile")
    assert 'class="bootstrap-table' in shown and "bad-agency" in shown


def test_a_site_rendered_before_the_vendored_files_is_rewritten_whole(docs):
    run = f"old {uuid.uuid4().hex[:8]}"
    validate.validate(dossier_frame(GOOD), "dossier", PARAMETERS, run_name=run)
    validate.build_data_docs()
    cdn = next(iter(data_docs.VENDORED))
    (old,) = _page(run)  # as an earlier version left it, a day ago
    old.write_text(old.read_text().replace("../../../../static/vendor/" + data_docs.VENDORED[cdn], cdn))
    assert cdn in old.read_text()
    os.utime(old, (old.stat().st_mtime - 86400,) * 2)
    shutil.rmtree(docs / data_docs.SITE_VENDOR)
    assert validate.build_data_docs(), "nothing new, but the site has no vendored files yet"
    assert cdn not in old.read_text() and (docs / data_docs.SITE_VENDOR / data_docs.VENDORED[cdn]).is_file()


def test_a_process_that_validates_does_not_import_what_no_suite_uses(tmp_path):
    """Great Expectations' imports of scipy.stats and altair (a third of its import time) are deferred to
    their first use: no suite needs them. At that use the real module replaces the stand-in, whichever
    way it is imported."""
    script = ("import sys\n"
              "from etl import validate\n"
              "from tests.fixtures.validation import BAD, GOOD, PARAMETERS, dossier_frame\n"
              "outcome = validate.validate(dossier_frame(GOOD + BAD), 'dossier', PARAMETERS)\n"
              "validate.build_data_docs()\n"
              "print(len(outcome.rejected), *(type(sys.modules[m]).__name__ for m in validate.DEFERRED))\n"
              "from scipy import stats\n"
              "import altair as alt\n"
              "print(stats.norm.cdf(0), alt.Chart.__name__,\n"
              "      *(type(sys.modules[m]).__name__ for m in validate.DEFERRED))\n")
    env = {**os.environ, "DATA_DOCS_DIR": str(tmp_path / "docs")}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    before, after = done.stdout.strip().splitlines()[-2:]
    assert before.split() == ["4", "_Deferred", "_Deferred"]
    assert after.split() == ["0.5", "Chart", "module", "module"]


def test_a_deferred_module_read_by_several_threads_at_once_is_imported_once():
    script = ("import sys, threading\n"
              "from etl import validate\n"
              "validate._defer_unused_modules()\n"
              "import altair as stand_in\n"
              "start, found = threading.Barrier(8), []\n"
              "def read():\n"
              "    start.wait()\n"
              "    found.append(id(stand_in.Chart))\n"
              "threads = [threading.Thread(target=read) for _ in range(8)]\n"
              "[t.start() for t in threads]; [t.join() for t in threads]\n"
              "import altair\n"
              "print(len(found), len(set(found)), altair is not stand_in, id(altair.Chart) == found[0])\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-4:] == ["8", "1", "True", "True"]


def test_an_expectation_builds_its_configuration_once_a_run_and_the_outcome_is_unchanged(docs, monkeypatch):
    """Great Expectations rebuilds an expectation's configuration for every argument it reads; within a run
    (validate._one_run) each expectation builds it once. The outcome is the same as without, and outside a
    run the configuration follows changes to the expectation."""
    from great_expectations.expectations import expectation as gx_expectation

    built = []

    class Counted(gx_expectation.ExpectationConfiguration):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(gx_expectation, "ExpectationConfiguration", Counted)  # what the property builds
    frame = dossier_frame(GOOD + BAD)
    memoized = validate.validate(frame, "dossier", PARAMETERS, run_name=f"test memo {uuid.uuid4().hex}")
    builds_memoized = len(built)
    built.clear()
    monkeypatch.setattr(validate, "_one_run", contextlib.nullcontext)
    plain = validate.validate(frame, "dossier", PARAMETERS, run_name=f"test plain {uuid.uuid4().hex}")
    assert builds_memoized * 3 < len(built), (builds_memoized, len(built))
    assert memoized.details == plain.details and memoized.failed == plain.failed == 4
    pd.testing.assert_frame_equal(memoized.rejected, plain.rejected)
    pd.testing.assert_frame_equal(memoized.valid, plain.valid)

    expectation = validate._suite("dossier").expectations[0].copy(deep=True)
    expectation.meta = {"checked": "outside a run"}
    assert expectation.configuration.meta == {"checked": "outside a run"}


def test_plain_metric_ids_are_great_expectations_own_and_the_outcome_is_unchanged(docs, monkeypatch):
    """validate._fast_metric_ids hashes plain metric arguments directly: every id the runs ask for equals the one
    Great Expectations' own conversion gives, most take the direct way, and the outcome is the same without it."""
    validate._gx()
    from great_expectations.core.id_dict import IDDict

    fast = IDDict.to_id
    assert fast.original
    asked = []

    def recorded(self, id_keys=None, id_ignore_keys=None):
        asked.append((IDDict(self), id_keys, id_ignore_keys))
        return fast(self, id_keys, id_ignore_keys)

    monkeypatch.setattr(IDDict, "to_id", recorded)
    frame = dossier_frame(GOOD + BAD)
    for _ in range(2):  # the first run in a process builds its metrics otherwise
        direct = validate.validate(frame, "dossier", PARAMETERS, run_name=f"test ids {uuid.uuid4().hex}")
    direct_way = [a for a in asked if len(set(a[0])) > 1 and validate._plain(dict(a[0]))]
    assert len(direct_way) > len(asked) / 3, (len(direct_way), len(asked))
    assert [fast(*a) for a in asked] == [fast.original(*a) for a in asked]
    monkeypatch.setattr(IDDict, "to_id", fast.original)
    original = validate.validate(frame, "dossier", PARAMETERS, run_name=f"test ids {uuid.uuid4().hex}")
    assert direct.details == original.details and direct.failed == original.failed == 4
    pd.testing.assert_frame_equal(direct.rejected, original.rejected)
    pd.testing.assert_frame_equal(direct.valid, original.valid)


def test_metric_ids_kept_from_run_to_run_tell_apart_what_json_tells_apart():
    """The ids validate._fast_metric_ids keeps for arguments of scalars are Great Expectations' own, asked
    again or not, and 1, True and "1" (or 1.0, which goes the original way) name different metrics."""
    validate._gx()
    from great_expectations.core.id_dict import IDDict

    arguments = [{"column": "agency_code", "batch_id": "b", "mostly": value} for value in (1, True, "1", 1.0, None)]
    arguments.append({"column": "agency_code", "batch_id": "b", "value_set": ["A", "B"]})
    for _ in range(2):  # the second time, those of scalars come from what the first kept
        ids = [IDDict(a).to_id() for a in arguments]
        assert ids == [IDDict.to_id.original(IDDict(a)) for a in arguments]
        assert len(set(ids)) == len(arguments)
    assert validate._scalars(arguments[0]) in validate._IDS and validate._scalars(arguments[3]) is None


STAMPS = ["20220104083015", "20220229000000", "20240229235959", "20220101240000", "20220101236000",
          "20220101235960", "20220101235961", "00000101000000", "20221301000000", "20220001000000",
          "20220100000000", "20220132000000", "20220431000000", "99991231235959", "2022010408301",
          "202201040830150", "2022010408301a", "２０２２０１０４０８３０１５", " 2022010408301", "2022-01-04 08:30:15"]


def test_compact_stamps_are_judged_as_strptime_judges_them_and_the_outcome_is_unchanged(docs, monkeypatch):
    """validate._fast_stamp_formats: the strftime-format expectation reads 14-digit stamps by slicing. Every
    stamp gets strptime's verdict (leap days, hour 24, second 60, year 0, other widths, non-ASCII digits), the
    suite's runs take the sliced way, and a batch's outcome is the same with strptime itself."""
    validate._gx()
    from great_expectations.expectations.metrics.column_map_metrics import (
        column_values_match_strftime_format as metric,
    )

    def verdict(parse, value):
        try:
            return parse(value, "%Y%m%d%H%M%S")
        except ValueError:
            return "ValueError"

    assert metric.datetime is validate._StampDatetime
    for stamp in STAMPS:
        assert verdict(validate._StampDatetime.strptime, stamp) == verdict(datetime.strptime, stamp), stamp
    sliced = []

    class Counted(validate._StampDatetime):
        @classmethod
        def strptime(cls, value, fmt):
            sliced.append(value)
            return super().strptime(value, fmt)

    monkeypatch.setattr(metric, "datetime", Counted)
    frame = dossier_frame(GOOD + BAD)
    fast = validate.validate(frame, "dossier", PARAMETERS, run_name=f"test stamps {uuid.uuid4().hex}")
    assert "20221345100000" in sliced and len(sliced) >= 4 * len(frame), len(sliced)
    monkeypatch.setattr(metric, "datetime", datetime)
    generic = validate.validate(frame, "dossier", PARAMETERS, run_name=f"test stamps {uuid.uuid4().hex}")
    assert fast.details == generic.details and fast.failed == generic.failed == 4
    pd.testing.assert_frame_equal(fast.rejected, generic.rejected)
    pd.testing.assert_frame_equal(fast.valid, generic.valid)



def _stored_results(docs: Path, run: str) -> list[dict]:
    [stored] = [json.loads(p.read_text()) for p in validate._results_dir(str(docs)).rglob("*.json")
                if json.loads(p.read_text())["meta"]["run_id"]["run_name"] == run]
    return sorted(({"expectation": r["expectation_config"]["type"], "kwargs": r["expectation_config"]["kwargs"],
                    "success": r["success"], "result": r["result"]} for r in stored["results"]), key=json.dumps)


def test_failing_rows_are_listed_without_filtering_the_batch_when_nothing_failed_and_the_outcome_is_unchanged(
        docs, monkeypatch):
    """validate._skip_lists_of_nothing: the functions listing an expectation's failing rows answer [] at once
    when its mask holds no failure, the failing ones still filter, and the stored results are those of Great
    Expectations' own functions."""
    validate._gx()
    from great_expectations.expectations import registry

    replaced = [(d["providers"], engine) for d in registry._registered_metrics.values()
                for engine, (_cls, fn) in d.get("providers", {}).items() if hasattr(fn, "original")]
    assert {p[e][1].original.__name__ for p, e in replaced} == set(validate._FAILURE_LISTS)
    filtered, asked = [], []

    def counted(fn, calls: list):
        def call(*args, **kwargs):
            calls.append(fn.__name__)
            return fn(*args, **kwargs)
        return call

    for p, e in replaced:
        metric_class, fn = p[e]
        quick_way = validate._unless_nothing_failed(counted(fn.original, filtered))
        monkeypatch.setitem(p, e, (metric_class, counted(quick_way, asked)))
    frame = dossier_frame(GOOD + BAD)
    quick = f"test lists {uuid.uuid4().hex}"
    validate.validate(frame, "dossier", PARAMETERS, run_name=quick)
    assert 0 < len(filtered) <= len(asked) / 2, (len(filtered), len(asked))  # most expectations pass

    monkeypatch.undo()  # the replaced functions again, then Great Expectations' own
    monkeypatch.setenv("DATA_DOCS_DIR", str(docs))
    for p, e in replaced:
        metric_class, fn = p[e]
        monkeypatch.setitem(p, e, (metric_class, fn.original))
    own = f"test lists {uuid.uuid4().hex}"
    validate.validate(frame, "dossier", PARAMETERS, run_name=own)
    assert _stored_results(docs, quick) == _stored_results(docs, own)
    assert sum(not r["success"] for r in _stored_results(docs, own)) == 4


def test_a_configuration_gives_one_expectation_a_run_and_a_new_one_when_it_changes():
    """validate._memoize_expectations: within a run a configuration's expectation is built once, and again after
    its kwargs or meta change; outside a run every call builds anew, as Great Expectations does."""
    validate._gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    config = ExpectationConfiguration(type="expect_column_values_to_not_be_null", kwargs={"column": "a"})
    with validate._one_run():
        first = config.to_domain_obj()
        assert config.to_domain_obj() is first
        config.kwargs["column"] = "b"
        changed = config.to_domain_obj()
        assert changed is not first and changed.column == "b" and first.column == "a"
        config.meta = {"note": "x"}
        assert config.to_domain_obj() is not changed and config.to_domain_obj().meta == {"note": "x"}
    assert config.to_domain_obj() is not config.to_domain_obj()


def test_dependency_graphs_are_built_once_a_process_for_the_same_metrics_and_the_outcome_is_unchanged(
        docs, monkeypatch):
    """validate._reuse_dependency_graphs: a second batch of the same suite and parameters builds no graph (other
    rows, other failures), other parameters build theirs, and the stored results equal those of graphs built
    by Great Expectations every run."""
    validate._gx()
    from great_expectations.validator.metrics_calculator import MetricsCalculator
    from great_expectations.validator.validation_graph import ValidationGraph

    reuse = MetricsCalculator.build_metric_dependency_graph
    expand = ValidationGraph.build_metric_dependency_graph
    built = []

    def counted(self, metric_configuration, runtime_configuration=None):
        built.append(metric_configuration.metric_name)
        return expand(self, metric_configuration, runtime_configuration)

    monkeypatch.setattr(ValidationGraph, "build_metric_dependency_graph", counted)
    monkeypatch.setattr(validate, "_GRAPHS", {})
    parameters = {**PARAMETERS, "known_procedures": [*PARAMETERS["known_procedures"], uuid.uuid4().hex]}
    reused = [f"test graphs {uuid.uuid4().hex}" for _ in range(3)]
    validate.validate(dossier_frame(GOOD + BAD), "dossier", parameters, run_name=reused[0])
    first = len(built)
    assert first > 10 * len(validate.load_suite_config("dossier")["expectations"])  # the expansion, recursive
    validate.validate(dossier_frame(GOOD + BAD[:2]), "dossier", parameters, run_name=reused[1])
    validate.validate(dossier_frame(GOOD + BAD), "dossier", parameters, run_name=reused[2])
    assert len(built) == first  # the same metrics: the graphs kept
    other = {**parameters, "known_agencies": ["000.00.02.H13"]}
    validate.validate(dossier_frame(GOOD + BAD), "dossier", other, run_name=f"test graphs {uuid.uuid4().hex}")
    assert 0 < len(built) - first < first  # only those of the expectations reading known_agencies

    monkeypatch.setattr(MetricsCalculator, "build_metric_dependency_graph", reuse.original)
    own = [f"test graphs {uuid.uuid4().hex}" for _ in range(2)]
    validate.validate(dossier_frame(GOOD + BAD), "dossier", parameters, run_name=own[0])
    validate.validate(dossier_frame(GOOD + BAD[:2]), "dossier", parameters, run_name=own[1])
    assert _stored_results(docs, reused[2]) == _stored_results(docs, own[0])
    assert _stored_results(docs, reused[1]) == _stored_results(docs, own[1])
    assert sum(not r["success"] for r in _stored_results(docs, reused[2])) == 4
    assert sum(not r["success"] for r in _stored_results(docs, reused[1])) == 2


def test_expectations_built_once_a_run_give_the_stored_results_great_expectations_gives(docs, monkeypatch):
    """validate._memoize_expectations leaves the stored results as they were: the same batch validated with
    Great Expectations' own to_domain_obj stores the same results."""
    validate._gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    memoized = f"test expectations {uuid.uuid4().hex}"
    validate.validate(dossier_frame(GOOD + BAD), "dossier", PARAMETERS, run_name=memoized)
    monkeypatch.setattr(ExpectationConfiguration, "to_domain_obj", ExpectationConfiguration.to_domain_obj.original)
    own = f"test expectations {uuid.uuid4().hex}"
    validate.validate(dossier_frame(GOOD + BAD), "dossier", PARAMETERS, run_name=own)
    assert _stored_results(docs, memoized) == _stored_results(docs, own)
    assert sum(not r["success"] for r in _stored_results(docs, own)) == 4
