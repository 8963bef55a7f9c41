"""The source clients' HTTP behaviour, against a scripted server on loopback (real sockets) and
the simulator: what is retried, how long it waits, how many attempts a call may make, and the one
line an operator reads when a source cannot be used."""
from __future__ import annotations

import json
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from etl import config
from etl.sources.http import MAX_RETRY_AFTER, SourceAuthError, SourceError, SourceUnavailable, SourceUnreachable
from etl.sources.ndxp import NdxpClient
from etl.sources.onestop import OneStopClient
from etl.sources.vnpost import VnpostClient
from etl.timeutil import Window
from mocks.testing import free_port


class Scripted:
    """Answers GETs from a list of (status, headers, body) and POSTs from another; the last answer
    of each list repeats. Records (method, path, headers) of every request."""

    def __init__(self, answers, posts=((200, {}, {"access_token": "t"}),)):
        self.answers = {"GET": list(answers), "POST": list(posts)}
        self.requests: list[tuple[str, str, dict]] = []

    def __enter__(self):
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                scripted.requests.append((self.command, self.path, dict(self.headers)))
                answers = scripted.answers[self.command]
                status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def gets(self) -> list[tuple[str, dict]]:
        return [(path, headers) for method, path, headers in self.requests if method == "GET"]


def envelope(data, total=None, page=1, size=2):
    return {"error_code": 0, "message": "", "total": len(data) if total is None else total,
            "page": page, "pageSize": size, "data": data}


def quiet(client, slept=None):
    """The client's waits go to a list instead of the clock."""
    client.sleep = (slept if slept is not None else []).append
    return client


def client(url, slept=None, **kw):
    return quiet(OneStopClient(url, "k", backoff=0.01, max_backoff=0.05, **kw), slept)


def test_retries_5xx_and_malformed_bodies_then_succeeds():
    answers = [(503, {}, {"err": 1}), (500, {}, {"err": 1}), (200, {}, b"{not json"), (200, {}, envelope([{"a": 1}]))]
    with Scripted(answers) as url:
        assert client(url).agencies() == [{"a": 1}]


def test_retry_after_is_waited_for_on_429_and_503():
    answers = [(429, {"Retry-After": "7"}, {}), (503, {"Retry-After": "2.5"}, {}),
               (503, {"Retry-After": "86400"}, {}), (200, {}, envelope([{"a": 1}]))]
    slept: list[float] = []
    with Scripted(answers) as url:
        assert client(url, slept, max_attempts=4).agencies() == [{"a": 1}]
    assert slept == [7.0, 2.5, MAX_RETRY_AFTER]


def test_backoff_widens_with_jitter_up_to_max_backoff():
    slept: list[float] = []
    with Scripted([(500, {}, {"err": 1})]) as url:
        c = client(url, slept, max_attempts=8)
        c.backoff, c.max_backoff = 1.0, 4.0
        with pytest.raises(SourceUnavailable):
            c.agencies()
    assert len(slept) == 7
    windows = [min(4.0, 2.0 ** n) for n in range(7)]  # 1, 2, 4, 4, ...
    assert all(0 <= s <= w for s, w in zip(slept, windows, strict=True)), slept
    assert len(set(slept)) > 1, "jittered, not a fixed wait"


@pytest.mark.parametrize("failure", [(503, {}, {"err": 1}), (200, {}, b"{truncated"), (200, {}, {"no": "envelope"})],
                         ids=["5xx", "malformed", "unexpected-body"])
def test_a_call_makes_at_most_max_attempts_requests(failure):
    scripted = Scripted([failure])
    with scripted as url:
        with pytest.raises(SourceUnavailable, match="gave up after 5 attempts"):
            client(url, max_attempts=5).agencies()
    assert len(scripted.requests) == 5


def test_the_bound_holds_across_kinds_of_failure():
    """Malformed bodies and 5xx alternate: one budget covers both (it used to be one per kind, nested)."""
    scripted = Scripted([(200, {}, b"{truncated"), (503, {}, {"err": 1})] * 10)
    with scripted as url:
        with pytest.raises(SourceUnavailable):
            client(url, max_attempts=6).agencies()
    assert len(scripted.requests) == 6


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
        with pytest.raises(SourceAuthError) as err:
            client(url).agencies()
    assert str(err.value).startswith("ONESTOP_API_KEY refused by onestop /onestop/api/v1/donvi: HTTP 401")
    assert len(scripted.requests) == 1
    assert scripted.requests[0][2]["X-API-Key"] == "k"


def ndxp(url, **kw):
    return quiet(NdxpClient(url, "id", "secret", backoff=0.01, max_backoff=0.05, **kw))


def vnpost(url, **kw):
    return quiet(VnpostClient(url, "user", "password", backoff=0.01, max_backoff=0.05, **kw))


def test_ndxp_401_renews_the_token_once_then_succeeds():
    tokens = [(200, {}, {"access_token": t, "expires_in": 300}) for t in ("old", "new")]
    scripted = Scripted([(401, {}, {"error": "invalid_token"}), (200, {}, {"items": [{"a": 1}], "nextCursor": None})],
                        posts=tokens)
    with scripted as url:
        assert ndxp(url).integrated_services() == [{"a": 1}]
    assert [h["Authorization"] for _, h in scripted.gets()] == ["Bearer old", "Bearer new"]


