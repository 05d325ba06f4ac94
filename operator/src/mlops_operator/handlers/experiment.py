"""Experiment: gather (the Experiment, its Dataset, its trial Jobs and the pods that matter) ->
logic.experiment.plan -> apply."""

from datetime import datetime

from ..api.experiment import ExperimentSpec
from ..kube.client import Kube
from ..kube.resources import MLOPS_API_VERSION
from ..logic.dataset_view import DatasetView
from ..logic.experiment.plan import ExperimentWorld, plan
from ..logic.experiment.runs import RunState
from ..logic.experiment.trials import unrecorded_finished
from .reads import creation_events, owned_jobs, parsed, pods_of, pods_of_jobs
from .runner import Controller, Key, Observed

KIND = "Experiment"


async def gather(kube: Kube, key: Key, now: datetime) -> Observed | None:
    experiment = await parsed(kube, KIND, key, ExperimentSpec)
    if experiment is None:
        return None
    meta, spec, status = experiment.meta, experiment.spec, experiment.status
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
