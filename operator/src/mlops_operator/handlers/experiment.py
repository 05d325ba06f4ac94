"""Experiment: gather (the Experiment, its Dataset, its trial Jobs and the pods that matter) ->
logic.experiment.plan -> apply."""

import asyncio
from datetime import datetime

from ..api.experiment import ExperimentSpec
from ..kube.client import Kube
from ..kube.resources import MLOPS_API_VERSION
from ..logic.dataset_view import DatasetView
from ..logic.experiment.plan import ExperimentWorld, plan
from ..logic.experiment.runs import RunState
from ..logic.experiment.trials import unrecorded_finished
from .reads import creation_events, no_pods, owned_jobs, parsed, pods_of, pods_of_jobs
from .runner import Controller, Key, Observed

KIND = "Experiment"


async def gather(kube: Kube, key: Key, now: datetime) -> Observed | None:
    experiment = await parsed(kube, KIND, key, ExperimentSpec)
    if experiment is None:
        return None
    meta, spec, status = experiment.meta, experiment.spec, experiment.status
    # Independent reads run at once: a reconcile waits for the slowest, not for their sum.
    dataset, jobs = await asyncio.gather(kube.get(MLOPS_API_VERSION, "Dataset", meta.namespace, spec.dataset_ref.name),
                                         owned_jobs(kube, meta))
    # Live pods say why a trial cannot start; a newly finished trial's pods hold its result.
    state = RunState.of(status)
    live, finished = await asyncio.gather(
        pods_of(kube, meta, live_only=True) if any(not j.finished for j in jobs) else no_pods(),
        pods_of_jobs(kube, meta.namespace, unrecorded_finished(jobs, state.number, set(state.results))))
    pods = {**live, **finished}
    events = await creation_events(kube, meta.namespace, jobs, pods, now)
    world = ExperimentWorld(meta, spec, status, DatasetView.of(spec.dataset_ref.name, dataset), jobs, now, pods, events)
    return Observed(meta, status, world)


CONTROLLER = Controller(KIND, MLOPS_API_VERSION, gather, plan)
