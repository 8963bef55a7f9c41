"""One Settings object (etl/config.py): every variable of docs/contract.md, its development default,
one meaning for empty, one-line errors naming the variable, and under Airflow the connections over
the environment without writing into it."""
from __future__ import annotations

import os
from datetime import date

import pytest

from etl import airflow_conn, config, pipeline, validate
from etl.config import Settings, SettingsError
from mocks.config import Credentials

VARIABLES = [name.upper() for name in Settings.model_fields]
DEFAULTS = {
    "WAREHOUSE_URL": f"duckdb:///{config.ROOT / 'var' / 'warehouse.duckdb'}",
    "ONESTOP_URL": "http://127.0.0.1:8765", "ONESTOP_API_KEY": "dev-onestop-key",
    "NDXP_URL": "http://127.0.0.1:8765", "NDXP_CLIENT_ID": "dev-ndxp-client", "NDXP_CLIENT_SECRET": "dev-ndxp-secret",
    "VNPOST_URL": "http://127.0.0.1:8765", "VNPOST_USERNAME": "dev-vnpost", "VNPOST_PASSWORD": "dev-vnpost-password",
    "PII_HASH_KEY": "dev-only-pii-key", "PROVINCE": "lao_cai",
    "QUARANTINE_MAX_SHARE": 0.05, "QUARANTINE_MIN_COUNT": 5,
    "VOLUME_MIN_RATIO": 0.1, "VOLUME_MAX_RATIO": 10, "VOLUME_MIN_BASELINE": 20, "PUBLIC_HOLIDAYS": "",
    "SOURCE_MAX_ATTEMPTS": 8, "REFERENCE_MAX_AGE_HOURS": 12,
    "DATA_DOCS_DIR": str(config.ROOT / "var" / "data_docs"), "DATA_DOCS_KEEP_DAYS": 90,
    "REPORTS_DIR": str(config.ROOT / "var" / "reports"), "DRILLDOWN_KEEP_DAYS": 90,
    "DRILLDOWN_SESSIONS": 2,
    "WAREHOUSE_WORK_MEM": "256MB", "WAREHOUSE_RANDOM_PAGE_COST": 1.1, "WAREHOUSE_MEMORY_LIMIT": None,
    "EXTRACT_LOOKBACK_DAYS": 3, "DVC_ALERT_WEBHOOK_URL": None,
    "DVC_SCHEDULE_START": date(2022, 1, 1), "DVC_SCHEDULE_END": None, "DVC_CATCHUP": False,
    "DVC_BI_READER_ROLE": "dvc_bi_reader", "DVC_BI_READER_PASSWORD": None,
}


@pytest.fixture
def environ(monkeypatch):
    """The process environment without any of our variables or connections; returns monkeypatch."""
    for name in [*VARIABLES, *(f"AIRFLOW_CONN_{c.upper()}" for c in airflow_conn.CONNECTION_IDS)]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def as_variables(s: Settings) -> dict:
    return {name.upper(): value for name, value in s.model_dump().items()}


def test_every_variable_has_its_development_default(environ):
    assert set(VARIABLES) == set(DEFAULTS), "a variable of the settings is missing from this test, or vice versa"
    assert as_variables(config.settings()) == DEFAULTS
    assert config.DEV_DEFAULTS == {k: DEFAULTS[k] for k in config.SOURCE_VARIABLES}


def test_the_environment_overrides_with_typed_values(environ):
    given = {"WAREHOUSE_URL": "postgresql+psycopg://dvc@db/warehouse", "ONESTOP_URL": "https://onestop.example.vn/",
             "ONESTOP_API_KEY": "k", "PROVINCE": "cao_bang", "QUARANTINE_MAX_SHARE": "0.2",
             "QUARANTINE_MIN_COUNT": "7", "VOLUME_MIN_RATIO": "0.5", "VOLUME_MAX_RATIO": "4",
             "VOLUME_MIN_BASELINE": "30", "SOURCE_MAX_ATTEMPTS": "3", "REFERENCE_MAX_AGE_HOURS": "1.5",
             "PUBLIC_HOLIDAYS": "2022-01-29..2022-02-06, 2022-04-11",
             "DATA_DOCS_DIR": "/srv/docs", "DATA_DOCS_KEEP_DAYS": "30", "WAREHOUSE_WORK_MEM": "1GB",
             "WAREHOUSE_RANDOM_PAGE_COST": "4",
             "WAREHOUSE_MEMORY_LIMIT": "2GB", "EXTRACT_LOOKBACK_DAYS": "5", "DVC_ALERT_WEBHOOK_URL": "https://hooks.example/T0/x",
             "DVC_SCHEDULE_START": "2022-01-01", "DVC_SCHEDULE_END": "2022-01-31", "DVC_CATCHUP": "true",
             "DVC_BI_READER_ROLE": "bi", "DVC_BI_READER_PASSWORD": "pw"}
    for name, value in given.items():
        environ.setenv(name, value)
    s = as_variables(config.settings())
    assert s == {**DEFAULTS, **given, "ONESTOP_URL": "https://onestop.example.vn", "QUARANTINE_MAX_SHARE": 0.2,
                 "QUARANTINE_MIN_COUNT": 7, "VOLUME_MIN_RATIO": 0.5, "VOLUME_MAX_RATIO": 4.0,
                 "VOLUME_MIN_BASELINE": 30.0, "SOURCE_MAX_ATTEMPTS": 3, "REFERENCE_MAX_AGE_HOURS": 1.5,
                 "DATA_DOCS_KEEP_DAYS": 30, "WAREHOUSE_RANDOM_PAGE_COST": 4.0, "EXTRACT_LOOKBACK_DAYS": 5,
                 "DVC_SCHEDULE_START": date(2022, 1, 1), "DVC_SCHEDULE_END": date(2022, 1, 31), "DVC_CATCHUP": True}


