"""Failure alerts: one actionable message per failed task — which DAG, which task, which data
window, what went wrong, and how to re-run it — written to the log always and, when configured,
posted to a webhook (Slack/Teams/Mattermost-compatible JSON `{"text": ...}`).

Where the webhook comes from, first match wins:
  1. `DVC_ALERT_WEBHOOK_URL` (environment);
  2. the Airflow connection `dvc_alerts` (e.g. `AIRFLOW_CONN_DVC_ALERTS=https://hooks.example/T0/B0/x`,
     or a connection whose extra has {"webhook_url": ...}).
With neither, the log line is the only channel. A webhook that fails is logged, never raised:
an alert must not hide the task's own error.

Airflow-agnostic except for `on_task_failure(context)` (an `on_failure_callback`), which reads
Airflow's task context as a plain mapping, so everything here is unit-testable without Airflow.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from etl.config import SettingsError, settings

log = logging.getLogger("etl.notify")

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WEBHOOK_ENV = "DVC_ALERT_WEBHOOK_URL"
WEBHOOK_CONN_ID = "dvc_alerts"
MAX_ERROR_CHARS = 1500


def _local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None) if value.tzinfo else value


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def format_window(first: date, last: date) -> str:
    """Local days, end inclusive: `2022-01-03` or `2022-01-01..2022-01-31`."""
    return f"{first}" if first == last else f"{first}..{last}"


def window_of(context: Mapping[str, Any], days: list[date] | None = None) -> str:
    """The data window of a run, as local days (Asia/Ho_Chi_Minh): params start/end of a run by
    hand, else `days` (the run's own days, as the DAG computes them), else the data interval
    [start, end), else the days named by the triggering asset events."""
    params = context.get("params") or {}
    start, end = params.get("start"), params.get("end")
    if start or end:
        return format_window(_as_date(start or end), _as_date(end or start)) + " (params)"
    if days:
        return format_window(min(days), max(days))
    begin, finish = context.get("data_interval_start"), context.get("data_interval_end")
    if begin is not None and finish is not None:
        first, stop = _local(begin), _local(finish)
        last = stop - timedelta(microseconds=1) if stop > first else stop
        return f"{format_window(first.date(), last.date())} [{first:%Y-%m-%d %H:%M}, {stop:%Y-%m-%d %H:%M}) local"
    days: set[date] = set()
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            extra = getattr(event, "extra", None) or (event.get("extra") if isinstance(event, Mapping) else None) or {}
            days.update(_as_date(d) for d in extra.get("days") or [])
    if days:
        return format_window(min(days), max(days)) + " (from the triggering asset events)"
    return "unknown (no data interval, params or asset events)"


def _error_text(error: Any) -> str:
    if error is None:
        return "unknown error (see the task log)"
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    cause = getattr(error, "__cause__", None)
    if cause is not None and str(cause) not in text:
        text += f" (caused by {type(cause).__name__}: {cause})"
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + " …"


def failure_message(*, dag_id: str, task_id: str, window: str, error: Any, run_id: str | None = None,
                    map_index: int | None = None, try_number: int | None = None,
                    log_url: str | None = None, rerun: str | None = None) -> str:
    """One line per fact, first line self-contained (it is what a chat preview shows)."""
    task = task_id if map_index in (None, -1) else f"{task_id}[{map_index}]"
    lines = [f"[DVC] FAILED {dag_id}.{task} for {window}: {_error_text(error)}",
             f"dag: {dag_id}", f"task: {task}", f"window: {window}"]
    if run_id:
        lines.append(f"run: {run_id}" + (f" (try {try_number})" if try_number else ""))
    lines.append(f"error: {_error_text(error)}")
    if rerun:
        lines.append(f"re-run: {rerun}")
    if log_url:
        lines.append(f"log: {log_url}")
    return "\n".join(lines)


def _rerun_hint(dag_id: str, task_id: str, run_id: str | None, logical_date: datetime | None) -> str:
    pattern = "^" + task_id.replace(".", "\\.") + "$"
    command = f"airflow tasks clear {dag_id} -t '{pattern}' --downstream --yes"
    if logical_date is not None:
        command += f" -s {logical_date.isoformat()} -e {logical_date.isoformat()}"
    where = f" of run {run_id}" if run_id else ""
    return f"fix the cause, then clear the task{where} (UI: Clear, with downstream) or: {command}"


def describe_failure(context: Mapping[str, Any], days: list[date] | None = None) -> str:
    """The message for an Airflow task-failure context (days: see window_of)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None) or "?"
    task_id = getattr(ti, "task_id", None) or getattr(context.get("task"), "task_id", None) or "?"
    run_id = getattr(ti, "run_id", None) or context.get("run_id")
    log_url = None
    try:
        log_url = getattr(ti, "log_url", None)
    except Exception:  # noqa: BLE001 - a missing base URL must not break the alert
        log_url = None
    return failure_message(dag_id=dag_id, task_id=task_id, window=window_of(context, days),
                           error=context.get("exception") or context.get("reason"), run_id=run_id,
                           map_index=getattr(ti, "map_index", None), try_number=getattr(ti, "try_number", None),
                           log_url=log_url, rerun=_rerun_hint(dag_id, task_id, run_id, context.get("logical_date")))


def _airflow_connection(conn_id: str) -> Any:
    try:
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:
        return None
    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    except Exception as exc:  # noqa: BLE001 - outside a task there is no connection to read
        log.debug("connection %s not readable: %s", conn_id, exc)
        return None


def webhook_url(environ: Mapping[str, str] | None = None,
                get_connection: Callable[[str], Any] | None = _airflow_connection) -> str | None:
    try:
        direct = settings().dvc_alert_webhook_url if environ is None else environ.get(WEBHOOK_ENV)
    except SettingsError as exc:  # a wrong setting must not also silence the alert about it
        log.warning("%s", exc)
        direct = None
    if direct:
        return direct
    conn = get_connection(WEBHOOK_CONN_ID) if get_connection else None
    if conn is None:
        return None
    extra = getattr(conn, "extra_dejson", None) or {}
    if extra.get("webhook_url"):
        return extra["webhook_url"]
    host = getattr(conn, "host", None)
    if not host:
        return None
    if "://" in host:
        return host
    scheme = "http" if getattr(conn, "conn_type", "") == "http" else "https"
    port = f":{conn.port}" if getattr(conn, "port", None) else ""
    path = getattr(conn, "schema", None) or ""
    return f"{scheme}://{host}{port}/{path.lstrip('/')}" if path else f"{scheme}://{host}{port}"


def send(message: str, *, url: str | None = None, timeout: float = 10.0) -> bool:
    """Log the message (always); POST it to the webhook when one is given. True when delivered
    to the webhook, False when only logged."""
    log.error("%s", message)
    if not url:
        return False
    body = json.dumps({"text": message}).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if 200 <= response.status < 300:
                return True
            log.warning("alert webhook answered HTTP %s", response.status)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("alert webhook not reachable: %s", exc)
    return False


def on_task_failure(context: Mapping[str, Any], days: list[date] | None = None) -> str:
    """Airflow `on_failure_callback`: called once, when a task has failed for good (retries spent)."""
    message = describe_failure(context, days)
    send(message, url=webhook_url())
    return message
