"""The node agent: registers a Node, renews its Lease, runs the pods bound to it, serves their logs.

    python3 -m localnode --kubeconfig KUBECONFIG [--node-name local-node] [--state-dir DIR]
        [--service-cidr CIDR --service-router ADDRESS] [--logs-netns NAME]

(run from hack/, or with hack/ on PYTHONPATH). It needs root for the per-container mount
namespaces, like a kubelet.

The parts: registration.py (Node, Lease, heartbeat), pods.py (watch, pod workers), worker.py
(one pod's life), logs.py (the kubelet-like logs endpoint).

The agent supervises registration, the heartbeat and the pod watch: when one fails with an error
that retrying will not heal, it sets the Node's Ready condition to False (reason
NodeRegistrationFailed, HeartbeatFailed or PodWatchFailed, best effort), stops the pods and
exits with status 1, the error in its log. A node that cannot see its pods must not look Ready.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

from lightkube import AsyncClient, KubeConfig

from . import network
from .apierrors import describe
from .bridges import LOCK_DIR, holds_lock, lock_bridge
from .context import NodeContext
from .identity import identity
from .ipam import AddressPool
from .logs import LogsEndpoint
from .podapi import KubePodApi
from .pods import PodManager
from .registration import NodeRegistration

log = logging.getLogger("localnode")
# The background tasks the agent supervises, and the Ready=False reason when one fails.
TASK_FAILURE_REASONS = {"heartbeat": "HeartbeatFailed", "pod watch": "PodWatchFailed"}


class AgentFailed(Exception):
    """A supervised task failed; the node gave up (Ready=False, pods stopped)."""

    def __init__(self, reason: str, message: str):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class NodeAgent:
    def __init__(self, kubeconfig: str, node_name: str, state_dir: Path, pod_cidr: str, bridge: str,
                 python: str = sys.executable, *, service_cidr: str = "", service_router: str = "",
                 logs_netns: str = ""):
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
        # Where ClusterIPs route (each pod gets a route to the Service CIDR through the router, the
        # control plane's address on the bridge), and the network namespace the API server dials
        # the logs endpoint from; empty for an agent beside a control plane on the host's loopback.
        self.service_cidr = service_cidr
        self.service_router = service_router
        self.logs_netns = logs_netns

    def _context(self, client: AsyncClient) -> NodeContext:
        return NodeContext(identity=self.identity, bridge=self.bridge, pod_cidr=self.pod_cidr,
                           netns_prefix=self.netns_prefix, pods_dir=self.pods_dir, logs_dir=self.logs_dir,
                           python=self.python, addresses=self.addresses, api=KubePodApi(client),
                           service_cidr=self.service_cidr, service_router=self.service_router)

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        """Runs the node until `stop` is set; raises AgentFailed when a supervised task fails."""
        self.pods_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        client = AsyncClient(config=self.config, field_manager="mlops-localnode")
        pods = PodManager(client, self.node_name, self._context(client))
        logs = LogsEndpoint(self.logs_dir, pods.container_running)
        failure: AgentFailed | None = None
        try:
            await self._remove_networks()
            await network.create_bridge(self.bridge, self.pod_cidr)
            logs_port = await logs.start(self.logs_netns or None)
            registration = NodeRegistration(client, self.node_name, logs_port)
            try:
                await registration.register()
            except Exception as error:
                failure = self._failed("NodeRegistrationFailed", "registration", error)
            else:
                log.info("node %s ready (pod CIDR %s on bridge %s; Service CIDR %s via %s; logs endpoint "
                         "127.0.0.1:%d in network namespace %s)", self.node_name, self.pod_cidr, self.bridge,
                         self.service_cidr or "-", self.service_router or "-", logs_port,
                         self.logs_netns or "of the host")
                if ready:
                    ready.set()
                failure = await self._supervise(stop, registration, pods)
            if failure:
                await registration.mark_not_ready(failure.reason, failure.message)
        finally:
            await pods.stop_all(grace=5)
            await self._remove_networks()
            await network.delete_bridge(self.bridge)
            await logs.stop()
            await client.close()
        if failure:
            raise failure

    async def _supervise(self, stop: asyncio.Event, registration: NodeRegistration,
                         pods: PodManager) -> AgentFailed | None:
        """Runs the heartbeat and the pod watch until `stop` is set or one of them ends; returns
        the failure, if any."""
        tasks = {asyncio.create_task(registration.heartbeat(), name="heartbeat"),
                 asyncio.create_task(pods.watch(), name="pod watch")}
        stopped = asyncio.create_task(stop.wait(), name="stop")
        try:
            done, _ = await asyncio.wait({stopped, *tasks}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stopped, *tasks):
                task.cancel()
            await asyncio.gather(stopped, *tasks, return_exceptions=True)
        for task in done & tasks:
            error = task.exception() if not task.cancelled() else None
            return self._failed(TASK_FAILURE_REASONS[task.get_name()], task.get_name(),
                                error or RuntimeError("ended without an error"))
        return None

    def _failed(self, reason: str, what: str, error: BaseException) -> AgentFailed:
        log.error("node %s: the %s failed; marking the node not ready and stopping its pods",
                  self.node_name, what, exc_info=error)
        return AgentFailed(reason, f"the {what} failed: {describe(error)}")

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
    parser.add_argument("--pod-cidr", default="10.244.0.0/24",
                        help="pod addresses; the first is the bridge's, the last the control plane's (ipam.py)")
    parser.add_argument("--bridge", default="mlbr0", help="name of the node's bridge (at most 15 characters)")
    parser.add_argument("--bridge-lock-fd", type=int,
                        help="the bridge name's locked lock file, handed over by the launcher (see bridges.py)")
    parser.add_argument("--service-cidr", default="", help="the cluster's Service CIDR: pods get a route to it")
    parser.add_argument("--service-router", default="",
                        help="the address on the bridge that routes the Service CIDR (where kube-proxy runs)")
    parser.add_argument("--logs-netns", default="",
                        help="network namespace of the API server: the logs endpoint listens on its loopback")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if bool(args.service_cidr) != bool(args.service_router):
        parser.error("--service-cidr and --service-router go together")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    # Held until the process ends: no other agent may use (or clean up) this bridge meanwhile.
    if args.bridge_lock_fd is not None:
        if not holds_lock(args.bridge_lock_fd, args.bridge):
            log.error("--bridge-lock-fd %d is not the held lock of bridge %s", args.bridge_lock_fd, args.bridge)
            return 1
    elif lock_bridge(args.bridge) is None:
        log.error("bridge %s is in use by another local node agent (lock in %s); choose another --bridge",
                  args.bridge, LOCK_DIR)
        return 1
    agent = NodeAgent(args.kubeconfig, args.node_name, args.state_dir, args.pod_cidr, args.bridge,
                      service_cidr=args.service_cidr, service_router=args.service_router, logs_netns=args.logs_netns)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await agent.run(stop)

    try:
        asyncio.run(run())
    except AgentFailed as failure:
        log.error("node agent exits: %s", failure)
        return 1
    return 0
