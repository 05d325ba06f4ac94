"""What the operator's children should be versus what they are: a child is applied only when it
has drifted from what the operator would apply, so a reconcile that changes nothing writes nothing.

Drift is judged by ownership, as server-side apply records it in managedFields: a field the
operator applies and no longer owns was written by someone else (a hand edit takes the field from
its manager), or the child lost it; a field it owns and no longer applies is one its apply would
remove. Fields other managers added (an annotation, a sidecar, an autoscaler's replicas) are
theirs and never a difference."""

import json
from dataclasses import dataclass
from typing import Any

from ... import labels
from ...resources.meta import controller_uid
from ...resources.quantities import same_quantity

IDENTITY = ("apiVersion", "kind")  # say which object a manifest is; managedFields never list them
METADATA_IDENTITY = ("name", "namespace")
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


def applied_fields(observed: dict[str, Any], manager: str = labels.FIELD_MANAGER) -> dict[str, Any] | None:
    """The fields manager's server-side applies own (managedFields' fieldsV1), or None if it never applied."""
    for entry in observed["metadata"].get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply" and not entry.get("subresource"):
            return entry.get("fieldsV1") or {}
    return None


def owns(observed: dict[str, Any] | None, *path: str, manager: str = labels.FIELD_MANAGER) -> bool:
    """Whether manager's applies own the field at path (e.g. "spec", "replicas")."""
    fields = applied_fields(observed, manager) if observed else None
    for name in path:
        if fields is None:
            return False
        fields = fields.get(f"f:{name}")
    return fields is not None


def drifted(desired: dict[str, Any], observed: dict[str, Any] | None, manager: str = labels.FIELD_MANAGER) -> bool:
    """Whether applying desired would change observed: it is missing, the operator never applied
    it, a field desired sets is not the operator's (any more) or has another value, or the
    operator owns a field desired no longer sets."""
    if observed is None:
        return True
    owned = applied_fields(observed, manager)
    if owned is None:
        return True
    body = {k: v for k, v in desired.items() if k not in IDENTITY}
    body["metadata"] = {k: v for k, v in desired["metadata"].items() if k not in METADATA_IDENTITY}
    return _drifted(body, observed, owned)


def _drifted(desired: Any, observed: Any, owned: dict[str, Any]) -> bool:
    fields = {k[2:]: v for k, v in owned.items() if k.startswith("f:")}
    if isinstance(desired, dict) and fields:
        if not isinstance(observed, dict):
            return True
        for key, value in desired.items():
            if key not in fields:
                return True
            if key in QUANTITY_MAPS and isinstance(value, dict) and isinstance(observed.get(key), dict):
                if _quantities_differ(value, observed[key]) or _owned_keys_differ(value, fields[key]):
                    return True
            elif _drifted(value, observed.get(key), fields[key]):
                return True
        return bool(set(fields) - set(desired))
    items = {k: json.loads(k[2:]) for k in owned if k.startswith("k:")}
    if isinstance(desired, list) and items:
        found = observed if isinstance(observed, list) else []
        matched = set()
        for item in desired:
            key = next((k for k, identity in items.items() if _identified(item, identity)), None)
            twin = next((o for o in found if key and _identified(o, items[key])), None)
            if key is None or twin is None or _drifted(item, twin, owned[key]):
                return True
            matched.add(key)
        return bool(set(items) - matched)
    # Owned whole (a value, an atomic list or map): as a whole, server defaults aside.
    return differs(desired, observed)


def _owned_keys_differ(desired: dict[str, Any], owned: dict[str, Any]) -> bool:
    keys = {k[2:] for k in owned if k.startswith("f:")}
    return keys != set(desired)


def _identified(item: Any, identity: dict[str, Any]) -> bool:
    """Whether a list item is the one a managedFields key names; a key field the manifest leaves
    out is the API server's default (a port's protocol) and names no other item."""
    return isinstance(item, dict) and all(item.get(k, v) == v for k, v in identity.items())


def foreign_port_taking(desired: dict[str, Any], observed: dict[str, Any] | None,
                        manager: str = labels.FIELD_MANAGER) -> bool:
    """Whether a Service port the operator does not own holds the name or number of one it
    applies: a hand edit of its port. Apply cannot take it back (the API server refuses two ports
    of one name), so the Service is made again."""
    if observed is None:
        return False
    owned = ((applied_fields(observed, manager) or {}).get("f:spec") or {}).get("f:ports") or {}
    mine = [json.loads(k[2:]) for k in owned if k.startswith("k:")]
    wanted = desired["spec"]["ports"]
    for port in (observed.get("spec") or {}).get("ports") or []:
        if any(_identified(port, identity) for identity in mine):
            continue
        if any(port.get("name") == w.get("name") or port.get("port") == w.get("port") for w in wanted):
            return True
    return False


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
