"""The status of a kind whose controller is still to come (Deployment): seen, nothing more."""

from datetime import datetime
from typing import Any

from ..api.vocabulary import ConditionType, SeenReason
from .conditions import UNKNOWN, Observation, Progress, standing
from .patch import merge_patch
from .plan import Plan

MESSAGE = "The operator has seen this object and is reconciling it."


def plan(status: dict[str, Any], generation: int, phase: str, now: datetime) -> Plan:
    ready = Observation(ConditionType.READY, UNKNOWN, SeenReason.RECONCILING, MESSAGE)
    desired = {**status, "observedGeneration": generation, "phase": phase,
               "conditions": standing(status.get("conditions") or [], ready, Progress.WORKING, generation, now)}
    return Plan(status=merge_patch(status, desired))
