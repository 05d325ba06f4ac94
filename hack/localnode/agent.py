"""The node agent: registers a Node, renews its Lease, runs the pods bound to it, serves their logs.

    python3 -m localnode --kubeconfig KUBECONFIG [--node-name local-node] [--state-dir DIR]

(run from hack/, or with hack/ on PYTHONPATH). It needs root for the per-container mount
namespaces, like a kubelet.

The parts: registration.py (Node, Lease, heartbeat), pods.py (watch, pod workers), worker.py
(one pod's life), logs.py (the kubelet-like logs endpoint).
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
from .context import NodeContext
from .identity import identity
from .ipam import AddressPool
from .logs import LogsEndpoint
from .podapi import KubePodApi
from .pods import PodManager
from .registration import NodeRegistration

log = logging.getLogger("localnode")


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

    def _context(self, client: AsyncClient) -> NodeContext:
        return NodeContext(identity=self.identity, bridge=self.bridge, pod_cidr=self.pod_cidr,
                           netns_prefix=self.netns_prefix, pods_dir=self.pods_dir, logs_dir=self.logs_dir,
                           python=self.python, addresses=self.addresses, api=KubePodApi(client))

    async def run(self, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        self.pods_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        client = AsyncClient(config=self.config, field_manager="mlops-localnode")
        pods = PodManager(client, self.node_name, self._context(client))
        logs = LogsEndpoint(self.logs_dir, pods.container_running)
        await self._remove_networks()
        await network.create_bridge(self.bridge, self.pod_cidr)
        logs_port = await logs.start()
        registration = NodeRegistration(client, self.node_name, logs_port)
        await registration.register()
        tasks = [asyncio.create_task(registration.heartbeat()), asyncio.create_task(pods.watch())]
        log.info("node %s ready (pod CIDR %s on bridge %s; logs endpoint 127.0.0.1:%d)",
                 self.node_name, self.pod_cidr, self.bridge, logs_port)
        if ready:
            ready.set()
        await stop.wait()
        for task in tasks:
            task.cancel()
        await pods.stop_all(grace=5)
        await self._remove_networks()
        await network.delete_bridge(self.bridge)
        await logs.stop()
        await client.close()

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
