"""Reference data, daily: agencies, procedures, service configuration, integrated services, targets.

`migrate -> load_reference`; updates the asset `dvc_reference`. The sources return their reference
data as it is *now*, so a run for an old interval loads today's reference data: there is nothing
to backfill here. `dvc_daily` loads it too when the warehouse has none from the last
REFERENCE_MAX_AGE_HOURS (default 12): the day's loads validate agency and procedure codes against it.
"""
from __future__ import annotations

from airflow.sdk import dag, task

from dags.dvc_common import DEFAULT_ARGS, END_DATE, REFERENCE, START_DATE, migrate, nightly_timetable


@dag(
    dag_id="dvc_reference",
    description="Reference data of the source systems -> core.agency, core.procedure, ... (daily)",
    schedule=nightly_timetable(),
    start_date=START_DATE,
    end_date=END_DATE,
    catchup=False,  # the sources give reference data as it is now: nothing to catch up
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["dvc", "reference", "onestop", "ndxp"],
    doc_md=__doc__,
)
def dvc_reference():
    @task(outlets=[REFERENCE])
    def load_reference(**context):
        from dags.dvc_common import resources, run_days
        from etl import pipeline

        with resources() as res:
            return pipeline.load_reference(res, run_days(context)[-1])

    migrate() >> load_reference()


dvc_reference()
