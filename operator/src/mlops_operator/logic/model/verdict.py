"""What a Model's conditions say: the evaluation (Evaluated), the gate and the aliases (Promoted),
and where it stands (Ready, with Reconciling or Stalled)."""

from dataclasses import dataclass

from ...api.vocabulary import ConditionType, ModelPhase, ModelReason
from ..conditions import FALSE, TRUE, UNKNOWN, Observation, Progress
from .registry import Standing


@dataclass(frozen=True)
class Progressing:
    """Why the version has no gate verdict yet, or what it is re-doing while its verdict stands."""

    reason: ModelReason  # WaitingForDataset, Evaluating, PodNotStarting, Comparing
    message: str


@dataclass(frozen=True)
class Verdict:
    phase: ModelPhase
    evaluated: Observation
    promoted: Observation
    ready: Observation
    progress: Progress


def evaluated(gated: bool, scores_message: str | None, error: str | None,
              progressing: Progressing | None) -> Observation:
    kind = ConditionType.EVALUATED
    if not gated:
        return Observation(kind, TRUE, ModelReason.NO_VALIDATION, "no validation policy: nothing to evaluate")
    if scores_message is not None:
        again = f"; {progressing.message}" if progressing else ""
        return Observation(kind, TRUE, ModelReason.EVALUATION_SUCCEEDED, scores_message + again)
    if error is not None and progressing is None:
        return Observation(kind, FALSE, ModelReason.EVALUATOR_FAILED, error)
    assert progressing is not None
    return Observation(kind, UNKNOWN, progressing.reason, progressing.message)


def _gate_failed(standing: Standing) -> str:
    failed = standing.verdict.failed_checks if standing.verdict else []
    return "; ".join(f"{c.name}: {c.message}" for c in failed)


def promoted(standing: Standing, gated: bool, held: list[str], asks: tuple[str, ...], holders: dict[str, str],
             error: str | None, progressing: Progressing | None) -> Observation:
    kind = ConditionType.PROMOTED
    verdict = standing.verdict
    if verdict is None:
        if error is not None and progressing is None:
            return Observation(kind, FALSE, ModelReason.EVALUATOR_FAILED, f"no scores to judge: {error}")
        assert progressing is not None
        return Observation(kind, UNKNOWN, progressing.reason, progressing.message)
    if not verdict.passed:
        return Observation(kind, FALSE, ModelReason.GATE_FAILED, f"gate failed: {_gate_failed(standing)}")
    passed = "gate passed" if gated else "no gate (no validation policy)"
    if held:
        if verdict.overridden:
            return Observation(kind, TRUE, ModelReason.OVERRIDDEN,
                               f"holds {', '.join(held)} by override ({verdict.overridden}); "
                               f"lost comparison: {_gate_failed(standing)}")
        return Observation(kind, TRUE, ModelReason.GATE_PASSED, f"{passed}; holds {', '.join(held)}")
    if not asks:
        return Observation(kind, FALSE, ModelReason.NOT_ASKED, f"{passed}; the version asks for no alias")
    newer = ", ".join(f"{a} by {holders[a]}" for a in asks if a in holders)
    return Observation(kind, FALSE, ModelReason.SUPERSEDED, f"{passed}; held by newer versions: {newer}")


def verdict(evaluation: Observation, promotion: Observation, progressing: Progressing | None) -> Verdict:
    """Ready follows the promotion: True once the gate has answered yes (whatever the version
    holds), False and Stalled when the gate or the evaluation said no, Unknown while waiting."""
    if promotion.status == UNKNOWN:
        phase = ModelPhase.WAITING if promotion.reason == ModelReason.WAITING_FOR_DATASET else ModelPhase.EVALUATING
        ready = Observation(ConditionType.READY, UNKNOWN, promotion.reason, promotion.message)
        return Verdict(phase, evaluation, promotion, ready, Progress.WORKING)
    if promotion.reason in (ModelReason.GATE_FAILED, ModelReason.EVALUATOR_FAILED):
        phase = ModelPhase.REJECTED if promotion.reason == ModelReason.GATE_FAILED else ModelPhase.FAILED
        ready = Observation(ConditionType.READY, FALSE, promotion.reason, promotion.message)
        return Verdict(phase, evaluation, promotion, ready, Progress.WORKING if progressing else Progress.STALLED)
    phase = ModelPhase.PROMOTED if promotion.status == TRUE else ModelPhase.PASSED
    ready = Observation(ConditionType.READY, TRUE, promotion.reason, promotion.message)
    return Verdict(phase, evaluation, promotion, ready, Progress.WORKING if progressing else Progress.DONE)
