"""Airflow connections -> docs/contract.md's variables -> the same Resources.from_env() as the CLI."""
from __future__ import annotations

import os

import pytest
from airflow.sdk import Connection

from etl import airflow_conn, config


def conn(conn_id: str, uri: str | None = None, **fields) -> Connection:
    return Connection(conn_id=conn_id, uri=uri) if uri else Connection(conn_id=conn_id, **fields)


def test_uri_connections_become_the_contract_variables():
    defined = {
        "onestop": conn("onestop", "http://:the%2Fkey@onestop.lao-cai.gov.vn:8443"),
        "ndxp": conn("ndxp", "https://client-1:s%3Acret@ndxp.gov.vn"),
        "vnpost": conn("vnpost", "http://dvc-user:pw@bcci.vnpost.vn:80"),
        "warehouse": conn("warehouse", "postgres://dvc:p%40ss@warehouse-db:5432/warehouse"),
    }
    env: dict[str, str] = {}
    written = airflow_conn.export_connections(env, defined.get)
    assert env == {
        "ONESTOP_URL": "http://onestop.lao-cai.gov.vn:8443", "ONESTOP_API_KEY": "the/key",
        "NDXP_URL": "https://ndxp.gov.vn", "NDXP_CLIENT_ID": "client-1", "NDXP_CLIENT_SECRET": "s:cret",
        "VNPOST_URL": "http://bcci.vnpost.vn:80", "VNPOST_USERNAME": "dvc-user", "VNPOST_PASSWORD": "pw",
        "WAREHOUSE_URL": "postgresql+psycopg://dvc:p%40ss@warehouse-db:5432/warehouse",
    }
    assert "the/key" not in str(written) and "p%40ss" not in str(written), "secrets are masked in the log"


def test_json_connections_host_with_scheme_and_extras():
    onestop = conn("onestop", conn_type="http", host="https://dvc.example.vn/", extra='{"api_key": "k1"}')
    assert airflow_conn.variables_from("onestop", onestop) == {"ONESTOP_URL": "https://dvc.example.vn",
                                                             "ONESTOP_API_KEY": "k1"}
    prefixed = conn("ndxp", conn_type="http", host="gw.example.vn", port=8080, schema="api",
                    extra='{"scheme": "https"}', login="id", password="secret")
    assert airflow_conn.variables_from("ndxp", prefixed)["NDXP_URL"] == "https://gw.example.vn:8080/api"
    explicit = conn("vnpost", conn_type="http", host="ignored", extra='{"url": "http://sim:8765/"}')
    assert airflow_conn.variables_from("vnpost", explicit) == {"VNPOST_URL": "http://sim:8765"}
    raw = conn("warehouse", conn_type="generic", extra='{"sqlalchemy_url": "duckdb:////data/wh.duckdb"}')
    assert airflow_conn.warehouse_url(raw) == "duckdb:////data/wh.duckdb"
    duck = conn("warehouse", conn_type="duckdb", host="/data/wh.duckdb")
    assert airflow_conn.warehouse_url(duck) == "duckdb:////data/wh.duckdb"
    with pytest.raises(ValueError):
        airflow_conn.warehouse_url(conn("warehouse", conn_type="mysql", host="x"))


def test_missing_connections_leave_the_environment_to_the_cli_path():
    """No connection: CONTRACT's variables (then the development defaults) apply, as in the CLI."""
    env = {"ONESTOP_URL": "http://from-env:1", "WAREHOUSE_URL": "duckdb:///x.duckdb"}
    assert airflow_conn.export_connections(env, lambda _id: None) == {}
    assert env == {"ONESTOP_URL": "http://from-env:1", "WAREHOUSE_URL": "duckdb:///x.duckdb"}
    # a connection beats a variable already set
    airflow_conn.export_connections(env, {"onestop": conn("onestop", "http://:k@sim:8765")}.get)
    assert env["ONESTOP_URL"] == "http://sim:8765" and env["ONESTOP_API_KEY"] == "k"


def test_airflow_conn_env_variables_reach_resources():
    """AIRFLOW_CONN_* (Airflow's environment secrets backend) -> os.environ -> SourceSettings."""
    saved = dict(os.environ)
    try:
        for name in [*config.DEV_DEFAULTS, *(f"AIRFLOW_CONN_{c.upper()}" for c in airflow_conn.CONNECTION_IDS)]:
            os.environ.pop(name, None)
        os.environ["AIRFLOW_CONN_ONESTOP"] = "http://:conn-key@127.0.0.1:9999"
        os.environ["AIRFLOW_CONN_NDXP"] = ('{"conn_type": "http", "host": "127.0.0.1", "port": 9998, '
                                           '"login": "cid", "password": "csecret"}')
        airflow_conn.export_connections()
        settings = config.SourceSettings.from_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert (settings.onestop_url, settings.onestop_api_key) == ("http://127.0.0.1:9999", "conn-key")
    assert (settings.ndxp_url, settings.ndxp_client_id, settings.ndxp_client_secret) == \
        ("http://127.0.0.1:9998", "cid", "csecret")
    assert settings.vnpost_url == config.DEV_DEFAULTS["VNPOST_URL"], "no connection: the CLI's default"
