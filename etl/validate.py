"""Great Expectations 1.x validation of a batch against a suite kept in expectations/, through a
checkpoint built once per process and reused for every batch.

Rows that fail any expectation are split off with the list of what they failed (they go
to ops.quarantine); the rest loads. A suite whose expectation itself errors is a bug in
the suite, not in the data, and stops the run.

Every validation result is stored as JSON under <DATA_DOCS_DIR>/results, so results of earlier
processes (and of other Airflow tasks) survive; `build_data_docs()`, called once at the end of
a run, renders the pages of the results that have none yet and the index (rendering after every
batch cost more than validating), and points them at the site's own copies of their styles and
scripts (etl/data_docs) so that they render offline. A failing row is shown in the pages by its
record's key (etl/feeds.py's record_key) as well as by `_row`.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import types
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, wraps
from pathlib import Path

import pandas as pd

from etl import data_docs, feeds
from etl.config import ROOT, settings

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
# The index reads every result it lists (~10 ms each): it lists the latest ones; older pages stay.
INDEX_LIMIT = 100


def data_docs_dir() -> str:
    """Where Great Expectations Data Docs (HTML) are written; DATA_DOCS_DIR="" turns them off."""
    return settings().data_docs_dir


def data_docs_keep_days() -> int:
    """DATA_DOCS_KEEP_DAYS: validation results (and their pages) older than this are deleted."""
    return settings().data_docs_keep_days


def _results_dir(docs: str) -> Path:
    return Path(docs) / "results"


def _context():
    return _context_for(data_docs_dir())


# Modules Great Expectations imports at its own import for expectations no suite here uses: scipy.stats
# for the distribution expectations (0.8 s), altair (with jsonschema and narwhals, 0.65 s) for the
# KL-divergence one's charts. Each is imported at its first use instead, if any.
DEFERRED = ("scipy.stats", "altair")
_DEFERRED_LOCK = threading.RLock()


class _Deferred(types.ModuleType):
    """Stands in sys.modules for a module not imported yet; the first attribute read beyond what the
    import statement itself reads (its spec) imports the real module, which then replaces it.
    (importlib.util.LazyLoader cannot: Python 3.11's `import x` reads the module's __spec__, which loads it.)"""

    def __init__(self, spec):
        super().__init__(spec.name)
        self.__spec__ = spec

    def __getattr__(self, attr):
        name = self.__spec__.name
        with _DEFERRED_LOCK:  # two threads at once: one imports, the other finds the real module
            if sys.modules.get(name) is self:
                del sys.modules[name]
            real = importlib.import_module(name)
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, real)
        return getattr(real, attr)


def _defer_unused_modules() -> None:
    for name in DEFERRED:
        if name in sys.modules:
            continue
        parent, _, child = name.rpartition(".")
        stand_in = sys.modules[name] = _Deferred(importlib.util.find_spec(name))
        if parent:  # `from scipy import stats` finds it as it is
            setattr(importlib.import_module(parent), child, stand_in)


# During a checkpoint run (`_one_run`): id(expectation) -> (expectation, its configuration), and
# id(configuration) -> (configuration, its kwargs and meta as they were, its expectation).
_RUN_CONFIGURATIONS: ContextVar[dict[int, tuple] | None] = ContextVar("run_configurations", default=None)
_RUN_EXPECTATIONS: ContextVar[dict[int, tuple] | None] = ContextVar("run_expectations", default=None)


def _memoize_configurations() -> None:
    """Great Expectations rebuilds an expectation's configuration (a pydantic .dict() and a new
    ExpectationConfiguration) every time it reads one of the expectation's arguments: some 40 times per
    expectation per run, 0.1 s of each run whatever its rows. Nothing changes an expectation during a
    run, so within `_one_run` each one builds it once; outside, it is built on every read as before."""
    from great_expectations.expectations.expectation import Expectation

    build = Expectation.configuration.fget
    if getattr(build, "memoized", False):
        return

    def configuration(self):
        held = _RUN_CONFIGURATIONS.get()
        if held is None:
            return build(self)
        entry = held.get(id(self))
        if entry is None or entry[0] is not self:
            entry = held[id(self)] = (self, build(self))
        return entry[1]

    configuration.memoized = True
    Expectation.configuration = property(configuration, doc=Expectation.configuration.__doc__)


def _memoize_expectations() -> None:
    """Great Expectations turns a configuration into its expectation (a pydantic model, validated) every time
    it asks for a metric's arguments: some 17 times per expectation per run. Within `_one_run` each
    configuration builds it once, and rebuilds it if its kwargs or meta changed since (as the run's copy
    changes when its batch_id is added); so the expectation's configuration is built once too
    (_memoize_configurations). Outside a run every call builds anew, as before."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    build = ExpectationConfiguration.to_domain_obj
    if getattr(build, "memoized", False):
        return

    def to_domain_obj(self):
        held = _RUN_EXPECTATIONS.get()
        if held is None:
            return build(self)
        entry = held.get(id(self))
        if entry is None or entry[0] is not self or entry[1] != self.kwargs or entry[2] != self.meta:
            entry = held[id(self)] = (self, dict(self.kwargs), self.meta and dict(self.meta), build(self))
        return entry[3]

    to_domain_obj.memoized = True
    to_domain_obj.original = build
    ExpectationConfiguration.to_domain_obj = to_domain_obj


