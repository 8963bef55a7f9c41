"""docs/sources.md §1, the provincial one-stop system, under /onestop."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Header, Query, Request

from mocks.common import json_response
from mocks.timefmt import parse_onestop

MAX_PAGE_SIZE = 1000
MAX_WINDOW_DAYS = 366


class OneStopError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str) -> dict:
    return {"error_code": status, "message": message, "total": 0, "page": 0, "pageSize": 0, "data": []}


def _int_param(value: str | None, name: str, default: int, lo: int, hi: int | None) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except ValueError:
        raise OneStopError(400, f"{name} must be an integer") from None
    if n < lo or (hi is not None and n > hi):
        raise OneStopError(400, f"{name} must be between {lo} and {hi}" if hi else f"{name} must be >= {lo}")
    return n


def paging(page: str | None, page_size: str | None) -> tuple[int, int]:
    return (_int_param(page, "page", 1, 1, 10_000_000),
            _int_param(page_size, "pageSize", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE))


def window(tu: str | None, den: str | None) -> tuple[datetime, datetime]:
    if not tu or not den:
        raise OneStopError(400, "tuNgay and denNgay (yyyyMMddHHmmss) are required")
    try:
        start, end = parse_onestop(tu), parse_onestop(den)
    except ValueError as exc:
        raise OneStopError(400, str(exc)) from None
    if (end - start).days > MAX_WINDOW_DAYS:
        raise OneStopError(400, f"the window may not exceed {MAX_WINDOW_DAYS} days")
    return start, end


def envelope(total: int, page: int, size: int, data: list) -> dict:
    return {"error_code": 0, "message": "", "total": total, "page": page, "pageSize": size, "data": data}


def build_router(state) -> APIRouter:
    """`state` is the app's SimState (server.py)."""
    from mocks import models as M

    router = APIRouter(prefix="/onestop/api/v1", tags=["onestop"])
    key = state.config.credentials.onestop_api_key
    err = {400: {"model": M.OneStopEnvelope, "description": "bad parameters"},
           401: {"model": M.OneStopEnvelope, "description": "wrong or missing X-API-Key"}}

    def auth(x_api_key: str | None) -> None:
        if x_api_key != key:
            raise OneStopError(401, "invalid or missing X-API-Key")

    def catalogue(request: Request, rows: list, page, page_size):
        p, s = paging(page, page_size)
        return state.faults.respond(request, envelope(len(rows), p, s, rows[(p - 1) * s: p * s]))

    def change_log(request: Request, stream: str, tu, den, page, page_size):
        start, end = window(tu, den)
        p, s = paging(page, page_size)
        rows = state.faults.served(state.generator.window(stream, start, end))
        rows = state.faults.duplicate(rows, s, f"{stream}|{tu}|{den}")
        data = []
        for e in rows[(p - 1) * s: p * s]:
            row = state.generator.materialize(e) if stream == "hoso" else e[3]
            data.append(state.faults.corrupt(stream, row, e[1]))
        return state.faults.respond(request, envelope(len(rows), p, s, data))

    def guard(request: Request, x_api_key: str | None):
        auth(x_api_key)
        return state.faults.before(request, "onestop")

    paging_q = {"page": "page number, from 1",
                "pageSize": f"rows per page, 1-{MAX_PAGE_SIZE} (default {MAX_PAGE_SIZE})"}

    @router.get("/donvi", response_model=M.AgencyEnvelope, responses=err, summary="All agencies, past and present")
    def donvi(request: Request, page: str | None = Query(None, description=paging_q["page"]),
              pageSize: str | None = Query(None, description=paging_q["pageSize"]),
              x_api_key: str | None = Header(None, alias="X-API-Key")):
        return guard(request, x_api_key) or catalogue(request, state.agency_rows, page, pageSize)

    @router.get("/thutuc", response_model=M.ProcedureEnvelope, responses=err, summary="Procedure catalogue")
    def thutuc(request: Request, page: str | None = Query(None, description=paging_q["page"]),
               pageSize: str | None = Query(None, description=paging_q["pageSize"]),
               x_api_key: str | None = Header(None, alias="X-API-Key")):
        return guard(request, x_api_key) or catalogue(request, state.procedure_rows, page, pageSize)

    @router.get("/cauhinh-dichvu", response_model=M.ServiceConfigEnvelope, responses=err,
                summary="Per-agency service configuration with history")
    def cauhinh(request: Request, page: str | None = Query(None, description=paging_q["page"]),
                pageSize: str | None = Query(None, description=paging_q["pageSize"]),
                x_api_key: str | None = Header(None, alias="X-API-Key")):
        return guard(request, x_api_key) or catalogue(request, state.config_rows, page, pageSize)

    @router.get("/hoso", response_model=M.DossierEnvelope, responses=err,
                summary="Dossier versions whose NgayCapNhat is in [tuNgay, denNgay)")
    def hoso(request: Request, tuNgay: str | None = Query(None, description="yyyyMMddHHmmss, inclusive"),
             denNgay: str | None = Query(None, description="yyyyMMddHHmmss, exclusive; at most 366 days after tuNgay"),
             page: str | None = Query(None, description=paging_q["page"]),
             pageSize: str | None = Query(None, description=paging_q["pageSize"]),
             x_api_key: str | None = Header(None, alias="X-API-Key")):
        return guard(request, x_api_key) or change_log(request, "hoso", tuNgay, denNgay, page, pageSize)

    @router.get("/thanhtoan", response_model=M.PaymentEnvelope, responses=err,
                summary="Payment transaction versions whose NgayCapNhat is in [tuNgay, denNgay)")
    def thanhtoan(request: Request, tuNgay: str | None = Query(None, description="yyyyMMddHHmmss, inclusive"),
                  denNgay: str | None = Query(None,
                                              description="yyyyMMddHHmmss, exclusive; at most 366 days after tuNgay"),
                  page: str | None = Query(None, description=paging_q["page"]),
                  pageSize: str | None = Query(None, description=paging_q["pageSize"]),
                  x_api_key: str | None = Header(None, alias="X-API-Key")):
        return guard(request, x_api_key) or change_log(request, "thanhtoan", tuNgay, denNgay, page, pageSize)

    return router


def install_handlers(app) -> None:
    @app.exception_handler(OneStopError)
    async def _onestop_error(_request, exc: OneStopError):
        return json_response(error_body(exc.status, exc.message), status_code=exc.status)