def test_settings_read_the_environment_as_it_is_now(environ):
    """No stale cache: a test's setenv is seen at once."""
    s = config.settings()
    assert (s.extract_lookback_days, s.volume_min_ratio, s.volume_max_ratio) == (3, 0.1, 10.0)
    environ.setenv("EXTRACT_LOOKBACK_DAYS", "6")
    environ.setenv("VOLUME_MAX_RATIO", "3")
    environ.setenv("REFERENCE_MAX_AGE_HOURS", "0.5")
    environ.setenv("DATA_DOCS_DIR", "/tmp/docs-elsewhere")
    s = config.settings()
    assert (s.extract_lookback_days, s.volume_min_ratio, s.volume_max_ratio) == (6, 0.1, 3.0)
    assert s.reference_max_age_hours == 0.5
    assert validate.data_docs_dir() == "/tmp/docs-elsewhere"


def test_settings_are_built_again_only_when_one_of_their_variables_changed(environ):
    """The settings built last are kept while every variable is as it was (a backfill asks hundreds of times);
    a change, a removal or another variable's change builds them again, and a bad value fails every time."""
    s = config.settings()
    assert config.settings() is s
    environ.setenv("SOMETHING_ELSE", "x")
    assert config.settings() is s
    environ.setenv("EXTRACT_LOOKBACK_DAYS", "5")
    changed = config.settings()
    assert changed is not s and changed.extract_lookback_days == 5 and config.settings() is changed
    environ.delenv("EXTRACT_LOOKBACK_DAYS")
    assert config.settings().extract_lookback_days == 3
    environ.setenv("VOLUME_MAX_RATIO", "abc")
    for _ in range(2):
        with pytest.raises(SettingsError, match="VOLUME_MAX_RATIO"):
            config.settings()


def test_empty_is_unset_except_where_empty_turns_something_off(environ):
    for name in VARIABLES:
        environ.setenv(name, "" if name != "VOLUME_MAX_RATIO" else "  ")
    assert as_variables(config.settings()) == {**DEFAULTS, "DATA_DOCS_DIR": "", "DVC_BI_READER_ROLE": None}
    assert validate.data_docs_dir() == "", "Data Docs off"


def test_the_simulator_accepts_what_the_pipeline_sends(environ):
    """mocks/ checks credentials against the same variables and defaults."""
    def sent() -> Credentials:
        s = config.settings()
        return Credentials(s.onestop_api_key, s.ndxp_client_id, s.ndxp_client_secret, s.vnpost_username,
                           s.vnpost_password)

    assert Credentials.from_env() == sent() and sent().onestop_api_key == "dev-onestop-key"
    environ.setenv("ONESTOP_API_KEY", "prod-key")
    environ.setenv("VNPOST_PASSWORD", "")
    assert Credentials.from_env() == sent() and sent().onestop_api_key == "prod-key"


