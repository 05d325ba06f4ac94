"""What status says when a reconcile could not finish: the error in the Ready condition, named by
a reason, so it reaches `kubectl describe` and `kubectl wait`, not only the operator's log."""

import re
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


# Where a refused child's pod template fields come from in its owner's spec (resources/pods.py):
# the pod's own fields from spec.pod, its one container's from the kind's container field.
CONTAINER_SOURCES = {
    "Dataset": "spec.validation.validator",
    "Experiment": "spec.trainer",
    "Model": "spec.validation.evaluator",
    "Deployment": "spec.server",
}
# The operator puts its own entries before the user's in these lists, so the child's index is not the spec's.
_SHIFTED_LISTS = ("env", "envFrom")
_TEMPLATE_FIELD = re.compile(
    r"spec\.template\.(?:spec\.containers\[0\]\.(?P<container>[A-Za-z]+)|spec\.(?P<pod>[A-Za-z]+)"
    r"|(?:metadata\.)?(?P<metadata>labels|annotations))(?P<rest>(?:\[[^\]]*\]|\.[A-Za-z][A-Za-z0-9]*)*)"
)


def spec_fields_of_child_refusal(owner_kind: str, message: str) -> list[str]:
    """The owner's spec fields behind the pod template fields a refused child's message names, in
    order, once each. The API server speaks of the child (spec.template.spec.tolerations[1].key);
    a user can only change the owner's spec (spec.pod.tolerations[1].key)."""
    fields: list[str] = []
    for match in _TEMPLATE_FIELD.finditer(message):
        rest = match["rest"]
        if match["container"]:
            name = match["container"]
            if name in _SHIFTED_LISTS:
                rest = re.sub(r"^\[\d+\]", "", rest)
            field = f"{CONTAINER_SOURCES.get(owner_kind, 'spec')}.{name}{rest}"
        else:
            field = f"spec.pod.{match['pod'] or match['metadata']}{rest}"
        if field not in fields:
            fields.append(field)
    return fields


def child_refusal_message(owner_kind: str, server_message: str) -> str:
    """What status says of a child the API server refused: the spec fields it was built from, then
    the server's own words."""
    fields = spec_fields_of_child_refusal(owner_kind, server_message)
    built_from = f" built from {', '.join(fields)}" if fields else ""
    return f"the API server refused a child{built_from}: {server_message}"
