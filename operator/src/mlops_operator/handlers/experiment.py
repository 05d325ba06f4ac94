"""Experiment: gather (the Experiment, its Dataset, its trial Jobs and the pods that matter) ->
logic.experiment.plan -> apply."""

from datetime import datetime

from pydantic import ValidationError

from ..api.experiment import ExperimentSpec
from ..kube.client import Kube
from ..kube.resources import MLOPS_API_VERSION
from ..logic.experiment.dataset import DatasetView
from ..logic.experiment.plan import ExperimentWorld, plan
from ..logic.experiment.runs import RunState
from ..logic.experiment.trials import unrecorded_finished
from ..resources.meta import Meta
from .reads import creation_events, owned_jobs, pods_of, pods_of_jobs
from .runner import Controller, InvalidSpec, Key, Observed

KIND = "Experiment"


async def gather(kube: Kube, key: Key, now: datetime) -> Observed | None:
    body = await kube.get(MLOPS_API_VERSION, KIND, *key)
    if body is None:
        return None
    meta, status = Meta.of(body), body.get("status") or {}
    try:
        spec = ExperimentSpec.model_validate(body["spec"])
    except ValidationError as error:
        raise InvalidSpec(error) from None
    dataset = await kube.get(MLOPS_API_VERSION, "Dataset", meta.namespace, spec.dataset_ref.name)
    jobs = await owned_jobs(kube, meta)
    # Live pods say why a trial cannot start; a newly finished trial's pods hold its result.
    pods = await pods_of(kube, meta, live_only=True) if any(not j.finished for j in jobs) else {}
    state = RunState.of(status)
    pods.update(await pods_of_jobs(kube, meta.namespace, unrecorded_finished(jobs, state.number, set(state.results))))
    events = await creation_events(kube, meta.namespace, jobs, pods, now)
    world = ExperimentWorld(meta, spec, status, DatasetView.of(spec.dataset_ref.name, dataset), jobs, now, pods, events)
    return Observed(meta, status, world)


CONTROLLER = Controller(KIND, MLOPS_API_VERSION, gather, plan)
