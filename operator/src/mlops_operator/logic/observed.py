"""What the domain metrics say about each object, as pure functions of the bodies the watches
deliver: the facts kept per object (small: a few numbers and names, never the whole body), the
gauge samples they give at scrape time, and the counted transitions between two sightings.

Label values are names of objects and words of the vocabulary, never trial names or free text, so
the series grow with the objects, not with their trials. A version's evaluation metrics are the
evaluator's names; at most MAX_EVALUATION_METRICS of them per version are exported.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..api.vocabulary import DeploymentReason
from ..resources.meta import parse_time

MAX_EVALUATION_METRICS = 32
NO_PHASE = "Unknown"  # an object the operator has not given a status yet
TRIAL_STATES = ("pending", "running", "succeeded", "failed")  # status.trials' counts
PASSED, FAILED, OVERRIDDEN = "passed", "failed", "overridden"  # gate decisions

# Metric names (docs/operations.md lists them with their meaning).
OBJECTS = "mlops_objects"
TRIALS = "mlops_experiment_trials"
BEST_OBJECTIVE = "mlops_experiment_best_objective"
TRIALS_FINISHED = "mlops_experiment_trials_finished_total"
EVALUATION_METRIC = "mlops_model_evaluation_metric"
GATE_DECISIONS = "mlops_model_gate_decisions_total"
ALIAS_AGE = "mlops_model_alias_age_seconds"
CANARY_WEIGHT = "mlops_deployment_canary_weight_ratio"
CANARY_STEP = "mlops_deployment_canary_step"
ROLLBACKS = "mlops_deployment_rollbacks_total"

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Sample:
    metric: str
    labels: Labels
    value: float


@dataclass(frozen=True, slots=True)
class Facts:
    """One object, as far as the metrics care. Fields a kind does not have stay empty."""

    kind: str
    namespace: str
    name: str
    phase: str = NO_PHASE
    # Experiment
    run: int | None = None
    trials: tuple[int, ...] = ()  # in TRIAL_STATES' order
    objective: tuple[str, str] | None = None  # (metric, goal)
    best: float | None = None
    # Model
    model: str = ""
    version: str = ""
    evaluation: tuple[tuple[str, float], ...] = ()
    decision: tuple[str | None, str] | None = None  # (validation key, PASSED | FAILED | OVERRIDDEN)
    aliases: tuple[tuple[str, datetime], ...] = ()  # (alias, when this version took it)
    # Deployment
    canary: tuple[int, int] | None = None  # (step, weight in percent)
    rollback: tuple[str, str] | None = None  # (model, when): the last rollout the checks gave up


def facts_of(kind: str, body: dict[str, Any]) -> Facts:
    meta, spec, status = body.get("metadata") or {}, body.get("spec") or {}, body.get("status") or {}
    facts = Facts(kind, meta.get("namespace", ""), meta.get("name", ""), status.get("phase") or NO_PHASE)
    reader = _READERS.get(kind)
    return reader(facts, spec, status) if reader else facts


def _experiment(facts: Facts, spec: dict[str, Any], status: dict[str, Any]) -> Facts:
    counts = status.get("trials") or {}
    objective = spec.get("objective") or {}
    best = (status.get("bestTrial") or {}).get("objectiveValue")
    return replace(facts, run=status.get("run"), trials=tuple(int(counts.get(s) or 0) for s in TRIAL_STATES),
                    objective=(str(objective.get("metric", "")), str(objective.get("goal", ""))),
                    best=float(best) if isinstance(best, int | float) else None)


def _model(facts: Facts, spec: dict[str, Any], status: dict[str, Any]) -> Facts:
    validation = status.get("validation") or {}
    scores = validation.get("metrics") or {}
    evaluation = tuple(sorted((str(k), float(v)) for k, v in scores.items()
                              if isinstance(v, int | float)))[:MAX_EVALUATION_METRICS]
    passed = validation.get("passed")
    decision = None
    if validation.get("overridden"):
        decision = (validation.get("key"), OVERRIDDEN)
    elif passed is not None:
        decision = (validation.get("key"), PASSED if passed else FAILED)
    promoted_at = status.get("promotedAt") or {}
    aliases = tuple((a, when) for a in status.get("aliases") or [] if (when := parse_time(promoted_at.get(a))))
    return replace(facts, model=str(spec.get("modelName", "")), version=str(spec.get("version", "")),
                    evaluation=evaluation, decision=decision, aliases=aliases)


def _deployment(facts: Facts, spec: dict[str, Any], status: dict[str, Any]) -> Facts:
    canary = status.get("canary")
    given_up = status.get("rolledBack") or {}
    rollback = ((given_up.get("model", ""), given_up.get("at", ""))
                if given_up.get("reason") == DeploymentReason.ROLLED_BACK else None)
    return replace(facts, canary=(int(canary.get("step") or 0), int(canary.get("weight") or 0)) if canary else None,
                    rollback=rollback)


_READERS = {"Experiment": _experiment, "Model": _model, "Deployment": _deployment}


def samples(objects: list[Facts], now: datetime) -> list[Sample]:
    """The gauges: objects by kind, namespace and phase, and each object's own numbers."""
    counts: dict[Labels, int] = {}
    out: list[Sample] = []
    for facts in objects:
        key = (("kind", facts.kind), ("namespace", facts.namespace), ("phase", facts.phase))
        counts[key] = counts.get(key, 0) + 1
        out += _own_samples(facts, now)
    return [Sample(OBJECTS, labels, count) for labels, count in sorted(counts.items())] + out


