"""The operator's /metrics endpoint: controller-runtime's metrics of its work queues
(controller/metrics.py), the domain metrics of the watched objects (controller/inventory.py) and
the process' own, on their own address (kopf's liveness endpoint has
8080). Loopback by default; in a pod, the pod's IP."""

from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

import prometheus_client
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

from ..controller.inventory import Inventory
from ..controller.metrics import ControllerMetrics


@dataclass
class MetricsEndpoint:
    registry: CollectorRegistry
    controllers: ControllerMetrics
    inventory: Inventory
    server: WSGIServer | None = None

    def serve(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.server, _thread = prometheus_client.start_http_server(int(port), addr=host.strip("[]"),
                                                                   registry=self.registry)

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
