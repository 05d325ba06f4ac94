"""What the operator's children should be versus what they are: a child is applied only when a
field the operator sets differs, so a reconcile that changes nothing writes nothing."""

from dataclasses import dataclass
from typing import Any

from ...labels import MODEL_ANNOTATION
from ...resources.meta import controller_uid


def differs(desired: Any, observed: Any) -> bool:
    """Whether observed lacks something desired sets. Fields the API server defaults (and so
    holds beyond the desired ones) are not differences; a list must match item by item."""
    if isinstance(desired, dict):
        return not isinstance(observed, dict) or any(differs(v, observed.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        return (not isinstance(observed, list) or len(desired) != len(observed)
                or any(differs(d, o) for d, o in zip(desired, observed, strict=True)))
    return desired != observed


@dataclass(frozen=True)
class ServerFacts:
    """A server Deployment as read."""

    name: str
    model: str  # the Model it serves (its annotation)
    replicas: int  # spec.replicas
    ready: int  # status.readyReplicas
    updated: bool  # its status describes its current spec
    body: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any]) -> "ServerFacts":
        meta, spec, status = body["metadata"], body.get("spec") or {}, body.get("status") or {}
        return cls(meta["name"], (meta.get("annotations") or {}).get(MODEL_ANNOTATION, ""),
                   spec.get("replicas", 1), status.get("readyReplicas", 0),
                   status.get("observedGeneration", 0) >= meta.get("generation", 0), body)

    def env(self, name: str) -> str | None:
        containers = self.body["spec"]["template"]["spec"].get("containers") or []
        for item in (containers[0].get("env") or []) if containers else []:
            if item.get("name") == name:
                return item.get("value")
        return None


def owned(bodies: list[dict[str, Any]], owner_uid: str) -> list[dict[str, Any]]:
    return [b for b in bodies if controller_uid(b) == owner_uid and not b["metadata"].get("deletionTimestamp")]
