"""Nightly extraction and load: one run owns one local day (Asia/Ho_Chi_Minh) of source data.

`migrate -> load_reference -> one task group per source system`, the groups built from the
registry `etl.pipeline.SOURCE_STEPS` (a system added there gets its group, its pool
`source_<system>` and its asset `dvc_loads_<system>` without an edit here). Inside a group the
steps run in the registry's order; the groups run in parallel once the registry's first step
(the dossiers, which the other systems' records refer to) has landed. The last step of a group
updates the group's asset with the day it landed; `dvc_indicators` runs when every group's asset
has been updated.

Wiring only: every task calls a step of etl.pipeline with the run's local day. A run started by
hand with params `start`/`end` re-runs that window of days instead of its data interval.
"""
from __future__ import annotations

from airflow.sdk import TaskGroup, dag, task

from dags.dvc_common import (
    DEFAULT_ARGS,
    REFERENCE,
    CATCHUP,
    END_DATE,
    START_DATE,
    WINDOW_PARAMS,
    migrate,
    nightly_timetable,
    pool_name,
    source_asset,
    source_steps,
)


@task(outlets=[REFERENCE])
def load_reference(**context):
    """Loads reference data unless the warehouse got all of it within REFERENCE_MAX_AGE_HOURS
    (dvc_reference, or an earlier run of a backfill): the day's loads validate codes against it."""
    from dags.dvc_common import resources, run_days
    from etl import pipeline

    days = run_days(context)
    with resources() as res:
        counts = pipeline.refresh_reference(res, days[-1])
    context["outlet_events"][REFERENCE].extra = {"days": [str(d) for d in days], "reloaded": counts is not None}
    return counts


@task
def load_step(system: str, step: str, emits: bool, **context):
    """One extraction step of a source system for each day of the run, in order."""
    from dags.dvc_common import resources, run_days
    from etl import pipeline, validate

    days = run_days(context)
    results = []
    with resources() as res:
        for day in days:
            batch = getattr(pipeline, step)(res, day)
            results.append({"day": str(day), "batch_id": batch.batch_id, "extracted": batch.extracted,
                            "quarantined": batch.quarantined, "waiting": batch.pending})
    validate.build_data_docs()
    if emits:  # the group's last step: the system's data for these days has landed
        context["outlet_events"][source_asset(system)].extra = {"days": [str(d) for d in days]}
    return results


@dag(
    dag_id="dvc_daily",
    description="Source systems -> validation -> warehouse, one local day per run, one group per system",
    schedule=nightly_timetable(),
    start_date=START_DATE,
    end_date=END_DATE,
    catchup=CATCHUP,  # default off; backfills: `airflow backfill create` (README); every run is idempotent
    max_active_runs=1,  # days load in order: incremental watermarks and dossier history
    default_args=DEFAULT_ARGS,
    params=WINDOW_PARAMS,
    tags=["dvc", "extract", "load"],
    doc_md=__doc__,
)
def dvc_daily():
    reference = migrate() >> load_reference()
    registry = source_steps()
    anchor = None
    for index, (system, steps) in enumerate(registry.items()):
        with TaskGroup(group_id=system, tooltip=f"{system}: {', '.join(steps)}") as group:
            previous = None
            for position, step in enumerate(steps):
                last = position == len(steps) - 1
                current = load_step.override(
                    task_id=step, pool=pool_name(system),
                    outlets=[source_asset(system)] if last else [],
                )(system=system, step=step, emits=last)
                if previous is not None:
                    previous >> current
                elif index == 0:
                    anchor = current
                previous = current
        if index == 0:
            reference >> group
        else:
            (anchor if anchor is not None else reference) >> group


dvc_daily()
