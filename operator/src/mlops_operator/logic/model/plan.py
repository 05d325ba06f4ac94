"""A Model's whole decision, composed from named steps: the evaluation its inputs need and what a
finished one recorded, the resolution of its modelName's aliases (with the compared holder scored
again on this version's data when needed), the hand-overs, what status says, when to look again."""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ...api.model import ModelSpec
from ...api.vocabulary import ModelEvent, ModelReason
from ...resources.jobs import scoring_key
from ...resources.meta import Meta, format_time
from ..conditions import UNKNOWN, bounded, condition, standing
from ..dataset_view import DatasetView
from ..jobs import STARTUP_GRACE_SECONDS, JobFacts, job_blocker
from ..patch import merge_patch
from ..plan import NORMAL, WARNING, Creation, Deletion, Event, Plan
from . import verdict as says
from .aliases import holdings
from .evaluation import (Inputs, evaluation_creation, judged, recorded, rescore_creation, rescore_record,
                         scores_of, standing_record, version_of)
from .registry import Resolution, Standing, resolve

RESYNC_SECONDS = 300.0
"""Safety net while an evaluation runs, should a watch event be missed."""
MAX_METRICS_SHOWN = 8


@dataclass(frozen=True)
class Sibling:
    """Another version of the same modelName, as read (spec None when it does not parse)."""

    meta: Meta
    spec: ModelSpec | None
    status: dict[str, Any]


@dataclass(frozen=True)
class ModelWorld:
    """Everything a Model reconcile reads, gathered in one place."""

    meta: Meta
    spec: ModelSpec
    status: dict[str, Any]
    siblings: list[Sibling]  # the other versions of its modelName in its namespace
    dataset: DatasetView | None  # its validation Dataset; None without a validation policy
    jobs: list[JobFacts]  # evaluation Jobs this Model controls
    now: datetime
    pods: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by Job UID
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by Job UID, for pod-less Jobs


@dataclass(frozen=True)
class Step:
    """What the evaluation steps decided so far: status.validation, Jobs to make, Jobs wanted."""

    validation: dict[str, Any]
    create: list[Creation] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    wanted: list[str] = field(default_factory=list)  # Jobs the current inputs need, not yet recorded
    progressing: says.Progressing | None = None


def inputs_of(world: ModelWorld) -> Inputs | None:
    """What an evaluation started now would score; None when none may start."""
    if world.spec.validation is None or world.dataset is None or world.dataset.problem():
        return None
    return Inputs(scoring_key(world.spec), world.dataset)


def _running(world: ModelWorld, job: JobFacts, doing: str) -> says.Progressing:
    blocker = job_blocker(job, world.pods.get(job.uid, []), world.events.get(job.uid, []))
    if blocker:
        return says.Progressing(ModelReason.POD_NOT_STARTING,
                                f"Job {job.name} cannot start: {blocker.reason}: {blocker.message}")
    return says.Progressing(ModelReason.EVALUATING if doing == "evaluation" else ModelReason.COMPARING,
                            f"{doing} Job {job.name} is running")


def evaluate(world: ModelWorld, inputs: Inputs | None) -> Step:
    """The evaluation the current inputs need: started, still running, or recorded now."""
    spec, validation = world.spec, dict(world.status.get("validation") or {})
    if spec.validation is None:
        return Step({})
    if inputs is None:
        if standing_record(spec, validation):
            return Step(validation)  # recorded scores stand until the Dataset can be read again
        problem = world.dataset.problem() if world.dataset else None
        return Step(validation, progressing=says.Progressing(ModelReason.WAITING_FOR_DATASET, problem or ""))
    name = inputs.job_name(world.meta.name, spec)
    if validation.get("job") == name:
        return Step(validation)
    job = next((j for j in world.jobs if j.name == name), None)
    digest = inputs.dataset.digest or ""
    if job is None:
        started = Event(NORMAL, ModelEvent.EVALUATION_STARTED,
                        f"Job {name} scores split {spec.validation.dataset.split} of Dataset "
                        f"{inputs.dataset.name} ({digest})")
        return Step(validation, [Creation(evaluation_creation(world.meta, spec, inputs, name), started)], [], [name],
                    says.Progressing(ModelReason.EVALUATING, f"evaluation Job {name} is starting"))
    if not job.finished:
        return Step(validation, wanted=[name], progressing=_running(world, job, "evaluation"))
    outcome = judged(job, world.pods, digest)
    event = (Event(NORMAL, ModelReason.EVALUATION_SUCCEEDED, f"Job {name}: {outcome.message}") if outcome.succeeded
             else Event(WARNING, ModelReason.EVALUATOR_FAILED, f"Job {name}: {outcome.message}"))
    return Step(recorded(outcome, validation, inputs.key, name, spec, digest, format_time(world.now)), events=[event])


def resolution_with(world: ModelWorld, validation: dict[str, Any]) -> Resolution:
    me = version_of(world.meta, world.spec, {**world.status, "validation": validation})
    others = [version_of(s.meta, s.spec, s.status) for s in world.siblings
              if s.spec is not None and not s.meta.deleting]
    return resolve([me, *others])


