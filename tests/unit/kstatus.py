"""kstatus' status.Compute (sigs.k8s.io/cli-utils/pkg/kstatus/status), the rules Flux, kpt and
Argo CD users rely on, for a custom resource (no built-in legacy rules). Each rule is named so a
test row says which one it checks:

  R1 deletionTimestamp set                                   -> Terminating
  R2 status.observedGeneration present and != generation     -> InProgress
  R3 a condition Reconciling=True (first in list order wins)  -> InProgress
  R4 a condition Stalled=True                                 -> Failed
  R5 Ready=True -> Current; Ready=False or Unknown            -> InProgress
  R6 none of the above                                        -> Current
"""

from typing import Any

CURRENT, IN_PROGRESS, FAILED, TERMINATING = "Current", "InProgress", "Failed", "Terminating"


def compute(obj: dict[str, Any]) -> tuple[str, str]:
    """(status, the rule that decided it)."""
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    if meta.get("deletionTimestamp"):
        return TERMINATING, "R1"
    if "generation" in meta and "observedGeneration" in status and status["observedGeneration"] != meta["generation"]:
        return IN_PROGRESS, "R2"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Reconciling" and condition.get("status") == "True":
            return IN_PROGRESS, "R3"
        if condition.get("type") == "Stalled" and condition.get("status") == "True":
            return FAILED, "R4"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            if condition.get("status") == "True":
                return CURRENT, "R5"
            if condition.get("status") in ("False", "Unknown"):
                return IN_PROGRESS, "R5"
    return CURRENT, "R6"
