"""The Node object and its heartbeat: register the Node, keep its Lease in kube-node-lease
renewed, refresh node status, and say Ready=False when the agent gives up."""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import uuid
from datetime import UTC, datetime
from typing import Any

from lightkube import AsyncClient
from lightkube.core.exceptions import ApiError
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import Node
from lightkube.types import PatchType

from .apierrors import backoff, describe, retryable

log = logging.getLogger("localnode")
LEASE_DURATION = 40
LEASE_RENEW_SECONDS = 10
NODE_STATUS_SECONDS = 60
REGISTER_ATTEMPTS = 8
LABEL = "mlops.dev/local-node"
READY_REASON = "KubeletReady"
READY_MESSAGE = "the mlops local node agent is running pods as processes"


def utc_now() -> datetime:
    return datetime.now(UTC)


def micro_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seconds_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def memory_bytes() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


class NodeRegistration:
    def __init__(self, client: AsyncClient, node_name: str, logs_port: int):
        self.client = client
        self.node_name = node_name
        self.logs_port = logs_port
        self.started_at = seconds_time(utc_now())
        self.boot_id = str(uuid.uuid4())

    def node_status(self, ready: tuple[str, str, str] = ("True", READY_REASON, READY_MESSAGE)) -> dict[str, Any]:
        heartbeat = seconds_time(utc_now())
        capacity = {"cpu": str(os.cpu_count() or 1), "memory": f"{memory_bytes() // 1024}Ki", "pods": "250",
                    "ephemeral-storage": "100Gi"}

        def condition(kind: str, status: str, reason: str, message: str, since: str) -> dict[str, str]:
            return {"type": kind, "status": status, "reason": reason, "message": message,
                    "lastHeartbeatTime": heartbeat, "lastTransitionTime": since}

        ready_status, ready_reason, ready_message = ready
        return {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "local node", self.started_at),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "local node", self.started_at),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "local node", self.started_at),
                condition("Ready", ready_status, ready_reason, ready_message,
                          self.started_at if ready_status == "True" else heartbeat),
            ],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.logs_port}},
            "nodeInfo": {
                "machineID": uuid.getnode().__format__("x"),
                "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, self.node_name)),
                "bootID": self.boot_id, "kernelVersion": platform.release(), "osImage": "mlops local node",
                "containerRuntimeVersion": "local-processes://1", "kubeletVersion": "v0.0.0-localnode",
                "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64",
            },
        }

    async def register(self) -> None:
        """Creates (or adopts) the Node, publishes its status and creates its Lease; transient
        errors are retried a few times, others raised."""
        for attempt in range(1, REGISTER_ATTEMPTS + 1):
            try:
                await self._register_once()
                return
            except Exception as error:
                if not retryable(error) or attempt == REGISTER_ATTEMPTS:
                    raise
                log.warning("registering node %s failed (%s); retrying", self.node_name, describe(error))
                await asyncio.sleep(backoff(attempt))

    async def _register_once(self) -> None:
        node = Node.from_dict({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": self.node_name, "labels": {
                "kubernetes.io/hostname": self.node_name, "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", LABEL: "true"}},
        })
        try:
            await self.client.create(node)
        except ApiError as error:
            if error.status.code != 409:
                raise
        await self.client.patch(Node.Status, self.node_name, {"status": self.node_status()},
                                patch_type=PatchType.STRATEGIC)
        await self._create_lease()

    async def _create_lease(self) -> None:
        node_uid = (await self.client.get(Node, self.node_name)).metadata.uid
        lease = Lease.from_dict({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": self.node_name, "namespace": "kube-node-lease", "ownerReferences": [
                {"apiVersion": "v1", "kind": "Node", "name": self.node_name, "uid": node_uid}]},
            "spec": {"holderIdentity": self.node_name, "leaseDurationSeconds": LEASE_DURATION,
                     "renewTime": micro_time(utc_now())},
        })
        try:
            await self.client.create(lease)
        except ApiError as error:
            if error.status.code != 409:
                raise

    async def heartbeat(self) -> None:
        """Renews the Lease every LEASE_RENEW_SECONDS and node status every NODE_STATUS_SECONDS.
        Transient errors are logged and retried on the next beat; others end the heartbeat."""
        since_status = 0.0
        while True:
            await asyncio.sleep(LEASE_RENEW_SECONDS)
            try:
                await self._renew_lease()
                since_status += LEASE_RENEW_SECONDS
                if since_status >= NODE_STATUS_SECONDS:
                    since_status = 0
                    await self.client.patch(Node.Status, self.node_name, {"status": self.node_status()},
                                            patch_type=PatchType.STRATEGIC)
            except Exception as error:
                if not retryable(error):
                    raise
                log.warning("heartbeat failed: %s", describe(error))

    async def _renew_lease(self) -> None:
        try:
            await self.client.patch(Lease, self.node_name, {"spec": {"holderIdentity": self.node_name,
                                                                     "leaseDurationSeconds": LEASE_DURATION,
                                                                     "renewTime": micro_time(utc_now())}},
                                    namespace="kube-node-lease", patch_type=PatchType.MERGE)
        except ApiError as error:
            if error.status.code != 404:
                raise
            log.warning("the Lease of node %s was gone; creating it again", self.node_name)
            await self._create_lease()

    async def mark_not_ready(self, reason: str, message: str) -> None:
        """Best effort: Ready=False with the reason, as a kubelet that cannot do its job."""
        try:
            await self.client.patch(Node.Status, self.node_name,
                                    {"status": self.node_status(("False", reason, message[:1000]))},
                                    patch_type=PatchType.STRATEGIC)
            log.info("node %s marked Ready=False (%s)", self.node_name, reason)
        except Exception as error:
            log.warning("could not mark node %s Ready=False: %s", self.node_name, describe(error))
