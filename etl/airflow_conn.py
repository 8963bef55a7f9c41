"""Airflow connections -> the settings of docs/contract.md, so that tasks and the CLI share one code
path (`etl.config.Settings.from_airflow()` -> `etl.pipeline.Resources.from_settings()`).

Inside a task, `connection_values()` reads the connections below when they exist and returns the
variables they define; `Settings.from_airflow()` puts them over the environment's (a connection
beats a variable that is set) without writing into os.environ. A connection that does not exist
leaves the variables as they are, and with neither, the development defaults of etl.config apply.
The CLI never calls this: it reads the variables.

| connection  | variables                                              | fields                                  |
|-------------|--------------------------------------------------------|-----------------------------------------|
| `onestop`   | ONESTOP_URL, ONESTOP_API_KEY                           | URL from host/port; key = password      |
| `ndxp`      | NDXP_URL, NDXP_CLIENT_ID, NDXP_CLIENT_SECRET           | login = client id, password = secret    |
| `vnpost`    | VNPOST_URL, VNPOST_USERNAME, VNPOST_PASSWORD           | login, password                         |
| `warehouse` | WAREHOUSE_URL                                          | postgres -> postgresql+psycopg://...    |

Examples (URI form of `AIRFLOW_CONN_<ID>`; the JSON form works too):

    AIRFLOW_CONN_ONESTOP='http://:the-api-key@onestop.example.gov.vn:443?__extra__={"scheme":"https"}'
    AIRFLOW_CONN_ONESTOP='{"conn_type": "http", "host": "https://onestop.example.gov.vn", "password": "key"}'
    AIRFLOW_CONN_NDXP='http://client-id:client-secret@ndxp-gateway:8765'
    AIRFLOW_CONN_WAREHOUSE='postgres://dvc:secret@warehouse-db:5432/warehouse'

A URL is the system's base (scheme, host, port, optional path prefix); `extra.url` overrides it,
`extra.api_key` may carry the one-stop key, `extra.sqlalchemy_url` the warehouse URL as is.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from etl.config import SettingsError

log = logging.getLogger(__name__)

# connection id -> (URL variable, login variable, password variable)
SOURCE_CONNECTIONS: dict[str, tuple[str, str | None, str]] = {
    "onestop": ("ONESTOP_URL", None, "ONESTOP_API_KEY"),
    "ndxp": ("NDXP_URL", "NDXP_CLIENT_ID", "NDXP_CLIENT_SECRET"),
    "vnpost": ("VNPOST_URL", "VNPOST_USERNAME", "VNPOST_PASSWORD"),
}
WAREHOUSE_CONNECTION = "warehouse"
CONNECTION_IDS = (*SOURCE_CONNECTIONS, WAREHOUSE_CONNECTION)


def _extra(conn: Any) -> dict:
    extra = getattr(conn, "extra_dejson", None)
    return dict(extra) if isinstance(extra, Mapping) else {}


def base_url(conn: Any) -> str:
    """The system's base URL: extra.url, else [scheme://]host[:port][/schema]."""
    extra = _extra(conn)
    if extra.get("url"):
        return str(extra["url"]).rstrip("/")
    host = (getattr(conn, "host", None) or "").rstrip("/")
    if not host:
        raise SettingsError(f"Airflow connection {getattr(conn, 'conn_id', '?')!r} has no host")
    if "://" in host:
        url = host
    else:
        conn_type = (getattr(conn, "conn_type", None) or "").lower()
        scheme = extra.get("scheme") or (conn_type if conn_type in ("http", "https") else "http")
        url = f"{scheme}://{host}"
    port = getattr(conn, "port", None)
    if port and not url.split("://", 1)[1].rsplit("@", 1)[-1].count(":"):
        url += f":{port}"
    path = getattr(conn, "schema", None)
    if path:
        url += "/" + str(path).strip("/")
    return url.rstrip("/")


def warehouse_url(conn: Any) -> str:
    """A SQLAlchemy URL for the warehouse connection (psycopg 3 for PostgreSQL)."""
    extra = _extra(conn)
    if extra.get("sqlalchemy_url"):
        return str(extra["sqlalchemy_url"])
    conn_type = (getattr(conn, "conn_type", None) or "").lower().replace("-", "_")
    if conn_type in ("postgres", "postgresql", "postgresql+psycopg"):
        login, password = getattr(conn, "login", None), getattr(conn, "password", None)
        auth = ""
        if login:
            auth = quote(login, safe="") + (f":{quote(password, safe='')}" if password else "") + "@"
        host = getattr(conn, "host", None) or "localhost"
        port = f":{conn.port}" if getattr(conn, "port", None) else ""
        database = getattr(conn, "schema", None) or ""
        return f"postgresql+psycopg://{auth}{host}{port}/{database}"
    if conn_type == "duckdb":
        path = getattr(conn, "host", None) or getattr(conn, "schema", None) or ""
        return f"duckdb:///{path}" if path else "duckdb:///:memory:"
    raise SettingsError(f"Airflow connection warehouse of type {conn_type!r}: "
                        "use postgres, duckdb, or extra.sqlalchemy_url")


def variables_from(conn_id: str, conn: Any) -> dict[str, str]:
    """The variables of docs/contract.md that one connection defines."""
    if conn_id == WAREHOUSE_CONNECTION:
        return {"WAREHOUSE_URL": warehouse_url(conn)}
    url_var, login_var, secret_var = SOURCE_CONNECTIONS[conn_id]
    out = {url_var: base_url(conn)}
    extra = _extra(conn)
    login, password = getattr(conn, "login", None), getattr(conn, "password", None)
    if login_var and login:
        out[login_var] = login
    secret = password or (extra.get("api_key") if conn_id == "onestop" else None)
    if secret:
        out[secret_var] = str(secret)
    return out


def airflow_connection(conn_id: str) -> Any | None:
    """The Airflow connection, or None when it is not defined (any secrets backend, AIRFLOW_CONN_*)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def connection_values(get_connection: Callable[[str], Any | None] = airflow_connection,
                      ) -> tuple[dict[str, str], dict[str, str]]:
    """The variables every defined connection sets, and for each the connection it came from.
    Logs what it found, secrets masked."""
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for conn_id in CONNECTION_IDS:
        conn = get_connection(conn_id)
        if conn is None:
            continue
        for name, value in variables_from(conn_id, conn).items():
            values[name], origins[name] = value, conn_id
    if values:
        log.info("from Airflow connections: %s", ", ".join(
            f"{k}={v if k.endswith('_URL') and '@' not in v else '***'}" for k, v in sorted(values.items())))
    return values, origins
