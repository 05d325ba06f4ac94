"""How many server pods each side of a canary runs for a traffic weight (no mesh: the Service
balances over ready pods, so the canary's share is its share of the pods).

Argo Rollouts' basic canary rule: the split closest to the weight, never 0 on either side for a
weight of 1-99, allowing one pod more than spec.replicas when that comes closer. With R replicas
the shares reachable are k/R and k/(R+1): the precision is about 100/R percentage points, and the
surge at most one pod. Stricter than Argo with one replica: both sides still run a pod (a share
of 50%), so the canary is really checked and the stable version really serves."""


def split(replicas: int, weight: int) -> tuple[int, int]:
    """(canary, stable) pods for weight percent of the traffic on the canary."""
    if replicas == 0:
        return 0, 0
    if weight >= 100:
        return replicas, 0
    if weight <= 0:
        return 0, replicas
    candidates = [(canary, total - canary) for total in (replicas, replicas + 1) for canary in range(1, total)]
    return min(candidates, key=lambda pair: (abs(100 * pair[0] / sum(pair) - weight), sum(pair)))


def share(canary: int, stable: int) -> int:
    """The canary's percent of the traffic with these pods ready."""
    return round(100 * canary / (canary + stable)) if canary + stable else 0
