"""Great Expectations 1.x validation of a batch against a suite kept in expectations/, through a
checkpoint that also writes the results as Data Docs (HTML, under var/data_docs by default).

Rows that fail any expectation are split off with the list of what they failed (they go
to ops.quarantine); the rest loads. A suite whose expectation itself errors is a bug in
the suite, not in the data, and stops the run.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from etl.config import ROOT

log = logging.getLogger(__name__)
EXPECTATIONS_DIR = ROOT / "expectations"
ROW_ID = "_row"


class SuiteError(RuntimeError):
    """An expectation could not be evaluated (a broken suite or a missing column)."""


@dataclass
class Outcome:
    suite: str
    valid: pd.DataFrame
    rejected: pd.DataFrame          # the failing rows plus a `failed_expectations` column
    evaluated: int = 0
    failed: int = 0
    details: list[dict] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.failed == 0


def load_suite_config(name: str) -> dict:
    return json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))


DOCS_SITE = "pipeline"
RESULT_FORMAT = {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]}


def data_docs_dir() -> str:
    """Where Great Expectations Data Docs (HTML) are written; DATA_DOCS_DIR="" turns them off."""
    return os.environ.get("DATA_DOCS_DIR", str(ROOT / "var" / "data_docs"))


@lru_cache(maxsize=1)
def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if data_docs_dir():
        context.add_data_docs_site(site_name=DOCS_SITE, site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": data_docs_dir()},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
    return context


@lru_cache(maxsize=None)
def _checkpoint(name: str):
    """The suite of expectations/<name>.json, run by a checkpoint that also updates the Data Docs."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = _context()
    config = load_suite_config(name)
    suite = context.suites.add(gx.ExpectationSuite(name=config["name"], meta=config.get("meta", {})))
    for exp in config["expectations"]:
        suite.add_expectation_configuration(ExpectationConfiguration(
            type=exp["type"], kwargs=exp["kwargs"], meta=exp.get("meta")))
    suite.save()
    batch_definition = (context.data_sources.add_pandas(f"pipeline_{name}")
                        .add_dataframe_asset(name).add_batch_definition_whole_dataframe("batch"))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=suite))
    actions = [UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])] if data_docs_dir() else []
    return context.checkpoints.add(gx.Checkpoint(
        name=name, validation_definitions=[definition], actions=actions, result_format=RESULT_FORMAT))


def _label(config) -> str:
    kwargs = config.kwargs
    columns = kwargs.get("column") or kwargs.get("column_list") or [kwargs.get("column_A"), kwargs.get("column_B")]
    columns = ",".join(c for c in ([columns] if isinstance(columns, str) else columns) if c)
    return f"{config.type}({columns})"


def validate(frame: pd.DataFrame, suite_name: str, parameters: dict | None = None,
             run_name: str | None = None) -> Outcome:
    """Validate `frame` (which must carry a unique `_row` column) against the named suite;
    `run_name` (e.g. the batch) names the run in the Data Docs."""
    if frame.empty:
        return Outcome(suite_name, frame, frame.assign(failed_expectations=pd.Series(dtype="string")))
    from great_expectations.core.run_identifier import RunIdentifier

    checkpoint = _checkpoint(suite_name)
    run = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters or {},
                         run_id=RunIdentifier(run_name=run_name or suite_name))
    result = next(iter(run.run_results.values()))
    failures: dict[int, list[str]] = {}
    details = []
    for res in result.results:
        label = _label(res.expectation_config)
        if res.exception_info and res.exception_info.get("raised_exception"):
            raise SuiteError(f"suite {suite_name}: {label} could not run: "
                             f"{res.exception_info.get('exception_message')}")
        rows = [int(item[ROW_ID]) for item in (res.result.get("unexpected_index_list") or [])]
        if not res.success and not rows:
            raise SuiteError(f"suite {suite_name}: {label} failed for the whole batch: {res.result}")
        for row in rows:
            failures.setdefault(row, []).append(label)
        details.append({"expectation": label, "success": bool(res.success), "unexpected": len(set(rows))})
    bad = frame[ROW_ID].isin(failures.keys())
    rejected = frame[bad].copy()
    rejected["failed_expectations"] = rejected[ROW_ID].map(lambda r: "; ".join(sorted(set(failures[r]))))
    failed = sum(1 for d in details if not d["success"])
    if failed:
        log.warning("suite %s: %d of %d rows quarantined (%s)", suite_name, len(rejected), len(frame),
                    ", ".join(f"{d['expectation']}: {d['unexpected']}" for d in details if not d["success"]))
    return Outcome(suite_name, frame[~bad], rejected, evaluated=len(details), failed=failed, details=details)
