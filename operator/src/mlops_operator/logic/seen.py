"""The status of an object the operator has seen but gives no behaviour yet."""

from datetime import datetime
from typing import Any

from .conditions import Observation, apply_observations, status_changes

RECONCILING = Observation(
    type="Ready",
    status="Unknown",
    reason="Reconciling",
    message="The operator has seen this object and is reconciling it.",
)


def seen_status_patch(status: dict[str, Any], generation: int, now: datetime) -> dict[str, Any]:
    """The status fields to patch so that the object records it was seen at this generation."""
    desired = {
        "observedGeneration": generation,
        "conditions": apply_observations(status.get("conditions") or [], [RECONCILING], generation, now),
    }
    return status_changes(status, desired)
