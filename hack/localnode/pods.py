"""The pod workers' management: watch the pods bound to this node, start a worker for each new
one, pass it updates, stop it on deletion and confirm the deletion to the API server.

The watch is a list then a watch from the list's version, like an informer. A transient error
(connection, 410 Gone, 429, 5xx) lists again after a back-off and reconciles the workers with
what is there; any other error (401, 403, ...) is raised, for the agent to end visibly."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import lightkube
from lightkube import AsyncClient
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import Pod
from lightkube.types import on_error_raise

from .apierrors import backoff, describe, retryable
from .context import NodeContext
from .worker import PodWorker

log = logging.getLogger("localnode")


class PodManager:
    def __init__(self, client: AsyncClient, node_name: str, node: NodeContext):
        self.client = client
        self.node_name = node_name
        self.node = node
        self.workers: dict[str, PodWorker] = {}
        self.stopping: dict[str, PodWorker] = {}  # taken out of workers, their processes not gone yet
        self._deletions: set[asyncio.Task] = set()

    def container_running(self, namespace: str, pod: str, container: str) -> bool:
        key = f"{namespace}/{pod}"
        return any(w.key == key and container in w.processes for w in self.workers.values())

    async def watch(self) -> None:
        """Runs until cancelled, or raises an error that retrying will not heal."""
        selector = {"spec.nodeName": self.node_name}
        failures = 0
        while True:
            try:
                version = await self._resync(selector)
                async for event, pod in self.client.watch(Pod, namespace=lightkube.ALL_NS, fields=selector,
                                                          resource_version=version, on_error=on_error_raise):
                    failures = 0
                    await self.on_pod_event(event, pod.to_dict())
            except Exception as error:
                if not retryable(error):
                    raise
                failures += 1
                delay = backoff(failures)
                log.warning("pod watch interrupted (%s); listing again in %.1fs", describe(error), delay)
                await asyncio.sleep(delay)

    async def _resync(self, selector: dict[str, str]) -> str:
        """Lists the node's pods and brings the workers in line: new pods start, pods deleted
        while nobody watched are stopped. Returns the list's resourceVersion."""
        listing = self.client.list(Pod, namespace=lightkube.ALL_NS, fields=selector)
        current = {}
        async for pod in listing:
            current[pod.metadata.uid] = pod.to_dict()
        for uid, worker in list(self.workers.items()):
            if uid not in current:
                await self._finish(worker, grace=0)
        for pod in current.values():
            await self.on_pod_event("ADDED", pod)
        return listing.resourceVersion

    async def on_pod_event(self, event: str, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        uid = meta["uid"]
        worker = self.workers.get(uid)
        if event == "DELETED":
            if worker:
                await self._finish(worker, grace=0)
            return
        if meta.get("deletionTimestamp"):
            if worker:
                worker.observe(pod)
                task = asyncio.create_task(self._delete_when_stopped(worker))
                self._deletions.add(task)
                task.add_done_callback(self._deletions.discard)
            else:
                await self._confirm_deletion(meta["namespace"], meta["name"], uid)
            return
        if worker:
            worker.observe(pod)
        elif pod.get("status", {}).get("phase") not in ("Succeeded", "Failed"):
            log.info("pod %s/%s: starting", meta["namespace"], meta["name"])
            self.workers[uid] = PodWorker(self.node, pod)

    async def _finish(self, worker: PodWorker, grace: float | None) -> None:
        self.workers.pop(worker.uid, None)
        self.stopping[worker.uid] = worker
        try:
            await worker.stop(grace)
            await worker.release()
        finally:
            self.stopping.pop(worker.uid, None)

    async def _delete_when_stopped(self, worker: PodWorker) -> None:
        if worker.uid not in self.workers:
            return
        await self._finish(worker, grace=None)
        await worker.report_deleted()
        meta = worker.pod["metadata"]
        await self._confirm_deletion(meta["namespace"], meta["name"], worker.uid)

    async def _confirm_deletion(self, namespace: str, name: str, uid: str) -> None:
        """The kubelet's last word on a pod: delete it with grace 0 once its containers are gone."""
        try:
            await self.client.delete(Pod, name, namespace=namespace, grace_period=0)
            log.info("pod %s/%s: deleted", namespace, name)
        except ApiError as error:
            if error.status.code != 404:
                log.warning("pod %s/%s: final delete failed: %s", namespace, name, error)

    async def stop_all(self, grace: float) -> None:
        """Every pod, those already stopping for their deletion too: the node going down cuts their
        grace period (a server draining for 15 s would otherwise outlive the agent)."""
        await asyncio.gather(*(self._finish(worker, grace) for worker in list(self.workers.values())),
                             *(worker.stop(grace) for worker in list(self.stopping.values())))
