"""Deployment: gather (the Deployment, the Models its modelRef may name, its server Deployments,
their pods, its Service and autoscaler, and the canary's own counters) -> logic.deployment.plan
-> apply."""

import asyncio
import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

import aiohttp
from pydantic import ValidationError

from .. import labels
from ..api.deployment import RUNTIME_IMAGE, DeploymentSpec
from ..api.model import ModelSpec
from ..kube.client import Kube
from ..kube.resources import MLOPS_API_VERSION
from ..logic.deployment.children import ServerFacts, owned
from ..logic.deployment.health import Requests, requests_in
from ..logic.deployment.plan import DeploymentWorld, PodFacts, plan
from ..logic.deployment.target import ModelFacts, target_of
from ..resources.meta import Meta
from ..resources.serving import serving_signature
from .reads import parsed
from .runner import Controller, Key, Observed

KIND = "Deployment"
SCRAPE_TIMEOUT = aiohttp.ClientTimeout(total=3)
log = logging.getLogger(__name__)


def _model(body: dict[str, Any]) -> ModelFacts:
    try:
        spec = ModelSpec.model_validate(body["spec"])
    except ValidationError:
        spec = None  # a Model this operator cannot read is never served
    return ModelFacts(Meta.of(body), spec, body.get("status") or {})


def _pod_ready(pod: dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _pods_by_model(pods: list[dict[str, Any]], servers: list[ServerFacts]) -> dict[str, list[dict[str, Any]]]:
    """Pods carry a label value of their Model's name (maybe shortened); servers know the full name."""
    by_label = {labels_of(s.body).get(labels.MODEL): s.model for s in servers}
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pod in pods:
        model = by_label.get(labels_of(pod).get(labels.MODEL))
        if model:
            grouped[model].append(pod)
    return grouped


def labels_of(body: dict[str, Any]) -> dict[str, str]:
    return body["metadata"].get("labels") or {}


def _facts(pods: list[dict[str, Any]]) -> PodFacts:
    statuses = [c for p in pods for c in (p.get("status") or {}).get("containerStatuses") or []]
    restarts = sum(c.get("restartCount", 0) for c in statuses)
    return PodFacts(sum(_pod_ready(p) for p in pods), restarts)


async def _counters(session: aiohttp.ClientSession, pod: dict[str, Any], port: int) -> Requests:
    address = (pod.get("status") or {}).get("podIP")
    if not address:
        return Requests()
    async with session.get(f"http://{address}:{port}/metrics") as response:
        response.raise_for_status()
        return requests_in(await response.text())


async def canary_requests(pods: list[dict[str, Any]], port: int) -> tuple[Requests, tuple[str, ...]]:
    """The canary servers' request counters, summed; pods that did not answer are named."""
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp") and (p.get("status") or {}).get("podIP")]
    async with aiohttp.ClientSession(timeout=SCRAPE_TIMEOUT) as session:
        answers = await asyncio.gather(*(_counters(session, p, port) for p in live), return_exceptions=True)
    total, unread = Requests(), []
    for pod, answer in zip(live, answers, strict=True):
        if isinstance(answer, BaseException):
            unread.append(f"{pod['metadata']['name']}: {type(answer).__name__}: {answer}")
        else:
            total = Requests(total.total + answer.total, total.errors + answer.errors)
    return total, tuple(unread)


async def prometheus_value(address: str, query: str) -> tuple[float | None, str | None]:
    """The query's single number, or why there is none."""
    try:
        async with aiohttp.ClientSession(timeout=SCRAPE_TIMEOUT) as session:
            async with session.get(f"{address.rstrip('/')}/api/v1/query", params={"query": query}) as response:
                answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return None, f"{type(error).__name__}: {error}"
    results = (answer.get("data") or {}).get("result") or []
    if answer.get("status") != "success" or len(results) != 1:
        return None, f"expected one series, got {answer.get('error') or len(results)}"
    try:
        return float(results[0]["value"][1]), None
    except (KeyError, IndexError, TypeError, ValueError) as error:
        return None, f"unreadable value: {error}"


async def _signatures(kube: Kube, namespace: str, models: list[ModelFacts], spec: DeploymentSpec,
                      servers: list[ServerFacts]) -> dict[str, str | None]:
    """The serving signature of the target, when it has no servers yet (later ones keep theirs)."""
    target = target_of(spec.model_ref, models, own_server=spec.server.image != RUNTIME_IMAGE).model
    if target is None or target.spec is None or any(s.model == target.meta.name for s in servers):
        return {}
    model = target.spec
    dataset = (model.validation.dataset.name if model.validation else None) or (
        model.lineage.dataset if model.lineage else None)
    body = await kube.get(MLOPS_API_VERSION, "Dataset", namespace, dataset) if dataset else None
    return {target.meta.name: serving_signature(body)}


async def gather(kube: Kube, key: Key, now: datetime) -> Observed | None:
    deployment = await parsed(kube, KIND, key, DeploymentSpec)
    if deployment is None:
        return None
    meta, spec, status = deployment.meta, deployment.spec, deployment.status
    mine = {labels.OWNER_UID: meta.uid}
    models = [_model(b) for b in await kube.list(MLOPS_API_VERSION, "Model", meta.namespace, {})]
    servers = [ServerFacts.of(b) for b in owned(await kube.list("apps/v1", "Deployment", meta.namespace, mine),
                                                meta.uid)]
    pods = _pods_by_model(await kube.list("v1", "Pod", meta.namespace, mine), servers)
    children = {(b["kind"], b["metadata"]["name"]): b
                for kind in (("v1", "Service"), ("autoscaling/v2", "HorizontalPodAutoscaler"))
                for b in owned(await kube.list(*kind, meta.namespace, mine), meta.uid)}
    world: dict[str, Any] = {}
    canary = (status.get("canary") or {}).get("model")
    if canary:
        world["requests"], world["unread"] = await canary_requests(pods.get(canary, []), spec.server.port)
        query = spec.strategy.canary.analysis.prometheus if spec.strategy and spec.strategy.canary else None
        if query:
            world["prometheus"], world["prometheus_error"] = await prometheus_value(query.address, query.query)
    signatures = await _signatures(kube, meta.namespace, models, spec, servers)
    observed = DeploymentWorld(meta, spec, status, models, servers, {m: _facts(p) for m, p in pods.items()},
                               signatures, children, now, **world)
    return Observed(meta, status, observed)


CONTROLLER = Controller(KIND, MLOPS_API_VERSION, gather, plan)
