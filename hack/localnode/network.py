"""Pod networking: a network namespace per pod on a bridge of the node's own.

Each pod gets an address from the node's pod CIDR on eth0 of its own namespace, as on a real
node; the host reaches it through the bridge (the first address of the CIDR). The local cluster's
control plane sits on the same bridge at the last address, in a namespace of its own, and routes
the Service CIDR (kube-proxy): a pod reaches ClusterIPs through a route to it. Traffic never
leaves the machine. kube-apiserver refuses loopback addresses in EndpointSlices, so pods cannot
simply share 127.0.0.0/8 (docs/decisions.md).
"""

import asyncio
import ipaddress

from .ipam import gateway_address


class NetworkError(Exception):
    pass


async def _ip(*args: str, check: bool = True) -> str:
    process = await asyncio.create_subprocess_exec(
        "ip", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if check and process.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {err.decode().strip()}")
    return out.decode()


async def create_bridge(bridge: str, cidr: str) -> None:
    """Creates the bridge, or takes over the one of that name (the launcher creates it when it
    claims the name; an agent killed hard leaves one behind). The caller holds the name's lock
    (bridges.py), so no live agent uses it; it is never deleted here, which would free the name
    for someone else for a moment. The gateway address is kept when present (the launcher sets it
    before starting the control plane on the bridge: removing it, even for a moment, would cut the
    host off the API server and drop the host's route to the Service CIDR); any other goes."""
    wanted = f"{gateway_address(cidr)}/{ipaddress.ip_network(cidr).prefixlen}"
    await _ip("link", "add", bridge, "type", "bridge", check=False)  # exists: ours (see above)
    for line in (await _ip("-4", "-o", "addr", "show", "dev", bridge)).splitlines():
        if (present := line.split()[3]) != wanted:
            await _ip("addr", "del", present, "dev", bridge)
    await _ip("addr", "replace", wanted, "dev", bridge)
    await _ip("link", "set", bridge, "up")


async def delete_bridge(bridge: str) -> None:
    await _ip("link", "del", bridge, check=False)


async def create_pod_network(namespace: str, host_veth: str, bridge: str, address: str, cidr: str,
                             service_cidr: str = "", service_router: str = "") -> None:
    """The pod's namespace, eth0 on the bridge with its address, a default route through the host
    and, given a Service CIDR, a route to it through the router (the control plane's address)."""
    prefix = ipaddress.ip_network(cidr).prefixlen
    await delete_pod_network(namespace)
    await _ip("netns", "add", namespace)
    await _ip("link", "add", host_veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
    await _ip("link", "set", host_veth, "master", bridge, "up")
    await _ip("-n", namespace, "addr", "add", f"{address}/{prefix}", "dev", "eth0")
    await _ip("-n", namespace, "link", "set", "eth0", "up")
    await _ip("-n", namespace, "link", "set", "lo", "up")
    await _ip("-n", namespace, "route", "add", "default", "via", gateway_address(cidr))
    if service_cidr:
        await _ip("-n", namespace, "route", "add", service_cidr, "via", service_router, "dev", "eth0")


async def delete_pod_network(namespace: str) -> None:
    # Deleting the namespace deletes its end of the veth pair, and with it the host end.
    await _ip("netns", "del", namespace, check=False)


async def namespaces_with_prefix(prefix: str) -> list[str]:
    out = await _ip("netns", "list", check=False)
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix)]
