"""What a pod worker needs of its node, and nothing more: settings, the address pool and two API
calls. The agent builds one NodeContext and hands it to every worker, so the worker never sees
the agent (no import cycle, and a worker can be driven by a fake API in a test)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .ipam import AddressPool
from .podspec import ReferencedObjects


class PodApi(Protocol):
    async def patch_pod_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Patches the pod's status subresource."""

    async def referenced_objects(self, pod: dict[str, Any]) -> ReferencedObjects:
        """The ConfigMaps, Secrets and ServiceAccount token the pod refers to (those that exist)."""


@dataclass(frozen=True)
class NodeContext:
    identity: str  # NAME.BRIDGE, the marker in every process's environment
    bridge: str
    pod_cidr: str
    netns_prefix: str
    pods_dir: Path
    logs_dir: Path
    python: str  # the interpreter python images run with
    addresses: AddressPool
    api: PodApi
    config_retry_seconds: float = 5.0
    service_cidr: str = ""  # pods get a route to it through service_router, when set
    service_router: str = ""