def _plain(value) -> bool:
    """Only strings, integers, booleans, None, lists, tuples and string-keyed dicts: what Great Expectations'
    JSON conversion leaves as it is."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is list or kind is tuple:
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return False


_IDS: dict[tuple, str] = {}  # _scalars() of a metric's arguments -> its id


def _scalars(data: dict) -> tuple | None:
    """The arguments as a key that tells 1, 1.0 and True apart (JSON does), when each is a string, an
    integer, a boolean or None; else None."""
    if all(type(v) in (str, int, bool) or v is None for v in data.values()):
        return tuple(sorted((k, type(v), v) for k, v in data.items()))
    return None


def _fast_metric_ids() -> None:
    """Great Expectations names every metric of every run by an id (IDDict.to_id): its arguments passed through
    its generic JSON conversion, which runs numpy type checks on each element, then hashed; some 1,400 times
    in a dossier run. Arguments of plain values (column names, the batch's id, None) are hashed as they are,
    which gives the same id; any others go the original way. Those of scalars alone are hashed once a process:
    a run asks some 2,600 ids, a few dozen distinct ones, the same from run to run."""
    from great_expectations.core.id_dict import IDDict

    if "_fast_ids" in IDDict.__dict__:  # once per process (the class is marked, whatever wraps to_id later)
        return
    original = IDDict.to_id

    def to_id(self, id_keys=None, id_ignore_keys=None):
        keys = set(self.keys() if id_keys is None else id_keys) - set(
            self._id_ignore_keys if id_ignore_keys is None else id_ignore_keys)
        if len(keys) > 1:
            data = {k: self[k] for k in keys}
            scalars = _scalars(data)
            if scalars is not None and (known := _IDS.get(scalars)) is not None:
                return known
            if _plain(data):
                made = hashlib.md5(json.dumps(data, sort_keys=True).encode("utf-8"), usedforsecurity=False).hexdigest()
                if scalars is not None:
                    if len(_IDS) > 100_000:  # ids of batches long gone
                        _IDS.clear()
                    _IDS[scalars] = made
                return made
        return original(self, id_keys, id_ignore_keys)

    to_id.original = original
    IDDict.to_id = to_id
    IDDict._fast_ids = True


# (execution engine class, the metrics' ids, the runtime configuration as JSON) -> the graph's edges.
_GRAPHS: dict[tuple, list] = {}


def _reuse_dependency_graphs() -> None:
    """Before computing anything, Great Expectations expands every expectation's metrics into the graph of the
    metrics they need, recursively and without sharing (some 1,150 expansions in a dossier run, a fifth of
    its cost whatever its rows). The graph follows from the metrics alone: their ids name each one whole
    (its name and arguments, the batch's id among them), and the expansion reads nothing of the data. So a
    process builds each graph once and hands every later run the same edges in a graph of its own, on the
    run's execution engine."""
    from great_expectations.validator.metrics_calculator import MetricsCalculator
    from great_expectations.validator.validation_graph import ValidationGraph

    build = MetricsCalculator.build_metric_dependency_graph
    if getattr(build, "reused", False):
        return

    def build_metric_dependency_graph(self, metric_configurations, runtime_configuration=None):
        key = (type(self._execution_engine), tuple(m.id for m in metric_configurations),
               json.dumps(runtime_configuration, sort_keys=True, default=repr))
        edges = _GRAPHS.get(key)
        if edges is None:
            edges = build(self, metric_configurations, runtime_configuration).edges
            if len(_GRAPHS) > 10_000:  # graphs of parameters long gone
                _GRAPHS.clear()
            _GRAPHS[key] = edges
        return ValidationGraph(execution_engine=self._execution_engine, edges=list(edges))

    build_metric_dependency_graph.reused = True
    build_metric_dependency_graph.original = build
    MetricsCalculator.build_metric_dependency_graph = build_metric_dependency_graph


class _StampDatetime(datetime):
    """datetime whose strptime reads the sources' compact stamps ("%Y%m%d%H%M%S", 14 ASCII digits) by
    slicing: the same result, or the same ValueError, as the generic parser, at a quarter of its cost."""

    @classmethod
    def strptime(cls, value, fmt):
        if fmt == "%Y%m%d%H%M%S" and type(value) is str and len(value) == 14 and value.isascii() and value.isdigit():
            # 14 digits leave every field two digits wide; datetime() checks their ranges as strptime does
            return datetime(int(value[:4]), int(value[4:6]), int(value[6:8]), int(value[8:10]), int(value[10:12]),
                            int(value[12:]))
        return datetime.strptime(value, fmt)


def _fast_stamp_formats() -> None:
    """expect_column_values_to_match_strftime_format parses every value with datetime.strptime: 9 µs each (2 µs
    sliced), on seven columns of every dossier version, which was 40 % of validating a dossier batch. Its module
    gets _StampDatetime instead: the same verdict for every value, other formats parsed as before."""
    from great_expectations.expectations.metrics.column_map_metrics import (
        column_values_match_strftime_format as metric,
    )

    if not getattr(metric, "_stamps_sliced", False):  # once per process (whatever replaces it later stays)
        metric.datetime = _StampDatetime
        metric._stamps_sliced = True


# Checkpoints and validation definitions found fresh: id -> (the object, held so that its id is not reused,
# and the diagnostics Great Expectations gave it).
_FRESH: dict[int, tuple] = {}


def _remember_freshness() -> None:
    """Every checkpoint run asks whether the checkpoint, its validation definition (twice), the suite and the
    batch definition still equal their stored copies, each serialized and compared: 20 ms a run, whatever its
    rows; a backfill's month runs 155. Every checkpoint and validation definition of the process keeps a fresh
    answer (one found stale is asked again, and fails as before): the process's only ones are ours, built once
    (_checkpoint_in) and never changed. Code that changes one in place would have to save it or build anew."""
    from great_expectations.checkpoint.checkpoint import Checkpoint
    from great_expectations.core.validation_definition import ValidationDefinition

    for cls in (Checkpoint, ValidationDefinition):
        if getattr(cls.is_fresh, "remembered", False):  # once per process
            continue

        def is_fresh(self, _ask=cls.is_fresh):
            held = _FRESH.get(id(self))
            if held is not None and held[0] is self:
                return held[1]
            diagnostics = _ask(self)
            if diagnostics.success:
                _FRESH[id(self)] = (self, diagnostics)
            return diagnostics

        is_fresh.remembered = True
        cls.is_fresh = is_fresh


# Great Expectations' pandas functions that list an expectation's failing rows (their keys, their values).
_FAILURE_LISTS = ("_pandas_map_condition_index", "_pandas_column_map_condition_values",
                  "_pandas_column_pair_map_condition_values", "_pandas_multicolumn_map_condition_values")


def _skip_lists_of_nothing() -> None:
    """Each of these lists an expectation's failing rows by filtering the whole batch with the expectation's
    failure mask, even when nothing failed: some 15 % of validating a batch whose expectations mostly pass.
    A mask without a failure gives the empty list straight away, which is what the filter gives; any
    other mask goes the original way. The registered metric functions are replaced (once per process:
    a replaced one is no longer an original)."""
    from great_expectations.expectations import registry
    from great_expectations.expectations.metrics.map_metric_provider import map_metric_provider

    originals = {getattr(map_metric_provider, name) for name in _FAILURE_LISTS}
    for definition in registry._registered_metrics.values():
        providers = definition.get("providers", {})
        for engine, (metric_class, fn) in list(providers.items()):
            if fn in originals:
                providers[engine] = (metric_class, _unless_nothing_failed(fn))


def _unless_nothing_failed(fn):
    @wraps(fn)  # with the metric_fn_type Great Expectations set on it
    def listing(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, **kwargs):
        failed = metrics["unexpected_condition"][0]
        # numpy's bool or pandas' nullable boolean (whose NA a filter takes as False, as any() skips it)
        if getattr(getattr(failed, "dtype", None), "kind", None) == "b" and not failed.any():
            return []
        return fn(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, **kwargs)

    listing.original = fn
    return listing


@contextmanager
def _one_run():
    tokens = _RUN_CONFIGURATIONS.set({}), _RUN_EXPECTATIONS.set({})
    try:
        yield
    finally:
        _RUN_EXPECTATIONS.reset(tokens[1])
        _RUN_CONFIGURATIONS.reset(tokens[0])


def _gx():
    """great_expectations, as every function here imports it (unused modules deferred, expectations and their
    configurations built once a run, plain metric ids hashed directly, metric graphs built once a process,
    compact stamps parsed by slicing, freshness remembered, no filtering for failures not found)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    _defer_unused_modules()
    import great_expectations as gx

    _memoize_configurations()
    _memoize_expectations()
    _fast_metric_ids()
    _reuse_dependency_graphs()
    _fast_stamp_formats()
    _remember_freshness()
    _skip_lists_of_nothing()
    return gx


@cache
def _context_for(docs: str):
    """One ephemeral context per process (and Data Docs directory); with Data Docs on, its
    validation results go to files."""
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(),
                               progress_bars=ProgressBarsConfig(globally=False))
    if docs:
        config.stores[config.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(_results_dir(docs).resolve())}}
        config.data_docs_sites = {DOCS_SITE: {
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(Path(docs).resolve())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                                   "validation_results_limit": INDEX_LIMIT},
            # Pages for every result (the index's limit would apply to them too); no profiling.
            "site_section_builders": {"validations": {"validation_results_limit": None}, "profiling": "None"}}}
    return gx.get_context(mode="ephemeral", project_config=config)


def _suite(name: str):
    return _suite_in(name, data_docs_dir())


@cache
def _suite_in(name: str, docs: str):
    gx = _gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    config = load_suite_config(name)
    suite = _context_for(docs).suites.add(gx.ExpectationSuite(name=config["name"], meta=config.get("meta", {})))
    for exp in config["expectations"]:
        suite.add_expectation_configuration(ExpectationConfiguration(
            type=exp["type"], kwargs=exp["kwargs"], meta=exp.get("meta")))
    suite.save()
    return suite


def result_format(name: str) -> dict:
    """Failing rows listed whole, by the record's key when the suite is a feed's (for people reading
    the Data Docs) and by `_row` (to split the frame). Not the "query" that would fetch them again
    (`df.filter(items=[...])` of a frame gone after the run): building it filtered the whole batch
    once more per expectation, ~9 % of a validation."""
    feed = feeds.BY_NAME.get(name)
    return {"result_format": "COMPLETE", "return_unexpected_index_query": False,
            "unexpected_index_column_names": [*([feed.record_key] if feed else []), ROW_ID]}


def _checkpoint(name: str):
    return _checkpoint_in(name, data_docs_dir())


@cache
def _checkpoint_in(name: str, docs: str):
    """The suite of expectations/<name>.json and the checkpoint that runs it, built once and reused
    (no actions: the results store keeps what the Data Docs need)."""
    gx = _gx()

    context = _context_for(docs)
    batch_definition = (context.data_sources.add_pandas(f"pipeline_{name}")
                        .add_dataframe_asset(name).add_batch_definition_whole_dataframe("batch"))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=_suite_in(name, docs)))
    return context.checkpoints.add(gx.Checkpoint(
        name=name, validation_definitions=[definition], actions=[], result_format=result_format(name)))


def _prune_results(results: Path, keep_days: int) -> int:
    """Delete stored results older than `keep_days` (their pages go with the next index build).
    Keys are suite/run_name/run_time/batch: the run time is the third part from the end."""
    cutoff = (datetime.now(UTC) - timedelta(days=keep_days)).strftime("%Y%m%dT%H%M%S")
    removed = 0
    for path in results.rglob("*.json"):
        if path.parent.name[:15] < cutoff:
            path.unlink()
            removed += 1
    for directory in sorted((d for d in results.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
        if not any(directory.iterdir()):
            directory.rmdir()
    return removed


def build_data_docs() -> str | None:
    """Render the pages of every stored validation result that has none yet (whichever process
    validated it), of the suites that changed, and the index, all pointed at the vendored styles and
    scripts; prune results older than DATA_DOCS_KEEP_DAYS. Call once at the end of a run. Returns the
    index page, or None when Data Docs are off or nothing changed (then Great Expectations is not even
    imported)."""
    docs = data_docs_dir()
    if not docs:
        return None
    site, results = Path(docs), _results_dir(docs)
    pruned = _prune_results(results, data_docs_keep_days()) if results.exists() else 0
    new_results = [path.relative_to(results).with_suffix("") for path in results.rglob("*.json")
                   if not (site / "validations" / path.relative_to(results).with_suffix(".html")).exists()]
    suites = [path.stem for path in sorted(EXPECTATIONS_DIR.glob("*.json"))]
    changed_suites = [name for name in suites if not (site / "expectations" / f"{name}.html").exists()
                      or (site / "expectations" / f"{name}.html").stat().st_mtime
                      < (EXPECTATIONS_DIR / f"{name}.json").stat().st_mtime]
    # A site without the vendored files was rendered before them: all its pages are rewritten.
    vendored = (site / data_docs.SITE_VENDOR).exists()
    if not new_results and not pruned and not changed_suites and vendored:
        return None
    for name in suites:
        _suite(name)  # the index drops the pages of suites the context does not know
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    keys = [ValidationResultIdentifier.from_tuple(key.parts) for key in new_results]
    keys += [ExpectationSuiteIdentifier(name=name) for name in changed_suites]
    # No identifiers would mean "every page": after a prune (or the vendoring) alone, re-render one suite's page.
    keys = keys or [ExpectationSuiteIdentifier(name=suites[0])]
    since = time.time() - 1 if vendored else 0.0
    urls = _context().build_data_docs(site_names=[DOCS_SITE], resource_identifiers=keys)
    data_docs.localize(site, (page for page in site.rglob("*.html") if page.stat().st_mtime >= since))
    log.info("Data Docs: %d new validation pages, %d old results pruned: %s", len(new_results), pruned,
             urls[DOCS_SITE])
    return urls[DOCS_SITE]


def _label(config) -> str:
    kwargs = config.kwargs
    columns = kwargs.get("column") or kwargs.get("column_list") or [kwargs.get("column_A"), kwargs.get("column_B")]
    columns = ",".join(c for c in ([columns] if isinstance(columns, str) else columns) if c)
    return f"{config.type}({columns})"


def validate(frame: pd.DataFrame, suite_name: str, parameters: dict | None = None,
             run_name: str | None = None) -> Outcome:
    """Validate `frame` (which must carry a unique `_row` column, and the record key of the suite's
    feed) against the named suite; `run_name` (e.g. "2022-01-05_onestop_dossier_batch-123") names the
    run in the Data Docs."""
    if frame.empty:
        return Outcome(suite_name, frame, frame.assign(failed_expectations=pd.Series(dtype="string")))
    checkpoint = _checkpoint(suite_name)
    from great_expectations.core.run_identifier import RunIdentifier

    with _one_run():
        run = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters or {},
                             run_id=RunIdentifier(run_name=(run_name or suite_name).replace("/", "-")))
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
