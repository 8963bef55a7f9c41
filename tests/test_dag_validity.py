"""DAG validity (after Mozilla telemetry-airflow): imports, cycles, schedule, tags, owners, retries,
pools, assets, and parse time per file."""
import json
import subprocess
import sys
import time

import pytest

from tests.fixtures.environment import ROOT

DAG_FILES = sorted(p.name for p in (ROOT / "dags").glob("dvc_*.py") if p.name != "dvc_common.py")
LOCAL_TZ = "Asia/Ho_Chi_Minh"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.fixture(scope="module")
def registry():
    """The feed registry as {system: [task id, ...]}."""
    from etl import feeds

    return {system: [f"load_{f.name}" for f in system_feeds]
            for system, system_feeds in feeds.daily_by_system().items()}


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"dvc_reference", "dvc_daily", "dvc_indicators"} <= set(dagbag.dags)
    assert len(DAG_FILES) == 3 and set(dagbag.dag_ids) >= {f.removesuffix(".py") for f in DAG_FILES}


def test_no_cycles(dagbag):
    for dag in dagbag.dags.values():
        dag.check_cycle()  # raises AirflowDagCycleException
        assert len(dag.topological_sort()) == len(dag.tasks)


def test_every_dag_has_tags_owner_retries_and_a_failure_callback(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.max_active_runs == 1, f"{dag_id}: runs of one DAG must not overlap"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"
            assert task.retry_exponential_backoff, f"{dag_id}.{task.task_id} retries without backoff"
            assert task.on_failure_callback, f"{dag_id}.{task.task_id} fails silently"


def test_daily_dags_own_one_local_day(dagbag):
    from airflow.sdk import CronDataIntervalTimetable

    for dag_id in ("dvc_reference", "dvc_daily"):
        dag = dagbag.dags[dag_id]
        assert isinstance(dag.timetable, CronDataIntervalTimetable)
        assert str(dag.timetable.timezone) == LOCAL_TZ
        assert dag.timetable.expression == "0 0 * * *"
        assert dag.catchup is False  # backfills are explicit (README)


def test_one_task_group_per_source_system_from_the_registry(dagbag, registry):
    dag = dagbag.dags["dvc_daily"]
    ids = [t.task_id for t in dag.topological_sort()]
    assert ids[:2] == ["migrate", "load_reference"]
    expected = {f"{system}.{step}" for system, steps in registry.items() for step in steps}
    assert set(ids[2:]) == expected, "dvc_daily's groups must follow etl.feeds"
    first_system = next(iter(registry))
    anchor = f"{first_system}.{registry[first_system][0]}"
    for system, steps in registry.items():
        for position, step in enumerate(steps):
            task = dag.get_task(f"{system}.{step}")
            assert task.pool == f"source_{system}"
            upstream = set(task.upstream_task_ids)
            if position:
                assert upstream == {f"{system}.{steps[position - 1]}"}, "a system's steps run in order"
            elif f"{system}.{step}" == anchor:
                assert upstream == {"load_reference"}
            else:  # the other systems' records refer to the dossiers: parallel groups after them
                assert upstream == {anchor}
            outlets = {a.name for a in task.outlets}
            assert outlets == ({f"dvc_loads_{system}"} if position == len(steps) - 1 else set())


def test_airflow_pools_are_the_registrys():
    from etl import feeds

    pools = json.loads((ROOT / "airflow" / "pools.json").read_text())
    assert set(pools) == {f.pool for f in feeds.FEEDS}, "airflow/pools.json must hold one pool per source system"
    assert all(pool["slots"] == 1 for pool in pools.values()), "one extraction at a time per source"


def test_indicators_wait_for_every_load_and_publish_after_the_gate(dagbag, registry):
    from airflow.sdk import Asset

    dag = dagbag.dags["dvc_indicators"]
    condition = dag.timetable.asset_condition
    names = {a.name for a in condition.objects} if hasattr(condition, "objects") else set()
    assert type(condition).__name__ == "AssetAll"
    assert names == {f"dvc_loads_{system}" for system in registry}
    assert all(isinstance(a, Asset) for a in condition.objects)
    gate, publish = dag.get_task("publish_day.check_quality_gates"), dag.get_task("publish_day.publish_indicators")
    assert gate.task_id in publish.upstream_task_ids
    assert {"start", "end"} <= set(dag.params.keys())
    assert {"start", "end"} <= set(dagbag.dags["dvc_daily"].params.keys())


@pytest.mark.parametrize("dag_file", DAG_FILES)
def test_dag_files_parse_fast_and_import_nothing_heavy(dag_file):
    # airflow.sdk is imported first: what is measured is the DAG file's own cost at each parse.
    code = ("import sys, time, runpy; import airflow.sdk; t = time.monotonic(); "
            f"runpy.run_path('dags/{dag_file}'); "
            "heavy = [m for m in ('great_expectations', 'pandas', 'duckdb', 'etl.pipeline') if m in sys.modules]; "
            "print(round(time.monotonic() - t, 3), heavy)")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, heavy = out.stdout.strip().splitlines()[-1].split(" ", 1)
    assert heavy == "[]", f"{dag_file} imports {heavy} at parse time"
    # The dag-processor parses every file every 30 s or so, with a 30 s timeout per file.
    assert float(seconds) < 2, f"{dag_file} took {seconds}s to parse"
    assert time.monotonic() - started < 60
