"""Client of VNPost's BCCI API (docs/sources.md): a token from /vnpost/api/auth sent in the
`access_token` header, offset paging, an envelope whose Status other than "100" is an error
even under HTTP 200, dd/MM/yyyy dates (both days included)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from etl.sources.http import DAYS_PER_REQUEST, HttpSource
from etl.timeutil import Window

AUTH_PATH = "/vnpost/api/auth"


class VnpostClient(HttpSource):
    system = "vnpost"
    url_setting, credential_settings = "VNPOST_URL", "VNPOST_USERNAME/VNPOST_PASSWORD"
    renewable_auth = True

    def __init__(self, base_url: str, username: str, password: str, *, limit: int = 500, **kwargs):
        super().__init__(base_url, **kwargs)
        self.username, self.password, self.limit = username, password, limit
        self._token: str | None = None

    def _credentials(self) -> dict[str, str]:
        if self._token is None:
            body = self._token_answer(AUTH_PATH, json={"username": self.username, "password": self.password})
            self._token = body["access_token"]
        return {"access_token": self._token}

    def _forget_token(self) -> None:
        self._token = None

    def _envelope_error(self, body):
        """Status is a string; "100" is success and the others read as HTTP statuses ("401", "500", "400")."""
        if not isinstance(body, dict) or "Status" not in body:
            return None, f"unexpected body {repr(body)[:200]}"
        status = str(body["Status"])
        if status == "100":
            return None
        return int(status) if status.isdigit() else 0, f"Status {status}: {body.get('Message')}"

    def order_pages(self, window: Window) -> Iterator[list[dict]]:
        """Orders created or changed in the window, a few days at a time."""
        for part in window.split(DAYS_PER_REQUEST):
            yield from self._order_pages(part)

    def _order_pages(self, window: Window) -> Iterator[list[dict]]:
        """The window's days are [start, end): VNPost's toDate is inclusive."""
        last_day = (window.end - timedelta(seconds=1)).date()
        params = {"fromDate": window.start.strftime("%d/%m/%Y"), "toDate": last_day.strftime("%d/%m/%Y")}
        offset = 0
        while True:
            body = self.get_json("/vnpost/api/bcci/orders", window=str(window),
                                 params={**params, "offset": offset, "limit": self.limit})
            items = body.get("Items") or []
            yield items
            offset += len(items)
            if not items or offset >= int(body.get("Total") or 0):
                return
