"""An Experiment's whole decision, composed from named steps: which run, what its finished trials
mean, which trials start and which Jobs go, what status says, what to announce, when to look again."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...api.dataset import DataSpec
from ...api.experiment import ExperimentSpec, TrialResult
from ...api.vocabulary import ExperimentEvent, ExperimentReason, RunPhase, TrialPhase
from ...resources.jobs import artifact_uri, trial_job, trial_settings_hash
from ...resources.meta import Meta, format_time
from ...resources.models import registered_model
from ...resources.names import trial_name
from ..conditions import standing
from ..jobs import STARTUP_GRACE_SECONDS, JobFacts
from ..patch import merge_patch
from ..plan import NORMAL, WARNING, Creation, Deletion, Event, Plan
from ..results import Outcome
from ..sweep import trial_parameters
from . import summary
from ..dataset_view import DatasetView
from .dataset import why_unusable
from .runs import EDIT_SETTLE_SECONDS, RunState, pinned_dataset, settling_for, spec_hash, wanted_run
from .trials import (TrialJob, blockers, free_slots, new_outcomes, of_run, outdated_blocked, superseded,
                     to_start, trial_jobs, vanished)
from .verdict import RunFacts, Verdict, verdict

RESYNC_SECONDS = 300.0
"""Safety net while trials run, should a watch event be missed."""


@dataclass(frozen=True)
class ExperimentWorld:
    """Everything an Experiment reconcile reads, gathered in one place."""

    meta: Meta
    spec: ExperimentSpec
    status: dict[str, Any]
    dataset: DatasetView
    jobs: list[JobFacts]  # trial Jobs this Experiment controls
    now: datetime
    pods: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by Job UID: finished or live ones
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by Job UID, for pod-less Jobs


@dataclass(frozen=True)
class Run:
    """The run this reconcile works on: the current one, or the one it starts."""

    number: int
    spec_hash: str | None
    pinned: dict[str, Any] | None  # status.dataset of the run
    total: int
    started_at: str | None
    results: dict[int, TrialResult]  # as status records them
    sweep: list[dict[str, Any]] | None  # every trial's parameters, when the run trains the current spec
    because: str | None = None  # why it starts now; None for a run under way

    @property
    def digest(self) -> str | None:
        return (self.pinned or {}).get("digest")


def choose_run(world: ExperimentWorld, state: RunState, current_hash: str) -> tuple[Run, str | None, float]:
    """A new run when one is due and the Dataset allows it, else the run status records; with the
    reason a new run is due (it may have to wait) and the seconds an edit's run still waits for
    the spec to stay unchanged."""
    because = wanted_run(state, current_hash, world.spec, world.dataset)
    settling = settling_for(because, world.meta.spec_written_at, world.now)
    if because and not settling and why_unusable(world.dataset, None) is None:
        sweep = trial_parameters(world.spec.search)
        pinned = pinned_dataset(world.dataset).model_dump(mode="json", by_alias=True, exclude_none=True)
        started = format_time(world.now)
        return Run(state.number + 1, current_hash, pinned, len(sweep), started, {}, sweep, because), because, 0.0
    sweep = trial_parameters(world.spec.search) if state.spec_hash == current_hash else None
    return Run(state.number, state.spec_hash, world.status.get("dataset"), state.total,
               world.status.get("startedAt"), dict(state.results), sweep), because, settling


def holding_back(world: ExperimentWorld, run: Run, because: str | None, settling: float, complete: bool):
    """Why no trial may start, when that holds the Experiment back: a due run that cannot start, or
    an unfinished run whose Dataset is unusable or holds other data. A finished run's result stands."""
    if because and not run.because:
        if settling:
            return (ExperimentReason.EDITS_SETTLING, f"{because}: run {run.number + 1} starts once the spec has "
                    f"stayed unchanged for {EDIT_SETTLE_SECONDS:g}s")
        reason, message = why_unusable(world.dataset, None)
        return reason, f"{because}: run {run.number + 1} waits: {message}"
    if run.number and not complete:
        return why_unusable(world.dataset, run.digest)
    return None


@dataclass(frozen=True)
class Sweep:
    """The run's trials as this reconcile sees them."""

    world: ExperimentWorld
    run: Run
    jobs: list[TrialJob]  # every trial Job, of any run
    current: dict[int, TrialJob]  # the run's Jobs by trial index
    outcomes: dict[int, Outcome]  # finished trials judged now
    results: dict[int, TrialResult]  # recorded and judged now

    def name_of(self, index: int) -> str:
        return trial_name(self.world.meta.name, self.run.number, index)

    def parameters_of(self, index: int) -> dict[str, Any] | None:
        job = self.current.get(index)
        if job and job.parameters is not None:
            return job.parameters
        return self.run.sweep[index] if self.run.sweep and index < len(self.run.sweep) else None

    @property
    def complete(self) -> bool:
        return self.run.number > 0 and len(self.results) >= self.run.total


