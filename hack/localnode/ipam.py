"""Pod addresses from the node's pod CIDR; the first address is the bridge's (the gateway)."""

import ipaddress
import itertools


class AddressesExhausted(RuntimeError):
    """Every address of the pod CIDR is held by a pod."""


class AddressPool:
    def __init__(self, cidr: str):
        self.cidr = cidr
        self._free = (str(a) for a in itertools.islice(ipaddress.ip_network(cidr).hosts(), 1, None))
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
