"""Pod addresses from the node's pod CIDR. Two addresses are never a pod's: the first is the
bridge's (the gateway, in the host namespace), the last is the control plane's (its network
namespace on the same bridge: the API server and kube-proxy, the router of the Service CIDR)."""

import ipaddress


class AddressesExhausted(RuntimeError):
    """Every address of the pod CIDR is held by a pod."""


def gateway_address(cidr: str) -> str:
    """The bridge's address, the pods' default gateway (the host)."""
    return str(next(ipaddress.ip_network(cidr).hosts()))


def control_plane_address(cidr: str) -> str:
    """The control plane's address on the bridge: the last host address of the pod CIDR."""
    network = ipaddress.ip_network(cidr)
    return str(network.broadcast_address - 1)


class AddressPool:
    def __init__(self, cidr: str):
        self.cidr = cidr
        reserved = {gateway_address(cidr), control_plane_address(cidr)}
        self._free = (a for a in map(str, ipaddress.ip_network(cidr).hosts()) if a not in reserved)
        self._released: list[str] = []
        self._by_pod: dict[str, str] = {}

    def address_for(self, pod_uid: str) -> str:
        """The pod's address, allocated on first use; stable for the pod's life."""
        if pod_uid not in self._by_pod:
            # Fresh addresses first, so a deleted pod's address is not reused while Endpoints settle.
            fresh = next(self._free, None)
            if fresh is None and not self._released:
                raise AddressesExhausted(f"pod address pool exhausted: no free address in {self.cidr}")
            self._by_pod[pod_uid] = fresh or self._released.pop(0)
        return self._by_pod[pod_uid]

    def release(self, pod_uid: str) -> None:
        """Returns the pod's address to the pool (at the back of the reused ones); idempotent."""
        address = self._by_pod.pop(pod_uid, None)
        if address:
            self._released.append(address)
