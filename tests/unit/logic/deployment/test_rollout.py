"""The rollout step decision, scenario by scenario: what each version runs, what status.canary
becomes, and why."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mlops_operator.api.deployment import Analysis, CanaryStep, Promote
from mlops_operator.api.vocabulary import DeploymentEvent, DeploymentReason
from mlops_operator.logic.deployment.health import CanaryHealth, Requests
from mlops_operator.logic.deployment.rollout import Controls, RolloutInput, Stage, decide
from mlops_operator.resources.meta import format_time

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
STEPS = [CanaryStep(weight=25, pause="60s"), CanaryStep(weight=50, pause="60s")]


def canary(model="v2", step=1, weight=25, started=T0, replicas=1, stable=3, **extra):
    return {"model": model, "step": step, "weight": weight, "stepStartedAt": format_time(started),
            "replicas": replicas, "stableReplicas": stable, **extra}


def rollout(**changes) -> RolloutInput:
    base = RolloutInput(target="v2", stable="v1", canary=None, rolled_back=None, steps=STEPS, analysis=Analysis(),
                        progress_deadline=300, controls=Controls(), replicas=4, health=None, now=T0)
    return replace(base, **changes)


def healthy(ready=1, total=0.0, errors=0.0, restarts=0) -> CanaryHealth:
    return CanaryHealth(ready, restarts, Requests(total, errors))


def test_first_version_is_served_at_once():
    decision = decide(rollout(stable=None))
    assert (decision.stage, decision.stable, decision.canary, decision.pods) == (Stage.SERVING, "v2", None, {"v2": 4})


def test_a_new_target_starts_step_one_beside_the_stable_version():
    decision = decide(rollout())
    assert decision.stage is Stage.ROLLING
    assert decision.canary == canary(stable=3)
    assert decision.pods == {"v1": 3, "v2": 1}
    assert [e.reason for e in decision.events] == [DeploymentEvent.ROLLOUT_STARTED]


def test_the_step_waits_while_the_canary_is_not_ready():
    decision = decide(rollout(canary=canary(), health=healthy(ready=0), now=T0 + timedelta(seconds=30)))
    assert (decision.stage, decision.reason) == (Stage.ROLLING, DeploymentReason.CANARY_NOT_READY)
    assert decision.canary == canary() and decision.wake_in == 270


def test_the_step_waits_for_its_pause():
    decision = decide(rollout(canary=canary(), health=healthy(), now=T0 + timedelta(seconds=45)))
    assert (decision.reason, decision.wake_in, decision.events) == (DeploymentReason.CANARY_STEP, 15, [])


def test_a_healthy_step_advances_when_its_pause_is_over():
    now = T0 + timedelta(seconds=61)
    decision = decide(rollout(canary=canary(), health=healthy(), now=now))
    assert decision.canary == canary(step=2, weight=50, started=now, replicas=2, stable=2)
    assert decision.pods == {"v1": 2, "v2": 2}
    assert [e.reason for e in decision.events] == [DeploymentEvent.STEP_ADVANCED]


def test_after_the_last_step_the_canary_takes_all_while_the_stable_keeps_its_pods():
    now = T0 + timedelta(seconds=61)
    decision = decide(rollout(canary=canary(step=2, weight=50, replicas=2, stable=2), health=healthy(2), now=now))
    assert decision.canary == canary(step=3, weight=100, started=now, replicas=4, stable=2)
    assert decision.pods == {"v1": 2, "v2": 4}


def test_the_canary_is_promoted_once_all_its_pods_are_ready():
    at_full = canary(step=3, weight=100, replicas=4, stable=2)
    waiting = decide(rollout(canary=at_full, health=healthy(3)))
    assert waiting.stable == "v1" and waiting.reason == DeploymentReason.CANARY_NOT_READY
    done = decide(rollout(canary=at_full, health=healthy(4)))
    assert (done.stage, done.stable, done.canary, done.pods) == (Stage.SERVING, "v2", None, {"v2": 4})
    assert done.reason == DeploymentReason.ROLLOUT_COMPLETE
    assert [e.reason for e in done.events] == [DeploymentEvent.PROMOTED]


def test_without_a_canary_strategy_the_new_version_replaces_the_old_once_ready():
    start = decide(rollout(steps=[]))
    assert start.pods == {"v1": 4, "v2": 4} and start.canary["weight"] == 100
    done = decide(rollout(steps=[], canary=start.canary, health=healthy(4)))
    assert (done.stable, done.pods) == ("v2", {"v2": 4})


@pytest.mark.parametrize("health, check", [
    (healthy(total=20, errors=5), "error rate 0.25 (5 of 20 requests) is above analysis.maxErrorRate 0.05"),
    (healthy(restarts=1), "restarted 1 times (analysis.maxRestarts 0)"),
])
def test_a_failed_check_rolls_back(health, check):
    decision = decide(rollout(canary=canary(), health=health, now=T0 + timedelta(seconds=10)))
    assert (decision.stage, decision.stable, decision.canary, decision.pods) == (Stage.DEGRADED, "v1", None, {"v1": 4})
    assert decision.rolled_back["model"] == "v2" and check in decision.rolled_back["message"]
    assert decision.rolled_back["reason"] == DeploymentReason.ROLLED_BACK
    assert [(e.type, e.reason) for e in decision.events] == [("Warning", DeploymentReason.ROLLED_BACK)]


def test_few_requests_are_not_judged():
    decision = decide(rollout(canary=canary(), health=healthy(total=9, errors=9), now=T0 + timedelta(seconds=10)))
    assert decision.stage is Stage.ROLLING


def test_a_canary_never_ready_rolls_back_at_the_deadline():
    decision = decide(rollout(canary=canary(), health=healthy(ready=0), now=T0 + timedelta(seconds=301)))
    assert decision.stage is Stage.DEGRADED
    assert decision.rolled_back["reason"] == DeploymentReason.CANARY_NOT_READY


def test_a_rolled_back_target_is_not_tried_again_and_says_nothing_more():
    record = {"model": "v2", "reason": "RolledBack", "message": "m", "at": format_time(T0)}
    decision = decide(rollout(rolled_back=record))
    assert (decision.stage, decision.canary, decision.events, decision.rolled_back) == (Stage.DEGRADED, None, [], record)


def test_a_new_target_after_a_rollback_rolls_out_and_forgets_the_old_record():
    record = {"model": "v2", "reason": "RolledBack", "message": "m", "at": format_time(T0)}
    decision = decide(rollout(target="v3", rolled_back=record))
    assert decision.canary["model"] == "v3" and decision.rolled_back is None


def test_full_promote_retries_a_rolled_back_target():
    record = {"model": "v2", "reason": "RolledBack", "message": "m", "at": format_time(T0)}
    decision = decide(rollout(rolled_back=record, controls=Controls(promote=Promote(model="v2"))))
    assert decision.canary["model"] == "v2"


def test_pause_holds_the_step_and_its_pause_does_not_count():
    held = decide(rollout(canary=canary(), health=healthy(), controls=Controls(paused=True),
                          now=T0 + timedelta(seconds=30)))
    assert held.stage is Stage.PAUSED and held.reason == DeploymentReason.PAUSED
    assert held.canary["pausedAt"] == format_time(T0 + timedelta(seconds=30))
    later = decide(rollout(canary=held.canary, health=healthy(), controls=Controls(paused=True),
                           now=T0 + timedelta(seconds=500)))
    assert later.canary == held.canary  # nothing moves, not even the deadline
    resumed = decide(rollout(canary=held.canary, health=healthy(), now=T0 + timedelta(seconds=530)))
    assert resumed.stage is Stage.ROLLING and resumed.wake_in == 30  # 30 of 60 s were left
    assert "pausedAt" not in resumed.canary


def test_a_paused_canary_that_fails_a_check_still_rolls_back():
    decision = decide(rollout(canary=canary(), health=healthy(restarts=2), controls=Controls(paused=True)))
    assert decision.stage is Stage.DEGRADED


def test_a_step_without_pause_waits_for_promote_through_it():
    steps = [CanaryStep(weight=25), CanaryStep(weight=50, pause="1m")]
    waiting = decide(rollout(steps=steps, canary=canary(), health=healthy(), now=T0 + timedelta(hours=5)))
    assert (waiting.stage, waiting.reason) == (Stage.PAUSED, DeploymentReason.WAITING_FOR_PROMOTE)
    assert "spec.promote {model: v2, step: 1}" in waiting.message
    stale = decide(rollout(steps=steps, canary=canary(), health=healthy(),
                           controls=Controls(promote=Promote(model="v1", step=1))))
    assert stale.stage is Stage.PAUSED  # an approval of another model's rollout does not count
    approved = decide(rollout(steps=steps, canary=canary(), health=healthy(),
                              controls=Controls(promote=Promote(model="v2", step=1))))
    assert approved.canary["step"] == 2


def test_promote_now_goes_to_full_weight_at_once():
    decision = decide(rollout(canary=canary(), health=healthy(), controls=Controls(promote=Promote(model="v2"))))
    assert decision.canary["weight"] == 100 and decision.pods == {"v1": 3, "v2": 4}


def test_abort_gives_up_once_and_removing_it_starts_again():
    aborted = decide(rollout(canary=canary(), health=healthy(), controls=Controls(abort="v2")))
    assert (aborted.stage, aborted.canary, aborted.pods) == (Stage.DEGRADED, None, {"v1": 4})
    assert aborted.rolled_back["reason"] == DeploymentReason.ABORTED and len(aborted.events) == 1
    again = decide(rollout(rolled_back=aborted.rolled_back, controls=Controls(abort="v2")))
    assert again.events == [] and again.stage is Stage.DEGRADED
    restarted = decide(rollout(rolled_back=aborted.rolled_back))
    assert restarted.canary["model"] == "v2" and restarted.canary["step"] == 1


def test_target_changed_again_mid_rollout_replaces_the_canary():
    decision = decide(rollout(target="v3", canary=canary(step=2, weight=50), health=healthy()))
    assert decision.canary["model"] == "v3" and decision.canary["step"] == 1
    assert decision.pods == {"v1": 3, "v3": 1}
    assert "replaces the canary of v2" in decision.events[0].message


def test_going_back_to_the_stable_target_removes_the_canary_at_once():
    decision = decide(rollout(target="v1", canary=canary(step=2, weight=50), health=healthy()))
    assert (decision.stage, decision.canary, decision.pods) == (Stage.SERVING, None, {"v1": 4})
    assert decision.reason == DeploymentReason.TARGET_CHANGED


def test_a_restarted_operator_resumes_at_the_same_step_with_the_same_remaining_pause():
    first = decide(rollout(canary=canary(), health=healthy(), now=T0 + timedelta(seconds=20)))
    # Nothing but status survives a restart: deciding again from it at a later moment.
    after_restart = decide(rollout(canary=first.canary, health=healthy(), now=T0 + timedelta(seconds=50)))
    assert after_restart.canary == canary() and after_restart.wake_in == 10
