"""The Dataset's decisions: which validation round is due, and what its result means."""

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .conditions import Observation, apply_observations, format_time, status_changes
from .. import labels
from .events import Event
from .jobs import terminal_condition

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
MAX_FAILURES_IN_MESSAGE = 3


def parse_duration(text: str) -> float:
    """Seconds in a Go-style duration such as 90s, 1h30m (the CRD has already checked the form)."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


def validation_round(created: datetime, now: datetime, interval: str | None) -> int:
    """The refresh round due now: 0 without refresh, else whole intervals since creation. The same
    clock gives every operator replica and restart the same round, hence the same Job name."""
    if not interval:
        return 0
    return int((now - created).total_seconds() // parse_duration(interval))


def seconds_until_next_round(created: datetime, now: datetime, interval: str) -> float:
    period = parse_duration(interval)
    return period - ((now - created).total_seconds() % period)


@dataclass(frozen=True)
class ValidationRun:
    """A finished validation Job: whether the Job succeeded, and its pod's termination message."""

    job: str
    job_succeeded: bool
    termination_message: str | None
    job_reason: str = ""
    exit_code: int | None = None


@dataclass(frozen=True)
class Rounds:
    """The validation Jobs of a Dataset seen from the current generation."""

    busy: bool  # the due round's Job exists, or a round of this generation still runs
    latest_finished: dict[str, Any] | None  # the newest finished round of this generation
    stale: list[str]  # Jobs to remove


def rounds(jobs: list[dict[str, Any]], generation: int, due_job: str, recorded: str | None) -> Rounds:
    mine = [j for j in jobs if j["metadata"]["labels"].get(labels.GENERATION) == str(generation)]
    running = {j["metadata"]["name"] for j in mine if terminal_condition(j) is None}
    finished = sorted((j for j in mine if terminal_condition(j)), key=lambda j: int(j["metadata"]["labels"][labels.ROUND]))
    latest = finished[-1] if finished else None
    names = [j["metadata"]["name"] for j in jobs]
    keep = {due_job, recorded, *running, latest["metadata"]["name"] if latest else None}
    return Rounds(bool(running) or due_job in names, latest, sorted(n for n in names if n not in keep))


@dataclass
class DatasetPlan:
    create_job: bool
    status_patch: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


def _document(message: str | None) -> dict[str, Any]:
    try:
        value = json.loads(message or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def plan(dataset: dict[str, Any], due_job: str, busy: bool, finished: ValidationRun | None,
         now: datetime) -> DatasetPlan:
    """due_job: the round due now; busy: it exists, or another round of this generation still
    runs (a validation longer than the interval delays the next round instead of piling up);
    finished: the newest finished round of this generation, recorded unless it already is."""
    status = dataset.get("status") or {}
    generation = dataset["metadata"]["generation"]
    desired: dict[str, Any] = {"observedGeneration": generation}
    observations: list[Observation] = []
    events: list[Event] = []
    recorded = finished is not None and status.get("lastValidationJob") == finished.job
    create_job = not busy and status.get("lastValidationJob") != due_job
    job_name = due_job

    if finished is None or recorded:
        # Until the current generation has a result, say so; a refresh round of a validated
        # generation changes nothing until it ends.
        if status.get("validatedGeneration") != generation:
            message = f"validation Job {job_name} is running"
            observations = [Observation("Validated", "Unknown", "Validating", message),
                            Observation("Ready", "Unknown", "Validating", message)]
            desired["phase"] = "Validating"
    else:
        desired["lastValidationJob"] = finished.job
        desired["validatedGeneration"] = generation
        document = _document(finished.termination_message)
        if not finished.job_succeeded or "passed" not in document:
            error = document.get("error") or (finished.termination_message or "").strip() or "no result reported"
            message = f"the validator failed ({finished.job_reason or 'JobFailed'}, exit code {finished.exit_code}): {error}"[:1024]
            observations = [Observation("Validated", "False", "ValidatorFailed", message),
                            Observation("Ready", "False", "ValidatorFailed", message)]
            desired["phase"] = "Error"
            events.append(Event("Warning", "ValidatorFailed", message))
        else:
            rows = document.get("metrics", {}).get("rows")
            desired["stats"] = {"rows": int(rows) if rows is not None else None, "columns": document.get("stats", {})}
            desired["lastValidatedAt"] = format_time(now)
            if document["passed"]:
                digest = document["digest"]
                if digest != status.get("digest"):
                    desired["digest"] = digest
                    desired["digestChangedAt"] = format_time(now)
                    if status.get("digest"):
                        events.append(Event("Normal", "NewData", f"digest changed from {status['digest']} to {digest}"))
                message = f"{desired['stats']['rows']} rows passed validation; digest {digest}"
                observations = [Observation("Validated", "True", "ValidationPassed", message),
                                Observation("Ready", "True", "Validated", message)]
                desired["phase"] = "Ready"
                events.append(Event("Normal", "ValidationPassed", message))
            else:
                failures = document.get("failed") or []
                shown = "; ".join(f"{f['name']}: {f['message']}" for f in failures[:MAX_FAILURES_IN_MESSAGE])
                more = len(failures) - MAX_FAILURES_IN_MESSAGE
                message = shown + (f"; and {more} more" if more > 0 else "")
                observations = [Observation("Validated", "False", "ValidationFailed", message),
                                Observation("Ready", "False", "ValidationFailed", message)]
                desired["phase"] = "Invalid"
                events.append(Event("Warning", "ValidationFailed", message))
    if observations:
        desired["conditions"] = apply_observations(status.get("conditions") or [], observations, generation, now)
    return DatasetPlan(create_job, status_changes(status, desired), events)
