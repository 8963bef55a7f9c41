"""HTTP plumbing shared by the source clients. Retries come from tenacity, around request and
decoding together, because some transient failures are not HTTP statuses (a truncated JSON body,
VNPost's error inside an HTTP 200). One call makes at most `max_attempts` attempts; an attempt is
one request to the endpoint, preceded by a token request when no valid token is held.

Retried: connection errors and timeouts, 429/500/502/503/504 (waiting `Retry-After` when given,
else exponential backoff with full jitter), malformed or unexpected bodies, envelope errors that
carry a retryable status, and one 401 on a renewable token. Everything else is final.
Errors are `SourceError`s whose str() is one line naming the setting to fix where there is one."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import msgspec
import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

log = logging.getLogger(__name__)
RETRY_STATUS = {429, 500, 502, 503, 504}
AUTH_STATUS = {401, 403}
MAX_RETRY_AFTER = 300.0
DAYS_PER_REQUEST = 7  # windowed endpoints are asked for at most this many days at a time


class SourceError(RuntimeError):
    """A source system failed in a way retries did not fix. str() is one line for the operator."""

    def __init__(self, message: str, *, system: str, endpoint: str, window: str | None = None):
        super().__init__(message)
        self.system, self.endpoint, self.window = system, endpoint, window


class SourceUnreachable(SourceError):
    """No answer at all from the source's URL, attempt after attempt."""


class SourceAuthError(SourceError):
    """The source refused our credentials (after renewing the token, where there is one)."""

    def __init__(self, message: str, *, status: int, **where: Any):
        super().__init__(message, **where)
        self.status = status


class SourceUnavailable(SourceError):
    """The source kept failing transiently (5xx, 429, bad bodies) until the attempts ran out."""


class _Again(Exception):
    """One attempt failed in a way another attempt may fix."""

    def __init__(self, detail: str, *, unreachable: bool = False, retry_after: float | None = None):
        super().__init__(detail)
        self.detail, self.unreachable, self.retry_after = detail, unreachable, retry_after


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


def _root_cause(exc: BaseException) -> str:
    """'ConnectionRefusedError: [Errno 111] Connection refused' rather than urllib3's nested reprs."""
    while (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__
    return f"{type(exc).__name__}: {exc}"


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped; None if absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class HttpSource:
    """Base of the clients: a requests Session plus get_json() with bounded retries."""

    system = "source"
    url_setting = "URL"                # the variable holding base_url, named in errors
    credential_settings = "credentials"  # the variables holding the credentials, named in errors
    renewable_auth = False  # True where a 401 can be cured by fetching a fresh token

    def __init__(self, base_url: str, *, timeout: float = 30.0, max_attempts: int = 8,
                 backoff: float = 0.5, max_backoff: float = 30.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff          # first backoff window, in seconds; doubles per attempt
        self.max_backoff = max_backoff  # widest backoff window
        self.sleep: Callable[[float], None] = time.sleep  # tests record the waits instead of waiting
        self.session = session or requests.Session()

    def get_json(self, path: str, *, window: str | None = None, **kwargs: Any) -> Any:
        """GET and decode JSON, retried as the module says. Raises a SourceError when the answer is
        final or after max_attempts attempts."""
        renewed = False

        def attempt() -> Any:
            nonlocal renewed
            headers = self._credentials()  # a refused token request is final
            try:
                return self._send("GET", path, window, headers=headers, **kwargs)
            except SourceAuthError as exc:
                if exc.status != 401 or not self.renewable_auth or renewed:
                    raise
                log.info("%s %s: 401, renewing the token", self.system, path)
                self._forget_token()
                renewed = True
                raise _Again("HTTP 401; token renewed", retry_after=0.0) from None

        retrying = Retrying(stop=stop_after_attempt(self.max_attempts), wait=self._wait(),
                            retry=retry_if_exception_type(_Again), sleep=self.sleep,
                            before_sleep=lambda state: self._log_retry(path, state), reraise=True)
        try:
            return retrying(attempt)
        except _Again as exc:
            where = self._where(path, window)
            if exc.unreachable:
                raise SourceUnreachable(f"{self.url_setting} {self.base_url} unreachable: {exc.detail} "
                                        f"({where}, {self.max_attempts} attempts)",
                                        system=self.system, endpoint=path, window=window) from None
            raise SourceUnavailable(f"{where}: gave up after {self.max_attempts} attempts; last error {exc.detail}",
                                    system=self.system, endpoint=path, window=window) from None

    def _send(self, method: str, path: str, window: str | None, *, envelope: bool = True, **kwargs: Any) -> Any:
        """One request and its decoded body. Raises _Again when another attempt may succeed,
        SourceAuthError on 401/403, SourceError on any other final error."""
        try:
            resp = self.session.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            slow = isinstance(exc, requests.ReadTimeout)
            raise _Again(f"no answer within {self.timeout}s" if slow else _root_cause(exc), unreachable=True) from exc
        if resp.status_code >= 400:
            status, detail = resp.status_code, f"HTTP {resp.status_code}: {_one_line(resp.text)}"
        else:
            try:
                body = msgspec.json.decode(resp.content)  # twice as fast as json: pages are read beside loading
            except ValueError:
                raise _Again(f"malformed JSON body ({_one_line(resp.text, 80)!r})") from None
            problem = self._envelope_error(body) if envelope else None
            if problem is None:
                return body
            status, detail = problem
        if status is None or status in RETRY_STATUS:
            raise _Again(detail, retry_after=_retry_after(resp.headers.get("Retry-After")))
        where = {"system": self.system, "endpoint": path, "window": window}
        if status in AUTH_STATUS:
            raise SourceAuthError(f"{self.credential_settings} refused by {self._where(path, window)}: {detail}",
                                  status=status, **where)
        hint = f" (is {self.url_setting} {self.base_url} right?)" if status == 404 else ""
        raise SourceError(f"{self._where(path, window)}: {detail}{hint}", **where)

    def _where(self, path: str, window: str | None) -> str:
        return f"{self.system} {path}" + (f" for window {window}" if window else "")

    def _wait(self) -> Callable[[RetryCallState], float]:
        """Retry-After when the source gave one, else full-jitter exponential backoff (read per call:
        callers may change backoff/max_backoff on a live client)."""
        backoff = wait_random_exponential(multiplier=self.backoff, max=self.max_backoff)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Again) and exc.retry_after is not None:
                return exc.retry_after
            return backoff(state)
        return wait

    def _log_retry(self, path: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("%s %s attempt %d/%d: %s; next in %.2fs", self.system, path, state.attempt_number,
                    self.max_attempts, getattr(exc, "detail", exc), state.next_action.sleep if state.next_action else 0)

    def _token_answer(self, path: str, **kwargs: Any) -> dict:
        """A token answer ({"access_token": ...}) from one POST; an attempt like any other."""
        body = self._send("POST", path, None, envelope=False, **kwargs)
        if not isinstance(body, dict) or "access_token" not in body:
            raise _Again(f"{path} answered without access_token: {_one_line(repr(body))}")
        return body

    # Hooks for the clients' envelopes and auth schemes.
    def _envelope_error(self, body: Any) -> tuple[int | None, str] | None:
        """When a 2xx body reports an error: (the HTTP status it amounts to, or None for a body not
        of the expected shape, which is retried; message). None when the body is fine."""
        return None

    def _credentials(self) -> dict[str, str]:
        """Headers carrying the credential, fetching a token first where one is needed."""
        return {}

    def _forget_token(self) -> None:
        """Drop the current token (on 401); the next _credentials fetches a fresh one."""
