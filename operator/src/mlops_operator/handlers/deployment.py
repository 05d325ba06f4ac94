"""Deployment: gather (the Deployment, the Models its modelRef may name, its server Deployments,
their pods, its Service and autoscaler, and the canary's own counters) -> logic.deployment.plan
-> apply."""

import asyncio
from datetime import datetime
from typing import Any

import aiohttp

from .. import labels
from ..api.deployment import RUNTIME_IMAGE, DeploymentSpec, ModelRef
from ..api.model import ModelSpec
from ..kube.client import Kube
from ..kube.resources import MLOPS_API_VERSION
from ..logic.deployment.children import ServerFacts, owned, pod_facts, pods_by_model
from ..logic.deployment.health import Requests, prometheus_number, requests_in
from ..logic.deployment.plan import DeploymentWorld, plan
from ..logic.deployment.prometheus import prometheus_address
from ..logic.deployment.target import ModelFacts, target_of, training_dataset
from ..resources.meta import Meta
from ..resources.serving import serving_signature
from .reads import parsed, spec_or_none
from .runner import Controller, Key, Observed

KIND = "Deployment"
SCRAPE_TIMEOUT = aiohttp.ClientTimeout(total=3)
# What a Deployment owns, in gather's order: server Deployments, their pods, Service, autoscaler.
SERVING_READS = (("apps/v1", "Deployment"), ("v1", "Pod"), ("v1", "Service"),
                 ("autoscaling/v2", "HorizontalPodAutoscaler"))


def _model(body: dict[str, Any]) -> ModelFacts:
    return ModelFacts(Meta.of(body), spec_or_none(body, ModelSpec), body.get("status") or {})


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
    """The query's single number, or why there is none. address is an allowed entry (never a
    user's text), and a redirect is not followed: it could lead anywhere."""
    try:
        async with aiohttp.ClientSession(timeout=SCRAPE_TIMEOUT) as session:
            async with session.get(f"{address.rstrip('/')}/api/v1/query", params={"query": query},
                                   allow_redirects=False) as response:
                return prometheus_number(await response.json(content_type=None))
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return None, f"{type(error).__name__}: {error}"


async def _signatures(kube: Kube, namespace: str, models: list[ModelFacts], spec: DeploymentSpec,
                      servers: list[ServerFacts]) -> dict[str, str | None]:
    """The serving signature of the target, when it has no servers yet (later ones keep theirs)."""
    target = target_of(spec.model_ref, models, own_server=spec.server.image != RUNTIME_IMAGE).model
    if target is None or target.spec is None or any(s.model == target.meta.name for s in servers):
        return {}
    dataset = training_dataset(target.spec)
    body = await kube.get(MLOPS_API_VERSION, "Dataset", namespace, dataset) if dataset else None
    return {target.meta.name: serving_signature(body)}


async def _selected_models(kube: Kube, namespace: str, ref: ModelRef) -> list[dict[str, Any]]:
    """What the modelRef names: the versions of a modelName (selected by the API server), or one
    Model. Never the namespace's every Model: that read grows with all of them, for each reconcile."""
    if ref.model_name:
        return await kube.list(MLOPS_API_VERSION, "Model", namespace, {}, {"spec.modelName": ref.model_name})
    return [b for b in [await kube.get(MLOPS_API_VERSION, "Model", namespace, ref.name)] if b]


async def _served_models(kube: Kube, namespace: str, names: set[str]) -> list[dict[str, Any]]:
    """The versions the Deployment serves now that its modelRef no longer selects."""
    found = await asyncio.gather(*(kube.get(MLOPS_API_VERSION, "Model", namespace, name) for name in sorted(names)))
    return [b for b in found if b]


def controller(prometheus_addresses: tuple[str, ...] = ()) -> Controller:
    """prometheus_addresses: the Prometheus base URLs a canary analysis may query (the operator's
    --prometheus-address flags); none by default."""

    async def gather(kube: Kube, key: Key, now: datetime) -> Observed | None:
        deployment = await parsed(kube, KIND, key, DeploymentSpec)
        if deployment is None:
            return None
        meta, spec, status = deployment.meta, deployment.spec, deployment.status
        mine = {labels.OWNER_UID: meta.uid}
        # Independent reads run at once: a reconcile waits for the slowest, not for their sum.
        selected, server_bodies, pod_bodies, services, autoscalers = await asyncio.gather(
            _selected_models(kube, meta.namespace, spec.model_ref),
            *(kube.list(api_version, kind, meta.namespace, mine) for api_version, kind in SERVING_READS))
        servers = [ServerFacts.of(b) for b in owned(server_bodies, meta.uid)]
        served = {s.model for s in servers} | {status.get("stableModel"), (status.get("canary") or {}).get("model")}
        unselected = served - {None, ""} - {b["metadata"]["name"] for b in selected}
        models = [_model(b) for b in selected + await _served_models(kube, meta.namespace, unselected)]
        pods = pods_by_model(pod_bodies, servers)
        children = {(b["kind"], b["metadata"]["name"]): b for b in owned(services + autoscalers, meta.uid)}
        world: dict[str, Any] = {}
        canary = (status.get("canary") or {}).get("model")
        if canary:
            world["requests"], world["unread"] = await canary_requests(pods.get(canary, []), spec.server.port)
            query = spec.strategy.canary.analysis.prometheus if spec.strategy and spec.strategy.canary else None
            # Only an allowed address is queried; the plan says why another is refused.
            address = prometheus_address(query.address, prometheus_addresses).url if query else None
            if query and address:
                world["prometheus"], world["prometheus_error"] = await prometheus_value(address, query.query)
        signatures = await _signatures(kube, meta.namespace, models, spec, servers)
        observed = DeploymentWorld(meta, spec, status, models, servers, {m: pod_facts(p) for m, p in pods.items()},
                                   signatures, children, now, prometheus_allowed=prometheus_addresses, **world)
        return Observed(meta, status, observed)

    return Controller(KIND, MLOPS_API_VERSION, gather, plan)
