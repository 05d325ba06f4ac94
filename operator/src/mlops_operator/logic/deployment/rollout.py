"""The rollout step decision: from the target, the stable version, the rollout recorded in status
(status.canary, status.rolledBack), the spec's manual controls and the canary's health, what each
version runs now and what the rollout becomes. Pure; everything it remembers is in status, so an
operator restarted mid-step resumes at the same step with the same remaining pause.

A weight of 100 (the implicit last step, or the only one without a canary strategy) runs every
replica on the new version while the stable version keeps the pods it had, and completes once
they are all ready: the old version goes only when the new one can take all the traffic."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from ...api.deployment import Analysis, CanaryStep, Promote
from ...api.vocabulary import DeploymentEvent, DeploymentReason
from ...resources.meta import format_time, parse_time
from ..durations import parse_duration
from ..plan import NORMAL, WARNING, Event
from .health import CanaryHealth, failed_check, inconclusive
from .replicas import split

FULL = 100


class Stage(Enum):
    WAITING = "waiting"  # nothing to serve
    SERVING = "serving"  # the target is the stable version
    ROLLING = "rolling"  # a canary runs
    PAUSED = "paused"  # a canary waits for a person
    DEGRADED = "degraded"  # the target's rollout was given up; the stable version serves


@dataclass(frozen=True)
class Controls:
    """The spec's manual controls."""

    paused: bool = False
    promote: Promote | None = None
    abort: str | None = None

    def approves(self, model: str, step: int) -> bool:
        return bool(self.promote and self.promote.model == model
                    and (self.promote.step is None or self.promote.step >= step))

    def promotes_fully(self, model: str) -> bool:
        return bool(self.promote and self.promote.model == model and self.promote.step is None)


@dataclass(frozen=True)
class RolloutInput:
    target: str | None
    stable: str | None  # status.stableModel
    canary: dict | None  # status.canary
    rolled_back: dict | None  # status.rolledBack
    steps: list[CanaryStep]  # empty without a canary strategy
    analysis: Analysis
    progress_deadline: float
    controls: Controls
    replicas: int
    health: CanaryHealth | None  # of the canary's pods; None without a canary
    now: datetime


@dataclass(frozen=True)
class Decision:
    stage: Stage
    stable: str | None
    canary: dict | None
    rolled_back: dict | None
    pods: dict[str, int]  # Model -> replicas of its server Deployment; the others go
    reason: DeploymentReason
    message: str
    events: list[Event] = field(default_factory=list)
    wake_in: float | None = None  # seconds until a pause or a deadline ends


def _steps(rollout: RolloutInput) -> list[CanaryStep]:
    steps = list(rollout.steps)
    if not steps or steps[-1].weight != FULL:
        steps.append(CanaryStep(weight=FULL))
    return steps


def _implicit(rollout: RolloutInput, number: int) -> bool:
    """The step the operator added: weight 100 without a pause, which completes by itself."""
    return number > len(rollout.steps)


def _pods(rollout: RolloutInput, model: str, canary: dict) -> dict[str, int]:
    assert rollout.stable is not None
    return {rollout.stable: canary["stableReplicas"], model: canary["replicas"]}


def _at_step(rollout: RolloutInput, model: str, number: int, started: datetime, previous_stable: int) -> dict:
    weight = _steps(rollout)[number - 1].weight
    canary, stable = split(rollout.replicas, weight)
    if weight == FULL:
        stable = previous_stable  # the old version serves until the new one can take it all
    return {"model": model, "step": number, "weight": weight, "stepStartedAt": format_time(started),
            "replicas": canary, "stableReplicas": stable}


def _serving(rollout: RolloutInput, reason: DeploymentReason, message: str, events: list[Event] | None = None,
             rolled_back: dict | None = None) -> Decision:
    stable = rollout.stable
    pods = {stable: rollout.replicas} if stable else {}
    stage = Stage.SERVING if stable and stable == rollout.target else Stage.WAITING
    if rolled_back and rolled_back.get("model") == rollout.target:
        stage = Stage.DEGRADED
    return Decision(stage, stable, None, rolled_back, pods, reason, message, events or [])


