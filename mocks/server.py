"""The FastAPI app: the three systems of docs/sources.md under /onestop, /ndxp and /vnpost."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from fastapi import FastAPI, Request

from mocks import streams
from mocks.catalog import Profile, load_profile
from mocks.common import json_response
from mocks.config import SimConfig
from mocks.dossiers import DossierGenerator
from mocks.faults import Faults
from mocks.timefmt import fmt_iso

PREFIXES = {"onestop": "/onestop", "ndxp": "/ndxp", "vnpost": "/vnpost"}


class SimState:
    """Everything the routers share: configuration, profile, generators, caches."""

    def __init__(self, config: SimConfig):
        self.config = config
        self.profile = load_profile(config.profile)
        self.faults = Faults(config)
        self.generator = DossierGenerator(self.profile, config.seed, config.dossiers_per_year,
                                          late_rate=self.faults.rates["late_updates"],
                                          memory_dossiers=config.memory_dossiers)
        streams.install(self.generator)
        self.agency_rows = [a.row() for a in self.profile.agencies]
        self.procedure_rows = [p.row() for p in self.profile.procedures]
        self.config_rows = sorted((c.row() for c in self.profile.configs),
                                  key=lambda r: (r["MaDonVi"], r["MaTTHC"], r["HieuLucTu"]))
        self.integrated_rows = integrated_services(self.profile)


def _office_hours(rng: random.Random, day: date) -> datetime:
    """A time on `day` between 08:00 and 16:59."""
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=rng.randint(8, 16), minutes=rng.randint(0, 59))


def integrated_services(profile: Profile) -> list[dict]:
    """Full-online services integrated on the national portal: a share per agency, integrated
    at dates spread from a year before the profile's data start to 18 months after it; a few
    stopped later. Fixed per profile."""
    rows = []
    seen = set()
    for c in sorted(profile.configs, key=lambda c: (c.agency, c.procedure, c.valid_from)):
        if c.mode != "TOAN_TRINH" or (c.agency, c.procedure) in seen:
            continue
        seen.add((c.agency, c.procedure))
        rng = random.Random(f"{profile.name}|tichhop|{c.agency}|{c.procedure}")
        share = random.Random(f"{profile.name}|tichhop|{c.agency}").uniform(0.3, 0.9)
        if rng.random() >= share:
            continue
        lo = max(c.valid_from, profile.data_start - timedelta(days=365))
        start = lo + timedelta(days=rng.randint(0, 545))
        if c.valid_to and start > c.valid_to:
            continue
        stop = None
        if c.valid_to:
            stop = c.valid_to
        elif rng.random() < 0.05:
            stop = start + timedelta(days=rng.randint(30, 400))
        rows.append({"maTTHC": c.procedure, "maDonVi": c.agency, "ngayTichHop": fmt_iso(_office_hours(rng, start)),
                     "ngayNgungTichHop": fmt_iso(_office_hours(rng, stop)) if stop else None})
    rows.sort(key=lambda r: (r["ngayTichHop"], r["maDonVi"], r["maTTHC"]))
    return rows


def create_app(config: SimConfig | None = None) -> FastAPI:
    from mocks import ndxp, onestop, vnpost

    config = config or SimConfig()
    state = SimState(config)
    app = FastAPI(title="Source-system simulator (one-stop, NDXP, VNPost)", version="1.0",
                  description="Simulator of the three source systems of docs/sources.md: the provincial one-stop "
                              "system (/onestop), the national data-sharing platform NDXP (/ndxp) and VNPost "
                              f"BCCI (/vnpost). Profile {config.profile}, seed {config.seed}.")
    app.state.sim = state
    for module in (onestop, ndxp, vnpost):
        module.install_handlers(app)
        app.include_router(module.build_router(state))

    @app.get("/health", tags=["simulator"], summary="Liveness (no auth)")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    def system_openapi(prefix: str) -> dict:
        doc = dict(app.openapi())
        doc["paths"] = {p: v for p, v in doc["paths"].items() if p.startswith(prefix)}
        doc["info"] = {**doc["info"], "title": f"{doc['info']['title']} - {prefix[1:]}"}
        return doc

    for name, prefix in PREFIXES.items():
        def _doc(request: Request, _prefix=prefix):
            return json_response(system_openapi(_prefix))
        app.add_api_route(f"{prefix}/openapi.json", _doc, methods=["GET"], include_in_schema=False,
                          name=f"openapi_{name}")
    return app
