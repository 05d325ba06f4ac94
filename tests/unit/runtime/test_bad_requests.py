"""Broken and hostile requests to the model server as its pod runs it (`python -m mlops_operator.runtime.serve`
on a real scikit-learn model, in a process of its own so that its memory is its own): each is refused with a
4xx and a message naming what is wrong, never a 500 or a traceback, the server's memory stays bounded, and it
keeps answering everyone else, slow clients and crowds included."""

import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sklearn.linear_model import LogisticRegression
from support import free_port, wait_for

import mlops_operator

SOURCE = str(Path(mlops_operator.__file__).resolve().parents[1])
NAME, VERSION = "churn", "3"
INFER = f"/v2/models/{NAME}/infer"
MAX_REQUEST_BYTES = 1024 * 1024  # set small, so that a body just over it is cheap to send
READ_SECONDS = 1.5  # as short as a loaded test machine allows, so that slow clients are cut off quickly
GOOD = {"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [1, 2, 3, 4.5, 4, 4]}]}
JSON = {"Content-Type": "application/json"}
MEMORY_GROWTH_BOUND = 50 * 1024 * 1024


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log_path: Path
    latencies: list[float] = field(default_factory=list)  # of the good requests
    memory_at_start: int = 0  # peak resident memory once warm, before any bad request

    def request(self, method: str, path: str, body=b"", headers: dict | None = None,
                timeout: float = 10) -> tuple[int, dict, bytes]:
        headers = headers or {}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers,
                               encode_chunked=headers.get("Transfer-Encoding") == "chunked")
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def good_request(self) -> None:
        """A well-formed request is answered, and how quickly is recorded."""
        started = time.perf_counter()
        status, _, body = self.request("POST", INFER, json.dumps(GOOD).encode(), JSON)
        self.latencies.append(time.perf_counter() - started)
        assert status == 200 and json.loads(body)["outputs"][0]["shape"] == [2], body

    def peak_memory(self) -> int:
        """The process' peak resident memory (VmHWM), in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM")

    def metrics(self) -> dict[tuple[str, tuple[str, ...]], float]:
        status, _, body = self.request("GET", "/metrics")
        assert status == 200
        return {(sample.name, tuple(value for key, value in sample.labels.items() if key not in ("model", "version"))):
                sample.value for family in text_string_to_metric_families(body.decode()) for sample in family.samples}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def answering(server: Server) -> bool:
    assert server.process.poll() is None, f"the server exited with {server.process.returncode}:\n{server.log()}"
    try:
        return server.request("GET", "/v2/health/ready", timeout=5)[0] == 200
    except OSError:  # not listening yet
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-requests")
    features = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 1.0], [3.0, 1.0, 2.0], [4.0, 4.0, 4.0]])
    joblib.dump(LogisticRegression().fit(features, [0, 0, 1, 1]), folder / "model.joblib")
    port, log_path = free_port(), folder / "server.log"
    env = {**os.environ, "PYTHONPATH": SOURCE, "MLOPS_RESULT_PATH": str(folder / "termination-log"),
           "MLOPS_MODEL_URI": f"file://{folder / 'model.joblib'}", "MLOPS_MODEL_FORMAT": "sklearn",
           "MLOPS_MODEL_NAME": NAME, "MLOPS_MODEL_VERSION": VERSION, "MLOPS_SERVER_PORT": str(port),
           "MLOPS_DRAIN_SECONDS": "0", "MLOPS_MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES),
           "MLOPS_READ_SECONDS": str(READ_SECONDS)}
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "mlops_operator.runtime.serve"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    running = Server(process, port, log_path)
    try:
        wait_for(lambda: answering(running), 60, "the model server to be ready")
        for _ in range(3):
            running.good_request()
        running.memory_at_start = running.peak_memory()
        yield running
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tensor(**changes) -> bytes:
    return json.dumps({"inputs": [{**GOOD["inputs"][0], **changes}]}).encode()


def nested(depth: int) -> bytes:
    return b'{"inputs": ' + b"[" * depth + b"]" * depth + b"}"


@dataclass(frozen=True)
class Spaces:
    """A body of `size` spaces sent in pieces, never held whole, as often as a case is sent."""

    size: int

    def __iter__(self):
        piece = b" " * (64 * 1024)
        return (piece for _ in range(self.size // len(piece)))


HUGE = 64 * 1024 * 1024
BOMB = gzip.compress(b" " * HUGE)  # 64 KiB that inflate to 64 MiB

# (what, method, path, body, headers, status, words the error must contain, counted as a bad request)
CASES = [
    ("malformed JSON", "POST", INFER, b'{"inputs": [', JSON, 400, "not JSON", True),
    ("invalid UTF-8", "POST", INFER, b'{"inputs": "\xff\xfe"}', JSON, 400, "not JSON", True),
    ("JSON that is a list", "POST", INFER, b"[1, 2, 3]", JSON, 400, '"inputs"', True),
    ("JSON that is a string", "POST", INFER, b'"infer, please"', JSON, 400, '"inputs"', True),
    ("an empty body", "POST", INFER, b"", JSON, 400, "not JSON", True),
    ("text/plain", "POST", INFER, json.dumps(GOOD).encode(), {"Content-Type": "text/plain"}, 415,
     "application/json", True),
    ("a form", "POST", INFER, b"inputs=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
     "application/json", True),
    ("multipart", "POST", INFER, b"--x\r\n\r\n1\r\n--x--\r\n", {"Content-Type": "multipart/form-data; boundary=x"},
     415, "application/json", True),
    ("no inputs", "POST", INFER, b"{}", JSON, 400, '"inputs"', True),
    ("empty inputs", "POST", INFER, b'{"inputs": []}', JSON, 400, '"inputs"', True),
    ("a tensor without a name", "POST", INFER, b'{"inputs": [{"shape": [1]}]}', JSON, 400, '"name"', True),
    ("a tensor without a shape", "POST", INFER, tensor(shape=None), JSON, 400, '"shape"', True),
    ("a tensor without data", "POST", INFER, tensor(data=None), JSON, 400, '"data"', True),
    ("an id that is not a string", "POST", INFER, json.dumps({**GOOD, "id": 7}).encode(), JSON, 400, '"id"', True),
    ("an output the model has not", "POST", INFER, json.dumps({**GOOD, "outputs": [{"name": "why"}]}).encode(), JSON,
     400, "'why'", True),
    ("a datatype that is not a string", "POST", INFER, tensor(datatype=64), JSON, 400, '"datatype"', True),
    ("a datatype the model does not take", "POST", INFER, tensor(datatype="BYTES"), JSON, 400, "datatype BYTES",
     True),
    ("strings in an FP64 tensor", "POST", INFER, tensor(data=[1, 2, 3, "4", 5, 6]), JSON, 400, "not FP64", True),
    ("booleans in an FP64 tensor", "POST", INFER, tensor(data=[1, 2, 3, True, 5, 6]), JSON, 400, "not FP64", True),
    ("a float in an INT64 tensor", "POST", INFER, tensor(datatype="INT64", data=[1, 2, 3, 4.5, 5, 6]), JSON, 400,
     "not INT64", True),
    ("fewer values than the shape holds", "POST", INFER, tensor(data=[1, 2, 3]), JSON, 400, "holds 6 values", True),
    ("more values than the shape holds", "POST", INFER, tensor(data=list(range(9))), JSON, 400, "holds 6 values",
     True),
    ("ragged rows of the right total", "POST", INFER, tensor(data=[[1, 2, 3, 4], [5, 6]]), JSON, 400, "[2, 3]", True),
    ("rows nested deeper than the shape", "POST", INFER, tensor(data=[[[1, 2, 3]], [[4, 5, 6]]]), JSON, 400,
     "[2, 3]", True),
    ("a one-dimensional tensor", "POST", INFER, tensor(shape=[6]), JSON, 400, "[N, 3]", True),
    ("a negative size", "POST", INFER, tensor(shape=[-2, -3]), JSON, 400, '"shape"', True),
    ("a size that is not an integer", "POST", INFER, tensor(shape=[2.0, 3]), JSON, 400, '"shape"', True),
    ("10**12 rows with 6 values", "POST", INFER, tensor(shape=[10**12, 3]), JSON, 400, "holds 3000000000000 values",
     True),
    ("10**12 rows of nothing", "POST", INFER, tensor(shape=[10**12, 0], data=[]), JSON, 400, "[1000000000000, 0]",
     True),
    ("a size of 10**400", "POST", INFER, tensor(shape=[10**400], data=[1]), JSON, 400, '"shape"', True),
    ("JSON nested 100000 deep", "POST", INFER, nested(100_000), JSON, 400, "nested", True),
    ("data nested 500 deep", "POST", INFER, tensor(shape=[1], data=json.loads("[" * 500 + "1" + "]" * 500)), JSON,
     400, "nested", True),
    ("NaN", "POST", INFER, tensor().replace(b"4.5", b"NaN"), JSON, 400, "NaN", True),
    ("Infinity", "POST", INFER, tensor().replace(b"4.5", b"-Infinity"), JSON, 400, "Infinity", True),
    ("a float beyond FP64", "POST", INFER, tensor().replace(b"4.5", b"1e999"), JSON, 400, "not a finite FP64", True),
    ("an integer beyond FP64", "POST", INFER, tensor().replace(b"4.5", b"1" + b"0" * 400), JSON, 400,
     "not a finite FP64", True),
    ("an integer beyond INT64", "POST", INFER, tensor(datatype="INT64", data=[1, 2, 3, 2**63, 5, 6]), JSON, 400,
     "not INT64", True),
    ("a float beyond FP32", "POST", INFER, tensor(datatype="FP32", data=[1, 2, 3, 1e39, 5, 6]), JSON, 400,
     "not a finite FP32", True),
    ("an unknown model", "POST", "/v2/models/other/infer", json.dumps(GOOD).encode(), JSON, 404, "no model 'other'",
     False),
    ("an unknown version", "POST", f"/v2/models/{NAME}/versions/9/infer", json.dumps(GOOD).encode(), JSON, 404,
     "no version '9'", False),
    ("an unknown path", "GET", "/v3/whatever", b"", {}, 404, "Not Found", False),
    ("GET on infer", "GET", INFER, b"", {}, 405, "Method Not Allowed", False),
    ("DELETE on the server", "DELETE", "/v2", b"", {}, 405, "Method Not Allowed", False),
    ("a body over the limit, by its length", "POST", INFER, Spaces(HUGE), {**JSON, "Content-Length": str(HUGE)},
     413, f"{MAX_REQUEST_BYTES} bytes", True),
    ("a body over the limit, chunked", "POST", INFER, Spaces(HUGE), {**JSON, "Transfer-Encoding": "chunked"}, 413,
     f"{MAX_REQUEST_BYTES} bytes", True),
    ("a body that is not gzip", "POST", INFER, b"not gzip", {**JSON, "Content-Encoding": "gzip"}, 400,
     "gzip", True),
    ("a gzip bomb", "POST", INFER, BOMB, {**JSON, "Content-Encoding": "gzip"}, 413, f"{MAX_REQUEST_BYTES} bytes",
     True),
    ("a 100 KB URL", "GET", "/v2/" + "a" * 100_000, b"", {}, 400, "Got more than 8190 bytes", False),
    ("a 100 KB header", "GET", "/v2", b"", {"X-Long": "a" * 100_000}, 400, "Got more than 8190 bytes", False),
    ("1000 headers", "GET", "/v2", b"", {f"X-{number}": "a" for number in range(1000)}, 400, "Too many headers",
     False),
]


@pytest.mark.parametrize("what, method, path, body, headers, status, words, counted", CASES,
                         ids=[case[0] for case in CASES])
def test_a_bad_request_is_refused_with_a_message_and_the_next_is_answered(server, what, method, path, body, headers,
                                                                          status, words, counted):
    refused, response_headers, text = server.request(method, path, body, headers)
    assert refused == status, text
    if response_headers.get("Content-Type", "").startswith("application/json"):
        assert words in json.loads(text)["error"]
    else:  # aiohttp refuses HTTP it cannot parse before any route: plain text, which must say why
        assert words in text.decode()
    server.good_request()


def raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Sends bytes as they are and returns all the server answers before it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(data)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


def test_broken_http_is_refused_by_aiohttp_with_a_400_that_says_why(server):
    for garbage in (b"NOT HTTP AT ALL\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                    b"POST /v2 HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"):
        answer = raw(server.port, garbage)
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.endswith(b" 400 Bad Request") and rest.split(b"\r\n\r\n", 1)[1], answer
        server.good_request()


def slow_connection(port: int, stack: ExitStack, data: bytes) -> socket.socket:
    connection = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
    connection.sendall(data)
    return connection


def closed_by_server(connection: socket.socket) -> bytes:
    """What the server sent before closing a connection it gave up on (b"" for nothing); fails if it does not."""
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    return answer


def test_slow_clients_are_cut_off_while_others_are_answered_promptly(server):
    with ExitStack() as stack:
        # Headers that never end (a slowloris), and bodies that never arrive whole.
        headers = [slow_connection(server.port, stack, b"POST " + INFER.encode() + b" HTTP/1.1\r\nHost: x\r\nX-")
                   for _ in range(50)]
        bodies = [slow_connection(server.port, stack, f"POST {INFER} HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                  "application/json\r\nContent-Length: 1000\r\n\r\n{\"inputs\"".encode())
                  for _ in range(50)]
        started = time.perf_counter()
        for _ in range(10):
            server.good_request()
        assert time.perf_counter() - started < READ_SECONDS  # all answered while every slow one still hangs
        print(f"\nwith 100 slow clients, the slowest of 10 good requests took "
              f"{max(server.latencies[-10:]) * 1000:.0f} ms")
        for connection in headers:
            assert closed_by_server(connection) == b""
        for connection in bodies:
            status_line, _, body = closed_by_server(connection).partition(b"\r\n")
            assert status_line == b"HTTP/1.1 408 Request Timeout"
            assert json.loads(body.split(b"\r\n\r\n", 1)[1]) == {
                "error": f"the body did not arrive within {READ_SECONDS:g} s"}
    server.good_request()


def test_an_idle_connection_is_closed_after_the_read_time(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as idle:
        started = time.perf_counter()
        assert closed_by_server(idle) == b""
        assert READ_SECONDS - 0.1 < time.perf_counter() - started < READ_SECONDS + 2


def test_a_crowd_of_clients_is_answered(server):
    with ExitStack() as stack:
        idle = [stack.enter_context(socket.create_connection(("127.0.0.1", server.port), timeout=10))
                for _ in range(500)]
        with ThreadPoolExecutor(32) as pool:
            for completed in pool.map(lambda _: server.good_request(), range(200)):
                assert completed is None
        assert len(idle) == 500


def test_memory_stays_bounded_no_500s_and_no_tracebacks_after_all_of_it(server):
    # Runs last in the module: the peak since the server started covers every case above.
    for _ in range(2):  # and the hostile cases twice more: what they cost must not add up
        for case in CASES:
            test_a_bad_request_is_refused_with_a_message_and_the_next_is_answered(server, *case)
    before = server.memory_at_start
    growth = server.peak_memory() - before
    print(f"\nmodel server: {len(CASES)} kinds of bad request, {3 * len(CASES)} sent; peak RSS "
          f"{before / 2**20:.1f} MiB once warm, {growth / 2**20:+.1f} MiB after all of them")
    assert growth < MEMORY_GROWTH_BOUND
    metrics = server.metrics()
    assert metrics[("mlops_server_requests_total", ("error",))] == 0
    counted = sum(case[-1] for case in CASES) * 3
    assert metrics[("mlops_server_requests_total", ("bad_request",))] == counted + 50  # and the 50 slow bodies
    assert "Traceback" not in server.log() and "ERROR" not in server.log()