def _give_up(rollout: RolloutInput, reason: DeploymentReason, message: str) -> Decision:
    model = rollout.target
    record = {"model": model, "reason": str(reason), "message": message, "at": format_time(rollout.now)}
    event = Event(WARNING, reason, f"rollout of {model} given up, {rollout.stable} serves: {message}")
    return _serving(rollout, reason, f"{model}: {message}; {rollout.stable} serves", [event], record)


def _start(rollout: RolloutInput) -> Decision:
    model, stable = rollout.target, rollout.stable
    assert model is not None and stable is not None
    replaced = rollout.canary.get("model") if rollout.canary else None
    canary = _at_step(rollout, model, 1, rollout.now, rollout.replicas)
    again = f" (it replaces the canary of {replaced})" if replaced and replaced != model else ""
    event = Event(NORMAL, DeploymentEvent.ROLLOUT_STARTED,
                  f"rolling out {model} over {stable}: step 1 at {canary['weight']}%{again}")
    return Decision(Stage.ROLLING, stable, canary, rollout.rolled_back, _pods(rollout, model, canary),
                    DeploymentReason.CANARY_STEP, _step_message(rollout, canary, "starting"), [event],
                    wake_in=rollout.progress_deadline)


def _step_message(rollout: RolloutInput, canary: dict, doing: str) -> str:
    total = len(_steps(rollout))
    return (f"step {canary['step']} of {total}: {canary['model']} at {canary['weight']}% "
            f"({canary['replicas']} canary, {canary['stableReplicas']} stable pods): {doing}")


def _resumed(canary: dict, paused: bool, now: datetime) -> dict:
    """Time spent paused does not count towards a step's pause."""
    paused_at = parse_time(canary.get("pausedAt"))
    if paused:
        return canary if paused_at else {**canary, "pausedAt": format_time(now)}
    if paused_at is None:
        return canary
    started = parse_time(canary["stepStartedAt"]) or now
    resumed = {**canary, "stepStartedAt": format_time(started + (now - paused_at))}
    resumed.pop("pausedAt")
    return resumed


def _advance(rollout: RolloutInput, canary: dict) -> Decision:
    model = canary["model"]
    number = canary["step"]
    if number >= len(_steps(rollout)):
        event = Event(NORMAL, DeploymentEvent.PROMOTED,
                      f"{model} serves all the traffic; {rollout.stable} is removed")
        return Decision(Stage.SERVING, model, None, rollout.rolled_back, {model: rollout.replicas},
                        DeploymentReason.ROLLOUT_COMPLETE, f"rolled out {model}, which replaced {rollout.stable}",
                        [event])
    following = _at_step(rollout, model, number + 1, rollout.now, canary["stableReplicas"])
    event = Event(NORMAL, DeploymentEvent.STEP_ADVANCED,
                  f"{model} passed step {number}; step {number + 1} at {following['weight']}%")
    return Decision(Stage.ROLLING, rollout.stable, following, rollout.rolled_back, _pods(rollout, model, following),
                    DeploymentReason.CANARY_STEP, _step_message(rollout, following, "starting"), [event],
                    wake_in=rollout.progress_deadline)


