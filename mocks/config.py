"""The simulator's settings (CLI flags) and the credentials it accepts."""
from __future__ import annotations

from dataclasses import dataclass, field

from etl.config import env

FAULTS = ("http5xx", "rate429", "slow", "malformed", "duplicates", "late_updates", "bad_records")
ROW_LEVEL = {"bad_records": 0.1, "late_updates": 0.1}


@dataclass(frozen=True)
class Credentials:
    onestop_api_key: str
    ndxp_client_id: str
    ndxp_client_secret: str
    vnpost_username: str
    vnpost_password: str

    @classmethod
    def from_env(cls) -> Credentials:
        """The same variables the pipeline reads (docs/contract.md), else the development defaults."""
        return cls(env("ONESTOP_API_KEY"), env("NDXP_CLIENT_ID"), env("NDXP_CLIENT_SECRET"),
                   env("VNPOST_USERNAME"), env("VNPOST_PASSWORD"))


@dataclass(frozen=True)
class SimConfig:
    seed: int = 0
    profile: str = "lao_cai_2022"
    dossiers_per_year: int = 20_000
    # fault injection: `faults` = ((kind, rate or None), ...) switched on alone; `fault_rate` = the
    # default rate, and alone (no `faults`) it switches every kind on. Row-level kinds
    # (bad_records, late_updates) use a tenth of the default rate unless given explicitly.
    fault_rate: float = 0.0
    faults: tuple[tuple[str, float | None], ...] = ()
    # days whose records the sources lost: (("yyyyMMdd", share served), ...)
    outages: tuple[tuple[str, float], ...] = ()
    token_ttl: int = 300
    vnpost_token_ttl: int = 86_400
    slow_seconds: float = 2.0
    # dossiers kept in memory (mocks.dossiers.DossierGenerator): above it, windows are served from disk
    memory_dossiers: int = 150_000
    credentials: Credentials = field(default_factory=Credentials.from_env)

    def rate(self, kind: str) -> float:
        explicit = dict(self.faults)
        if self.faults and kind not in explicit:
            return 0.0
        if explicit.get(kind) is not None:
            return float(explicit[kind])
        base = self.fault_rate if self.fault_rate > 0 else (0.2 if self.faults else 0.0)
        return base * ROW_LEVEL.get(kind, 1.0)
