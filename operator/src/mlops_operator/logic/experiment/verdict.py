"""What an Experiment's conditions say: waiting, running, done or failed, and why."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...api.vocabulary import ConditionType, ExperimentPhase, ExperimentReason
from ..conditions import FALSE, TRUE, UNKNOWN, Observation, Progress
from ..jobs import Blocker


@dataclass(frozen=True)
class Verdict:
    phase: ExperimentPhase
    ready: Observation
    succeeded: Observation
    progress: Progress


@dataclass(frozen=True)
class RunFacts:
    """What the verdict needs to know of the run."""

    number: int
    total: int
    tally: dict[str, int]
    best: dict[str, Any] | None
    metric: str
    blocked: dict[int, Blocker]
    name_of: Callable[[int], str]


def _ready(status: str, reason: str, message: str) -> Observation:
    return Observation(ConditionType.READY, status, reason, message)


def _succeeded(status: str, reason: str, message: str) -> Observation:
    return Observation(ConditionType.SUCCEEDED, status, reason, message)


def finished_verdict(run: RunFacts) -> Verdict:
    failed, total = run.tally["failed"], run.total
    if run.best:
        message = (f"best trial {run.best['name']}: {run.metric}={run.best['objectiveValue']:.6g} "
                   f"({failed} of {total} failed)")
        reason = ExperimentReason.BEST_TRIAL_FOUND
        return Verdict(ExperimentPhase.SUCCEEDED, _ready(TRUE, reason, message), _succeeded(TRUE, reason, message),
                       Progress.DONE)
    message = f"all {total} trials failed; see status.trialSummaries and the trials' Events"
    reason = ExperimentReason.ALL_TRIALS_FAILED
    return Verdict(ExperimentPhase.FAILED, _ready(FALSE, reason, message), _succeeded(FALSE, reason, message),
                   Progress.STALLED)


def running_verdict(run: RunFacts) -> Verdict:
    finished = run.tally["succeeded"] + run.tally["failed"]
    message = f"run {run.number}: {finished}/{run.total} trials finished, {run.tally['running']} running"
    reason = ExperimentReason.TRIALS_RUNNING
    if run.blocked:
        index, blocker = min(run.blocked.items())
        reason = ExperimentReason.TRIALS_NOT_STARTING
        message += (f"; {len(run.blocked)} cannot start, e.g. trial {run.name_of(index)}: "
                    f"{blocker.reason}: {blocker.message}")
    return Verdict(ExperimentPhase.RUNNING, _ready(FALSE, reason, message),
                   _succeeded(UNKNOWN, ExperimentReason.TRIALS_RUNNING, message), Progress.WORKING)


def waiting_verdict(run: RunFacts, complete: bool, reason: ExperimentReason, message: str,
                    previous: Verdict | None) -> Verdict:
    """No trial can start. A finished run keeps its Succeeded condition; Ready says what waits."""
    succeeded = previous.succeeded if complete and previous else _succeeded(UNKNOWN, reason, message)
    return Verdict(ExperimentPhase.WAITING, _ready(FALSE, reason, message), succeeded, Progress.WORKING)


def verdict(run: RunFacts, complete: bool, waiting: tuple[ExperimentReason, str] | None) -> Verdict:
    """waiting: why no trial may start, when that holds the Experiment back (a run to start, or an
    unfinished one to go on with)."""
    if waiting:
        reason, message = waiting
        return waiting_verdict(run, complete, reason, message, finished_verdict(run) if complete else None)
    if complete:
        return finished_verdict(run)
    return running_verdict(run)