def _own_samples(facts: Facts, now: datetime) -> list[Sample]:
    namespace = ("namespace", facts.namespace)
    if facts.kind == "Experiment":
        experiment = (namespace, ("experiment", facts.name))
        out = [Sample(TRIALS, (*experiment, ("state", s)), n) for s, n in zip(TRIAL_STATES, facts.trials, strict=True)]
        if facts.best is not None and facts.objective:
            metric, goal = facts.objective
            out.append(Sample(BEST_OBJECTIVE, (*experiment, ("metric", metric), ("goal", goal)), facts.best))
        return out
    if facts.kind == "Model":
        version = (namespace, ("model", facts.model), ("version", facts.version))
        return ([Sample(EVALUATION_METRIC, (*version, ("metric", m)), v) for m, v in facts.evaluation]
                + [Sample(ALIAS_AGE, (namespace, ("model", facts.model), ("alias", a), ("version", facts.version)),
                          max(0.0, (now - when).total_seconds())) for a, when in facts.aliases])
    if facts.kind == "Deployment":
        deployment = (namespace, ("deployment", facts.name))
        step, weight = facts.canary or (0, 0)
        return [Sample(CANARY_WEIGHT, deployment, weight / 100), Sample(CANARY_STEP, deployment, step)]
    return []


def counter_series(facts: Facts) -> list[tuple[str, Labels]]:
    """The counter series an object has from its first sighting, at 0 until something happens (a
    series that appears at its first increment hides that increment from rate() and increase())."""
    namespace = ("namespace", facts.namespace)
    if facts.kind == "Experiment":
        return [(TRIALS_FINISHED, (namespace, ("experiment", facts.name), ("result", result)))
                for result in ("succeeded", "failed")]
    if facts.kind == "Model" and facts.model:
        return [(GATE_DECISIONS, (namespace, ("model", facts.model), ("result", result)))
                for result in (PASSED, FAILED, OVERRIDDEN)]
    if facts.kind == "Deployment":
        return [(ROLLBACKS, (namespace, ("deployment", facts.name)))]
    return []


def transitions(before: Facts | None, after: Facts) -> list[Sample]:
    """What happened between two sightings of an object, as counter increments. The first sighting
    counts nothing: what an earlier process saw was counted there (a restart starts counters at 0,
    which rate() and increase() handle)."""
    if before is None:
        return []
    out = []
    if after.kind == "Experiment":
        experiment = (("namespace", after.namespace), ("experiment", after.name))
        same_run = before.run == after.run
        for state in ("succeeded", "failed"):
            index = TRIAL_STATES.index(state)
            now = after.trials[index] if after.trials else 0
            then = before.trials[index] if before.trials and same_run else 0
            if now > then:
                out.append(Sample(TRIALS_FINISHED, (*experiment, ("result", state)), now - then))
    elif after.kind == "Model" and after.decision and after.decision != before.decision:
        out.append(Sample(GATE_DECISIONS, (("namespace", after.namespace), ("model", after.model),
                                           ("result", after.decision[1])), 1))
    elif after.kind == "Deployment" and after.rollback and after.rollback != before.rollback:
        out.append(Sample(ROLLBACKS, (("namespace", after.namespace), ("deployment", after.name)), 1))
    return out
