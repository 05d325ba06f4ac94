"""Model: gather (the Model, the other versions of its modelName, its Dataset, its evaluation Jobs
and the pods that matter) -> logic.model.plan -> apply."""

import asyncio
from datetime import datetime

from ..api.model import ModelSpec
from ..kube.client import Kube
from ..kube.resources import MLOPS_API_VERSION
from ..logic.dataset_view import DatasetView
from ..logic.model.evaluation import unrecorded_finished
from ..logic.model.plan import ModelWorld, Sibling, plan
from ..resources.meta import Meta
from .reads import creation_events, no_object, no_pods, owned_jobs, parsed, pods_of, pods_of_jobs, spec_or_none
from .runner import Controller, Key, Observed

KIND = "Model"


def _sibling(body: dict) -> Sibling:
    return Sibling(Meta.of(body), spec_or_none(body, ModelSpec), body.get("status") or {})


async def gather(kube: Kube, key: Key, now: datetime) -> Observed | None:
    model = await parsed(kube, KIND, key, ModelSpec)
    if model is None:
        return None
    meta, spec, status = model.meta, model.spec, model.status
    # Independent reads run at once: a reconcile waits for the slowest, not for their sum.
    versions, dataset_body, jobs = await asyncio.gather(
        # The versions of its modelName, selected by the API server (a selectable field).
        kube.list(MLOPS_API_VERSION, KIND, meta.namespace, {}, {"spec.modelName": spec.model_name}),
        kube.get(MLOPS_API_VERSION, "Dataset", meta.namespace, spec.validation.dataset.name)
        if spec.validation else no_object(),
        owned_jobs(kube, meta))
    siblings = [_sibling(v) for v in versions if v["metadata"].get("uid") != meta.uid]
    dataset = DatasetView.of(spec.validation.dataset.name, dataset_body) if spec.validation else None
    live, finished = await asyncio.gather(
        pods_of(kube, meta, live_only=True) if any(not j.finished for j in jobs) else no_pods(),
        pods_of_jobs(kube, meta.namespace, unrecorded_finished(jobs, status.get("validation") or {})))
    pods = {**live, **finished}
    events = await creation_events(kube, meta.namespace, jobs, pods, now)
    world = ModelWorld(meta, spec, status, siblings, dataset, jobs, now, pods, events)
    return Observed(meta, status, world)


CONTROLLER = Controller(KIND, MLOPS_API_VERSION, gather, plan)