def _progress(rollout: RolloutInput) -> Decision:
    """The canary of the target runs: judge it, then wait, advance or complete."""
    canary = dict(rollout.canary or {})
    model, health = canary["model"], rollout.health or CanaryHealth(0, 0)
    failure = failed_check(rollout.analysis, health)
    if failure:
        return _give_up(rollout, DeploymentReason.ROLLED_BACK, failure)
    if rollout.controls.promotes_fully(model) and canary["step"] < len(_steps(rollout)):
        canary = _at_step(rollout, model, len(_steps(rollout)), rollout.now, canary["stableReplicas"])
    canary = _resumed(canary, rollout.controls.paused, rollout.now)
    pods = _pods(rollout, model, canary)
    if canary.get("pausedAt"):
        return Decision(Stage.PAUSED, rollout.stable, canary, rollout.rolled_back, pods, DeploymentReason.PAUSED,
                        _step_message(rollout, canary, "held by spec.paused"))
    elapsed = (rollout.now - (parse_time(canary["stepStartedAt"]) or rollout.now)).total_seconds()
    if health.ready < canary["replicas"]:
        if elapsed > rollout.progress_deadline:
            return _give_up(rollout, DeploymentReason.CANARY_NOT_READY,
                            f"{health.ready} of {canary['replicas']} canary pods ready after "
                            f"canary.progressDeadlineSeconds ({rollout.progress_deadline:g}s)")
        return Decision(Stage.ROLLING, rollout.stable, canary, rollout.rolled_back, pods,
                        DeploymentReason.CANARY_NOT_READY,
                        _step_message(rollout, canary, f"{health.ready} of {canary['replicas']} canary pods ready"),
                        wake_in=max(rollout.progress_deadline - elapsed, 1.0))
    waiting = inconclusive(rollout.analysis, health)
    if waiting:
        return Decision(Stage.ROLLING, rollout.stable, canary, rollout.rolled_back, pods,
                        DeploymentReason.CANARY_STEP, _step_message(rollout, canary, waiting))
    number = canary["step"]
    step = _steps(rollout)[number - 1]
    if rollout.controls.approves(model, number) or _implicit(rollout, number):
        return _advance(rollout, canary)
    if step.pause is None:
        return Decision(Stage.PAUSED, rollout.stable, canary, rollout.rolled_back, pods,
                        DeploymentReason.WAITING_FOR_PROMOTE,
                        _step_message(rollout, canary, f"waits for spec.promote {{model: {model}, step: {number}}}"))
    remaining = parse_duration(step.pause) - elapsed
    if remaining <= 0:
        return _advance(rollout, canary)
    # The end, not the seconds left: a message that changes every look would be a status write every look.
    ends = format_time(rollout.now + timedelta(seconds=remaining))
    return Decision(Stage.ROLLING, rollout.stable, canary, rollout.rolled_back, pods, DeploymentReason.CANARY_STEP,
                    _step_message(rollout, canary, f"healthy; its pause ends at {ends}"), wake_in=remaining)


def decide(rollout: RolloutInput) -> Decision:
    if (rollout.rolled_back or {}).get("model") != rollout.target:
        rollout = replace(rollout, rolled_back=None)  # a given-up rollout matters only while it is the target
    target, stable, canary = rollout.target, rollout.stable, rollout.canary
    if target is None:
        cancelled = ([Event(NORMAL, DeploymentReason.TARGET_CHANGED,
                            f"canary of {canary['model']} removed: there is no target any more")] if canary else [])
        return _serving(rollout, DeploymentReason.SERVING, "", cancelled, rollout.rolled_back)
    if stable is None or rollout.replicas == 0:
        # Nothing serves yet (or nothing is to serve): the target is taken as it is.
        return _serving(replace(rollout, stable=target), DeploymentReason.SERVING, "", [], rollout.rolled_back)
    if target == stable:
        back = ([Event(NORMAL, DeploymentReason.TARGET_CHANGED,
                       f"the target is {stable} again: the canary of {canary['model']} is removed")] if canary else [])
        return _serving(rollout, DeploymentReason.TARGET_CHANGED if canary else DeploymentReason.SERVING, "", back,
                        rollout.rolled_back)
    if rollout.controls.abort == target:
        if (rollout.rolled_back or {}).get("model") == target:
            return _serving(rollout, DeploymentReason.ABORTED, "", [], rollout.rolled_back)
        return _give_up(rollout, DeploymentReason.ABORTED, "spec.abort names it")
    given_up = rollout.rolled_back or {}
    if given_up.get("model") == target and given_up.get("reason") == DeploymentReason.ROLLED_BACK \
            and not rollout.controls.promotes_fully(target):
        return _serving(rollout, DeploymentReason.ROLLED_BACK, "", [], rollout.rolled_back)
    if canary is None or canary.get("model") != target:
        return _start(rollout)
    return _progress(rollout)
