"""Pod networking: a network namespace per pod on a bridge of the node's own.

Each pod gets an address from the node's pod CIDR on eth0 of its own namespace, as on a real
node; the host reaches it through the bridge (the first address of the CIDR). Traffic never
leaves the machine. kube-apiserver refuses loopback addresses in EndpointSlices, so pods cannot
simply share 127.0.0.0/8 (docs/decisions.md).
"""

import asyncio
import ipaddress


class NetworkError(Exception):
    pass


async def _ip(*args: str, check: bool = True) -> str:
    process = await asyncio.create_subprocess_exec(
        "ip", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    if check and process.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {err.decode().strip()}")
    return out.decode()


def gateway_of(cidr: str) -> str:
    return str(next(ipaddress.ip_network(cidr).hosts()))


def namespace_path(name: str) -> str:
    return f"/run/netns/{name}"


async def create_bridge(bridge: str, cidr: str) -> None:
    """Creates the bridge, or takes over the one of that name (the launcher creates it when it
    claims the name; an agent killed hard leaves one behind). The caller holds the name's lock
    (bridges.py), so no live agent uses it; it is never deleted here, which would free the name
    for someone else for a moment."""
    network = ipaddress.ip_network(cidr)
    await _ip("link", "add", bridge, "type", "bridge", check=False)  # exists: ours (see above)
    await _ip("addr", "flush", "dev", bridge)
    await _ip("addr", "add", f"{gateway_of(cidr)}/{network.prefixlen}", "dev", bridge)
    await _ip("link", "set", bridge, "up")


async def delete_bridge(bridge: str) -> None:
    await _ip("link", "del", bridge, check=False)


async def create_pod_network(namespace: str, host_veth: str, bridge: str, address: str, cidr: str) -> None:
    prefix = ipaddress.ip_network(cidr).prefixlen
    await delete_pod_network(namespace)
    await _ip("netns", "add", namespace)
    await _ip("link", "add", host_veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
    await _ip("link", "set", host_veth, "master", bridge, "up")
    await _ip("-n", namespace, "addr", "add", f"{address}/{prefix}", "dev", "eth0")
    await _ip("-n", namespace, "link", "set", "eth0", "up")
    await _ip("-n", namespace, "link", "set", "lo", "up")
    await _ip("-n", namespace, "route", "add", "default", "via", gateway_of(cidr))


async def delete_pod_network(namespace: str) -> None:
    # Deleting the namespace deletes its end of the veth pair, and with it the host end.
    await _ip("netns", "del", namespace, check=False)


async def namespaces_with_prefix(prefix: str) -> list[str]:
    out = await _ip("netns", "list", check=False)
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix)]
