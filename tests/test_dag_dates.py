"""Which local day each way of starting a run loads (README, "Which day a run loads").

The real DAGs, serialized and deserialized as the scheduler and the api-server hold them, and their
real timetable produce each trigger form's logical date, data interval and run_after the way
Airflow's own code path does (named at each test); `dags.dvc_common.run_days` then says which
local days the tasks load, and the failure alert names the same days.

The rule: a run loads the local day its logical date names, never a day that had not ended when
the run was due; without a logical date, the day that ended last; params start/end override all.
A scheduled run therefore loads the day that just ended, as Airflow's data interval says; a run by
hand for a day loads that day, where Airflow's data interval would end at it."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pendulum
import pytest

from dags.dvc_common import run_days
from etl import notify
from tests.fixtures.environment import ROOT

TZ = "Asia/Ho_Chi_Minh"
NOW = pendulum.datetime(2026, 3, 10, 10, 23, tz=TZ)  # "now" of the runs by hand below


@pytest.fixture(scope="module")
def dags():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags


@pytest.fixture(scope="module")
def serialized(dags):
    """The DAG as the scheduler and the api-server hold it: its timetable is Airflow core's."""
    from airflow.serialization.serialized_objects import DagSerialization

    return {dag_id: DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
            for dag_id, dag in dags.items()}


def local(year, month, day, hour=0):
    return pendulum.datetime(year, month, day, hour, tz=TZ)


def context(dag, *, run_type, run_after, logical_date=None, data_interval=None, params=None, events=None):
    """A task's context, with the keys Airflow 3's task runner sets (logical_date and the data
    interval only when the run has a logical date)."""
    ctx = {"dag": dag, "params": {"start": None, "end": None, **(params or {})},
           "dag_run": SimpleNamespace(run_type=run_type, run_after=run_after, logical_date=logical_date),
           "triggering_asset_events": events or {}}
    if logical_date is not None:
        ctx.update(logical_date=logical_date, data_interval_start=data_interval.start,
                   data_interval_end=data_interval.end)
    return ctx


def loads(ctx) -> list[date]:
    days = run_days(ctx)
    if days:  # the failure alert names the same days
        assert notify.window_of(ctx, days).startswith(str(days[0]))
    return days


def test_a_scheduled_run_loads_the_day_that_just_ended(dags, serialized):
    """The scheduler: SerializedDAG.next_dagrun_info after the previous automated run."""
    from airflow.timetables.base import DagRunInfo

    for dag_id in ("dvc_daily", "dvc_reference"):
        previous = DagRunInfo.interval(local(2022, 1, 8), local(2022, 1, 9))
        info = serialized[dag_id].next_dagrun_info(last_automated_run_info=previous, restricted=False)
        assert info.run_after == local(2022, 1, 10)  # starts at local midnight ending Jan 9
        assert info.logical_date == local(2022, 1, 9) == info.data_interval.start
        ctx = context(dags[dag_id], run_type="scheduled", run_after=info.run_after,
                      logical_date=info.logical_date, data_interval=info.data_interval)
        assert loads(ctx) == [date(2022, 1, 9)]


def test_a_backfill_loads_each_day_from_its_bounds_with_offset(dags, serialized):
    """`airflow backfill create --from-date --to-date`: the runs of iter_dagrun_infos_between
    (airflow.models.backfill), logical dates inclusive."""
    infos = list(serialized["dvc_daily"].iter_dagrun_infos_between(local(2022, 1, 1), local(2022, 1, 31)))
    days = [loads(context(dags["dvc_daily"], run_type="backfill", run_after=i.run_after,
                          logical_date=i.logical_date, data_interval=i.data_interval))[0] for i in infos]
    assert days == [date(2022, 1, 1) + timedelta(days=n) for n in range(31)]
    # Bare dates are UTC midnight (07:00 local): the first local midnight after it is Jan 2.
    bare = list(serialized["dvc_daily"].iter_dagrun_infos_between(
        pendulum.datetime(2022, 1, 1, tz="UTC"), pendulum.datetime(2022, 1, 31, tz="UTC")))
    assert bare[0].logical_date == local(2022, 1, 2) and len(bare) == 30


