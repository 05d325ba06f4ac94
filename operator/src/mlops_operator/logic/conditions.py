"""Conditions in the metav1.Condition shape, with Kubernetes' transition semantics, and the kstatus
standing every kind reports: Reconciling=True while working, Stalled=True (with Ready=False) on a
terminal failure, neither when done."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from ..api.vocabulary import ConditionType
from ..resources.meta import format_time

Condition = dict[str, Any]
MAX_MESSAGE = 2048
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"


@dataclass(frozen=True)
class Observation:
    """What a reconcile concluded about one condition type."""

    type: str
    status: str
    reason: str
    message: str = ""


class Progress(Enum):
    """Where the object stands, in kstatus' terms."""

    WORKING = "working"  # InProgress: Reconciling=True
    DONE = "done"  # Current once Ready=True
    STALLED = "stalled"  # Failed: Stalled=True


def bounded(message: str) -> str:
    """A condition message as status keeps it."""
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 1] + "…"


def set_condition(conditions: Sequence[Condition], observation: Observation, generation: int,
                  now: datetime) -> list[Condition]:
    """Returns conditions with observation applied.

    lastTransitionTime moves only when the status changes, as kubectl and Argo CD expect; a new
    reason, message or generation with the same status keeps the old time.
    """
    previous = next((c for c in conditions if c.get("type") == observation.type), None)
    changed_status = previous is None or previous.get("status") != observation.status
    message = bounded(observation.message)
    updated = {
        "type": observation.type,
        "status": observation.status,
        "reason": observation.reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": format_time(now) if changed_status else previous["lastTransitionTime"],
    }
    if previous is None:
        return [*conditions, updated]
    return [updated if c.get("type") == observation.type else c for c in conditions]


def apply_observations(conditions: Sequence[Condition], observations: Sequence[Observation], generation: int,
                       now: datetime) -> list[Condition]:
    result = list(conditions)
    for observation in observations:
        result = set_condition(result, observation, generation, now)
    return result


def standing(conditions: Sequence[Condition], ready: Observation, progress: Progress, generation: int,
             now: datetime, *others: Observation) -> list[Condition]:
    """Ready and the kind's own conditions, plus Reconciling or Stalled (carrying Ready's reason and
    message) as progress says; the one that does not apply is removed."""
    flags = {ConditionType.RECONCILING: progress is Progress.WORKING,
             ConditionType.STALLED: progress is Progress.STALLED}
    kept = [c for c in conditions if flags.get(c.get("type"), True)]
    observations = [ready, *others]
    observations += [Observation(kind, TRUE, ready.reason, ready.message) for kind, on in flags.items() if on]
    return apply_observations(kept, observations, generation, now)


def condition(conditions: Sequence[Condition], kind: str) -> Condition:
    return next((c for c in conditions if c.get("type") == kind), {})
