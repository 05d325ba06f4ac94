"""What a Dataset's status says: the result of the round just finished, the round under way, or
(nothing new) the last result restated, so a transient error message never outlives its cause."""

from datetime import datetime
from typing import Any

from ...api.vocabulary import ConditionType, DatasetEvent, DatasetPhase, DatasetReason
from ...resources.meta import format_time
from ..conditions import FALSE, TRUE, UNKNOWN, Observation, Progress, condition, standing
from ..jobs import Blocker, JobFacts
from ..plan import NORMAL, WARNING, Event
from ..results import ValidationVerdict

_OUTCOMES = {
    DatasetReason.VALIDATION_PASSED: (TRUE, DatasetPhase.READY, Progress.DONE),
    DatasetReason.VALIDATION_FAILED: (FALSE, DatasetPhase.INVALID, Progress.STALLED),
    DatasetReason.VALIDATOR_FAILED: (FALSE, DatasetPhase.ERROR, Progress.STALLED),
}


def _verdict_conditions(conditions: list[dict[str, Any]], reason: DatasetReason, message: str, generation: int,
                        now: datetime) -> tuple[list[dict[str, Any]], DatasetPhase]:
    status, phase, progress = _OUTCOMES[reason]
    ready_reason = DatasetReason.VALIDATION_PASSED if status == TRUE else reason
    ready = Observation(ConditionType.READY, status, ready_reason, message)
    validated = Observation(ConditionType.VALIDATED, status, reason, message)
    return standing(conditions, ready, progress, generation, now, validated), phase


def recorded(status: dict[str, Any], verdict: ValidationVerdict, job: str, generation: int,
             now: datetime) -> tuple[dict[str, Any], list[Event]]:
    """Status after a finished round: its verdict for this generation. status.digest only ever
    holds the digest of data that passed, so an Experiment never pins invalid data."""
    desired = {**status, "lastValidationJob": job, "validatedGeneration": generation,
               "observedGeneration": generation}
    events = [Event(NORMAL if verdict.passed else WARNING, verdict.reason, verdict.message)]
    if verdict.reason != DatasetReason.VALIDATOR_FAILED:
        desired["stats"] = {"rows": verdict.rows, "columns": verdict.columns}
        desired["lastValidatedAt"] = format_time(now)
    if verdict.passed and verdict.digest != status.get("digest"):
        desired["digest"] = verdict.digest
        desired["digestChangedAt"] = format_time(now)
        if status.get("digest"):
            events.append(Event(NORMAL, DatasetEvent.NEW_DATA,
                                f"digest changed from {status['digest']} to {verdict.digest}"))
    desired["conditions"], desired["phase"] = _verdict_conditions(
        status.get("conditions") or [], verdict.reason, verdict.message, generation, now)
    return desired, events


def validating(status: dict[str, Any], job: str, blocked: tuple[JobFacts, Blocker] | None, generation: int,
               now: datetime) -> tuple[dict[str, Any], list[Event]]:
    """Status while the current generation has no result yet: the round under way, or why its pod
    cannot start. observedGeneration stays with the generation the shown result is for."""
    if blocked:
        blocked_job, blocker = blocked
        reason = DatasetReason.POD_NOT_STARTING
        message = f"validation Job {blocked_job.name} cannot start: {blocker.reason}: {blocker.message}"
    else:
        reason, message = DatasetReason.VALIDATING, f"validation Job {job} is running"
    previous = condition(status.get("conditions") or [], ConditionType.READY)
    conditions = standing(status.get("conditions") or [], Observation(ConditionType.READY, UNKNOWN, reason, message),
                          Progress.WORKING, generation, now,
                          Observation(ConditionType.VALIDATED, UNKNOWN, reason, message))
    announce = blocked and (previous.get("reason"), previous.get("message")) != (reason, message)
    events = [Event(WARNING, reason, message)] if announce else []
    return {**status, "phase": DatasetPhase.VALIDATING, "conditions": conditions}, events


def restated(status: dict[str, Any], generation: int, blocked: tuple[JobFacts, Blocker] | None,
             now: datetime) -> tuple[dict[str, Any], list[Event]]:
    """Status when nothing new happened to a validated generation: Ready restated from Validated
    (an error path may have changed Ready in between). The last result holds while a refresh round
    runs; a round whose pod cannot start is added to Ready's message, and announced once."""
    conditions = status.get("conditions") or []
    validated = condition(conditions, ConditionType.VALIDATED)
    try:
        reason = DatasetReason(validated.get("reason"))
    except ValueError:
        return status, []
    if reason not in _OUTCOMES:
        return status, []
    message, events = validated.get("message", ""), []
    if blocked:
        problem = f"refresh Job {blocked[0].name} cannot start: {blocked[1].reason}: {blocked[1].message}"
        message = f"{message}; {problem}"
        if condition(conditions, ConditionType.READY).get("message") != message:
            events.append(Event(WARNING, DatasetReason.POD_NOT_STARTING, problem))
    ready_conditions, phase = _verdict_conditions(conditions, reason, validated.get("message", ""), generation, now)
    ready = condition(ready_conditions, ConditionType.READY)
    ready_conditions = [{**c, "message": message} if c is ready else c for c in ready_conditions]
    return {**status, "conditions": ready_conditions, "phase": phase}, events
