"""Nightly extraction and load: one run owns one local day (Asia/Ho_Chi_Minh) of source data.

`migrate -> load_reference -> one task group per source system`, the groups built from the feed
registry `etl.feeds` (a feed or system added there gets its task `load_<feed>`, its pool
`source_<system>` and its asset `dvc_loads_<system>` without an edit here). Inside a group the
feeds load in the registry's order; the groups run in parallel once the first feed (the dossiers,
which the other systems' records refer to) has landed. The last task of a group updates the
group's asset with the days it landed; `dvc_indicators` runs when every group's asset has been
updated.

Wiring only: every task calls etl.pipeline with the run's local day (see dags.dvc_common.run_days
for which day each trigger form loads; params `start`/`end` re-run a window of days).
"""
from __future__ import annotations

from itertools import pairwise

from airflow.sdk import TaskGroup, dag, task

from dags.dvc_common import (
    CATCHUP,
    DEFAULT_ARGS,
    END_DATE,
    REFERENCE,
    START_DATE,
    WINDOW_PARAMS,
    migrate,
    nightly_timetable,
    source_asset,
)
from etl import feeds


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
def load_feed(system: str, feed: str, emits: bool, **context):
    """One feed's load for each day of the run, in order."""
    from dags.dvc_common import resources, run_days
    from etl import pipeline, validate

    days = run_days(context)
    results = []
    with resources() as res:
        for day in days:
            batch = pipeline.load_daily(res, feed, day)
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
    dossiers = None  # the first feed: the other systems' groups start once it has landed
    for system, system_feeds in feeds.daily_by_system().items():
        with TaskGroup(group_id=system, tooltip=f"{system}: {', '.join(f.name for f in system_feeds)}") as group:
            tasks = [load_feed.override(task_id=f"load_{feed.name}", pool=feed.pool,
                                        outlets=[source_asset(system)] if feed is system_feeds[-1] else [])(
                         system=system, feed=feed.name, emits=feed is system_feeds[-1])
                     for feed in system_feeds]
            for before, after in pairwise(tasks):
                before >> after
        if dossiers is None:
            reference >> group
            dossiers = tasks[0]
        else:
            dossiers >> group


dvc_daily()
