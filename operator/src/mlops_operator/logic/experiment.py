"""The Experiment's decisions: when a run starts, which trials to start, what status says.

Everything is derived from the Experiment, its Dataset and its trial Jobs, so a restarted
operator computes the same plan: no trial is started twice and no result is lost.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .conditions import Observation, apply_observations, format_time, status_changes
from .events import Event
from .names import trial_name
from .sweep import Parameters, format_value, trial_parameters
from .trials import FAILED, SUCCEEDED, Trial, best_trial

MAX_RUN_HISTORY = 10
MAX_SUCCEEDED_SUMMARIES = 10
MAX_FAILED_SUMMARIES = 10
MAX_RUNNING_SUMMARIES = 10


@dataclass(frozen=True)
class DatasetView:
    """What an Experiment needs to know of its Dataset."""

    name: str
    found: bool
    ready: bool = False
    message: str = ""
    digest: str | None = None

    @property
    def usable(self) -> bool:
        return self.found and self.ready and bool(self.digest)

    @classmethod
    def of(cls, name: str, dataset: dict[str, Any] | None) -> "DatasetView":
        if dataset is None:
            return cls(name, found=False)
        status = dataset.get("status") or {}
        ready = next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), {})
        return cls(name, True, ready.get("status") == "True", ready.get("message", ""), status.get("digest"))


@dataclass
class ExperimentPlan:
    run: int
    digest: str | None
    parameters: list[Parameters]
    create: list[int] = field(default_factory=list)  # trial indices of the current run
    delete: list[str] = field(default_factory=list)  # Job names
    status_patch: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


def spec_hash(spec: dict[str, Any]) -> str:
    """Identity of what a run trains; a change starts a new run."""
    relevant = {key: spec.get(key) for key in ("datasetRef", "trainer", "search", "objective", "trialPolicy")}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def _summary(trial: Trial) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": trial.name, "index": trial.index,
                             "parameters": {k: format_value(v) for k, v in sorted(trial.parameters.items())}}
    if trial.outcome is None:
        entry["phase"] = "Running"
    else:
        entry["phase"] = trial.outcome.phase
        if trial.outcome.objective is not None:
            entry["objectiveValue"] = trial.outcome.objective
        if trial.outcome.phase == FAILED:
            entry["reason"] = trial.outcome.reason
            entry["message"] = trial.outcome.message
    return entry


def trial_summaries(trials: list[Trial], goal: str) -> list[dict[str, Any]]:
    """A bounded view of a run: the best succeeded trials, the latest failed ones and the running
    ones (10 each at most), whatever the size of the sweep. Every trial's full record stays on
    its Job (labels and annotations)."""
    succeeded = [t for t in trials if t.outcome and t.outcome.phase == SUCCEEDED]
    sign = -1.0 if goal == "maximize" else 1.0
    succeeded.sort(key=lambda t: (sign * t.outcome.objective, t.index))
    failed = sorted((t for t in trials if t.outcome and t.outcome.phase == FAILED), key=lambda t: -t.index)
    running = sorted((t for t in trials if t.outcome is None), key=lambda t: t.index)
    chosen = (succeeded[:MAX_SUCCEEDED_SUMMARIES] + failed[:MAX_FAILED_SUMMARIES]
              + running[:MAX_RUNNING_SUMMARIES])
    return [_summary(t) for t in sorted(chosen, key=lambda t: t.index)]


def _run_record(run: int, status: dict[str, Any], best: dict[str, Any] | None, counts: dict[str, int],
                completed_at: str | None) -> dict[str, Any]:
    record = {"run": run, "datasetDigest": status.get("datasetDigest"), "startedAt": status.get("startedAt"),
              "succeeded": counts["succeeded"], "failed": counts["failed"]}
    if completed_at:
        record["completedAt"] = completed_at
    if best:
        record["bestTrial"] = best["name"]
        record["bestValue"] = best["objectiveValue"]
    return record


def _with_history(history: list[dict[str, Any]], record: dict[str, Any]) -> list[dict[str, Any]]:
    kept = [r for r in history if r["run"] != record["run"]]
    return (kept + [record])[-MAX_RUN_HISTORY:]


def plan(experiment: dict[str, Any], dataset: DatasetView, trials: list[Trial], now: datetime) -> ExperimentPlan:
    spec = experiment["spec"]
    status = experiment.get("status") or {}
    generation = experiment["metadata"]["generation"]
    search, objective = spec["search"], spec["objective"]
    run = status.get("run", 0)
    digest = status.get("datasetDigest")
    started_at = status.get("startedAt")
    history = list(status.get("runs") or [])
    events: list[Event] = []
    delete: list[str] = []
    current_hash = spec_hash(spec)
    planned = trial_parameters(search)
    total = len(planned)

    run_trials = [t for t in trials if t.run == run] if run else []
    run_done = run > 0 and len([t for t in run_trials if t.outcome]) >= (status.get("trials") or {}).get("total", total)
    new_run_because = None
    if run == 0:
        new_run_because = "first run"
    elif status.get("specHash") != current_hash:
        new_run_because = "the spec changed"
    elif (spec.get("trigger") or {}).get("onDatasetChange") and run_done and dataset.digest != digest:
        new_run_because = f"Dataset {dataset.name} has new data"

    starts_run = bool(new_run_because) and dataset.usable
    run_hash = current_hash if starts_run else status.get("specHash")
    if starts_run:
        if run:
            previous = _counts(run_trials, total)
            history = _with_history(history, _run_record(run, status, status.get("bestTrial"), previous,
                                                         status.get("completedAt")))
        # Unfinished trials of an older run are cancelled; finished ones stay one run for reference.
        delete = [t.name for t in trials if t.run < run + 1 and (t.outcome is None or t.run < run)]
        run, digest, started_at = run + 1, dataset.digest, format_time(now)
        run_trials = []
        events.append(Event("Normal", "RunStarted", f"run {run} on {digest} ({new_run_because}): {total} trials"))

    if run == 0:
        observations = [
            Observation("Ready", "False", "DatasetNotReady", _dataset_message(dataset)),
            Observation("Succeeded", "Unknown", "WaitingForDataset", _dataset_message(dataset)),
        ]
        desired = {"observedGeneration": generation, "phase": "Waiting"}
        desired["conditions"] = apply_observations(status.get("conditions") or [], observations, generation, now)
        return ExperimentPlan(run, None, planned, status_patch=status_changes(status, desired), events=events)

    started = {t.index for t in run_trials}
    occupying = sum(1 for t in trials if t.occupying and t.name not in delete)
    slots = max(0, search.get("parallelism", 1) - occupying)
    # After an edit that could not start a new run yet (its Dataset is not Ready), the old run
    # starts no more trials: its remaining parameter sets belong to a spec that is gone.
    can_start = run_hash == current_hash and dataset.found
    create = [i for i in range(total) if i not in started][:slots] if can_start else []

    counts = _counts(run_trials, total)
    counts["running"] += len(create)
    counts["pending"] -= len(create)
    finished = counts["succeeded"] + counts["failed"]
    best = best_trial(run_trials, objective["goal"])
    best_status = None
    if best:
        best_status = {"name": best.name, "parameters": best.parameters,
                       "metrics": {k: v for k, v in best.outcome.metrics.items() if v is not None},
                       "objectiveValue": best.outcome.objective}
    complete = finished == total
    completed_at = (status.get("completedAt") if status.get("run") == run else None) or (format_time(now) if complete else None)

    if complete and best:
        message = f"best trial {best.name}: {objective['metric']}={best.outcome.objective:.6g} ({counts['failed']} of {total} failed)"
        observations = [Observation("Succeeded", "True", "BestTrialFound", message),
                        Observation("Ready", "True", "BestTrialFound", message)]
        phase = "Succeeded"
    elif complete:
        message = f"all {total} trials failed; see status.trialSummaries and the trials' Events"
        observations = [Observation("Succeeded", "False", "AllTrialsFailed", message),
                        Observation("Ready", "False", "AllTrialsFailed", message)]
        phase = "Failed"
    else:
        message = f"run {run}: {finished}/{total} trials finished, {counts['running']} running"
        observations = [Observation("Succeeded", "Unknown", "TrialsRunning", message),
                        Observation("Ready", "False", "TrialsRunning", message)]
        phase = "Running"
    if complete and not (status.get("completedAt") and status.get("run") == run):
        events.append(Event("Normal" if best else "Warning", "RunCompleted", f"run {run}: {message}"))

    desired: dict[str, Any] = {
        "observedGeneration": generation,
        "phase": phase,
        "run": run,
        "specHash": run_hash,
        "datasetDigest": digest,
        "startedAt": started_at,
        "completedAt": completed_at,
        "progress": f"{finished}/{total}",
        "trials": counts,
        "bestTrial": best_status,
        # Trials started by this plan count as running already, so the next pass writes nothing.
        "trialSummaries": trial_summaries(run_trials + [
            Trial(trial_name(experiment["metadata"]["name"], run, i), run, i, planned[i], None, True) for i in create
        ], objective["goal"]),
        "runs": _with_history(history, _run_record(run, {"datasetDigest": digest, "startedAt": started_at},
                                                    best_status, counts, completed_at)),
    }
    desired["conditions"] = apply_observations(status.get("conditions") or [], observations, generation, now)
    return ExperimentPlan(run, digest, planned, create, delete, status_changes(status, desired), events)


def _counts(trials: list[Trial], total: int) -> dict[str, int]:
    succeeded = sum(1 for t in trials if t.outcome and t.outcome.phase == SUCCEEDED)
    failed = sum(1 for t in trials if t.outcome and t.outcome.phase == FAILED)
    running = sum(1 for t in trials if t.outcome is None)
    return {"total": total, "pending": total - succeeded - failed - running, "running": running,
            "succeeded": succeeded, "failed": failed}


def _dataset_message(dataset: DatasetView) -> str:
    if not dataset.found:
        return f"Dataset {dataset.name!r} not found"
    return f"waiting for Dataset {dataset.name!r} to be Ready: {dataset.message or 'not validated yet'}"