def test_dags_test_for_a_date_loads_that_date(dags, serialized):
    """`airflow dags test dvc_daily 2022-01-09T00:00:00+07:00` (DAG.test): the data interval is
    inferred from the logical date, run_after is now."""
    timetable = serialized["dvc_daily"].timetable
    for logical in (local(2022, 1, 9), local(2022, 1, 9, 7), pendulum.datetime(2022, 1, 9, tz="UTC")):
        interval = timetable.infer_manual_data_interval(run_after=logical)
        assert interval.end <= logical < interval.end + timedelta(days=1), "Airflow's interval ends at it"
        ctx = context(dags["dvc_daily"], run_type="manual", run_after=NOW, logical_date=logical,
                      data_interval=interval)
        assert loads(ctx) == [date(2022, 1, 9)], logical


def test_the_ui_and_rest_trigger(dags, serialized):
    """POST /api/v2/dags/{id}/dagRuns, what the UI's Trigger form sends (TriggerDAGRunPostBody):
    the form fills in "now" as the logical date; it may be cleared, or set to a day."""
    from airflow.api_fastapi.core_api.datamodels.dag_run import TriggerDAGRunPostBody

    def trigger(logical_date, params=None):
        body = TriggerDAGRunPostBody(logical_date=logical_date, run_after=NOW + timedelta(seconds=5),
                                     conf=params or {})
        run = body.validate_context(serialized["dvc_daily"])
        return loads(context(dags["dvc_daily"], run_type="manual", run_after=run["run_after"],
                             logical_date=run["logical_date"], data_interval=run["data_interval"],
                             params=params))

    assert trigger(NOW) == [date(2026, 3, 9)], "the form's default: the day that just ended, not today"
    assert trigger(None) == [date(2026, 3, 9)], "logical date cleared: the day that just ended"
    assert trigger(local(2022, 1, 9)) == [date(2022, 1, 9)], "a day chosen: that day"
    assert trigger(local(2026, 3, 10)) == [date(2026, 3, 9)], "today has not ended: the day before"
    assert trigger(NOW, {"start": "2022-03-01", "end": "2022-03-03"}) == \
        [date(2022, 3, 1), date(2022, 3, 2), date(2022, 3, 3)], "params win"


def test_the_cli_trigger(dags, serialized):
    """`airflow dags trigger` (airflow.api.common.trigger_dag): with -l, Airflow 3.3 infers the data
    interval from the trigger time, not from -l; the day loaded follows -l all the same."""
    timetable = serialized["dvc_daily"].timetable
    interval = timetable.infer_manual_data_interval(run_after=NOW)
    assert interval.start == local(2026, 3, 9)
    with_date = context(dags["dvc_daily"], run_type="manual", run_after=NOW, logical_date=local(2022, 1, 9),
                        data_interval=interval)
    assert loads(with_date) == [date(2022, 1, 9)]
    without = context(dags["dvc_daily"], run_type="manual", run_after=NOW)
    assert loads(without) == [date(2026, 3, 9)]


def test_the_indicators_follow_the_asset_events_or_params(dags, serialized):
    """dvc_indicators is on the assets: its days are those the loads named, or params; a run by
    hand without params publishes nothing (its first task says so)."""
    events = {"dvc_loads_onestop": [SimpleNamespace(extra={"days": ["2022-01-09"]})],
              "dvc_loads_ndxp": [SimpleNamespace(extra={"days": ["2022-01-09"]})]}
    dag = dags["dvc_indicators"]
    assert loads(context(dag, run_type="asset_triggered", run_after=NOW, events=events)) == [date(2022, 1, 9)]
    interval = serialized["dvc_indicators"].timetable.infer_manual_data_interval(run_after=NOW)
    assert loads(context(dag, run_type="manual", run_after=NOW, logical_date=NOW, data_interval=interval)) == []
    assert loads(context(dag, run_type="manual", run_after=NOW, params={"start": "2022-01-09"})) == \
        [date(2022, 1, 9)]


def test_scheduled_and_manual_runs_for_one_day_load_the_same_day(dags, serialized):
    """Over a year of days: the nightly run of day D and a run by hand for D agree."""
    timetable = serialized["dvc_daily"].timetable
    from airflow.timetables.base import DagRunInfo

    day = local(2022, 1, 1)
    for _ in range(365):
        info = serialized["dvc_daily"].next_dagrun_info(
            last_automated_run_info=DagRunInfo.interval(day.subtract(days=1), day), restricted=False)
        nightly = loads(context(dags["dvc_daily"], run_type="scheduled", run_after=info.run_after,
                                logical_date=info.logical_date, data_interval=info.data_interval))
        by_hand = loads(context(dags["dvc_daily"], run_type="manual", run_after=NOW, logical_date=day,
                                data_interval=timetable.infer_manual_data_interval(run_after=day)))
        assert nightly == by_hand == [date(day.year, day.month, day.day)]
        day = day.add(days=1)
