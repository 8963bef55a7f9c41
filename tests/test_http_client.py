"""The source clients' HTTP behaviour, against a scripted server on loopback (real sockets)."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etl.sources.http import SourceError
from etl.sources.onestop import OneStopClient
from etl.timeutil import Window


class Scripted:
    """Answers requests from a list of (status, headers, body); the last answer repeats."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests: list[tuple[str, dict]] = []

    def __enter__(self):
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                scripted.requests.append((self.path, dict(self.headers)))
                status, headers, body = scripted.answers.pop(0) if len(scripted.answers) > 1 else scripted.answers[0]
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def envelope(data, total=None, page=1, size=2):
    return {"error_code": 0, "message": "", "total": len(data) if total is None else total,
            "page": page, "pageSize": size, "data": data}


def client(url, **kw):
    return OneStopClient(url, "k", backoff=0.01, max_backoff=0.05, **kw)


def test_retries_5xx_and_malformed_bodies_then_succeeds():
    answers = [(503, {}, {"err": 1}), (500, {}, {"err": 1}), (200, {}, b"{not json"), (200, {}, envelope([{"a": 1}]))]
    with Scripted(answers) as url:
        assert client(url).agencies() == [{"a": 1}]


def test_429_waits_for_retry_after():
    answers = [(429, {"Retry-After": "0.3"}, {}), (200, {}, envelope([{"a": 1}]))]
    with Scripted(answers) as url:
        started = time.monotonic()
        client(url, max_attempts=3).agencies()
        assert time.monotonic() - started >= 0.3


def rec(i):
    return {"MaHoSo": f"d{i}", "NgayCapNhat": "20220103080000"}


def test_pages_until_total():
    pages = [(200, {}, envelope([rec(1), rec(2)], total=5)), (200, {}, envelope([rec(3), rec(4)], total=5)),
             (200, {}, envelope([rec(5)], total=5))]
    with Scripted(pages) as url:
        window = Window(datetime(2022, 1, 3), datetime(2022, 1, 4))
        got = [r["MaHoSo"] for page in client(url, page_size=2).dossier_pages(window) for r in page]
    assert got == ["d1", "d2", "d3", "d4", "d5"]


def test_page_drift_is_repaired_by_walking_the_day_again():
    # Rows shifted while paging: the first walk never sees d3 and gets fewer rows than announced.
    first_walk = [(200, {}, envelope([rec(1), rec(2)], total=4)), (200, {}, envelope([rec(4)], total=4))]
    second_walk = [(200, {}, envelope([rec(1), rec(2)], total=4)), (200, {}, envelope([rec(3), rec(4)], total=4))]
    scripted = Scripted(first_walk + second_walk)
    with scripted as url:
        window = Window(datetime(2022, 1, 3), datetime(2022, 1, 4))
        got = [r["MaHoSo"] for page in client(url, page_size=2).dossier_pages(window) for r in page]
    assert sorted(got) == ["d1", "d2", "d3", "d4"]
    assert len(got) == 4, "records already passed on are not repeated"


def test_repeated_rows_are_passed_on_once():
    pages = [(200, {}, envelope([rec(1), rec(2)], total=4)), (200, {}, envelope([rec(2), rec(3)], total=4))]
    with Scripted(pages) as url:
        window = Window(datetime(2022, 1, 3), datetime(2022, 1, 4))
        got = [r["MaHoSo"] for page in client(url, page_size=2).dossier_pages(window) for r in page]
    assert got == ["d1", "d2", "d3"]


def test_exhausted_retries_name_system_endpoint_and_window():
    with Scripted([(503, {}, {"err": "down"})]) as url:
        window = Window(datetime(2022, 1, 3), datetime(2022, 1, 4))
        with pytest.raises(SourceError) as err:
            list(client(url, max_attempts=3).dossier_pages(window))
    message = str(err.value)
    assert "onestop" in message and "/onestop/api/v1/hoso" in message and "2022-01-03" in message
    assert "gave up after 3 attempts" in message


def test_wrong_key_is_final_not_retried():
    scripted = Scripted([(401, {}, {"error_code": 401, "message": "bad key"})])
    with scripted as url:
        with pytest.raises(SourceError, match="HTTP 401"):
            client(url).agencies()
    assert len(scripted.requests) == 1
    assert scripted.requests[0][1]["X-API-Key"] == "k"


def test_error_envelope_is_an_error():
    with Scripted([(200, {}, {"error_code": 99, "message": "database busy", "data": []})]) as url:
        with pytest.raises(SourceError, match="database busy"):
            client(url).agencies()
