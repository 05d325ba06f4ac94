"""The operator's /metrics endpoint on a real socket, against clients that are slow or wrong: each is refused
or cut off, and scrapes are answered meanwhile."""

import http.client
import json
import socket
import threading
import time
from contextlib import ExitStack

import pytest
from support import free_port, wait_for

from mlops_operator.handlers.metrics import metrics_endpoint

READ_SECONDS = 1.0


@pytest.fixture(scope="module")
def endpoint():
    served = metrics_endpoint()
    served.read_seconds = READ_SECONDS
    port = free_port()
    served.serve(f"127.0.0.1:{port}")
    try:
        yield port
    finally:
        served.stop()


def request(port: int, method: str, path: str = "/metrics", headers: dict | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def scraped(port: int) -> bool:
    status, headers, body = request(port, "GET")
    return status == 200 and headers["Content-Type"].startswith("text/plain") and b"process_cpu_seconds" in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_a_method_other_than_get_is_a_405_with_an_error(endpoint, method):
    status, headers, body = request(endpoint, method)
    assert (status, headers["Allow"]) == (405, "GET, HEAD")
    assert json.loads(body) == {"error": f"metrics are read with GET, not {method}"}
    assert scraped(endpoint)


@pytest.mark.parametrize("path, headers, status, words", [
    ("/metrics?" + "a" * 70_000, {}, 414, b"Request-URI Too Long"),
    ("/metrics", {"X-Long": "a" * 70_000}, 431, b"Line too long"),
    ("/metrics", {f"X-{number}": "a" for number in range(200)}, 431, b"Too many headers"),
])
def test_http_too_large_to_read_is_refused_by_http_server_saying_why(endpoint, path, headers, status, words):
    refused, _, body = request(endpoint, "GET", path, headers)
    assert refused == status and words in body
    assert scraped(endpoint)


def test_slow_clients_are_cut_off_at_the_read_time_while_scrapes_are_answered(endpoint, capfd):
    threads_before = threading.active_count()
    with ExitStack() as stack:
        started = time.perf_counter()
        slow = []
        for _ in range(50):  # all at once: more than a listen backlog of 5 would take without retransmits
            connection = stack.enter_context(socket.create_connection(("127.0.0.1", endpoint), timeout=10))
            connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-")  # and never the rest
            slow.append(connection)
        for _ in range(5):
            assert scraped(endpoint)
        took = time.perf_counter() - started
        assert took < READ_SECONDS  # connected and answered while every slow one still hangs
        with capfd.disabled():
            print(f"\n50 slow clients connected and 5 scrapes answered in {took * 1000:.0f} ms")
        for connection in slow:
            assert connection.recv(65536) == b""  # closed, unanswered
    # Each slow client's thread ends with its connection.
    wait_for(lambda: threading.active_count() <= threads_before, 10, "the slow clients' threads to end",
             interval=0.05)
    assert "Traceback" not in capfd.readouterr().err
