"""Conditions in the metav1.Condition shape, with Kubernetes' transition semantics."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

Condition = dict[str, Any]


@dataclass(frozen=True)
class Observation:
    """What a reconcile concluded about one condition type."""

    type: str
    status: str
    reason: str
    message: str = ""


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    conditions: Sequence[Condition], observation: Observation, generation: int, now: datetime
) -> list[Condition]:
    """Returns conditions with observation applied.

    lastTransitionTime moves only when the status changes, as kubectl and Argo CD expect; a new
    reason, message or generation with the same status keeps the old time.
    """
    previous = next((c for c in conditions if c.get("type") == observation.type), None)
    changed_status = previous is None or previous.get("status") != observation.status
    updated = {
        "type": observation.type,
        "status": observation.status,
        "reason": observation.reason,
        "message": observation.message,
        "observedGeneration": generation,
        "lastTransitionTime": format_time(now) if changed_status else previous["lastTransitionTime"],
    }
    others = [c for c in conditions if c.get("type") != observation.type]
    if previous is None:
        return [*others, updated]
    return [updated if c.get("type") == observation.type else c for c in conditions]


def apply_observations(
    conditions: Sequence[Condition], observations: Sequence[Observation], generation: int, now: datetime
) -> list[Condition]:
    result = list(conditions)
    for observation in observations:
        result = set_condition(result, observation, generation, now)
    return result


def status_changes(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The top-level status fields whose value differs; empty when nothing needs writing."""
    return {key: value for key, value in desired.items() if current.get(key) != value}
