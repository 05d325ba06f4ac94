"""Trial Jobs: which belong to the run, what a finished one means, which to start and delete,
and why one cannot start."""

import json
from dataclasses import dataclass
from typing import Any

from ... import labels
from ...api.vocabulary import TrialPhase
from ..jobs import Blocker, JobFacts, job_blocker, latest_termination
from ..results import Outcome, judge_trial


@dataclass(frozen=True)
class TrialJob:
    job: JobFacts
    run: int
    index: int
    parameters: dict[str, Any] | None  # as the Job was created with them
    settings: str | None  # trial_settings_hash of the spec it was created from


def trial_jobs(jobs: list[JobFacts]) -> list[TrialJob]:
    """The Jobs that carry a run and a trial index (a Job without them is not a trial)."""
    found = []
    for job in jobs:
        try:
            run, index = int(job.meta.labels[labels.RUN]), int(job.meta.labels[labels.TRIAL])
        except (KeyError, ValueError):
            continue
        try:
            parameters = json.loads(job.meta.annotations.get(labels.PARAMETERS_ANNOTATION) or "null")
        except ValueError:
            parameters = None
        found.append(TrialJob(job, run, index, parameters if isinstance(parameters, dict) else None,
                              job.meta.annotations.get(labels.SETTINGS_ANNOTATION)))
    return found


def of_run(trials: list[TrialJob], run: int) -> dict[int, TrialJob]:
    return {t.index: t for t in trials if t.run == run}


def new_outcomes(run: dict[int, TrialJob], recorded: set[int], pods: dict[str, list[dict[str, Any]]],
                 objective_metric: str, pinned_digest: str | None) -> dict[int, Outcome]:
    """Outcomes of the run's finished trials that status does not record yet: each is judged once."""
    return {index: judge_trial(trial.job, latest_termination(pods.get(trial.job.uid, [])), objective_metric,
                               pinned_digest)
            for index, trial in sorted(run.items()) if trial.job.finished and index not in recorded}


def superseded(trials: list[TrialJob], run: int) -> list[str]:
    """Jobs older runs no longer need: unfinished ones are cancelled, finished ones stay one run for
    reference."""
    return sorted(t.job.name for t in trials if t.run < run - 1 or (t.run < run and not t.job.finished))


def to_start(total: int, started: set[int], free_slots: int) -> list[int]:
    """The lowest trial indices not started yet, as many as free slots allow."""
    return [i for i in range(total) if i not in started][:max(0, free_slots)]


def free_slots(trials: list[TrialJob], deleted: set[str], parallelism: int) -> int:
    """Parallelism counts Jobs, not pods: a trial holds a slot from its Job's creation until the Job
    is over and none of its pods still runs."""
    return parallelism - sum(1 for t in trials if t.job.occupying and t.job.name not in deleted)


def blockers(run: dict[int, TrialJob], recorded: set[int], pods: dict[str, list[dict[str, Any]]],
             events: dict[str, list[dict[str, Any]]]) -> dict[int, Blocker]:
    """Why unfinished trials of the run cannot start, by trial index."""
    found = {}
    for index, trial in run.items():
        if index in recorded:
            continue
        blocker = job_blocker(trial.job, pods.get(trial.job.uid, []), events.get(trial.job.uid, []))
        if blocker:
            found[index] = blocker
    return found


def unrecorded_finished(jobs: list[JobFacts], run: int, recorded: set[int]) -> list[JobFacts]:
    """Finished trial Jobs of the run whose result status does not hold yet: their pods are read."""
    return [t.job for t in trial_jobs(jobs) if t.run == run and t.job.finished and t.index not in recorded]


def outdated_blocked(run: dict[int, TrialJob], blocked: dict[int, Blocker], settings: str) -> dict[int, TrialJob]:
    """Trials whose pod cannot start and whose Job was built from pod settings since edited: their
    Job goes, and the next reconcile makes it again with the edit (a running trial is left alone)."""
    return {i: t for i, t in run.items() if i in blocked and not t.job.finished and t.settings != settings}


def vanished(run: dict[int, TrialJob], recorded: set[int], shown: list[dict[str, Any]]) -> list[int]:
    """Trials status shows running whose Job is gone without a result: deleted by someone else
    (the operator deletes only Jobs of other runs, and Jobs of trials that cannot start), or hidden
    from the Experiment's list by an edit of its labels. They start again; a recorded result is
    the trial's for good, whatever becomes of its Job."""
    return sorted(s["index"] for s in shown if s.get("phase") == TrialPhase.RUNNING
                  and s.get("index") not in run and s.get("index") not in recorded)
