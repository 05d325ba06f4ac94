"""The operator's /metrics endpoint: controller-runtime's metrics of its work queues
(controller/metrics.py), the domain metrics of the watched objects (controller/inventory.py) and
the process' own, on their own address (the liveness endpoint has
8080). Loopback by default; in a pod, the pod's IP.

prometheus_client's threaded WSGI server, with what it lacks against clients that are slow or
wrong: a request must arrive whole within read_seconds (else the connection is closed, so a slow
client holds a thread that long at most), methods other than GET and HEAD are a 405
{"error": ...}, and a client's broken connection is not a traceback on stderr. http.server's own
refusals of broken HTTP (414, 431, 400) say why in its plain error page."""

import io
import json
import socket
import threading
import time
from dataclasses import dataclass
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import prometheus_client
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.exposition import ThreadingWSGIServer, make_wsgi_app

from ..controller.inventory import Inventory
from ..controller.metrics import ControllerMetrics


@dataclass
class MetricsEndpoint:
    registry: CollectorRegistry
    controllers: ControllerMetrics
    inventory: Inventory
    read_seconds: float = 10.0  # for a request to arrive whole, and then for each write of the answer
    server: WSGIServer | None = None

    def serve(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        host = host.strip("[]")

        class Server(ThreadingWSGIServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
            read_seconds = self.read_seconds
            # socketserver's backlog of 5 drops connections that come in a burst: the kernel makes them wait
            # for a retransmit, 1 s and more, scrapes included.
            request_queue_size = 128

        self.server = make_server(host, int(port), _get_only(make_wsgi_app(self.registry)), Server,
                                  handler_class=_ScrapeHandler)
        threading.Thread(target=self.server.serve_forever, name="metrics", daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def metrics_endpoint() -> MetricsEndpoint:
    # controller-runtime exposes no *_created series; dashboards and promtool expect none.
    prometheus_client.disable_created_metrics()
    registry = CollectorRegistry(auto_describe=True)
    for collector in (ProcessCollector, PlatformCollector, GCCollector):
        collector(registry=registry)
    return MetricsEndpoint(registry, ControllerMetrics(registry), Inventory(registry))


def _get_only(app):
    def serve(environ, start_response):
        method = environ["REQUEST_METHOD"]
        if method in ("GET", "HEAD"):
            return app(environ, start_response)
        start_response("405 Method Not Allowed", [("Content-Type", "application/json"), ("Allow", "GET, HEAD")])
        return [json.dumps({"error": f"metrics are read with GET, not {method}"}).encode()]
    return serve


class _ReadBefore(io.RawIOBase):
    """A connection's bytes until a deadline: a client that trickles its request is cut off there."""

    def __init__(self, connection: socket.socket, seconds: float):
        self.connection, self.seconds, self.deadline = connection, seconds, time.monotonic() + seconds

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.connection.settimeout(remaining)
        try:
            return self.connection.recv_into(buffer)
        finally:
            self.connection.settimeout(self.seconds)  # for the answer's writes


class _ScrapeHandler(WSGIRequestHandler):
    def setup(self) -> None:
        super().setup()
        self.rfile = io.BufferedReader(_ReadBefore(self.connection, self.server.read_seconds))

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # too slow, or gone: the client's connection, with nothing left to answer
            pass

    def log_message(self, format: str, *args) -> None:
        """Scrapes are not logged, as prometheus_client's own handler does not."""