@pytest.mark.parametrize("name, value, message", [
    ("QUARANTINE_MAX_SHARE", "abc", "QUARANTINE_MAX_SHARE='abc': not a number between 0 and 1"),
    ("QUARANTINE_MAX_SHARE", "5", "QUARANTINE_MAX_SHARE='5': not a number between 0 and 1"),
    ("QUARANTINE_MIN_COUNT", "2.5", "QUARANTINE_MIN_COUNT='2.5': not a whole number, 0 or more"),
    ("SOURCE_MAX_ATTEMPTS", "0", "SOURCE_MAX_ATTEMPTS='0': not a whole number, 1 or more"),
    ("EXTRACT_LOOKBACK_DAYS", "three", "EXTRACT_LOOKBACK_DAYS='three': not a whole number of days, 0 or more"),
    ("VOLUME_MAX_RATIO", "0", "VOLUME_MAX_RATIO='0': not a number above 0"),
    ("REFERENCE_MAX_AGE_HOURS", "-1", "REFERENCE_MAX_AGE_HOURS='-1': not a number of hours, 0 or more"),
    ("DATA_DOCS_KEEP_DAYS", "a week", "DATA_DOCS_KEEP_DAYS='a week': not a whole number of days, 0 or more"),
    ("ONESTOP_URL", "onestop.example.vn", "ONESTOP_URL='onestop.example.vn': not an http(s):// URL"),
    ("PROVINCE", "Lào Cai", "PROVINCE='Lào Cai': not a province code such as lao_cai, cao_bang, lai_chau"),
    ("WAREHOUSE_WORK_MEM", "256MB'; DROP TABLE x; --",
     "WAREHOUSE_WORK_MEM=\"256MB'; DROP TABLE x; --\": not a PostgreSQL memory size such as 256MB"),
    ("WAREHOUSE_RANDOM_PAGE_COST", "0", "WAREHOUSE_RANDOM_PAGE_COST='0': not a number above 0 such as 1.1"),
    ("WAREHOUSE_MEMORY_LIMIT", "lots", "WAREHOUSE_MEMORY_LIMIT='lots': not a DuckDB memory size such as 2GB"),
    ("DVC_SCHEDULE_START", "2022-13-01", "DVC_SCHEDULE_START='2022-13-01': not a date YYYY-MM-DD"),
    ("PUBLIC_HOLIDAYS", "2022-02-30", "PUBLIC_HOLIDAYS='2022-02-30': not dates YYYY-MM-DD or ranges "
                                      "YYYY-MM-DD..YYYY-MM-DD, comma-separated"),
    ("PUBLIC_HOLIDAYS", "2022-02-06..2022-01-29", "PUBLIC_HOLIDAYS='2022-02-06..2022-01-29': not dates YYYY-MM-DD or "
                                                  "ranges YYYY-MM-DD..YYYY-MM-DD, comma-separated"),
    ("DVC_CATCHUP", "sometimes", "DVC_CATCHUP='sometimes': not true or false"),
    ("DVC_BI_READER_ROLE", "x; DROP TABLE y",
     "DVC_BI_READER_ROLE='x; DROP TABLE y': not lower-case letters, digits and _ (or empty for no role)"),
    # a secret is never echoed
    ("DVC_ALERT_WEBHOOK_URL", "hooks.example/T0/B0/s3cret", "DVC_ALERT_WEBHOOK_URL: not an http(s):// URL"),
    # checks across variables
    ("VOLUME_MIN_RATIO", "20", "VOLUME_MIN_RATIO=20 is above VOLUME_MAX_RATIO=10: no volume could pass"),
    ("DVC_SCHEDULE_END", "2021-12-31", "DVC_SCHEDULE_END=2021-12-31 is before DVC_SCHEDULE_START=2022-01-01"),
])
def test_a_bad_value_is_one_line_naming_the_variable(environ, name, value, message):
    environ.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        config.settings()
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == message


def test_every_bad_value_is_named_on_the_same_line(environ):
    environ.setenv("QUARANTINE_MAX_SHARE", "abc")
    environ.setenv("SOURCE_MAX_ATTEMPTS", "many")
    with pytest.raises(SettingsError) as caught:
        config.settings()  # the whole object is validated at once
    assert str(caught.value) == ("QUARANTINE_MAX_SHARE='abc': not a number between 0 and 1; "
                                 "SOURCE_MAX_ATTEMPTS='many': not a whole number, 1 or more")


def test_airflow_connections_override_without_writing_the_environment(environ, tmp_path):
    """AIRFLOW_CONN_* (Airflow's environment secrets backend) -> Settings.from_airflow(); the
    variables keep their own values, and what no connection sets comes from the environment."""
    environ.setenv("ONESTOP_URL", "http://from-env:1")
    environ.setenv("PROVINCE", "lai_chau")
    environ.setenv("AIRFLOW_CONN_ONESTOP", "http://:conn-key@127.0.0.1:9999")
    environ.setenv("AIRFLOW_CONN_NDXP", '{"conn_type": "http", "host": "127.0.0.1", "port": 9998, '
                                        '"login": "cid", "password": "csecret"}')
    environ.setenv("AIRFLOW_CONN_WAREHOUSE", f'{{"conn_type": "duckdb", "host": "{tmp_path / "wh.duckdb"}"}}')
    before = dict(os.environ)

    s = Settings.from_airflow()

    assert dict(os.environ) == before, "nothing written into os.environ"
    assert (s.onestop_url, s.onestop_api_key) == ("http://127.0.0.1:9999", "conn-key"), "a connection beats a variable"
    assert (s.ndxp_url, s.ndxp_client_id, s.ndxp_client_secret) == ("http://127.0.0.1:9998", "cid", "csecret")
    assert s.warehouse_url == f"duckdb:///{tmp_path / 'wh.duckdb'}"
    assert (s.vnpost_url, s.province) == (DEFAULTS["VNPOST_URL"], "lai_chau"), "no connection: the environment"
    assert config.settings().onestop_url == "http://from-env:1", "the CLI's settings are untouched"

    with pipeline.Resources.from_settings(s) as res:
        assert (res.onestop.base_url, res.ndxp.base_url, res.province) == \
            ("http://127.0.0.1:9999", "http://127.0.0.1:9998", "lai_chau")
        assert res.warehouse.url == s.warehouse_url and res.onestop.max_attempts == 8


