"""A trial's outcome from what its Job and pod say, and the choice of the best trial."""

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .events import Event
from .sweep import format_value

SUCCEEDED, FAILED = "Succeeded", "Failed"
MESSAGE_LIMIT = 512


@dataclass(frozen=True)
class Outcome:
    """How a finished trial ended; stored on its Job (annotation) so it is read once."""

    phase: str
    reason: str
    message: str = ""
    metrics: dict[str, float | None] = field(default_factory=dict)
    objective: float | None = None
    artifact_uri: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Outcome":
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Trial:
    name: str
    run: int
    index: int
    parameters: dict[str, Any]
    outcome: Outcome | None
    occupying: bool  # its Job still has, or may still start, a pod


def _parse(message: str | None) -> dict[str, Any] | None:
    try:
        document = json.loads(message or "")
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def judge(*, job_succeeded: bool, job_reason: str, job_message: str, exit_code: int | None,
          termination_message: str | None, objective_metric: str, pinned_digest: str | None) -> Outcome:
    """The outcome of a finished trial. Failed with a named reason when the Job failed, when a
    successful trial reported no metrics (MetricsMissing), not the objective (ObjectiveMissing), a
    NaN or infinite objective (ObjectiveNotFinite), or trained on other data (DatasetChanged)."""
    document = _parse(termination_message)
    if not job_succeeded:
        detail = f"exit code {exit_code}" if exit_code is not None else ""
        tail = (document or {}).get("error") or ("" if document else (termination_message or ""))
        message = "; ".join(part for part in (job_message, detail, tail.strip()) if part)
        return Outcome(FAILED, job_reason or "JobFailed", _short(message))
    metrics = (document or {}).get("metrics")
    if not isinstance(metrics, dict) or not metrics:
        return Outcome(FAILED, "MetricsMissing",
                       "the trial succeeded but reported no metrics; write them with "
                       "mlops_operator.runtime.report() to the termination message")
    metrics = {str(k): (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None)
               for k, v in metrics.items()}
    artifact_uri = document.get("artifactUri")
    if pinned_digest and document.get("digest") and document["digest"] != pinned_digest:
        return Outcome(FAILED, "DatasetChanged", f"trained on {document['digest']}, the run pinned {pinned_digest}",
                       metrics, None, artifact_uri)
    if objective_metric not in metrics:
        return Outcome(FAILED, "ObjectiveMissing",
                       f"reported {sorted(metrics)} but not the objective metric {objective_metric!r}",
                       metrics, None, artifact_uri)
    value = metrics[objective_metric]
    if value is None or not math.isfinite(value):
        return Outcome(FAILED, "ObjectiveNotFinite", f"{objective_metric} is not a finite number",
                       metrics, None, artifact_uri)
    return Outcome(SUCCEEDED, "Succeeded", f"{objective_metric}={value:.6g}", metrics, value, artifact_uri)


def started_event(trial: str, parameters: dict[str, Any]) -> Event:
    listed = ", ".join(f"{name}={format_value(value)}" for name, value in sorted(parameters.items()))
    return Event("Normal", "TrialStarted", f"trial {trial}: {listed}")


def finished_event(trial: str, outcome: Outcome) -> Event:
    if outcome.phase == SUCCEEDED:
        return Event("Normal", "TrialSucceeded", f"trial {trial}: {outcome.message}")
    return Event("Warning", "TrialFailed", f"trial {trial}: {outcome.reason}: {outcome.message}")


def best_trial(trials: Sequence[Trial], goal: str) -> Trial | None:
    """The succeeded trial with the best objective; a tie goes to the earliest trial (lowest index),
    so the choice never depends on the order trials finished in. Trials without a finite objective
    never count (judge() fails them)."""
    eligible = [t for t in trials if t.outcome and t.outcome.phase == SUCCEEDED and t.outcome.objective is not None]
    if not eligible:
        return None
    sign = -1.0 if goal == "maximize" else 1.0
    return min(eligible, key=lambda t: (sign * t.outcome.objective, t.index))
