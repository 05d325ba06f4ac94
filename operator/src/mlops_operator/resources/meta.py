"""The parts of a Kubernetes object's metadata the builders and decisions use, read from the raw
dict once, and the owner reference that ties a child to it."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def parse_time(text: str | None) -> datetime | None:
    """A Kubernetes timestamp (RFC 3339, seconds or microseconds) as an aware datetime."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Meta:
    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str
    generation: int
    created: datetime
    deleting: bool
    labels: dict[str, str]
    annotations: dict[str, str]
    spec_written_at: datetime | None = None  # the last write of any spec field (managedFields; to the second)

    @classmethod
    def of(cls, obj: dict[str, Any]) -> "Meta":
        meta = obj["metadata"]
        return cls(
            api_version=obj.get("apiVersion", ""), kind=obj.get("kind", ""), namespace=meta.get("namespace", ""),
            name=meta["name"], uid=meta.get("uid", ""), generation=meta.get("generation", 0),
            created=parse_time(meta.get("creationTimestamp")) or datetime.fromtimestamp(0, UTC),
            deleting=bool(meta.get("deletionTimestamp")), labels=dict(meta.get("labels") or {}),
            annotations=dict(meta.get("annotations") or {}), spec_written_at=spec_written_at(meta),
        )


def spec_written_at(meta: dict[str, Any]) -> datetime | None:
    """When a manager last wrote a field of spec, from managedFields (status writes are not spec)."""
    times = [parse_time(entry.get("time")) for entry in meta.get("managedFields") or []
             if entry.get("subresource") != "status" and "f:spec" in (entry.get("fieldsV1") or {})]
    return max((t for t in times if t), default=None)


def controller_uid(obj: dict[str, Any]) -> str | None:
    """UID of the object's controlling owner, if any."""
    for reference in obj["metadata"].get("ownerReferences") or []:
        if reference.get("controller"):
            return reference.get("uid")
    return None


def labels_lost(existing: dict[str, Any], manifest: dict[str, Any]) -> bool:
    """Whether the existing object lacks a label the manifest gives it (or has another value)."""
    held = existing["metadata"].get("labels") or {}
    return any(held.get(k) != v for k, v in (manifest["metadata"].get("labels") or {}).items())


def owned_by(objects: list[dict[str, Any]], owner_uid: str) -> list[dict[str, Any]]:
    """The objects whose controlling owner is owner_uid: a re-created parent of the same name never
    takes its predecessor's children."""
    return [o for o in objects if controller_uid(o) == owner_uid]


def owner_reference(owner: Meta) -> dict[str, Any]:
    return {"apiVersion": owner.api_version, "kind": owner.kind, "name": owner.name, "uid": owner.uid,
            "controller": True, "blockOwnerDeletion": True}
