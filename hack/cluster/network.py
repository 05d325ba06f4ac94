"""The cluster's network: its bridge, the control plane's network namespace on it, and the
Service CIDR routed through that namespace (standard library only).

    host namespace                  mlcp-mlbrK (control plane)           mlpod-mlbrK-<uid> (a pod)
    mlbrK 10.244.K.1/24 ---bridge--- eth0 10.244.K.254/24 ---bridge--- eth0 10.244.K.x/24
    10.96.K.0/24 via 10.244.K.254    etcd and every control-plane         10.96.K.0/24 via
                                     listener on loopback; kube-apiserver  10.244.K.254
                                     on 10.244.K.254:6443; kube-proxy's
                                     rules: ClusterIP -> endpoints

K is the bridge's index, so several clusters on one machine never share an address or a route.
kube-proxy masquerades everything it sends to a Service's endpoints (--masquerade-all): the client
and the endpoint sit on the same bridge, and without it the endpoint would answer the client
directly, past the namespace that translated the request.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from localnode import netns
from localnode.ipam import control_plane_address, gateway_address

# The namespace routes packets out of the interface they came in by, to the pods on the bridge: it
# must not tell the sender to go there directly (an ICMP redirect would teach the host or a pod
# to send ClusterIP traffic straight to one pod, which does not hold the ClusterIP).
SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    "net/ipv4/conf/all/send_redirects": "0",
    "net/ipv4/conf/default/send_redirects": "0",
}


@dataclass(frozen=True)
class ClusterNetwork:
    """The addresses and names of one cluster's network, all derived from its bridge's claim."""

    bridge: str
    pod_cidr: str

    @property
    def index(self) -> int:
        return int(ipaddress.ip_network(self.pod_cidr).network_address.packed[2])

    @property
    def netns(self) -> str:
        return f"mlcp-{self.bridge}"

    @property
    def host_veth(self) -> str:
        return f"mlcp{self.index}"

    @property
    def gateway(self) -> str:
        """The host's address on the bridge."""
        return gateway_address(self.pod_cidr)

    @property
    def control_plane_address(self) -> str:
        """The control-plane namespace's address: the API server's, and the Service CIDR's router."""
        return control_plane_address(self.pod_cidr)

    @property
    def service_cidr(self) -> str:
        return f"10.96.{self.index}.0/24"

    @property
    def first_service_ip(self) -> str:
        """The `kubernetes` Service's ClusterIP."""
        return str(next(ipaddress.ip_network(self.service_cidr).hosts()))

    @property
    def prefix(self) -> int:
        return ipaddress.ip_network(self.pod_cidr).prefixlen


def _ip(*args: str, check: bool = True) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and result.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


def create_control_plane_network(net: ClusterNetwork) -> None:
    """Gives the host its address on the bridge, creates the control-plane namespace with its veth
    on the bridge, and routes the Service CIDR through it. The caller holds the bridge name's lock
    (bridges.py), so a namespace of that name is a leftover of a cluster killed hard: replaced."""
    _ip("addr", "replace", f"{net.gateway}/{net.prefix}", "dev", net.bridge)
    _ip("link", "set", net.bridge, "up")
    delete_namespace(net)
    _ip("netns", "add", net.netns)
    for key, value in SYSCTLS.items():  # before eth0 exists, so that it inherits the defaults
        netns.run_in(net.netns, lambda key=key, value=value: Path("/proc/sys", key).write_text(value))
    _ip("link", "add", net.host_veth, "type", "veth", "peer", "name", "eth0", "netns", net.netns)
    _ip("link", "set", net.host_veth, "master", net.bridge, "up")
    _ip("-n", net.netns, "addr", "add", f"{net.control_plane_address}/{net.prefix}", "dev", "eth0")
    _ip("-n", net.netns, "link", "set", "eth0", "up")
    _ip("-n", net.netns, "link", "set", "lo", "up")
    _ip("route", "replace", net.service_cidr, "via", net.control_plane_address, "dev", net.bridge)


def delete_namespace(net: ClusterNetwork) -> None:
    """Deletes the namespace's name and the host end of its veth (the pair goes at once, not when
    the kernel gets round to the namespace). The host route goes with the bridge or the address."""
    _ip("netns", "del", net.netns, check=False)
    _ip("link", "del", net.host_veth, check=False)


def namespace_exists(name: str) -> bool:
    return Path(netns.namespace_path(name)).exists()


def namespace_processes(name: str) -> list[int]:
    """The processes whose network namespace is the named one."""
    try:
        wanted = os.stat(netns.namespace_path(name)).st_ino
    except OSError:
        return []
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if os.stat(proc / "ns" / "net").st_ino == wanted:
                    found.append(int(proc.name))
            except OSError:
                continue
    return found
