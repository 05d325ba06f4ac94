"""Dataset: gather (the Dataset, its validation Jobs, their pods) -> logic.dataset.plan -> apply."""

import asyncio
from datetime import datetime

from ..api.dataset import DatasetSpec
from ..kube.client import Kube
from ..kube.resources import MLOPS_API_VERSION
from ..logic.dataset.plan import DatasetWorld, plan
from .reads import creation_events, owned_jobs, parsed, pods_of
from .runner import Controller, Key, Observed

KIND = "Dataset"


def controller(refresh_scale: float = 1.0) -> Controller:
    """refresh_scale multiplies refresh intervals: a setting for tests, which the API's 1m minimum
    would otherwise slow down."""

    async def gather(kube: Kube, key: Key, now: datetime) -> Observed | None:
        dataset = await parsed(kube, KIND, key, DatasetSpec)
        if dataset is None:
            return None
        meta, spec, status = dataset.meta, dataset.spec, dataset.status
        # A Dataset keeps a handful of rounds: all its pods, read at once with its Jobs.
        jobs, pods = await asyncio.gather(owned_jobs(kube, meta), pods_of(kube, meta, live_only=False))
        events = await creation_events(kube, meta.namespace, jobs, pods, now)
        return Observed(meta, status, DatasetWorld(meta, spec, status, jobs, now, pods, events, refresh_scale))

    return Controller(KIND, MLOPS_API_VERSION, gather, plan)