def test_ndxp_401_after_renewal_names_the_credentials():
    scripted = Scripted([(401, {}, {"error": "invalid_token"})])
    with scripted as url:
        with pytest.raises(SourceAuthError) as err:
            ndxp(url, max_attempts=10).integrated_services()
    assert str(err.value).startswith("NDXP_CLIENT_ID/NDXP_CLIENT_SECRET refused by ndxp /ndxp/dvcqg/v1/thutuc-tichhop")
    assert [m for m, _, _ in scripted.requests] == ["POST", "GET", "POST", "GET"], "one renewal, not one per attempt"


@pytest.mark.parametrize("refusal", [(401, {}, {"Status": "401", "Message": "token hết hạn", "Items": []}),
                                     (200, {}, {"Status": "401", "Message": "token hết hạn", "Items": []})],
                         ids=["http-401", "status-401-in-http-200"])
def test_vnpost_401_renews_the_token(refusal):
    ok = {"Status": "100", "Message": "", "Total": 1, "Items": [{"ItemCode": "EB1"}]}
    scripted = Scripted([refusal, (200, {}, ok)],
                        posts=[(200, {}, {"access_token": "t1"}), (200, {}, {"access_token": "t2"})])
    with scripted as url:
        pages = list(vnpost(url).order_pages(Window(datetime(2022, 1, 3), datetime(2022, 1, 4))))
    assert pages == [[{"ItemCode": "EB1"}]]
    assert [h["access_token"] for _, h in scripted.gets()] == ["t1", "t2"]


def test_vnpost_errors_inside_http_200_are_retried_or_final_by_status():
    busy = {"Status": "500", "Message": "Hệ thống đang bận", "Total": 0, "Items": []}
    bad = {"Status": "400", "Message": "fromDate phải có dạng dd/MM/yyyy", "Total": 0, "Items": []}
    window = Window(datetime(2022, 1, 3), datetime(2022, 1, 4))
    scripted = Scripted([(200, {}, busy), (200, {}, busy), (200, {}, bad)])
    with scripted as url:
        with pytest.raises(SourceError) as err:
            list(vnpost(url).order_pages(window))
    assert not isinstance(err.value, SourceUnavailable), "a Status 400 is final"
    assert "Status 400: fromDate" in str(err.value) and len(scripted.gets()) == 3


def test_connection_refused_names_the_url_setting():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SourceUnreachable) as err:
        client(url, max_attempts=2).agencies()
    message = str(err.value)
    assert message.startswith(f"ONESTOP_URL {url} unreachable: ConnectionRefusedError")
    assert "\n" not in message and "2 attempts" in message


def test_an_html_error_page_becomes_one_line():
    page = b"<html>\n<head><title>503 Service Temporarily Unavailable</title></head>\n<body>nginx</body>\n</html>"
    with Scripted([(503, {"Content-Type": "text/html"}, page)]) as url:
        with pytest.raises(SourceUnavailable) as err:
            client(url, max_attempts=2).agencies()
    assert "\n" not in str(err.value) and "HTTP 503: <html> <head><title>503" in str(err.value)


def test_a_wrong_url_path_names_the_url_setting():
    with Scripted([(404, {}, {"detail": "Not Found"})]) as url:
        with pytest.raises(SourceError, match=f"HTTP 404.*is ONESTOP_URL {url} right"):
            client(url).agencies()


@pytest.mark.parametrize("make, setting", [
    (lambda url, s: OneStopClient(url, "wrong-key").agencies(), "ONESTOP_API_KEY refused by onestop"),
    (lambda url, s: NdxpClient(url, s.ndxp_client_id, "wrong").integrated_services(),
     "NDXP_CLIENT_ID/NDXP_CLIENT_SECRET refused by ndxp /ndxp/oauth2/token: HTTP 401"),
    (lambda url, s: list(VnpostClient(url, s.vnpost_username, "wrong").order_pages(
        Window(datetime(2022, 1, 3), datetime(2022, 1, 4)))),
     "VNPOST_USERNAME/VNPOST_PASSWORD refused by vnpost /vnpost/api/auth: HTTP 401"),
], ids=["onestop", "ndxp", "vnpost"])
def test_the_simulator_refuses_wrong_credentials_in_one_line(simulator, make, setting):
    with pytest.raises(SourceAuthError) as err:
        make(simulator, config.SourceSettings.from_env())
    assert str(err.value).startswith(setting) and "\n" not in str(err.value)


def test_revoked_tokens_are_renewed_against_the_simulator(simulator):
    s = config.SourceSettings.from_env()
    day = Window(datetime(2022, 1, 3), datetime(2022, 1, 4))
    nd, vn = NdxpClient(simulator, s.ndxp_client_id, s.ndxp_client_secret), \
        VnpostClient(simulator, s.vnpost_username, s.vnpost_password)
    expected = (list(nd.sync_receipt_pages(day)), list(vn.order_pages(day)))
    for c in (nd, vn):
        c._token = "revoked"
        c.max_attempts = 2  # room for the renewal only
    nd._expires_at = float("inf")
    assert (list(nd.sync_receipt_pages(day)), list(vn.order_pages(day))) == expected
    assert nd._token != "revoked" and vn._token != "revoked"
    assert any(expected[0]) and any(expected[1])


def test_error_envelope_is_an_error():
    with Scripted([(200, {}, {"error_code": 99, "message": "database busy", "data": []})]) as url:
        with pytest.raises(SourceError, match="database busy"):
            client(url).agencies()
