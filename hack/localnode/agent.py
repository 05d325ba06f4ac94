"""The node agent: registers a Node, renews its Lease, runs the pods bound to it, serves their logs.

    python3 -m localnode --kubeconfig KUBECONFIG [--node-name local-node] [--state-dir DIR]

(run from hack/, or with hack/ on PYTHONPATH). It needs root for the per-container mount
namespaces, like a kubelet.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import signal
import socket
import ssl
import sys
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import lightkube
from aiohttp import web
from lightkube import AsyncClient, KubeConfig
from lightkube.core.exceptions import ApiError
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import ConfigMap, Node, Pod, Secret, ServiceAccount
from lightkube.types import PatchType, on_error_retry

from . import network, podspec
from .ipam import AddressPool
from .worker import PodWorker

log = logging.getLogger("localnode")
LEASE_DURATION = 40
LEASE_RENEW_SECONDS = 10
NODE_STATUS_SECONDS = 60
TOKEN_SECONDS = 3600
LABEL = "mlops.dev/local-node"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


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


def self_signed_context(host: str) -> ssl.SSLContext:
    """A TLS context for the logs endpoint; kube-apiserver does not verify kubelet certificates
    unless --kubelet-certificate-authority is set, which the local cluster leaves unset."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(utc_now())
            .not_valid_after(utc_now().replace(year=utc_now().year + 1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), False)
            .sign(key, hashes.SHA256()))
    folder = Path(tempfile.mkdtemp(prefix="localnode-tls-"))
    (folder / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "tls.crt", folder / "tls.key")
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    return context


def identity(node_name: str, bridge: str) -> str:
    return f"{node_name}.{bridge}"


