"""HTTP plumbing shared by the source clients: timeouts, retries with exponential
backoff and jitter on 5xx/connection errors, Retry-After on 429, and errors that name
the system, the endpoint and the window."""
from __future__ import annotations

import logging
import random
import time
from typing import Any

import requests

log = logging.getLogger(__name__)
RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 300.0
DAYS_PER_REQUEST = 7  # windowed endpoints are asked for at most this many days at a time


class SourceError(RuntimeError):
    """A source system failed in a way retries did not fix."""

    def __init__(self, system: str, endpoint: str, window: str | None, detail: str):
        where = f"{system} {endpoint}" + (f" for window {window}" if window else "")
        super().__init__(f"{where}: {detail}")
        self.system, self.endpoint, self.window = system, endpoint, window


class HttpSource:
    """Base of the clients: a requests Session plus a retrying request()."""

    system = "source"
    renewable_auth = False  # True where a 401 can be cured by fetching a fresh token

    def __init__(self, base_url: str, *, timeout: float = 30.0, max_attempts: int = 6,
                 backoff: float = 0.5, max_backoff: float = 30.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.session = session or requests.Session()

    def _sleep_before_retry(self, attempt: int, retry_after: str | None) -> None:
        if retry_after is not None:
            try:  # the server said how long: honour it (within reason)
                time.sleep(min(float(retry_after), MAX_RETRY_AFTER))
                return
            except ValueError:
                pass
        time.sleep(min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0))

    def request(self, method: str, path: str, *, window: str | None = None, authenticated: bool = True,
                **kwargs: Any) -> requests.Response:
        """Send with retries. Raises SourceError when retries run out or the answer is final (4xx).
        A 401 on an authenticated call renews the credential once and tries again."""
        url = self.base_url + path
        last = "no attempt made"
        renewed = False
        for attempt in range(self.max_attempts):
            call = self._auth(dict(kwargs)) if authenticated else dict(kwargs)
            try:
                resp = self.session.request(method, url, timeout=self.timeout, **call)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"{type(exc).__name__}: {exc}"
                log.warning("%s %s attempt %d/%d: %s", self.system, path, attempt + 1, self.max_attempts, last)
                self._sleep_before_retry(attempt, None)
                continue
            if resp.status_code in RETRY_STATUS:
                last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                log.warning("%s %s attempt %d/%d: %s", self.system, path, attempt + 1, self.max_attempts, last)
                self._sleep_before_retry(attempt, resp.headers.get("Retry-After"))
                continue
            if resp.status_code == 401 and authenticated and self.renewable_auth and not renewed:
                log.info("%s %s: 401, renewing the credential", self.system, path)
                self._reauthenticate()
                renewed = True
                continue
            if resp.status_code >= 400:
                raise SourceError(self.system, path, window, f"HTTP {resp.status_code}: {resp.text[:300]}")
            return resp
        raise SourceError(self.system, path, window, f"gave up after {self.max_attempts} attempts; last error {last}")

    def get_json(self, path: str, *, window: str | None = None, **kwargs: Any) -> Any:
        """GET and decode JSON. A body that is not JSON (a truncated answer) or whose envelope
        reports a transient error is retried like a 5xx; a final envelope error raises."""
        last = ""
        for attempt in range(self.max_attempts):
            resp = self.request("GET", path, window=window, **kwargs)
            try:
                body = resp.json()
            except ValueError:
                last = f"malformed JSON body ({resp.text[:80]!r})"
            else:
                problem = self._envelope_error(body)
                if problem is None:
                    return body
                retryable, last = problem
                if not retryable:
                    raise SourceError(self.system, path, window, last)
            log.warning("%s %s attempt %d/%d: %s", self.system, path, attempt + 1, self.max_attempts, last)
            self._sleep_before_retry(attempt, None)
        raise SourceError(self.system, path, window, f"gave up after {self.max_attempts} attempts; last error {last}")

    def _envelope_error(self, body: Any) -> tuple[bool, str] | None:
        """(retryable, message) when a 200 answer's envelope reports an error, else None."""
        return None

    # Hooks for the clients' auth schemes.
    def _auth(self, kwargs: dict) -> dict:
        """The request's keyword arguments with the credential added."""
        return kwargs

    def _reauthenticate(self) -> None:
        """Forget the current credential (on 401); the next _auth obtains a fresh one."""
