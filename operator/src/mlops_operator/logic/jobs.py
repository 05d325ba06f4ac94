"""Reading the operator's Jobs and their pods (plain dicts) into the logic's terms."""

import json
from typing import Any

from .. import contract, labels
from .trials import Outcome, Trial


def terminal_condition(job: dict[str, Any]) -> dict[str, Any] | None:
    """The Job's Complete or Failed condition, once it has one."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition["type"] in ("Complete", "Failed") and condition["status"] == "True":
            return condition
    return None


def latest_termination(pods: list[dict[str, Any]]) -> tuple[str | None, int | None]:
    """Termination message and exit code of the most recently finished container among the pods."""
    finished = []
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            terminated = (status.get("state") or {}).get("terminated")
            if terminated:
                finished.append((terminated.get("finishedAt") or "", terminated))
    if not finished:
        return None, None
    _, terminated = max(finished, key=lambda item: item[0])
    return terminated.get("message"), terminated.get("exitCode")


def pinned_digest(job: dict[str, Any]) -> str | None:
    """The dataset digest the trial was started with (its MLOPS_DATASET_DIGEST)."""
    for container in job["spec"]["template"]["spec"]["containers"]:
        for var in container.get("env") or []:
            if var["name"] == contract.DATASET_DIGEST:
                return var.get("value") or None
    return None


def trial_from_job(job: dict[str, Any]) -> Trial:
    meta = job["metadata"]
    annotations = meta.get("annotations") or {}
    status = job.get("status") or {}
    result = annotations.get(labels.RESULT_ANNOTATION)
    # A trial holds a parallelism slot until its Job is over and none of its pods still runs.
    occupying = terminal_condition(job) is None or bool(status.get("active")) or bool(status.get("terminating"))
    return Trial(
        name=meta["name"],
        run=int(meta["labels"][labels.RUN]),
        index=int(meta["labels"][labels.TRIAL]),
        parameters=json.loads(annotations.get(labels.PARAMETERS_ANNOTATION, "{}")),
        outcome=Outcome.from_json(result) if result else None,
        occupying=occupying,
    )

