"""Reads shared by the gathers: an owner's Jobs, their pods, and the Events of pod-less Jobs."""

from datetime import datetime
from typing import Any

from lightkube import operators

from .. import labels
from ..kube.client import Kube
from ..logic.jobs import JobFacts, job_facts, podless_jobs, pods_by_job
from ..resources.meta import Meta, owned_by

FINISHED_PHASES = ["Succeeded", "Failed"]


async def owned_jobs(kube: Kube, owner: Meta) -> list[JobFacts]:
    """The Jobs the owner controls, selected by its UID (never by its name)."""
    jobs = await kube.list("batch/v1", "Job", owner.namespace, {labels.OWNER_UID: owner.uid})
    return [job_facts(j) for j in owned_by(jobs, owner.uid)]


async def pods_of(kube: Kube, owner: Meta, live_only: bool) -> dict[str, list[dict[str, Any]]]:
    fields = {"status.phase": operators.not_in(FINISHED_PHASES)} if live_only else None
    return pods_by_job(await kube.list("v1", "Pod", owner.namespace, {labels.OWNER_UID: owner.uid}, fields))


async def pods_of_jobs(kube: Kube, namespace: str, jobs: list[JobFacts]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for job in jobs:
        found[job.uid] = await kube.list("v1", "Pod", namespace, {labels.JOB_CONTROLLER_UID: job.uid})
    return found


async def creation_events(kube: Kube, namespace: str, jobs: list[JobFacts], pods: dict[str, list[dict[str, Any]]],
                          now: datetime) -> dict[str, list[dict[str, Any]]]:
    """FailedCreate Events of unfinished Jobs that have had time to make a pod and have none: the
    Job controller's only record of pods refused by admission or quota."""
    found: dict[str, list[dict[str, Any]]] = {}
    for job in podless_jobs(jobs, pods, now):
        found[job.uid] = await kube.list("v1", "Event", namespace, {},
                                         {"involvedObject.uid": job.uid, "reason": "FailedCreate"})
    return found
