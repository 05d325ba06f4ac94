"""Kubernetes objects as the API server returns them, for the pure decisions' tests."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from mlops_operator import labels
from mlops_operator.logic.jobs import job_facts
from mlops_operator.resources.meta import Meta, format_time

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NAMESPACE = "ns"


def meta(kind: str, name: str, uid: str, generation: int = 1, created: datetime = NOW - timedelta(hours=1),
         deleting: bool = False) -> Meta:
    return Meta("mlops.dev/v1alpha1", kind, NAMESPACE, name, uid, generation, created, deleting, {}, {})


def job(name: str, owner_uid: str, *, state: str = "running", labels_: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None, reason: str = "", message: str = "", active: int | None = None,
        created: datetime = NOW - timedelta(minutes=5)) -> dict[str, Any]:
    """A Job in one of the states running, complete, failed (terminating: finished with a pod left)."""
    status: dict[str, Any] = {}
    if state == "running":
        status["active"] = 1 if active is None else active
    if state in ("complete", "failed", "terminating"):
        kind = "Complete" if state == "complete" else "Failed"
        status["conditions"] = [{"type": kind, "status": "True", "reason": reason, "message": message}]
        if state == "terminating":
            status["terminating"] = 1
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": NAMESPACE, "uid": f"uid-{name}",
                     "creationTimestamp": format_time(created),
                     "labels": {labels.OWNER_UID: owner_uid, **(labels_ or {})}, "annotations": annotations or {},
                     "ownerReferences": [{"apiVersion": "mlops.dev/v1alpha1", "kind": "X", "name": "x",
                                          "uid": owner_uid, "controller": True}]},
        "status": status,
    }


def facts(*jobs: dict[str, Any]):
    return [job_facts(j) for j in jobs]


def pod(job_uid: str, *, phase: str = "Running", terminated: dict[str, Any] | None = None,
        waiting: tuple[str, str] | None = None, unschedulable: str | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "state": {}}
    if terminated is not None:
        container["state"]["terminated"] = {"finishedAt": "2026-11-26T11:59:00Z", **terminated}
    if waiting:
        container["state"]["waiting"] = {"reason": waiting[0], "message": waiting[1]}
    status: dict[str, Any] = {"phase": phase, "containerStatuses": [container]}
    if unschedulable:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                 "message": unschedulable}]
    return {"metadata": {"name": f"{job_uid}-pod", "ownerReferences": [{"uid": job_uid, "controller": True}]},
            "status": status}


def encodable(document: Any) -> bool:
    """Whether the document is valid JSON: no NaN or infinity anywhere (status could not hold it)."""
    try:
        json.dumps(document, allow_nan=False)
    except ValueError:
        return False
    return True


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c["type"] == kind), {})


# How server-side apply records list items (their merge keys) and which values it owns whole, for
# the fields the operator's children carry.
LIST_KEYS = {"ownerReferences": ("uid",), "containers": ("name",), "initContainers": ("name",), "env": ("name",),
             "volumes": ("name",), "volumeMounts": ("mountPath",), "imagePullSecrets": ("name",)}
ATOMIC = {"selector", "command", "args", "envFrom", "tolerations", "metrics", "drop", "scaleTargetRef"}


def _list_keys(name: str, item: dict[str, Any]) -> tuple[str, ...] | None:
    if name == "ports":
        return ("containerPort", "protocol") if "containerPort" in item else ("port", "protocol")
    return LIST_KEYS.get(name)


def fields_of(value: Any, name: str = "") -> dict[str, Any]:
    """The fieldsV1 a server-side apply of value records."""
    if name in ATOMIC:
        return {}
    if isinstance(value, dict):
        return {f"f:{k}": fields_of(v, k) for k, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], dict) and _list_keys(name, value[0]):
        keys = _list_keys(name, value[0])
        return {"k:" + json.dumps({k: item.get(k, "TCP") for k in keys}, separators=(",", ":")):
                {".": {}, **fields_of(item)} for item in value}
    return {}


def server_side_applied(manifest: dict[str, Any], manager: str = labels.FIELD_MANAGER,
                        **others: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server returns it after manager applied manifest (identity aside),
    with each other manager's fieldsV1 (an Update) after it."""
    applied = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    applied["metadata"] = {k: v for k, v in manifest["metadata"].items() if k not in ("name", "namespace")}
    entries = [{"manager": manager, "operation": "Apply", "apiVersion": manifest["apiVersion"],
                "fieldsType": "FieldsV1", "fieldsV1": fields_of(applied)}]
    entries += [{"manager": name, "operation": "Update", "apiVersion": manifest["apiVersion"],
                 "fieldsType": "FieldsV1", "fieldsV1": fields} for name, fields in others.items()]
    return {**manifest, "metadata": {**manifest["metadata"], "managedFields": entries}}
