"""Client of the provincial one-stop system (docs/sources.md): X-API-Key, page-number paging,
yyyyMMddHHmmss local dates, envelope {error_code, total, page, pageSize, data}."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from etl.sources.http import DAYS_PER_REQUEST, HttpSource, SourceError
from etl.timeutil import Window, format_onestop

log = logging.getLogger(__name__)
API = "/onestop/api/v1"


class OneStopClient(HttpSource):
    system = "onestop"
    url_setting, credential_settings = "ONESTOP_URL", "ONESTOP_API_KEY"

    def __init__(self, base_url: str, api_key: str, *, page_size: int = 1000, **kwargs):
        super().__init__(base_url, **kwargs)
        self.session.headers["X-API-Key"] = api_key
        self.page_size = page_size
        self.max_walks = 3
        self.last_total = 0

    def pages(self, endpoint: str, params: dict | None = None, window: str | None = None) -> Iterator[list[dict]]:
        """Every page of an endpoint, in order. Stops at the first short or empty page."""
        path = f"{API}/{endpoint}"
        page = 1
        while True:
            body = self.get_json(path, window=window,
                                 params={**(params or {}), "page": page, "pageSize": self.page_size})
            data = body.get("data") or []
            self.last_total = int(body.get("total") or 0)
            yield data
            if not data or page * self.page_size >= self.last_total:
                return
            page += 1

    def _envelope_error(self, body):
        if not isinstance(body, dict) or "data" not in body:
            return None, f"unexpected body {repr(body)[:200]}"
        code = body.get("error_code", 0)
        if code == 0:
            return None
        status = code if isinstance(code, int) else 0  # a code that is an HTTP status means what it does over HTTP
        return status, f"error envelope {code}: {body.get('message')}"

    def records(self, endpoint: str) -> list[dict]:
        """A whole catalogue endpoint (agencies, procedures, service configuration)."""
        return [row for page in self.pages(endpoint) for row in page]

    def agencies(self) -> list[dict]:
        return self.records("donvi")

    def procedures(self) -> list[dict]:
        return self.records("thutuc")

    def service_configs(self) -> list[dict]:
        return self.records("cauhinh-dichvu")

    def dossier_pages(self, window: Window) -> Iterator[list[dict]]:
        """Dossier versions (key MaHoSo + NgayCapNhat) with NgayCapNhat in the window."""
        return self.windowed_pages("hoso", window, ("MaHoSo", "NgayCapNhat"))

    def payment_pages(self, window: Window) -> Iterator[list[dict]]:
        """Payment transaction versions (key MaGiaoDich + NgayCapNhat) updated in the window."""
        return self.windowed_pages("thanhtoan", window, ("MaGiaoDich", "NgayCapNhat"))

    def windowed_pages(self, endpoint: str, window: Window, key: tuple[str, ...]) -> Iterator[list[dict]]:
        """A windowed endpoint a few days at a time (memory stays bounded whatever the window).

        Page numbers over data that changes while we page can skip rows: when a walk returns
        fewer rows than the server's total, the stretch is walked again and only the records not yet
        seen are passed on. Repeated rows are dropped here and by the loader.
        """
        for part in window.split(DAYS_PER_REQUEST):
            yield from self._walk(endpoint, part.start, part.end, key)

    def _walk(self, endpoint: str, start: datetime, end: datetime, key: tuple[str, ...]) -> Iterator[list[dict]]:
        params = {"tuNgay": format_onestop(start), "denNgay": format_onestop(end)}
        seen: set[tuple] = set()
        for _ in range(self.max_walks):
            received = 0
            for page in self.pages(endpoint, params, window=str(Window(start, end))):
                received += len(page)
                fresh = [r for r in page if tuple(r.get(k) for k in key) not in seen]
                seen.update(tuple(r.get(k) for k in key) for r in fresh)
                if fresh:
                    yield fresh
            if received >= self.last_total:
                return
            log.warning("onestop %s %s: %d rows of %d announced; walking the day again",
                        endpoint, Window(start, end), received, self.last_total)
        path, window = f"{API}/{endpoint}", str(Window(start, end))
        raise SourceError(f"{self._where(path, window)}: fewer rows than the {self.last_total} announced "
                          f"after {self.max_walks} walks", system=self.system, endpoint=path, window=window)
