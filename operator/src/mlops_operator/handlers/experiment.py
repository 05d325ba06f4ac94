"""Experiment: read the Experiment, its Dataset and trial Jobs -> plan -> apply."""

from datetime import datetime, timezone
from typing import Any

import kopf

from .. import labels as keys
from ..api.common import GROUP, VERSION
from ..logic import experiment as decide
from ..logic.jobs import latest_termination, pinned_digest, terminal_condition, trial_from_job
from ..logic.names import trial_name
from ..logic.trials import finished_event, judge, started_event
from ..resources.jobs import trial_job
from . import events, kube
from .coalesce import Coalescer

DRIFT_SECONDS = 60


async def _record_outcome(experiment: dict[str, Any], job: dict[str, Any]) -> None:
    """Judges a finished trial once, stores the outcome on its Job and posts one Event."""
    namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
    condition = terminal_condition(job)
    message, exit_code = latest_termination(await kube.list_labelled("Pod", namespace, {"job-name": name}))
    outcome = judge(
        job_succeeded=condition["type"] == "Complete", job_reason=condition.get("reason", ""),
        job_message=condition.get("message", ""), exit_code=exit_code, termination_message=message,
        objective_metric=experiment["spec"]["objective"]["metric"], pinned_digest=pinned_digest(job),
    )
    await kube.annotate("Job", namespace, name, {keys.RESULT_ANNOTATION: outcome.to_json()})
    job["metadata"].setdefault("annotations", {})[keys.RESULT_ANNOTATION] = outcome.to_json()
    events.post(experiment, finished_event(name, outcome))


async def reconcile(namespace: str, name: str) -> None:
    experiment = await kube.get("Experiment", namespace, name)
    if experiment is None or experiment["metadata"].get("deletionTimestamp"):
        return
    dataset_name = experiment["spec"]["datasetRef"]["name"]
    dataset = await kube.get("Dataset", namespace, dataset_name)
    jobs = await kube.list_labelled("Job", namespace, {keys.EXPERIMENT: name})
    for job in jobs:
        if terminal_condition(job) and keys.RESULT_ANNOTATION not in (job["metadata"].get("annotations") or {}):
            await _record_outcome(experiment, job)

    plan = decide.plan(experiment, decide.DatasetView.of(dataset_name, dataset), [trial_from_job(j) for j in jobs],
                       datetime.now(timezone.utc))

    for job_name in plan.delete:
        await kube.delete("Job", namespace, job_name)
    for index in plan.create:
        trial = trial_name(name, plan.run, index)
        job = trial_job(experiment, dataset, trial, plan.run, index, plan.parameters[index], plan.digest)
        if await kube.create(job):
            events.post(experiment, started_event(trial, plan.parameters[index]))
    await events.report(experiment, plan.status_patch, plan.events)


experiments = Coalescer(reconcile)


@kopf.on.create(GROUP, VERSION, "experiments")
@kopf.on.update(GROUP, VERSION, "experiments")
@kopf.on.resume(GROUP, VERSION, "experiments")
async def experiment_changed(namespace: str, name: str, **_: Any) -> None:
    await experiments.request(namespace, name)


@kopf.timer(GROUP, VERSION, "experiments", interval=DRIFT_SECONDS, idle=DRIFT_SECONDS,
            when=lambda status, **_: status.get("phase") not in ("Succeeded", "Failed"))
async def experiment_drift(namespace: str, name: str, **_: Any) -> None:
    """A safety net for a missed watch event while a sweep is under way."""
    await experiments.request(namespace, name)


def _trial_job_settled(event: dict[str, Any], body: dict[str, Any], **_: Any) -> bool:
    # Only a finished or deleted Job frees a slot or carries a result; other updates change nothing.
    return event.get("type") == "DELETED" or terminal_condition(body) is not None


@kopf.on.event("batch", "v1", "jobs", labels={keys.EXPERIMENT: kopf.PRESENT}, when=_trial_job_settled)
async def trial_job_settled(namespace: str, labels: dict[str, str], **_: Any) -> None:
    await experiments.request(namespace, labels[keys.EXPERIMENT])


@kopf.index(GROUP, VERSION, "experiments")
def experiments_by_dataset(namespace: str, name: str, spec: dict[str, Any], **_: Any) -> dict[tuple[str, str], str]:
    return {(namespace, spec["datasetRef"]["name"]): name}


@kopf.on.event(GROUP, VERSION, "datasets")
async def dataset_changed(namespace: str, name: str, experiments_by_dataset: kopf.Index, **_: Any) -> None:
    for experiment in experiments_by_dataset.get((namespace, name), []):
        await experiments.request(namespace, experiment)