def judge(world: ExperimentWorld, run: Run) -> Sweep:
    """The run's finished trials not recorded yet are judged, once."""
    jobs = trial_jobs(world.jobs)
    current = {} if run.because else of_run(jobs, run.number)
    outcomes = new_outcomes(current, set(run.results), world.pods, world.spec.objective.metric, run.digest)
    results = {**run.results, **{i: summary.result_of(o) for i, o in outcomes.items()}}
    return Sweep(world, run, jobs, current, outcomes, results)


def restarted_event(sweep: Sweep, index: int) -> Event:
    return Event(WARNING, ExperimentEvent.TRIAL_JOB_DELETED,
                 f"trial {sweep.name_of(index)}: its Job was deleted while it ran; the trial starts again")


def trial_changes(sweep: Sweep, current_hash: str, waiting: tuple | None,
                  outdated: dict[int, TrialJob]) -> tuple[list[int], list[Creation], list[str]]:
    """Jobs of older runs go, and Jobs of trials that cannot start on settings since edited; the
    run's next trials start while it trains the current spec, its data is usable and parallelism has
    room. Returns the trials starting, their Jobs, the Jobs to delete. A running trial whose Job is
    gone starts again, said by its create's Event: a create that finds the Job (its labels were
    edited, which hid it) says nothing."""
    run, spec = sweep.run, sweep.world.spec
    delete = superseded(sweep.jobs, run.number) + sorted(t.job.name for t in outdated.values())
    if not run.number or run.spec_hash != current_hash or waiting or not run.pinned or not run.sweep:
        return [], [], delete
    started = set(sweep.current) | set(sweep.results)
    starting = to_start(run.total, started, free_slots(sweep.jobs, set(delete), spec.search.parallelism))
    data = DataSpec.model_validate(run.pinned.get("spec") or {})
    # No Event per trial started or succeeded: a sweep's Jobs and status say it, and a thousand
    # trials would otherwise write two thousand Events (decision 65).
    shown = [] if run.because else sweep.world.status.get("trialSummaries") or []  # a new run: the old one's
    gone = set(vanished(sweep.current, set(sweep.results), shown))
    create = [Creation(trial_job(sweep.world.meta, spec, data, run.digest or "", sweep.name_of(i), run.number, i,
                                 run.sweep[i]), restarted_event(sweep, i) if i in gone else None) for i in starting]
    return starting, create, delete


def announcements(sweep: Sweep, judged: Verdict, blocked: dict, best: dict | None) -> list[Event]:
    """One Event per transition: a run started, a trial failed or cannot start, a run completed."""
    run, status = sweep.run, sweep.world.status
    events = []
    if run.because:
        events.append(Event(NORMAL, ExperimentEvent.RUN_STARTED,
                            f"run {run.number} on {run.digest} ({run.because}): {run.total} trials"))
    events += [Event(WARNING, ExperimentEvent.TRIAL_FAILED,
                     f"trial {sweep.name_of(index)}: {outcome.reason}: {outcome.message}")
               for index, outcome in sorted(sweep.outcomes.items()) if outcome.phase != TrialPhase.SUCCEEDED]
    shown = {(s.get("index"), s.get("reason")) for s in status.get("trialSummaries") or []
             if s.get("phase") == TrialPhase.PENDING}
    events += [Event(WARNING, ExperimentEvent.TRIAL_NOT_STARTING, f"trial {sweep.name_of(i)}: {b.reason}: {b.message}")
               for i, b in sorted(blocked.items()) if (i, b.reason) not in shown]
    if sweep.complete and not status.get("completedAt"):
        events.append(Event(NORMAL if best else WARNING, ExperimentEvent.RUN_COMPLETED,
                            f"run {run.number}: {judged.ready.message}"))
    return events


def _recreated(sweep: Sweep, outdated: dict[int, TrialJob], blocked: dict) -> list[Event]:
    return [Event(NORMAL, ExperimentEvent.TRIAL_RECREATED,
                  f"trial {sweep.name_of(i)} could not start ({blocked[i].reason}); its Job is made again "
                  "with the edited pod settings") for i in sorted(outdated)]


def registration(sweep: Sweep, best: dict | None) -> tuple[list[Creation], list[Event], str | None]:
    """registerModel: a finished run's best trial becomes a Model version, once per run. The run's
    record names it (a Model deleted later is not made again); a create repeated after a restart
    before that record was written is a 409 on the same name, never a second version."""
    world, run = sweep.world, sweep.run
    register = world.spec.register_model
    if register is None or not sweep.complete or run.because or best is None:
        return [], [], None
    record = next((r for r in world.status.get("runs") or [] if r.get("run") == run.number), {})
    if record.get("model"):
        return [], [], record["model"]
    uri = best.get("artifactUri") or artifact_uri(world.spec.artifact_root, world.meta.name, run.number,
                                                  best.get("index", 0))
    if not uri:
        missing = Event(WARNING, ExperimentEvent.MODEL_NOT_REGISTERED,
                        f"run {run.number}: best trial {best['name']} reported no artifactUri; set spec.artifactRoot "
                        "or report artifact_uri from the trainer")
        return [], [] if world.status.get("completedAt") else [missing], None
    manifest = registered_model(world.meta, world.spec, run.number, {**best, "artifactUri": uri}, run.pinned or {})
    name = manifest["metadata"]["name"]
    made = Event(NORMAL, ExperimentEvent.MODEL_REGISTERED,
                 f"run {run.number}: Model {name} is version {run.number} of {register.model_name}, "
                 f"from trial {best['name']}")
    return [Creation(manifest, made)], [], name


