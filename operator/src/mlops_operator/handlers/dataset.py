"""Dataset: read the Dataset and its validation Jobs -> plan -> apply."""

from datetime import datetime, timezone
from typing import Any

import kopf

from .. import labels as keys
from ..api.common import GROUP, VERSION
from ..logic import dataset as decide
from ..logic.jobs import latest_termination, terminal_condition
from ..logic.names import validation_name
from ..resources.jobs import validation_job
from . import events, kube
from .coalesce import Coalescer


def _created(dataset: dict[str, Any]) -> datetime:
    return datetime.strptime(dataset["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _interval(dataset: dict[str, Any]) -> str | None:
    return (dataset["spec"].get("refresh") or {}).get("interval")


async def reconcile(namespace: str, name: str) -> None:
    dataset = await kube.get("Dataset", namespace, name)
    if dataset is None or dataset["metadata"].get("deletionTimestamp"):
        return
    now = datetime.now(timezone.utc)
    round_ = decide.validation_round(_created(dataset), now, _interval(dataset))
    generation = dataset["metadata"]["generation"]
    job_name = validation_name(name, generation, round_)
    jobs = await kube.list_labelled("Job", namespace, {keys.DATASET: name})
    seen = decide.rounds(jobs, generation, job_name, (dataset.get("status") or {}).get("lastValidationJob"))
    finished = None
    if seen.latest_finished:
        latest = seen.latest_finished["metadata"]["name"]
        condition = terminal_condition(seen.latest_finished)
        message, exit_code = latest_termination(await kube.list_labelled("Pod", namespace, {"job-name": latest}))
        finished = decide.ValidationRun(latest, condition["type"] == "Complete", message,
                                        condition.get("reason", ""), exit_code)

    plan = decide.plan(dataset, job_name, seen.busy, finished, now)

    if plan.create_job:
        await kube.create(validation_job(dataset, job_name, round_))
    for stale in seen.stale:
        await kube.delete("Job", namespace, stale)
    await events.report(dataset, plan.status_patch, plan.events)


datasets = Coalescer(reconcile)


@kopf.on.create(GROUP, VERSION, "datasets")
@kopf.on.update(GROUP, VERSION, "datasets")
@kopf.on.resume(GROUP, VERSION, "datasets")
async def dataset_spec_changed(namespace: str, name: str, **_: Any) -> None:
    await datasets.request(namespace, name)


@kopf.on.event("batch", "v1", "jobs", labels={keys.DATASET: kopf.PRESENT},
               when=lambda event, body, **_: event.get("type") == "DELETED" or terminal_condition(body) is not None)
async def validation_job_settled(namespace: str, labels: dict[str, str], **_: Any) -> None:
    await datasets.request(namespace, labels[keys.DATASET])


@kopf.daemon(GROUP, VERSION, "datasets", when=lambda spec, **_: bool((spec.get("refresh") or {}).get("interval")))
async def refresh(stopped: kopf.DaemonStopped, namespace: str, name: str, body: dict[str, Any], **_: Any) -> None:
    """Starts each refresh round when it is due; the round's Job name makes it happen once."""
    while not stopped:
        interval = _interval(body)
        if not interval:
            return
        await stopped.wait(decide.seconds_until_next_round(_created(body), datetime.now(timezone.utc), interval) + 0.5)
        if not stopped:
            await datasets.request(namespace, name)
