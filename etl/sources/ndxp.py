"""Client of NDXP, the national data-sharing platform (docs/sources.md): OAuth2 client
credentials (5-minute tokens, renewed before expiry or on 401), cursor paging, ISO 8601 times."""
from __future__ import annotations

import time
from collections.abc import Iterator

from etl.sources.http import DAYS_PER_REQUEST, HttpSource
from etl.timeutil import LOCAL_TZ, Window

TOKEN_PATH = "/ndxp/oauth2/token"


class NdxpClient(HttpSource):
    system = "ndxp"
    url_setting, credential_settings = "NDXP_URL", "NDXP_CLIENT_ID/NDXP_CLIENT_SECRET"
    renewable_auth = True
    RENEW_BEFORE = 30.0  # seconds before expiry

    def __init__(self, base_url: str, client_id: str, client_secret: str, **kwargs):
        super().__init__(base_url, **kwargs)
        self.client_id, self.client_secret = client_id, client_secret
        self._token: str | None = None
        self._expires_at = 0.0

    def _credentials(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._expires_at - self.RENEW_BEFORE:
            body = self._token_answer(TOKEN_PATH, data={
                "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret})
            self._token = body["access_token"]
            self._expires_at = time.monotonic() + float(body.get("expires_in", 300))
        return {"Authorization": f"Bearer {self._token}"}

    def _forget_token(self) -> None:
        self._token = None

    def _envelope_error(self, body):
        if not isinstance(body, dict) or "items" not in body:
            return None, f"unexpected body {repr(body)[:200]}"
        return None

    def items(self, path: str, params: dict | None = None, window: str | None = None) -> Iterator[list[dict]]:
        cursor = None
        while True:
            page = {"cursor": cursor} if cursor else {}
            body = self.get_json(path, window=window, params={**(params or {}), **page})
            yield body["items"]
            cursor = body.get("nextCursor")
            if not cursor:
                return

    def _window_params(self, window: Window) -> dict:
        return {"fromDate": window.start.replace(tzinfo=LOCAL_TZ).isoformat(),
                "toDate": window.end.replace(tzinfo=LOCAL_TZ).isoformat()}

    def windowed_items(self, path: str, window: Window) -> Iterator[list[dict]]:
        for part in window.split(DAYS_PER_REQUEST):
            yield from self.items(path, self._window_params(part), str(part))

    def sync_receipt_pages(self, window: Window) -> Iterator[list[dict]]:
        return self.windowed_items("/ndxp/dvcqg/v1/dongbo", window)

    def paygov_pages(self, window: Window) -> Iterator[list[dict]]:
        return self.windowed_items("/ndxp/paygov/v1/giaodich", window)

    def integrated_services(self) -> list[dict]:
        return [row for page in self.items("/ndxp/dvcqg/v1/thutuc-tichhop") for row in page]