def status_of(sweep: Sweep, state: RunState, current_hash: str, judged: Verdict, unfinished: list[int],
              blocked: dict, tally: dict[str, int], best: dict | None, model: str | None) -> dict[str, Any]:
    """The whole status the run should show. observedGeneration moves only when status reflects the
    current spec: an edit whose run cannot start yet leaves it where it was."""
    world, run = sweep.world, sweep.run
    status, meta = world.status, world.meta
    reflects = not run.number or run.spec_hash == current_hash
    desired = {**status, "observedGeneration": meta.generation if reflects else status.get("observedGeneration"),
               "phase": judged.phase,
               "conditions": standing(status.get("conditions") or [], judged.ready, judged.progress, meta.generation,
                                      world.now, judged.succeeded)}
    if not run.number:
        return desired
    completed_at = ((None if run.because else status.get("completedAt")) or format_time(world.now)) \
        if sweep.complete else None
    history = _closed(list(status.get("runs") or []), state) if run.because else list(status.get("runs") or [])
    run_phase = (RunPhase.SUCCEEDED if best else RunPhase.FAILED) if sweep.complete else RunPhase.RUNNING
    return {
        **desired,
        "run": run.number, "specHash": run.spec_hash, "dataset": run.pinned,
        "progress": f"{tally['succeeded'] + tally['failed']}/{run.total}", "trials": tally, "bestTrial": best,
        "startedAt": run.started_at, "completedAt": completed_at,
        "trialResults": {str(i): r.model_dump(mode="json", exclude_none=True)
                         for i, r in sorted(sweep.results.items())},
        "trialSummaries": summary.summaries(sweep.results, unfinished, blocked, sweep.outcomes,
                                            [] if run.because else status.get("trialSummaries") or [],
                                            world.spec.objective.goal, sweep.name_of, sweep.parameters_of),
        "runs": summary.with_record(history, summary.run_record(run.number, run_phase, run.digest, run.started_at,
                                                                completed_at, best, tally, model)),
    }


def _closed(history: list[dict[str, Any]], state: RunState) -> list[dict[str, Any]]:
    """The run a new run replaces: its record says Superseded unless it had finished."""
    if not state.number:
        return history
    record = next((r for r in history if r.get("run") == state.number), {"run": state.number})
    return summary.with_record(history, record if state.complete else {**record, "phase": RunPhase.SUPERSEDED})


def look_again_in(sweep: Sweep, starting: bool) -> float | None:
    """Soon after starting trials or while a trial Job has no pod (its Events may say why: nothing
    else wakes the Experiment then); the safety net while trials run."""
    unfinished = [t for i, t in sweep.current.items() if i not in sweep.results and not t.job.finished]
    if starting or any(not sweep.world.pods.get(t.job.uid) for t in unfinished):
        return STARTUP_GRACE_SECONDS
    return RESYNC_SECONDS if unfinished else None


def plan(world: ExperimentWorld) -> Plan:
    if world.meta.deleting:
        return Plan()
    state = RunState.of(world.status)
    current_hash = spec_hash(world.spec)
    run, because, settling = choose_run(world, state, current_hash)
    sweep = judge(world, run)
    waiting: tuple[ExperimentReason, str] | None = holding_back(world, run, because, settling, sweep.complete)
    blocked = blockers(sweep.current, set(sweep.results), world.pods, world.events)
    outdated = outdated_blocked(sweep.current, blocked, trial_settings_hash(world.spec))
    starting, create, delete = trial_changes(sweep, current_hash, waiting, outdated)
    unfinished = [i for i in sweep.current if i not in sweep.results] + starting
    tally = summary.counts(run.total, sweep.results, len(unfinished))
    best_index = summary.best_index(sweep.results, world.spec.objective.goal)
    best = summary.best_trial(best_index, None if run.because else world.status.get("bestTrial"), sweep.outcomes,
                              sweep.name_of(best_index) if best_index is not None else "",
                              sweep.parameters_of(best_index) if best_index is not None else None)
    judged = verdict(RunFacts(run.number, run.total, tally, best, world.spec.objective.metric, blocked,
                              sweep.name_of), sweep.complete, waiting)
    registered, unregistered, model = registration(sweep, best)
    desired = status_of(sweep, state, current_hash, judged, unfinished, blocked, tally, best, model)
    events = announcements(sweep, judged, blocked, best) + _recreated(sweep, outdated, blocked) + unregistered
    return Plan(create=create + registered, delete=[Deletion("batch/v1", "Job", name) for name in delete],
                status=merge_patch(world.status, desired), events=events,
                requeue_after=_sooner(look_again_in(sweep, bool(create)), settling or None))


def _sooner(*delays: float | None) -> float | None:
    return min((d for d in delays if d is not None), default=None)

