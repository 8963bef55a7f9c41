"""What the DVC DAGs share: schedule, defaults, assets, run windows.

Not a DAG file (listed in .airflowignore). It is imported at parse time by every DAG file, so it
imports nothing heavy: no pandas, no Great Expectations, not etl.pipeline (the tasks import it).
The source systems and their feeds come from etl.feeds, which imports nothing heavy either.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, Param, task

from etl.config import Settings, settings

log = logging.getLogger(__name__)

LOCAL_TZ = "Asia/Ho_Chi_Minh"
OWNER = "data-engineering"
# The schedule's window, per deployment (read at parse time, so set them for the dag-processor):
#   DVC_SCHEDULE_START  first local day the nightly DAGs may run for (default 2022-01-01)
#   DVC_SCHEDULE_END    last local day, inclusive (default: none, run every night)
#   DVC_CATCHUP         "true": dvc_daily runs every missed day since the start, oldest first
#                       (default false: only the latest day; other days are explicit backfills)
# docker-compose.yml's demo sets them to the simulator's first month; production leaves them unset.
_WINDOW = settings()
START_DATE = pendulum.parse(_WINDOW.dvc_schedule_start.isoformat(), tz=LOCAL_TZ)
END_DATE = pendulum.parse(_WINDOW.dvc_schedule_end.isoformat(), tz=LOCAL_TZ) if _WINDOW.dvc_schedule_end else None
CATCHUP = _WINDOW.dvc_catchup


def nightly_timetable() -> CronDataIntervalTimetable:
    """One data interval = one local day [00:00, 24:00) Asia/Ho_Chi_Minh; the run starts at its end."""
    return CronDataIntervalTimetable("0 0 * * *", timezone=LOCAL_TZ)


def _on_task_failure(context: Any) -> None:
    # Imported when a task fails, not at parse time.
    from etl.notify import on_task_failure

    try:
        days = run_days(context)
    except ValueError:  # bad params: still alert, with the window notify finds on its own
        days = None
    on_task_failure(context, days=days)


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": 2.0,  # 2, 4, 8 minutes (with jitter), never more than max_retry_delay
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=2),
    "on_failure_callback": _on_task_failure,  # one message per task that finally failed
}

# Params of a run started by hand: re-run the chosen window of local days instead of the run's own.
WINDOW_PARAMS = {
    "start": Param(None, type=["null", "string"], format="date",
                   description="First local day (YYYY-MM-DD) to re-run by hand; empty = the run's own window"),
    "end": Param(None, type=["null", "string"], format="date",
                 description="Last local day (YYYY-MM-DD, inclusive); empty = same as start"),
}

# -- assets -------------------------------------------------------------------------------
REFERENCE = Asset(name="dvc_reference", uri="dvc://warehouse/reference", group="dvc")


def source_asset(system: str) -> Asset:
    """Updated when every load step of one source system has landed a day in the warehouse.
    Its events carry {"days": ["YYYY-MM-DD", ...]}: the local days that landed."""
    return Asset(name=f"dvc_loads_{system}", uri=f"dvc://warehouse/loads/{system}", group="dvc")


# -- run windows ---------------------------------------------------------------------------
def local_day(value: datetime) -> date:
    """The local date of an aware datetime (Airflow's data interval bounds are UTC)."""
    if value.tzinfo is None:
        return value.date()
    return value.astimezone(ZoneInfo(LOCAL_TZ)).date()


def days_between(first: date, last: date) -> list[date]:
    """Every day from first to last, both included."""
    if last < first:
        raise ValueError(f"window ends ({last}) before it starts ({first})")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def param_days(params: Any) -> list[date] | None:
    """The window chosen by hand (params start/end), else None."""
    params = params or {}
    start, end = params.get("start"), params.get("end")
    if not start and not end:
        return None
    first = _as_date(start or end)
    return days_between(first, _as_date(end or start))


def nightly_day(logical_date: datetime | None, run_after: datetime) -> date:
    """The local day a run of a nightly DAG loads: the day its logical date names (a scheduled or
    backfill run's is the day that just ended), but never a day that had not ended when the run
    was due (the UI fills in "now" as the logical date); without a logical date, the day that ended
    last. Not Airflow's data interval, which for a manual run ends at the logical date."""
    last_ended = local_day(run_after) - timedelta(days=1)
    return last_ended if logical_date is None else min(local_day(logical_date), last_ended)


def event_days(triggering_asset_events: Any) -> list[date]:
    """The local days named by the asset events that triggered a run (extra "days")."""
    found: set[date] = set()
    for events in (triggering_asset_events or {}).values():
        for event in events:
            for value in (event.extra or {}).get("days") or []:
                found.add(_as_date(value))
    return sorted(found)


def run_days(context: Any) -> list[date]:
    """The local days a run owns: params start/end when given; else, for a DAG on the nightly
    timetable, nightly_day of its logical date; else the days named by the asset events that
    triggered it (none for a run by hand of an asset-scheduled DAG without params)."""
    chosen = param_days(context.get("params"))
    if chosen is not None:
        return chosen
    run = context.get("dag_run")
    if run is not None and isinstance(getattr(context.get("dag"), "timetable", None), CronDataIntervalTimetable):
        return [nightly_day(context.get("logical_date"), run.run_after)]
    return event_days(context.get("triggering_asset_events"))


@contextlib.contextmanager
def resources() -> Iterator[Any]:
    """etl.pipeline.Resources for a task: the environment's settings with the Airflow connections over
    them (etl.config.Settings.from_airflow), then the same Resources as the CLI's."""
    from etl.pipeline import Resources

    with Resources.from_settings(Settings.from_airflow()) as res:
        yield res


@task
def migrate():
    """Create or upgrade the warehouse schema (idempotent): the first task of every DAG that writes."""
    from etl import pipeline

    with resources() as res:
        return pipeline.migrate(res)