def rescore(world: ModelWorld, inputs: Inputs | None, step: Step, mine: Standing) -> Step:
    """When the compared holder was scored on other data: score it on this version's data, or
    record that score in status.validation.baseline."""
    if not mine.needs_rescore or step.progressing:
        return step
    holder = mine.opponent
    assert holder is not None
    scored_digest = step.validation.get("datasetDigest") or ""
    if inputs is None or inputs.dataset.digest != scored_digest:
        return replace(step, progressing=says.Progressing(
            ModelReason.COMPARING, f"{holder.name} must be scored on this version's data ({scored_digest}), "
                                   "which the Dataset no longer holds; waiting for this version's re-evaluation"))
    name = inputs.rescore_name(world.meta.name, holder)
    job = next((j for j in world.jobs if j.name == name), None)
    if job is None:
        started = Event(NORMAL, ModelEvent.RESCORE_STARTED,
                        f"Job {name} scores {holder.name}, which was scored on other data, on this version's data")
        creation = Creation(rescore_creation(world.meta, world.spec, inputs, name, holder), started)
        starting = says.Progressing(ModelReason.COMPARING,
                                    f"scoring {holder.name} on this version's data: Job {name} is starting")
        return replace(step, create=[*step.create, creation], wanted=[*step.wanted, name], progressing=starting)
    if not job.finished:
        return replace(step, wanted=[*step.wanted, name], progressing=_running(world, job, "rescore"))
    record = rescore_record(judged(job, world.pods, scored_digest), job, holder, scored_digest)
    return replace(step, validation={**step.validation, "baseline": record})


def judged_validation(step: Step, mine: Standing, spec: ModelSpec) -> dict[str, Any] | None:
    """status.validation with the gate's checks against the recorded scores (none while it waits),
    and the holder it was compared with: its rescore record, or its score on the same data."""
    if not step.validation:
        return None
    verdict, opponent = mine.verdict, mine.opponent
    if verdict is None:
        return step.validation  # the last answer, if any, is shown until the new one
    validation = {k: v for k, v in step.validation.items() if k not in ("checks", "passed", "overridden")}
    validation.update(checks=[c.wire() for c in verdict.checks][:64], passed=verdict.passed)
    if verdict.overridden:
        validation["overridden"] = verdict.overridden
    baseline = validation.get("baseline") or {}
    compare = spec.validation.compare_to if spec.validation else None
    if opponent is None or compare is None:
        validation.pop("baseline", None)
    elif not (baseline.get("rescored") and baseline.get("model") == opponent.name):
        scored = opponent.scores.metrics if opponent.scores else {}
        validation["baseline"] = {"model": opponent.name, "rescored": False, "artifactUri": opponent.artifact_uri,
                                  "datasetDigest": validation.get("datasetDigest"),
                                  "metrics": {k: v for k, v in scored.items() if k == compare.metric}}
    return validation


def _scores_message(world: ModelWorld, validation: dict[str, Any]) -> str | None:
    scores = scores_of(world.spec, validation)
    if scores is None:
        return None
    shown = ", ".join(f"{k}={v:.6g}" for k, v in sorted(scores.metrics.items())[:MAX_METRICS_SHOWN])
    return f"scored split {scores.split} of Dataset {scores.dataset} ({scores.digest}): {shown}"


def announcements(world: ModelWorld, judged: says.Verdict) -> list[Event]:
    """A gate that fails, or a pod that cannot start, is announced once (when its message changes)."""
    previous = condition(world.status.get("conditions") or [], judged.promoted.type)
    changed = (previous.get("reason"), previous.get("message")) != (judged.promoted.reason,
                                                                    bounded(judged.promoted.message))
    if changed and judged.promoted.reason in (ModelReason.GATE_FAILED, ModelReason.POD_NOT_STARTING):
        return [Event(WARNING, judged.promoted.reason, judged.promoted.message)]
    return []


def stale_jobs(world: ModelWorld, step: Step) -> list[Deletion]:
    """Evaluation Jobs no input needs any more and no record points to."""
    keep = {*step.wanted, step.validation.get("job"), (step.validation.get("baseline") or {}).get("job")}
    return [Deletion("batch/v1", "Job", j.name) for j in world.jobs if j.name not in keep]


def look_again_in(world: ModelWorld, step: Step) -> float | None:
    running = [j for j in world.jobs if j.name in step.wanted and not j.finished]
    if step.create or any(not world.pods.get(j.uid) for j in running):
        return STARTUP_GRACE_SECONDS
    return RESYNC_SECONDS if running else None


def plan(world: ModelWorld) -> Plan:
    if world.meta.deleting:
        return Plan()
    spec, status, meta = world.spec, world.status, world.meta
    inputs = inputs_of(world)
    evaluated = evaluate(world, inputs)
    resolution = resolution_with(world, evaluated.validation)
    step = rescore(world, inputs, evaluated, resolution.standings[meta.name])
    if step.validation is not evaluated.validation:  # a rescore was recorded: the comparison can be made now
        resolution = resolution_with(world, step.validation)
    mine = resolution.standings[meta.name]
    held = holdings(meta.name, tuple(spec.aliases or ()), status, resolution,
                    [(s.meta.name, s.status) for s in world.siblings], world.now)
    error = standing_record(spec, step.validation).get("error")
    gated = spec.validation is not None
    evaluation = says.evaluated(gated, _scores_message(world, step.validation), error, step.progressing)
    promoted = says.promoted(mine, gated, held.held, tuple(spec.aliases or ()), resolution.holders, error,
                             step.progressing)
    judged = says.verdict(evaluation, promoted, step.progressing)
    settled = judged.promoted.status != UNKNOWN
    desired = {
        **status,
        "observedGeneration": meta.generation if settled else status.get("observedGeneration"),
        "phase": judged.phase, "aliases": held.held or None, "promotedAt": held.promoted_at or None,
        "history": held.history or None, "validation": judged_validation(step, mine, spec),
        "conditions": standing(status.get("conditions") or [], judged.ready, judged.progress, meta.generation,
                               world.now, judged.evaluated, judged.promoted),
    }
    return Plan(create=step.create, delete=stale_jobs(world, step), status=merge_patch(status, desired),
                events=step.events + held.events + announcements(world, judged),
                requeue_after=look_again_in(world, step))
