"""The pipeline's settings: one `Settings` object holding every variable of docs/contract.md,
typed and validated once. Nothing secret is written here: the defaults are the *development*
defaults, which the simulator (mocks/) also accepts.

Built from the environment (`settings()`), or under Airflow from the environment with the
connections `onestop`, `ndxp`, `vnpost`, `warehouse` over it (`Settings.from_airflow()`), without
writing into os.environ. An empty variable is an unset one (its default applies), except
`DATA_DOCS_DIR` (empty: no Data Docs) and `DVC_BI_READER_ROLE` (empty: no BI role).
A bad value raises `SettingsError`, one line naming the variable:
`QUARANTINE_MAX_SHARE='abc': not a number between 0 and 1`.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

HTTP_URL = r"^https?://\S+$"
# Where an empty value means something rather than "unset".
EMPTY_MEANS_OFF = ("DATA_DOCS_DIR", "DVC_BI_READER_ROLE")


class SettingsError(ValueError):
    """A setting with a value the pipeline cannot use; str() is one line naming the variable."""


def _var(default: Any, expects: str = "", *, secret: bool = False, **constraints: Any) -> Any:
    """A field with what a good value looks like (for the error message); secrets are kept out of
    repr() and of error messages."""
    return Field(default, repr=not secret, json_schema_extra={"expects": expects, "secret": secret}, **constraints)


class Settings(BaseSettings):
    """Every variable of docs/contract.md; the attribute is the variable's name in lower case."""
    model_config = SettingsConfigDict(case_sensitive=True, alias_generator=str.upper, frozen=True, extra="forbid")

    warehouse_url: str = _var(f"duckdb:///{ROOT / 'var' / 'warehouse.duckdb'}", secret=True)
    onestop_url: str = _var("http://127.0.0.1:8765", "an http(s):// URL", pattern=HTTP_URL)
    onestop_api_key: str = _var("dev-onestop-key", secret=True)
    ndxp_url: str = _var("http://127.0.0.1:8765", "an http(s):// URL", pattern=HTTP_URL)
    ndxp_client_id: str = _var("dev-ndxp-client")
    ndxp_client_secret: str = _var("dev-ndxp-secret", secret=True)
    vnpost_url: str = _var("http://127.0.0.1:8765", "an http(s):// URL", pattern=HTTP_URL)
    vnpost_username: str = _var("dev-vnpost")
    vnpost_password: str = _var("dev-vnpost-password", secret=True)
    # Key of the keyed hash that pseudonymizes applicants' ID numbers: set it in production.
    pii_hash_key: str = _var("dev-only-pii-key", secret=True)
    # Whose targets apply (core.target.province).
    province: str = _var("lao_cai", "a province code such as lao_cai, cao_bang, lai_chau", pattern=r"^[a-z][a-z_]*$")
    # Quality gates: a share of a day's own records quarantined above which it is held back, from this many on.
    quarantine_max_share: float = _var(0.05, "a number between 0 and 1", ge=0, le=1)
    quarantine_min_count: int = _var(5, "a whole number, 0 or more", ge=0)
    # ... records stamped on the day between these multiples of the usual count, judged from this baseline on.
    volume_min_ratio: float = _var(0.1, "a number, 0 or more", ge=0)
    volume_max_ratio: float = _var(10.0, "a number above 0", gt=0)
    volume_min_baseline: float = _var(20.0, "a number, 0 or more", ge=0)
    # ... except on public holidays (dates and ranges first..last, comma-separated): a quiet or silent day is
    # expected then, so only a spike holds it, and no later day is judged against it.
    public_holidays: str = _var("", "dates YYYY-MM-DD or ranges YYYY-MM-DD..YYYY-MM-DD, comma-separated")
    # Attempts per source request before a day's load fails (backoff with jitter, Retry-After).
    source_max_attempts: int = _var(8, "a whole number, 1 or more", ge=1)
    # Reference data loaded within this age is not reloaded by the nightly run.
    reference_max_age_hours: float = _var(12.0, "a number of hours, 0 or more", ge=0)
    # Great Expectations Data Docs; empty turns them off.
    data_docs_dir: str = _var(str(ROOT / "var" / "data_docs"))
    data_docs_keep_days: int = _var(90, "a whole number of days, 0 or more", ge=0)
    # Where the nightly flow writes the reports of each published day (python -m etl report: --out).
    reports_dir: str = _var(str(ROOT / "var" / "reports"))
    # The nightly flow deletes the drill-down CSV folders of report dates more than this many days before
    # the night's (at 1 million dossiers a year a year-end folder is ~130 MB); workbooks and dashboards stay.
    drilldown_keep_days: int = _var(90, "a whole number of days, 0 or more", ge=0)
    # PostgreSQL sessions a report's drill-down runs at once, its figures split between them by agency: one
    # session's statements over its temporary tables run on one core. DuckDB uses all cores in one session.
    drilldown_sessions: int = _var(2, "a whole number, 1 or more", ge=1)
    # PostgreSQL work_mem of the load and indicator transactions (it is written into SQL: checked).
    warehouse_work_mem: str = _var("256MB", "a PostgreSQL memory size such as 256MB",
                                   pattern=r"^[0-9]+ ?(B|kB|MB|GB|TB)?$")
    # PostgreSQL random_page_cost of the load and indicator transactions: 1.1 for SSDs or a warehouse held in
    # memory (the loads then probe the history's key, not scan it); 4, PostgreSQL's default, for spinning disks.
    warehouse_random_page_cost: float = _var(1.1, "a number above 0 such as 1.1", gt=0)
    # DuckDB's memory_limit (the embedded warehouse); unset: DuckDB's default, 80 % of the machine's memory.
    # A year-end report at 1 million dossiers a year peaks at 1.9 GB; with a limit DuckDB spills to disk.
    warehouse_memory_limit: str | None = _var(None, "a DuckDB memory size such as 2GB",
                                              pattern=r"^[0-9]+(\.[0-9]+)? ?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    # Days each daily extraction re-reads before its own: sources deliver some updates up to 3 days late.
    extract_lookback_days: int = _var(3, "a whole number of days, 0 or more", ge=0)
    # Failure alerts (etl/notify.py); none: the Airflow connection dvc_alerts, else the log only.
    dvc_alert_webhook_url: str | None = _var(None, "an http(s):// URL", secret=True, pattern=HTTP_URL)
    # The DAGs' schedule window (read by the dag-processor); no end: every night.
    dvc_schedule_start: date = _var(date(2022, 1, 1), "a date YYYY-MM-DD")
    dvc_schedule_end: date | None = _var(None, "a date YYYY-MM-DD")
    dvc_catchup: bool = _var(False, "true or false")
    # The BI tools' read-only role (PostgreSQL); empty: no role. LOGIN only with a password.
    dvc_bi_reader_role: str | None = _var("dvc_bi_reader", "lower-case letters, digits and _ (or empty for no role)",
                                          pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    dvc_bi_reader_password: str | None = _var(None, secret=True)

    def __init__(self, _origins: Mapping[str, str] | None = None, **values: Any) -> None:
        """`values` by variable name override the environment; `_origins` names where some came from."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_one_line(exc, _origins or {})) from None

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        kept = {k: v for k, v in values.items() if not (isinstance(v, str) and not v.strip())}
        kept.update({k: "" for k in EMPTY_MEANS_OFF if k in values and k not in kept})
        return kept

    @field_validator("dvc_bi_reader_role", mode="before")
    @classmethod
    def _no_role(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("public_holidays")
    @classmethod
    def _holiday_list(cls, value: str) -> str:
        holiday_dates(value)
        return value

    @property
    def holidays(self) -> frozenset[date]:
        """PUBLIC_HOLIDAYS, every day of its ranges."""
        return holiday_dates(self.public_holidays)

    @field_validator("onestop_url", "ndxp_url", "vnpost_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.volume_min_ratio > self.volume_max_ratio:
            raise ValueError(f"VOLUME_MIN_RATIO={self.volume_min_ratio:g} is above "
                             f"VOLUME_MAX_RATIO={self.volume_max_ratio:g}: no volume could pass")
        if self.dvc_schedule_end is not None and self.dvc_schedule_end < self.dvc_schedule_start:
            raise ValueError(f"DVC_SCHEDULE_END={self.dvc_schedule_end} is before "
                             f"DVC_SCHEDULE_START={self.dvc_schedule_start}")
        return self

    @classmethod
    def from_env(cls) -> Settings:
        return cls()

    @classmethod
    def from_airflow(cls, get_connection: Callable[[str], Any | None] | None = None) -> Settings:
        """The environment's settings with the Airflow connections that exist over them (a connection
        beats a variable); os.environ is left as it is. Without any connection: `Settings()`."""
        from etl import airflow_conn

        values, origins = airflow_conn.connection_values(get_connection or airflow_conn.airflow_connection)
        return cls(origins, **values)


@cache
def holiday_dates(text: str) -> frozenset[date]:
    """The days of a list such as `2022-01-29..2022-02-06, 2022-04-11` (ValueError: not such a list)."""
    days: set[date] = set()
    for item in filter(None, (part.strip() for part in text.split(","))):
        first, _, last = (end.strip() for end in item.partition(".."))
        start, stop = date.fromisoformat(first), date.fromisoformat(last or first)
        if stop < start:
            raise ValueError(f"{item} ends before it starts")
        days.update(start + timedelta(days=n) for n in range((stop - start).days + 1))
    return frozenset(days)


def _one_line(exc: ValidationError, origins: Mapping[str, str]) -> str:
    problems = []
    for error in exc.errors():
        if not error["loc"]:  # a check across variables: its message names them
            problems.append(error["msg"].removeprefix("Value error, "))
            continue
        name = str(error["loc"][0])
        if error["type"] == "extra_forbidden":
            problems.append(f"{name}: not a setting")
            continue
        extra = Settings.model_fields[name.lower()].json_schema_extra or {}
        where = f" (Airflow connection {origins[name]})" if name in origins else ""
        value = "" if extra.get("secret") else f"={error['input']!r}"
        problems.append(f"{name}{value}{where}: not {extra.get('expects') or error['msg']}")
    return "; ".join(problems)


_VARIABLES = tuple(name.upper() for name in Settings.model_fields)
_LAST: tuple[tuple[str | None, ...], Settings] | None = None


def settings() -> Settings:
    """The settings of the environment as it is now: built again whenever one of its variables changed (a
    test's monkeypatch.setenv is seen at once), else the ones built last (building costs ~1 ms; a month's
    backfill asks some 700 times)."""
    global _LAST
    now = tuple(os.environ.get(name) for name in _VARIABLES)
    last = _LAST
    if last is None or last[0] != now:
        last = _LAST = (now, Settings())
    return last[1]


# -- accessors kept for their callers ---------------------------------------------------------
SourceSettings = Settings
SOURCE_VARIABLES = ("ONESTOP_URL", "ONESTOP_API_KEY", "NDXP_URL", "NDXP_CLIENT_ID", "NDXP_CLIENT_SECRET",
                    "VNPOST_URL", "VNPOST_USERNAME", "VNPOST_PASSWORD", "PII_HASH_KEY")
DEV_DEFAULTS: dict[str, str] = {name: Settings.model_fields[name.lower()].default for name in SOURCE_VARIABLES}


def env(name: str) -> str:
    """The variable's setting (the environment, else its development default)."""
    return getattr(settings(), name.lower())


def default_warehouse_url() -> str:
    return Settings.model_fields["warehouse_url"].default


def warehouse_url() -> str:
    return settings().warehouse_url
