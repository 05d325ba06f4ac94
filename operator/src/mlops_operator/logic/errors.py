"""What status says when a reconcile could not finish: the error in the Ready condition, named by
a reason, so it reaches `kubectl describe` and `kubectl wait`, not only the operator's log."""

from datetime import datetime
from typing import Any

from ..api.vocabulary import CommonReason, ConditionType
from .conditions import FALSE, Observation, Progress, bounded, condition, standing
from .patch import merge_patch
from .plan import WARNING, Event


def failure_report(status: dict[str, Any], generation: int, reason: CommonReason, message: str, stalled: bool,
                   now: datetime) -> tuple[dict[str, Any], list[Event]]:
    """The status patch and Event for a failed reconcile; both empty when status says it already
    (a retry failing the same way writes nothing and posts nothing)."""
    ready = condition(status.get("conditions") or [], ConditionType.READY)
    if (ready.get("reason"), ready.get("message")) == (reason, bounded(message)) and ready.get("status") == FALSE:
        return {}, []
    progress = Progress.STALLED if stalled else Progress.WORKING
    conditions = standing(status.get("conditions") or [], Observation(ConditionType.READY, FALSE, reason, message),
                          progress, generation, now)
    return merge_patch(status, {**status, "conditions": conditions}), [Event(WARNING, reason, message)]
