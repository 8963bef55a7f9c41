"""docs/sources.md §3, VNPost's public postal service (BCCI) API, under /vnpost.

`POST /vnpost/api/auth` JSON {username, password} -> {"access_token"}; the token goes in the
`access_token` header (valid --vnpost-token-ttl seconds, a day by default). Envelope
{"Status": "100", "Message": "", "Total": N, "Items": [...]}. Errors:
  * bad credentials, missing/unknown/expired token: HTTP 401, Status "401";
  * bad parameters (dates not dd/MM/yyyy, limit > 500, negative offset): HTTP 200 with Status
    "400" - the body, not the HTTP code, says it failed;
  * under the http5xx fault, half of the failures are HTTP 200 with Status "500".
Orders: `fromDate`/`toDate` are dd/MM/yyyy, both days included; `offset` from 0, `limit` 1-500
(default 100); ordered by LastModified, ItemCode.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from fastapi import APIRouter, Header, Query, Request

from mocks.common import json_response
from mocks.ndxp import TokenStore

MAX_LIMIT, DEFAULT_LIMIT, MAX_WINDOW_DAYS = 500, 100, 366


class VnpostError(Exception):
    def __init__(self, http_status: int, status: str, message: str):
        super().__init__(message)
        self.http_status, self.status, self.message = http_status, status, message


def envelope(items: list, total: int, status: str = "100", message: str = "") -> dict:
    return {"Status": status, "Message": message, "Total": total, "Items": items}


def _date(value: str | None, name: str) -> datetime:
    try:
        return datetime.strptime(value or "", "%d/%m/%Y")
    except ValueError:
        raise VnpostError(200, "400", f"{name} phải có dạng dd/MM/yyyy") from None


def _int(value: str | None, name: str, default: int, lo: int, hi: int | None) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except ValueError:
        raise VnpostError(200, "400", f"{name} không hợp lệ") from None
    if n < lo or (hi is not None and n > hi):
        raise VnpostError(200, "400", f"{name} phải trong khoảng {lo}-{hi}" if hi else f"{name} phải >= {lo}")
    return n


def build_router(state) -> APIRouter:
    from mocks import models as M

    router = APIRouter(prefix="/vnpost/api", tags=["vnpost"])
    creds = state.config.credentials
    tokens = TokenStore(state.config.vnpost_token_ttl)
    err = {401: {"model": M.VnpostEnvelope, "description": "bad credentials or token (Status 401)"}}

    @router.post("/auth", response_model=M.VnpostToken, responses=err, summary="Log in",
                 openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                     "schema": M.VnpostAuth.model_json_schema()}}}})
    async def auth(request: Request):
        try:
            body = json.loads(await request.body() or b"null")
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or body.get("username") != creds.vnpost_username \
                or body.get("password") != creds.vnpost_password:
            raise VnpostError(401, "401", "Tên đăng nhập hoặc mật khẩu không đúng")
        return json_response({"access_token": tokens.issue()})

    @router.get("/bcci/orders", response_model=M.VnpostEnvelope, responses=err,
                summary="BCCI orders created or changed between fromDate and toDate (both included)")
    def orders(request: Request, fromDate: str | None = Query(None, description="dd/MM/yyyy, included"),
               toDate: str | None = Query(None, description="dd/MM/yyyy, included"),
               offset: str | None = Query(None, description="from 0"),
               limit: str | None = Query(None, description="1-500, default 100"),
               access_token: str | None = Header(None, alias="access_token", convert_underscores=False)):
        if not access_token or not tokens.valid(access_token):
            raise VnpostError(401, "401", "access_token không hợp lệ hoặc đã hết hạn")
        resp = state.faults.before(request, "vnpost")
        if resp is not None:
            return resp
        start, end = _date(fromDate, "fromDate"), _date(toDate, "toDate") + timedelta(days=1)
        if (end - start).days > MAX_WINDOW_DAYS:
            raise VnpostError(200, "400", f"Khoảng thời gian tối đa {MAX_WINDOW_DAYS} ngày")
        off = _int(offset, "offset", 0, 0, None)
        n = _int(limit, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        rows = state.faults.served(state.generator.window("bcci", start, end)) if end > start else []
        rows = state.faults.duplicate(rows, n, f"bcci|{fromDate}|{toDate}")
        items = [state.faults.corrupt("bcci", e[3], e[1]) for e in rows[off: off + n]]
        return state.faults.respond(request, envelope(items, len(rows)))

    return router


def install_handlers(app) -> None:
    @app.exception_handler(VnpostError)
    async def _vnpost_error(_request, exc: VnpostError):
        return json_response(envelope([], 0, exc.status, exc.message), exc.http_status)
