"""Failure alerts: the message names the DAG, the task, the data window and the cause; it is
logged always and posted to the webhook when one is configured; a real failed task sends one."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pendulum
import pytest

from etl import notify
from tests.fixtures.environment import ROOT


@pytest.fixture
def webhook():
    """A loopback webhook that records what it is sent."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/dvc", received
    server.shutdown()
    server.server_close()


def context(**overrides):
    ti = SimpleNamespace(dag_id="dvc_daily", task_id="onestop.load_dossiers", run_id="scheduled__2022-01-02",
                         map_index=-1, try_number=4, log_url="http://airflow/dags/dvc_daily/runs/x/tasks/y")
    base = {
        "ti": ti,
        # Airflow's data interval is UTC: [2022-01-02 00:00, 2022-01-03 00:00) local = 2022-01-02
        "data_interval_start": datetime(2022, 1, 1, 17, 0, tzinfo=UTC),
        "data_interval_end": datetime(2022, 1, 2, 17, 0, tzinfo=UTC),
        "logical_date": datetime(2022, 1, 1, 17, 0, tzinfo=UTC),
        "params": {"start": None, "end": None},
        "exception": ConnectionError("onestop: HTTP 503 after 6 attempts on /onestop/api/v1/hoso"),
    }
    return {**base, **overrides}


def test_the_message_names_dag_task_window_and_cause():
    message = notify.describe_failure(context())
    first = message.splitlines()[0]
    assert "dvc_daily" in first and "onestop.load_dossiers" in first
    assert "2022-01-02" in first and "2022-01-01" not in first, "the window is the local day"
    assert "ConnectionError: onestop: HTTP 503 after 6 attempts" in first
    assert "window: 2022-01-02 [2022-01-02 00:00, 2022-01-03 00:00) local" in message
    assert "run: scheduled__2022-01-02 (try 4)" in message
    assert "log: http://airflow/dags/dvc_daily/runs/x/tasks/y" in message
    assert "airflow tasks clear dvc_daily -t '^onestop\\.load_dossiers$'" in message


def test_window_of_params_and_of_asset_events():
    assert notify.window_of(context(params={"start": "2022-01-01", "end": "2022-01-31"})) == \
        "2022-01-01..2022-01-31 (params)"
    events = {"dvc_loads_onestop": [SimpleNamespace(extra={"days": ["2022-01-05"]})],
              "dvc_loads_ndxp": [SimpleNamespace(extra={"days": ["2022-01-04", "2022-01-05"]})]}
    ctx = context(data_interval_start=None, data_interval_end=None, triggering_asset_events=events)
    assert notify.window_of(ctx) == "2022-01-04..2022-01-05 (from the triggering asset events)"
    assert notify.window_of({}).startswith("unknown")


def test_mapped_task_and_long_errors():
    ti = SimpleNamespace(dag_id="dvc_indicators", task_id="publish_day.check_quality_gates", run_id="r",
                         map_index=2, try_number=1, log_url=None)
    message = notify.describe_failure(context(ti=ti, exception=RuntimeError("x" * 5000)))
    assert "dvc_indicators.publish_day.check_quality_gates[2]" in message
    assert len(message) < 5000


def test_send_logs_always_and_posts_when_configured(webhook, caplog):
    url, received = webhook
    with caplog.at_level(logging.ERROR, logger="etl.notify"):
        assert notify.send("only logged") is False
        assert notify.send("logged and posted", url=url) is True
    assert [r.getMessage() for r in caplog.records] == ["only logged", "logged and posted"]
    assert received == [{"text": "logged and posted"}]


def test_a_dead_webhook_never_raises(caplog):
    with caplog.at_level(logging.WARNING, logger="etl.notify"):
        assert notify.send("alert", url="http://127.0.0.1:9/nothing-listens", timeout=2) is False
    assert any("not reachable" in r.getMessage() for r in caplog.records)


def test_webhook_from_environment_then_connection():
    conn = SimpleNamespace(conn_type="https", host="hooks.example.vn", port=None, schema="services/T0/B0",
                           extra_dejson={})
    assert notify.webhook_url({"DVC_ALERT_WEBHOOK_URL": "http://a/b"}, lambda _id: conn) == "http://a/b"
    assert notify.webhook_url({}, lambda _id: conn) == "https://hooks.example.vn/services/T0/B0"
    full = SimpleNamespace(conn_type="http", host="https://chat.example.vn/hook/1", port=None, schema=None,
                           extra_dejson={})
    assert notify.webhook_url({}, lambda _id: full) == "https://chat.example.vn/hook/1"
    extra = SimpleNamespace(conn_type="generic", host=None, port=None, schema=None,
                            extra_dejson={"webhook_url": "https://x/y"})
    assert notify.webhook_url({}, lambda _id: extra) == "https://x/y"
    assert notify.webhook_url({}, lambda _id: None) is None


def test_on_task_failure_posts_one_message(webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv("DVC_ALERT_WEBHOOK_URL", url)
    message = notify.on_task_failure(context())
    assert received == [{"text": message}]


# -- a real task failure, through Airflow ------------------------------------------------
@pytest.fixture(scope="module")
def airflow_db():
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], cwd=ROOT, check=True,
                   capture_output=True, env=os.environ.copy())


@pytest.mark.slow
def test_a_failed_task_sends_one_actionable_message(airflow_db, webhook, monkeypatch, tmp_path):
    """dvc_daily with an unreachable warehouse: `migrate` fails, its downstream never runs, and
    exactly one message arrives, naming the DAG, the task, the local day and the cause."""
    from airflow.dag_processing.dagbag import DagBag

    url, received = webhook
    monkeypatch.setenv("DVC_ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/nowhere?connect_timeout=3")
    dag = DagBag(str(ROOT / "dags")).dags["dvc_daily"]
    for task in dag.tasks:
        task.retries = 0
    run = dag.test(logical_date=pendulum.datetime(2022, 1, 4, tz="Asia/Ho_Chi_Minh"))
    assert run.state == "failed"
    assert len(received) == 1, [m["text"].splitlines()[0] for m in received]
    first = received[0]["text"].splitlines()[0]
    assert first.startswith("[DVC] FAILED dvc_daily.migrate for 2022-01-04: "), "the day the run loads"
    assert "OperationalError" in first and "127.0.0.1" in first
