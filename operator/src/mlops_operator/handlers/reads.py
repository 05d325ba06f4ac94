"""Reads shared by the gathers: an owner's Jobs, their pods, and the Events of pod-less Jobs."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from lightkube import operators
from pydantic import BaseModel, ValidationError

from .. import labels
from ..kube.client import Kube
from ..kube.resources import MLOPS_API_VERSION
from ..logic.jobs import POD_FINISHED, JobFacts, job_facts, podless_jobs, pods_by_job
from ..resources.meta import Meta, owned_by

S = TypeVar("S", bound=BaseModel)


class InvalidSpec(Exception):
    """The stored spec does not parse through the API models (e.g. stored before a schema change)."""

    def __init__(self, error: ValidationError):
        fields = "; ".join(f"spec.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:3])
        super().__init__(fields)


@dataclass(frozen=True)
class Parsed(Generic[S]):
    meta: Meta
    spec: S
    status: dict[str, Any]


async def parsed(kube: Kube, kind: str, key: tuple[str, str], model: type[S]) -> Parsed[S] | None:
    """One of the operator's objects with its spec parsed through its API model, at the edge and
    once; None when it is gone."""
    body = await kube.get(MLOPS_API_VERSION, kind, *key)
    if body is None:
        return None
    try:
        spec = model.model_validate(body["spec"])
    except ValidationError as error:
        raise InvalidSpec(error) from None
    return Parsed(Meta.of(body), spec, body.get("status") or {})


def spec_or_none(body: dict[str, Any], model: type[S]) -> S | None:
    """Another object's spec parsed through its API model; None when it does not parse (such an
    object takes no part: it holds no alias, it is never served)."""
    try:
        return model.model_validate(body["spec"])
    except ValidationError:
        return None


async def no_pods() -> dict[str, list[dict[str, Any]]]:
    """A read skipped, in an asyncio.gather of reads."""
    return {}


async def no_object() -> dict[str, Any] | None:
    return None


async def owned_jobs(kube: Kube, owner: Meta) -> list[JobFacts]:
    """The Jobs the owner controls, selected by its UID (never by its name)."""
    jobs = await kube.list("batch/v1", "Job", owner.namespace, {labels.OWNER_UID: owner.uid})
    return [job_facts(j) for j in owned_by(jobs, owner.uid)]


async def pods_of(kube: Kube, owner: Meta, live_only: bool) -> dict[str, list[dict[str, Any]]]:
    fields = {"status.phase": operators.not_in(list(POD_FINISHED))} if live_only else None
    return pods_by_job(await kube.list("v1", "Pod", owner.namespace, {labels.OWNER_UID: owner.uid}, fields))


async def pods_of_jobs(kube: Kube, namespace: str, jobs: list[JobFacts]) -> dict[str, list[dict[str, Any]]]:
    """The pods of these Jobs, in one LIST (a set-based selector on the Job controller's label)."""
    if not jobs:
        return {}
    found = pods_by_job(await kube.list("v1", "Pod", namespace,
                                        {labels.JOB_CONTROLLER_UID: operators.in_([j.uid for j in jobs])}))
    return {job.uid: found.get(job.uid, []) for job in jobs}


async def creation_events(kube: Kube, namespace: str, jobs: list[JobFacts], pods: dict[str, list[dict[str, Any]]],
                          now: datetime) -> dict[str, list[dict[str, Any]]]:
    """FailedCreate Events of unfinished Jobs that have had time to make a pod and have none: the
    Job controller's only record of pods refused by admission or quota."""
    found: dict[str, list[dict[str, Any]]] = {}
    for job in podless_jobs(jobs, pods, now):
        found[job.uid] = await kube.list("v1", "Event", namespace, {},
                                         {"involvedObject.uid": job.uid, "reason": "FailedCreate"})
    return found
