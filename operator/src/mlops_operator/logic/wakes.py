"""Which reconciles a watch event asks for: the decisions behind the kopf event handlers, which
only route keys to work queues."""

from typing import Any

from .. import labels
from ..api.common import API_VERSION
from ..api.kinds import KINDS
from .jobs import pod_blocker, settled

OUR_KINDS = frozenset(kind.kind for kind in KINDS)


def job_owner(event_type: str | None, job: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, name) of the object of ours that controls a Job, when the event can change that
    object's decision (the Job finished or was deleted); None otherwise."""
    if not settled(event_type, job):
        return None
    for owner in job["metadata"].get("ownerReferences") or []:
        if owner.get("controller") and owner.get("apiVersion") == API_VERSION and owner.get("kind") in OUR_KINDS:
            return owner["kind"], owner["name"]
    return None


def blocked_pod_owner(pod: dict[str, Any]) -> str | None:
    """UID of the object of ours whose pod cannot start; None when the pod is fine."""
    if pod_blocker(pod) is None:
        return None
    return (pod["metadata"].get("labels") or {}).get(labels.OWNER_UID)


def referred_dataset(event_type: str | None, spec: dict[str, Any]) -> str | None:
    """The Dataset an Experiment refers to now; None once it is deleted."""
    if event_type == "DELETED":
        return None
    return (spec.get("datasetRef") or {}).get("name") or None


def validation_dataset(event_type: str | None, spec: dict[str, Any]) -> str | None:
    """The Dataset a Model's evaluation scores; None without one, or once the Model is deleted."""
    if event_type == "DELETED":
        return None
    return ((spec.get("validation") or {}).get("dataset") or {}).get("name") or None


def model_family(spec: dict[str, Any]) -> str | None:
    """The modelName whose versions a Model's change concerns."""
    return spec.get("modelName") or None


def serving_owner(child: dict[str, Any]) -> str | None:
    """UID of the Deployment of ours a server Deployment, Service, autoscaler or server pod serves."""
    found = child["metadata"].get("labels") or {}
    return found.get(labels.OWNER_UID) if labels.DEPLOYMENT in found else None


def served_subject(model_ref: dict[str, Any]) -> str | None:
    """What a Deployment's modelRef follows: a Model's name, or the versions of a modelName."""
    if model_ref.get("name"):
        return f"name:{model_ref['name']}"
    return f"family:{model_ref['modelName']}" if model_ref.get("modelName") else None


def model_subjects(name: str, spec: dict[str, Any]) -> list[str]:
    """The Deployments a Model's change concerns: those pinning its name, and those following an
    alias of its modelName (a change of any version can move the alias)."""
    return [f"name:{name}", *([f"family:{spec['modelName']}"] if spec.get("modelName") else [])]