def test_without_connections_airflow_gets_the_environment(environ):
    environ.setenv("SOURCE_MAX_ATTEMPTS", "2")
    assert Settings.from_airflow() == config.settings()
    assert Settings.from_airflow().source_max_attempts == 2


def test_a_bad_connection_value_names_the_connection(environ):
    environ.setenv("AIRFLOW_CONN_VNPOST", '{"conn_type": "http", "extra": {"url": "bcci.vnpost.vn"}}')
    with pytest.raises(SettingsError) as caught:
        Settings.from_airflow()
    assert str(caught.value) == "VNPOST_URL='bcci.vnpost.vn' (Airflow connection vnpost): not an http(s):// URL"


def test_the_planner_settings_reach_every_postgresql_transaction(pg_url, monkeypatch):
    """WAREHOUSE_WORK_MEM and WAREHOUSE_RANDOM_PAGE_COST are set in each transaction the pipeline opens, and in
    the rolled-back ones the benchmarks time, so that they measure what the pipeline runs."""
    from etl.warehouse import Warehouse

    wh = Warehouse(pg_url)
    with wh.begin() as conn:
        assert conn.exec_driver_sql("SHOW random_page_cost").scalar() == "1.1"  # the default, not the server's 4
    monkeypatch.setenv("WAREHOUSE_WORK_MEM", "77MB")
    monkeypatch.setenv("WAREHOUSE_RANDOM_PAGE_COST", "2.5")
    with wh.begin() as conn:
        assert conn.exec_driver_sql("SHOW work_mem").scalar() == "77MB"
        assert conn.exec_driver_sql("SHOW random_page_cost").scalar() == "2.5"
    with wh.rolled_back() as conn:
        assert conn.exec_driver_sql("SHOW work_mem").scalar() == "77MB"
        assert conn.exec_driver_sql("SHOW random_page_cost").scalar() == "2.5"
        conn.exec_driver_sql("CREATE TABLE not_kept (x integer)")
    with wh.begin() as conn:
        assert conn.exec_driver_sql("SELECT to_regclass('not_kept')").scalar() is None
    wh.dispose()


def test_the_memory_limit_setting_bounds_the_embedded_warehouse(tmp_path, monkeypatch):
    """WAREHOUSE_MEMORY_LIMIT becomes DuckDB's memory_limit on every connection; unset, DuckDB keeps its own."""
    import duckdb

    from etl.warehouse import Warehouse

    def limit_of(wh: Warehouse) -> str:
        with wh.begin() as conn:
            return conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar()

    default = limit_of(Warehouse(f"duckdb:///{tmp_path / 'a.duckdb'}"))
    monkeypatch.setenv("WAREHOUSE_MEMORY_LIMIT", "300MB")
    wh = Warehouse(f"duckdb:///{tmp_path / 'b.duckdb'}")
    plain = duckdb.connect(config={"memory_limit": "300MB"})
    expected = plain.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit_of(wh) == expected != default
    wh.dispose()


def test_a_full_disk_on_the_warehouse_server_is_not_blamed_on_warehouse_url():
    """A year-end report at the country's volume once filled the database server's disk, and the one line read
    'WAREHOUSE_URL: cannot use the warehouse': the setting was right. PostgreSQL's disk_full (53100) says where to
    look; any other operational error still names WAREHOUSE_URL."""
    import psycopg.errors
    import sqlalchemy as sa

    from etl import cli

    full = psycopg.errors.DiskFull('could not extend file "base/16388/t3_208892": No space left on device')
    message = cli.explain(sa.exc.OperationalError("CREATE TEMPORARY TABLE exp_scope AS ...", {}, full))
    assert message.startswith("the warehouse's database server has no disk space left (could not extend file")
    assert "WAREHOUSE_URL" not in message and "\n" not in message
    refused = psycopg.OperationalError("connection refused")
    assert cli.explain(sa.exc.OperationalError("SELECT 1", {}, refused)).startswith("WAREHOUSE_URL: cannot use")
