"""docs/sources.md §2, NDXP (the national data-sharing platform), under /ndxp.

OAuth2 client credentials (`POST /ndxp/oauth2/token`, form body or HTTP Basic), bearer tokens
that expire after --token-ttl seconds (300 by default), cursor paging
`{"items": [...], "nextCursor": "..." | null}` (`limit` 1-1000, default 500), ISO 8601 times
with the +07:00 offset. `fromDate`/`toDate`: ISO 8601 dates or date-times (an offset is honoured,
none means local time); the window is [fromDate, toDate), a date meaning its 00:00.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Query, Request

from mocks.common import json_response
from mocks.timefmt import VN_OFFSET

DEFAULT_LIMIT, MAX_LIMIT, MAX_WINDOW_DAYS = 500, 1000, 366


class NdxpError(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.error, self.message, self.headers = status, error, message, headers


class TokenStore:
    def __init__(self, ttl: int):
        self.ttl = ttl
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            if len(self._tokens) > 10_000:
                self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self.ttl
        return token

    def valid(self, token: str) -> bool:
        with self._lock:
            exp = self._tokens.get(token)
        return exp is not None and time.monotonic() < exp


def parse_when(value: str | None, name: str) -> datetime:
    if not value:
        raise NdxpError(400, "invalid_request", f"{name} is required (ISO 8601)")
    try:
        dt = datetime.fromisoformat(value.strip().replace(" ", "+") if "T" in value else value.strip())
    except ValueError:
        raise NdxpError(400, "invalid_request", f"{name} must be an ISO 8601 date or date-time") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(VN_OFFSET).replace(tzinfo=None)
    return dt


def _cursor_scope(*parts) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:12]


def encode_cursor(offset: int, scope: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "s": scope}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, scope: str) -> int:
    if not cursor:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = int(data["o"])
        ok = data["s"] == scope and offset >= 0
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        ok = False
    if not ok:
        raise NdxpError(400, "invalid_cursor", "cursor is not valid for this query")
    return offset


def build_router(state) -> APIRouter:
    from mocks import models as M

    router = APIRouter(prefix="/ndxp", tags=["ndxp"])
    creds = state.config.credentials
    tokens = TokenStore(state.config.token_ttl)
    state.ndxp_tokens = tokens
    err = {400: {"model": M.NdxpError, "description": "bad parameters"},
           401: {"model": M.NdxpError, "description": "missing, invalid or expired bearer token"}}

    @router.post("/oauth2/token", response_model=M.Token, tags=["ndxp"],
                 responses={400: {"model": M.OAuthError}, 401: {"model": M.OAuthError}},
                 summary="OAuth2 client credentials",
                 openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
                     "schema": {"type": "object", "required": ["grant_type"], "properties": {
                         "grant_type": {"type": "string", "enum": ["client_credentials"]},
                         "client_id": {"type": "string"}, "client_secret": {"type": "string"}}}}}}})
    async def token(request: Request):
        raw = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                pass
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type",
                                  "error_description": "grant_type must be client_credentials"}, 400)
        if not (secrets.compare_digest((client_id or "").encode(), creds.ndxp_client_id.encode())
                and secrets.compare_digest((client_secret or "").encode(), creds.ndxp_client_secret.encode())):
            return json_response({"error": "invalid_client", "error_description": "bad client credentials"}, 401,
                                 {"WWW-Authenticate": "Basic"})
        return json_response({"access_token": tokens.issue(), "token_type": "Bearer",
                              "expires_in": state.config.token_ttl})

    def guard(request: Request, authorization: str | None):
        scheme, _, tok = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not tok:
            raise NdxpError(401, "invalid_token", "missing bearer token", {"WWW-Authenticate": "Bearer"})
        if not tokens.valid(tok.strip()):
            raise NdxpError(401, "invalid_token", "token invalid or expired",
                            {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return state.faults.before(request, "ndxp")

    def limit_of(limit: str | None) -> int:
        if limit in (None, ""):
            return DEFAULT_LIMIT
        try:
            n = int(limit)
        except ValueError:
            raise NdxpError(400, "invalid_request", "limit must be an integer") from None
        if not 1 <= n <= MAX_LIMIT:
            raise NdxpError(400, "invalid_request", f"limit must be between 1 and {MAX_LIMIT}")
        return n

    def page(request: Request, rows: list, cursor: str | None, limit: str | None, scope_parts: tuple,
             stream: str | None = None):
        n = limit_of(limit)
        scope = _cursor_scope(*scope_parts, n)
        offset = decode_cursor(cursor, scope)
        rows = state.faults.duplicate(rows, n, "|".join(map(str, scope_parts)))
        chunk = rows[offset: offset + n]
        items = []
        for e in chunk:
            if stream is None:
                items.append(e)
            else:
                items.append(state.faults.corrupt(stream, e[3], e[1]))
        nxt = encode_cursor(offset + n, scope) if offset + n < len(rows) else None
        return state.faults.respond(request, {"items": items, "nextCursor": nxt})

    def window(from_date, to_date) -> tuple[datetime, datetime]:
        start, end = parse_when(from_date, "fromDate"), parse_when(to_date, "toDate")
        if end - start > timedelta(days=MAX_WINDOW_DAYS):
            raise NdxpError(400, "invalid_request", f"the window may not exceed {MAX_WINDOW_DAYS} days")
        return start, end

    @router.get("/dvcqg/v1/dongbo", response_model=M.SyncPage, responses=err,
                summary="National-portal sync receipts (one per attempt) in [fromDate, toDate)")
    def dongbo(request: Request, fromDate: str | None = Query(None, description="ISO 8601, inclusive"),
               toDate: str | None = Query(None, description="ISO 8601, exclusive"),
               cursor: str | None = Query(None), limit: str | None = Query(None, description="1-1000, default 500"),
               authorization: str | None = Header(None)):
        resp = guard(request, authorization)
        if resp is not None:
            return resp
        start, end = window(fromDate, toDate)
        rows = state.faults.served(state.generator.window("dongbo", start, end))
        return page(request, rows, cursor, limit, ("dongbo", start, end), "dongbo")

    @router.get("/dvcqg/v1/thutuc-tichhop", response_model=M.IntegratedPage, responses=err,
                summary="Services integrated on the national portal, with their history")
    def tichhop(request: Request, cursor: str | None = Query(None),
                limit: str | None = Query(None, description="1-1000, default 500"),
                authorization: str | None = Header(None)):
        resp = guard(request, authorization)
        if resp is not None:
            return resp
        return page(request, state.integrated_rows, cursor, limit, ("tichhop",))

    @router.get("/paygov/v1/giaodich", response_model=M.PayGovPage, responses=err,
                summary="National payment platform transactions with thoiGianGD in [fromDate, toDate)")
    def giaodich(request: Request, fromDate: str | None = Query(None, description="ISO 8601, inclusive"),
                 toDate: str | None = Query(None, description="ISO 8601, exclusive"),
                 cursor: str | None = Query(None), limit: str | None = Query(None, description="1-1000, default 500"),
                 authorization: str | None = Header(None)):
        resp = guard(request, authorization)
        if resp is not None:
            return resp
        start, end = window(fromDate, toDate)
        rows = state.faults.served(state.generator.window("paygov", start, end))
        return page(request, rows, cursor, limit, ("paygov", start, end), "paygov")

    return router


def install_handlers(app) -> None:
    @app.exception_handler(NdxpError)
    async def _ndxp_error(_request, exc: NdxpError):
        return json_response({"error": exc.error, "message": exc.message}, exc.status, exc.headers)
