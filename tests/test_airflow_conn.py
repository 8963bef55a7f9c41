"""Airflow connections -> the variables of docs/contract.md they set (tests/test_settings.py: how
those reach the settings and the Resources)."""
from __future__ import annotations

import pytest
from airflow.sdk import Connection

from etl import airflow_conn
from etl.config import SettingsError


def conn(conn_id: str, uri: str | None = None, **fields) -> Connection:
    return Connection(conn_id=conn_id, uri=uri) if uri else Connection(conn_id=conn_id, **fields)


def test_uri_connections_become_the_contract_variables():
    defined = {
        "onestop": conn("onestop", "http://:the%2Fkey@onestop.lao-cai.gov.vn:8443"),
        "ndxp": conn("ndxp", "https://client-1:s%3Acret@ndxp.gov.vn"),
        "vnpost": conn("vnpost", "http://dvc-user:pw@bcci.vnpost.vn:80"),
        "warehouse": conn("warehouse", "postgres://dvc:p%40ss@warehouse-db:5432/warehouse"),
    }
    values, origins = airflow_conn.connection_values(defined.get)
    assert values == {
        "ONESTOP_URL": "http://onestop.lao-cai.gov.vn:8443", "ONESTOP_API_KEY": "the/key",
        "NDXP_URL": "https://ndxp.gov.vn", "NDXP_CLIENT_ID": "client-1", "NDXP_CLIENT_SECRET": "s:cret",
        "VNPOST_URL": "http://bcci.vnpost.vn:80", "VNPOST_USERNAME": "dvc-user", "VNPOST_PASSWORD": "pw",
        "WAREHOUSE_URL": "postgresql+psycopg://dvc:p%40ss@warehouse-db:5432/warehouse",
    }
    assert origins["NDXP_CLIENT_SECRET"] == "ndxp" and origins["WAREHOUSE_URL"] == "warehouse"


def test_the_log_names_what_connections_set_with_secrets_masked(caplog):
    defined = {"onestop": conn("onestop", "http://:the-key@onestop.example.vn"),
               "warehouse": conn("warehouse", "postgres://dvc:p%40ss@warehouse-db:5432/warehouse")}
    with caplog.at_level("INFO", logger="etl.airflow_conn"):
        airflow_conn.connection_values(defined.get)
    logged = caplog.text
    assert "ONESTOP_URL=http://onestop.example.vn" in logged and "ONESTOP_API_KEY=***" in logged
    assert "the-key" not in logged and "p%40ss" not in logged and "WAREHOUSE_URL=***" in logged


def test_no_connection_sets_nothing():
    assert airflow_conn.connection_values(lambda _id: None) == ({}, {})


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
    with pytest.raises(SettingsError, match=r"^Airflow connection warehouse of type 'mysql': use postgres"):
        airflow_conn.warehouse_url(conn("warehouse", conn_type="mysql", host="x"))
    with pytest.raises(SettingsError, match=r"^Airflow connection 'vnpost' has no host$"):
        airflow_conn.base_url(conn("vnpost", conn_type="http"))
