"""Configuration from the environment (docs/contract.md). Nothing secret is written here:
the values below are the *development* defaults that the simulator also accepts."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEV_DEFAULTS: dict[str, str] = {
    "ONESTOP_URL": "http://127.0.0.1:8765",
    "ONESTOP_API_KEY": "dev-onestop-key",
    "NDXP_URL": "http://127.0.0.1:8765",
    "NDXP_CLIENT_ID": "dev-ndxp-client",
    "NDXP_CLIENT_SECRET": "dev-ndxp-secret",
    "VNPOST_URL": "http://127.0.0.1:8765",
    "VNPOST_USERNAME": "dev-vnpost",
    "VNPOST_PASSWORD": "dev-vnpost-password",
    # Key of the keyed hash that pseudonymizes applicants' ID numbers.
    "PII_HASH_KEY": "dev-only-pii-key",
}


def env(name: str) -> str:
    """The variable from the environment, else its development default."""
    return os.environ.get(name) or DEV_DEFAULTS[name]


def default_warehouse_url() -> str:
    return f"duckdb:///{ROOT / 'var' / 'warehouse.duckdb'}"


def warehouse_url() -> str:
    return os.environ.get("WAREHOUSE_URL") or default_warehouse_url()


@dataclass(frozen=True)
class SourceSettings:
    onestop_url: str
    onestop_api_key: str
    ndxp_url: str
    ndxp_client_id: str
    ndxp_client_secret: str
    vnpost_url: str
    vnpost_username: str
    vnpost_password: str

    @classmethod
    def from_env(cls) -> "SourceSettings":
        return cls(onestop_url=env("ONESTOP_URL").rstrip("/"), onestop_api_key=env("ONESTOP_API_KEY"),
                   ndxp_url=env("NDXP_URL").rstrip("/"), ndxp_client_id=env("NDXP_CLIENT_ID"),
                   ndxp_client_secret=env("NDXP_CLIENT_SECRET"), vnpost_url=env("VNPOST_URL").rstrip("/"),
                   vnpost_username=env("VNPOST_USERNAME"), vnpost_password=env("VNPOST_PASSWORD"))


def province() -> str:
    """Whose targets apply (core.target.province): lao_cai, cao_bang, lai_chau, ..."""
    return os.environ.get("PROVINCE") or "lao_cai"


def lookback_days() -> int:
    """Each daily extraction re-reads this many days before its own: sources deliver some updates up to 3 days late."""
    return int(os.environ.get("EXTRACT_LOOKBACK_DAYS") or 3)


def quarantine_max_share() -> float:
    """Quality gate: above this share of quarantined dossiers, indicators are not published."""
    return float(os.environ.get("QUARANTINE_MAX_SHARE") or 0.05)


def source_max_attempts() -> int:
    """Attempts per source request before a day's load fails (retries back off, honour Retry-After)."""
    return int(os.environ.get("SOURCE_MAX_ATTEMPTS") or 8)


def quarantine_min_count() -> int:
    """Quality gate: a quarantine share is judged only from this many quarantined records on (a quiet
    day's one bad record out of three is not a 33 % problem)."""
    return int(os.environ.get("QUARANTINE_MIN_COUNT") or 5)


def volume_min_baseline() -> float:
    """Quality gate: volume is judged only where such a day usually has at least this many records."""
    return float(os.environ.get("VOLUME_MIN_BASELINE") or 20)


def reference_max_age() -> timedelta:
    """Reference data loaded within this age is not reloaded by the nightly run."""
    return timedelta(hours=float(os.environ.get("REFERENCE_MAX_AGE_HOURS") or 12))


def volume_bounds() -> tuple[float, float]:
    """Quality gate: a day's batch must hold between these multiples of the recent median volume."""
    return (float(os.environ.get("VOLUME_MIN_RATIO") or 0.1), float(os.environ.get("VOLUME_MAX_RATIO") or 10))
