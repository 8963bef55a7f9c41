"""Indicators: scheduled on the load assets, published only when the quality gates pass.

Runs when every source system's asset (`dvc_loads_<system>`, one per group of `dvc_daily`,
from the registry etl.feeds) has been updated since its last run. The days it
publishes are those named by the triggering asset events, or, in a run started by hand, the
window of params `start`/`end` (re-publish a range: trigger with {"start": "2022-01-01",
"end": "2022-01-31"}). For each day, in a mapped task group: `check_quality_gates` (every daily
batch of the day succeeded, quarantine share tolerable), `publish_indicators`, then `write_reports`
(the day's workbook and dashboard under REPORTS_DIR, the quarter's too on its last day; on DuckDB
the BI tools' read-only copy of mart). A day whose gate fails is not published, fails without
retries, and alerts; the other days still publish.
"""
from __future__ import annotations

from airflow.sdk import dag, task, task_group

from dags.dvc_common import DEFAULT_ARGS, START_DATE, WINDOW_PARAMS, source_asset
from etl import feeds


@task
def days_to_publish(**context) -> list[str]:
    from dags.dvc_common import run_days

    days = [str(d) for d in run_days(context)]
    print(f"days to publish: {days or 'none (a run by hand needs params start/end)'}")
    return days


@task
def check_quality_gates(day: str):
    from datetime import date

    from airflow.sdk.exceptions import AirflowFailException

    from dags.dvc_common import resources
    from etl import pipeline

    with resources() as res:
        try:
            pipeline.check_quality_gates(res, date.fromisoformat(day))
        except pipeline.QualityGateFailed as exc:  # the data, not the weather: no retry
            raise AirflowFailException(f"quality gate failed for {day}: {exc}") from exc


@task
def publish_indicators(day: str):
    from datetime import date

    from dags.dvc_common import resources
    from etl import pipeline

    with resources() as res:
        return pipeline.publish_indicators(res, date.fromisoformat(day))


@task
def write_reports(day: str) -> list[str]:
    from datetime import date

    from dags.dvc_common import resources
    from etl.reports import write_reports_for

    with resources() as res:
        return [str(path) for path in write_reports_for(res, date.fromisoformat(day))]


@task_group
def publish_day(day: str):
    check_quality_gates(day) >> publish_indicators(day) >> write_reports(day)


@dag(
    dag_id="dvc_indicators",
    description="Quality gates -> mart.indicator_snapshot, when every source's load has landed",
    schedule=[source_asset(system) for system in feeds.SYSTEMS],  # all of them
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params=WINDOW_PARAMS,
    tags=["dvc", "indicators", "publish"],
    doc_md=__doc__,
)
def dvc_indicators():
    publish_day.expand(day=days_to_publish())


dvc_indicators()
