"""What the operator's children should be versus what they are: a child is applied only when a
field the operator sets differs, so a reconcile that changes nothing writes nothing."""

from dataclasses import dataclass
from typing import Any

from ... import labels
from ...resources.meta import controller_uid
from ...resources.quantities import same_quantity


QUANTITY_MAPS = frozenset({"limits", "requests"})  # a container's resources: the API server rewrites their values


def differs(desired: Any, observed: Any) -> bool:
    """Whether observed lacks something desired sets. Fields the API server defaults (and so
    holds beyond the desired ones) are not differences, nor are resource quantities it wrote in
    canonical form ("1024Mi" as "1Gi"); a list must match item by item."""
    if isinstance(desired, dict):
        return not isinstance(observed, dict) or any(
            _quantities_differ(v, observed.get(k)) if k in QUANTITY_MAPS else differs(v, observed.get(k))
            for k, v in desired.items())
    if isinstance(desired, list):
        return (not isinstance(observed, list) or len(desired) != len(observed)
                or any(differs(d, o) for d, o in zip(desired, observed, strict=True)))
    return desired != observed


def _quantities_differ(desired: Any, observed: Any) -> bool:
    if not isinstance(desired, dict) or not isinstance(observed, dict):
        return differs(desired, observed)
    return any(not same_quantity(v, observed.get(k)) and differs(v, observed.get(k)) for k, v in desired.items())


@dataclass(frozen=True)
class ServerFacts:
    """A server Deployment as read."""

    name: str
    model: str  # the Model it serves (its annotation)
    replicas: int  # spec.replicas
    body: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any]) -> "ServerFacts":
        meta, spec = body["metadata"], body.get("spec") or {}
        return cls(meta["name"], (meta.get("annotations") or {}).get(labels.MODEL_ANNOTATION, ""),
                   spec.get("replicas", 1), body)

    def env(self, name: str) -> str | None:
        containers = self.body["spec"]["template"]["spec"].get("containers") or []
        for item in (containers[0].get("env") or []) if containers else []:
            if item.get("name") == name:
                return item.get("value")
        return None


def owned(bodies: list[dict[str, Any]], owner_uid: str) -> list[dict[str, Any]]:
    return [b for b in bodies if controller_uid(b) == owner_uid and not b["metadata"].get("deletionTimestamp")]


@dataclass(frozen=True)
class PodFacts:
    """The server pods of one version, summed."""

    ready: int = 0
    restarts: int = 0


def _ready(pod: dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_facts(pods: list[dict[str, Any]]) -> PodFacts:
    statuses = [c for p in pods for c in (p.get("status") or {}).get("containerStatuses") or []]
    return PodFacts(sum(_ready(p) for p in pods), sum(c.get("restartCount", 0) for c in statuses))


def pods_by_model(pods: list[dict[str, Any]], servers: list[ServerFacts]) -> dict[str, list[dict[str, Any]]]:
    """Pods carry a label value of their Model's name (maybe shortened); servers know the full name.
    Pods of no server (a removed version's, draining) belong to nobody."""
    by_label = {(s.body["metadata"].get("labels") or {}).get(labels.MODEL): s.model for s in servers}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        model = by_label.get((pod["metadata"].get("labels") or {}).get(labels.MODEL))
        if model:
            grouped.setdefault(model, []).append(pod)
    return grouped
