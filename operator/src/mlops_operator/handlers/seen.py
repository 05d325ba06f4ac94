"""Deployment: recorded as seen until its controller arrives (gather -> plan -> apply)."""

from datetime import datetime
from functools import partial

from ..api.vocabulary import DeploymentPhase
from ..kube.client import Kube
from ..kube.resources import MLOPS_API_VERSION
from ..logic import seen
from ..resources.meta import Meta
from .runner import Controller, Key, Observed

PHASES = {"Deployment": DeploymentPhase.PENDING}


async def _gather(kind: str, kube: Kube, key: Key, now: datetime) -> Observed | None:
    body = await kube.get(MLOPS_API_VERSION, kind, *key)
    if body is None:
        return None
    meta, status = Meta.of(body), body.get("status") or {}
    return Observed(meta, status, (status, meta.generation, PHASES[kind], now))


def controller(kind: str) -> Controller:
    return Controller(kind, MLOPS_API_VERSION, partial(_gather, kind), lambda world: seen.plan(*world))