class NodeAgent:
    def __init__(self, kubeconfig: str, node_name: str, state_dir: Path, pod_cidr: str, bridge: str,
                 python: str = sys.executable):
        self.config = KubeConfig.from_file(kubeconfig)
        self.node_name = node_name
        self.state_dir = state_dir
        self.pods_dir = state_dir / "pods"
        self.logs_dir = state_dir / "logs"
        self.python = python
        self.pod_cidr = pod_cidr
        self.bridge = bridge
        # The bridge name is unique per machine, so it tells this agent's namespaces and processes
        # apart from another local node's (say, a demo cluster beside the test cluster).
        self.netns_prefix = f"mlpod-{bridge}-"
        self.identity = identity(node_name, bridge)
        self.addresses = AddressPool(pod_cidr)
        self.workers: dict[str, PodWorker] = {}
        self.config_retry_seconds = 5.0
        self.client: AsyncClient | None = None
        self.logs_port = 0

    # --- API helpers used by the workers ---------------------------------------------------------

    async def patch_pod_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        await self.client.patch(Pod.Status, name, {"status": status}, namespace=namespace,
                                patch_type=PatchType.STRATEGIC)

    async def referenced_objects(self, pod: dict[str, Any]) -> podspec.ReferencedObjects:
        namespace = pod["metadata"]["namespace"]
        config_map_names, secret_names = podspec.referenced_names(pod)
        config_maps = await self._existing(ConfigMap, namespace, config_map_names, podspec.config_map_data)
        secrets = await self._existing(Secret, namespace, secret_names, podspec.secret_data)
        token = ""
        projection = podspec.needs_service_account_token(pod)
        if projection is not None:
            token = await self._token(pod, projection)
        return podspec.ReferencedObjects(config_maps, secrets, token)

    async def _existing(self, resource, namespace: str, names: set[str], decode) -> dict[str, dict[str, bytes]]:
        """The decoded data of those of the named objects that exist (a missing one is the pod's
        problem, reported when a container needs it)."""
        found = {}
        for name in names:
            try:
                found[name] = decode((await self.client.get(resource, name, namespace=namespace)).to_dict())
            except ApiError as error:
                if error.status.code != 404:
                    raise
        return found

    async def _token(self, pod: dict[str, Any], projection: dict[str, Any]) -> str:
        meta = pod["metadata"]
        request = {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": {"name": pod["spec"].get("serviceAccountName", "default"), "namespace": meta["namespace"]},
            "spec": {
                "audiences": [projection["audience"]] if projection.get("audience") else [],
                "expirationSeconds": projection.get("expirationSeconds", TOKEN_SECONDS),
                "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]},
            },
        }
        response = await self.client.create(ServiceAccount.Token.from_dict(request),
                                            pod["spec"].get("serviceAccountName", "default"),
                                            namespace=meta["namespace"])
        return response.status.token

    # --- node registration and heartbeat ---------------------------------------------------------

    def _node_status(self) -> dict[str, Any]:
        heartbeat = seconds_time(utc_now())
        capacity = {"cpu": str(os.cpu_count() or 1), "memory": f"{memory_bytes() // 1024}Ki", "pods": "250",
                    "ephemeral-storage": "100Gi"}

        def condition(kind: str, status: str, reason: str, message: str) -> dict[str, str]:
            return {"type": kind, "status": status, "reason": reason, "message": message,
                    "lastHeartbeatTime": heartbeat, "lastTransitionTime": self.started_at}

        return {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "local node"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "local node"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "local node"),
                condition("Ready", "True", "KubeletReady", "the mlops local node agent is running pods as processes"),
            ],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.logs_port}},
            "nodeInfo": {
                "machineID": uuid.getnode().__format__("x"), "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, self.node_name)),
                "bootID": self.boot_id, "kernelVersion": platform.release(), "osImage": "mlops local node",
                "containerRuntimeVersion": "local-processes://1", "kubeletVersion": "v0.0.0-localnode",
                "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64",
            },
        }

    async def register(self) -> None:
        self.started_at = seconds_time(utc_now())
        self.boot_id = str(uuid.uuid4())
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
        await self.client.patch(Node.Status, self.node_name, {"status": self._node_status()},
                                patch_type=PatchType.STRATEGIC)
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
        since_status = 0.0
        while True:
            await asyncio.sleep(LEASE_RENEW_SECONDS)
            try:
                await self.client.patch(Lease, self.node_name, {"spec": {"holderIdentity": self.node_name,
                                                                         "leaseDurationSeconds": LEASE_DURATION,
                                                                         "renewTime": micro_time(utc_now())}},
                                        namespace="kube-node-lease", patch_type=PatchType.MERGE)
                since_status += LEASE_RENEW_SECONDS
                if since_status >= NODE_STATUS_SECONDS:
                    since_status = 0
                    await self.client.patch(Node.Status, self.node_name, {"status": self._node_status()},
                                            patch_type=PatchType.STRATEGIC)
            except (ApiError, OSError) as error:
                log.warning("heartbeat failed: %s", error)

    # --- pods ------------------------------------------------------------------------------------

    async def watch_pods(self) -> None:
        async for event, pod in self.client.watch(Pod, namespace=lightkube.ALL_NS,
                                                  fields={"spec.nodeName": self.node_name}, on_error=on_error_retry):
            await self.on_pod_event(event, pod.to_dict())

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
                asyncio.create_task(self._delete_when_stopped(worker))
            else:
                await self._confirm_deletion(meta["namespace"], meta["name"], uid)
            return
        if worker:
            worker.observe(pod)
        elif pod.get("status", {}).get("phase") not in ("Succeeded", "Failed"):
            log.info("pod %s/%s: starting", meta["namespace"], meta["name"])
            self.workers[uid] = PodWorker(self, pod)

    async def _finish(self, worker: PodWorker, grace: float | None) -> None:
        self.workers.pop(worker.uid, None)
        await worker.stop(grace)
        await worker.release()

    async def _delete_when_stopped(self, worker: PodWorker) -> None:
        if worker.uid not in self.workers:
            return
        await self._finish(worker, grace=None)
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
        await asyncio.gather(*(self._finish(worker, grace) for worker in list(self.workers.values())))

    # --- logs endpoint (kubectl logs goes API server -> here) -------------------------------------

    def _log_file(self, namespace: str, pod: str, container: str, previous: bool) -> Path | None:
        folders = sorted(self.logs_dir.glob(f"{namespace}_{pod}_*"), key=lambda p: p.stat().st_mtime)
        if not folders:
            return None
        files = sorted((folders[-1] / container).glob("*.log"), key=lambda p: int(p.stem))
        if previous:
            return files[-2] if len(files) > 1 else None
        return files[-1] if files else None

    async def container_logs(self, request: web.Request) -> web.StreamResponse:
        namespace, pod, container = (request.match_info[k] for k in ("namespace", "pod", "container"))
        path = self._log_file(namespace, pod, container, request.query.get("previous") == "true")
        if path is None:
            return web.Response(status=404, text=f"no logs for container {container} of pod {namespace}/{pod}\n")
        data = path.read_bytes()
        if "tailLines" in request.query:
            lines = data.splitlines(keepends=True)
            data = b"".join(lines[-int(request.query["tailLines"]):]) if int(request.query["tailLines"]) else b""
        if request.query.get("follow") != "true":
            return web.Response(body=data, content_type="text/plain")
        response = web.StreamResponse()
        response.content_type = "text/plain"
        await response.prepare(request)
        await response.write(data)
        offset = path.stat().st_size
        worker = next((w for w in self.workers.values() if w.key == f"{namespace}/{pod}"), None)
        while worker is not None and container in worker.processes:
            await asyncio.sleep(0.5)
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
            offset += len(chunk)
            if chunk:
                await response.write(chunk)
        return response

    async def serve_logs(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self.container_logs)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.logs_port = probe.getsockname()[1]
        await web.TCPSite(runner, "127.0.0.1", self.logs_port, ssl_context=self_signed_context("127.0.0.1")).start()
        return runner

    # --- main -------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        self.pods_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(config=self.config, field_manager="mlops-localnode")
        await self._remove_networks()
        await network.create_bridge(self.bridge, self.pod_cidr)
        runner = await self.serve_logs()
        await self.register()
        tasks = [asyncio.create_task(self.heartbeat()), asyncio.create_task(self.watch_pods())]
        log.info("node %s ready (pod CIDR %s on bridge %s; logs endpoint 127.0.0.1:%d)",
                 self.node_name, self.pod_cidr, self.bridge, self.logs_port)
        if ready:
            ready.set()
        await stop.wait()
        for task in tasks:
            task.cancel()
        await self.stop_all(grace=5)
        await self._remove_networks()
        await network.delete_bridge(self.bridge)
        await runner.cleanup()
        await self.client.close()

    async def _remove_networks(self) -> None:
        for namespace in await network.namespaces_with_prefix(self.netns_prefix):
            await network.delete_pod_network(namespace)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python3 -m localnode", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"), required=not os.environ.get("KUBECONFIG"))
    parser.add_argument("--node-name", default="local-node")
    parser.add_argument("--state-dir", type=Path, default=Path(tempfile.gettempdir()) / "mlops-localnode")
    parser.add_argument("--pod-cidr", default="10.244.0.0/24", help="pod addresses; the first is the bridge's")
    parser.add_argument("--bridge", default="mlbr0", help="name of the node's bridge (at most 15 characters)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    agent = NodeAgent(args.kubeconfig, args.node_name, args.state_dir, args.pod_cidr, args.bridge)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await agent.run(stop)

    asyncio.run(run())
    return 0
