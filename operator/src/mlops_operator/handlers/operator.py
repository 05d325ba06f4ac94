"""The operator's kopf wiring. Watch events only feed the work queues (one per kind); the queues'
workers run the reconciles. No kopf handler here changes an object, so kopf writes no annotation,
no diff-base and no finalizer on them (and removes the finalizer earlier versions added)."""

import asyncio
import itertools
import logging
import os
import socket
import sys
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import kopf

from .. import labels as keys
from ..api.common import GROUP, VERSION
from ..controller.leader import Candidate, LeaderElector
from ..controller.liveness import LivenessEndpoint
from ..controller.queue import WorkQueue
from ..controller.references import References
from ..kube.client import FIELD_MANAGER, Kube
from ..kube.lease import LeaseStore
from ..logic.leader import Timing
from ..logic.wakes import (blocked_pod_owner, job_owner, model_family, model_subjects, referred_dataset,
                           served_subject, serving_owner, validation_dataset)
from . import dataset, deployment, experiment, model
from . import login  # noqa: F401  (registers the login handler)
from .metrics import MetricsEndpoint, metrics_endpoint
from .runner import Controller, reconcile

log = logging.getLogger(__name__)
FINALIZER = f"{GROUP}/finalizer"  # only so kopf removes it from objects an earlier version guarded


@dataclass
class Settings:
    """What `python -m mlops_operator` sets before kopf starts."""

    workers: int = 4  # concurrent reconciles per kind
    refresh_scale: float = 1.0  # multiplies Dataset refresh intervals (tests)
    metrics_address: str = "127.0.0.1:8383"  # host:port of /metrics; "" serves none
    liveness_url: str = "http://127.0.0.1:8080/healthz"  # "" serves none
    leader_elect: bool = False  # reconcile only while holding the Lease below
    lease_namespace: str = ""  # the operator's own namespace
    lease_name: str = "mlops-operator-leader"
    lease_timing: Timing = field(default_factory=Timing)
    prometheus_addresses: tuple[str, ...] = ()  # the Prometheus base URLs canary analyses may query


SETTINGS = Settings()
LOST_LEADERSHIP_EXIT_CODE = 1


@dataclass(frozen=True)
class EndlessBackoffs:
    """kopf's request retries without end. With its default (1, 1, 2, 3, 5, 8, 13 and 21 s, then
    it gives up) a 5xx or 403 answer that lasts about a minute ends the operator (kopf's watch loop
    forgives only a 429): a load balancer answering 503 while no API server is behind it became a
    crash loop. Iterable anew for each request (each starts from the first delay), and unsized
    (kopf then counts no total)."""

    first: tuple[float, ...] = (1, 1, 2, 3, 5)
    then: float = 10

    def __iter__(self):
        return itertools.chain(self.first, itertools.repeat(self.then))


def candidate_identity() -> str:
    """The pod's name (the host's outside a pod) and a random suffix, as controller-runtime names
    candidates: a restarted container is a new candidate, never mistaken for the old holder."""
    return f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4()}"


@dataclass
class Runtime:
    kube: Kube
    queues: dict[str, WorkQueue]
    metrics: MetricsEndpoint
    liveness: LivenessEndpoint
    elector: LeaderElector | None = None  # None: no leader election, the workers run from the start
    election: asyncio.Task | None = None
    references: References = field(default_factory=References)  # Experiment -> Dataset
    model_datasets: References = field(default_factory=References)  # Model -> its validation Dataset
    families: References = field(default_factory=References)  # Model -> (namespace, modelName)
    served: References = field(default_factory=References)  # Deployment -> the Models its modelRef names
    owners: dict[str, tuple[str, tuple[str, str]]] = field(default_factory=dict)  # UID -> (kind, key)


_runtime: Runtime | None = None


def _controllers(settings: Settings) -> list[Controller]:
    return [dataset.controller(settings.refresh_scale), experiment.CONTROLLER, model.CONTROLLER,
            deployment.controller(settings.prometheus_addresses)]


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, **_: Any) -> None:
    global _runtime
    settings.persistence.finalizer = FINALIZER
    settings.posting.enabled = False  # the operator posts its own Events, one per real transition
    settings.posting.reporting_component = FIELD_MANAGER
    settings.peering.standalone = True
    settings.networking.error_backoffs = EndlessBackoffs()
    # Server-side filters: the operator never streams Jobs or pods that are not its own.
    settings.watching.label_selectors["batch", "v1", "jobs"] = keys.MANAGED_SELECTOR
    settings.watching.label_selectors["", "v1", "pods"] = keys.MANAGED_SELECTOR
    for group, version, plural in SERVING_CHILDREN:
        settings.watching.label_selectors[group, version, plural] = keys.MANAGED_SELECTOR
    kube = Kube()
    metrics = metrics_endpoint()
    queues = {}
    for c in _controllers(SETTINGS):
        name = c.kind.lower()  # controller-runtime's controller name: the lowercase kind
        queues[c.kind] = WorkQueue(name, partial(reconcile, c, kube), SETTINGS.workers,
                                   observer=metrics.controllers.observer(name, SETTINGS.workers))
    _runtime = Runtime(kube, queues, metrics, LivenessEndpoint(kube.api_problem))
    if SETTINGS.metrics_address:
        try:
            metrics.serve(SETTINGS.metrics_address)
        except OSError as error:  # a port taken is not fixed by retrying: stop, and say which
            raise kopf.PermanentError(f"cannot serve /metrics on {SETTINGS.metrics_address}: {error}") from error
    if SETTINGS.liveness_url:
        try:
            await _runtime.liveness.serve(SETTINGS.liveness_url)
        except OSError as error:
            raise kopf.PermanentError(f"cannot serve the liveness endpoint {SETTINGS.liveness_url}: {error}") from error
    if not SETTINGS.leader_elect:
        _lead(_runtime)
        return
    metrics.inventory.reporting = False  # a stand-by's domain metrics would count everything twice
    # A follower keeps kopf's watches and keeps queuing keys (a warm start), but its workers, the
    # only code that writes, start only once it holds the Lease.
    candidate = Candidate(f"{SETTINGS.lease_namespace}/{SETTINGS.lease_name}", candidate_identity(),
                          SETTINGS.lease_timing)
    log.info("leader election: %s campaigns for Lease %s", candidate.identity, candidate.lease)
    _runtime.elector = LeaderElector(LeaseStore(kube, SETTINGS.lease_namespace, SETTINGS.lease_name), candidate,
                                     metrics.controllers.leader_election(SETTINGS.lease_name))
    _runtime.election = asyncio.create_task(
        _runtime.elector.run(started_leading=partial(_lead, _runtime), stopped_leading=_exit_at_once),
        name="leader election")


def _lead(runtime: Runtime) -> None:
    """Reconcile (the workers run) and report the domain metrics: what only one replica does."""
    runtime.metrics.inventory.reporting = True
    for queue in runtime.queues.values():
        queue.start()


def _exit_at_once() -> None:
    """Leadership lost (another candidate may hold the Lease from now on): end the process before
    any worker writes again, as controller-runtime's manager does. Cancelling the workers and
    waiting for kopf to shut down would let a reconcile in flight write for seconds more; the
    Deployment restarts the container, which campaigns again as a new follower."""
    log.critical("leader election lost: exiting with code %d", LOST_LEADERSHIP_EXIT_CODE)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(LOST_LEADERSHIP_EXIT_CODE)


@kopf.on.cleanup()
async def stop(**_: Any) -> None:
    if _runtime is None:
        return
    if _runtime.election is not None:
        _runtime.election.cancel()  # no renewal after this: the release below is the last write
        await asyncio.gather(_runtime.election, return_exceptions=True)
    await asyncio.gather(*(queue.stop() for queue in _runtime.queues.values()))
    if _runtime.elector is not None:
        # Only once no worker can write any more: the next leader takes over at its next try.
        await _runtime.elector.release()
    _runtime.metrics.stop()
    await _runtime.liveness.stop()
    await _runtime.kube.close()


def _enqueue(kind: str, key: tuple[str, str], event_type: str | None, uid: str | None, body: dict[str, Any]) -> None:
    runtime = _runtime
    assert runtime is not None, "watch events arrive only after startup"
    runtime.metrics.inventory.observe(kind, event_type, body)
    queue = runtime.queues[kind]
    if event_type == "DELETED":
        queue.forget(key)
        runtime.owners.pop(uid or "", None)
    elif uid:
        runtime.owners[uid] = (kind, key)
    queue.add(key)


@kopf.on.event(GROUP, VERSION, "datasets")
async def dataset_event(event: dict[str, Any], body: dict[str, Any], namespace: str, name: str, uid: str,
                        **_: Any) -> None:
    _enqueue("Dataset", (namespace, name), event.get("type"), uid, body)
    for referrer in _runtime.references.referrers((namespace, name)):
        _runtime.queues["Experiment"].add(referrer)
    for referrer in _runtime.model_datasets.referrers((namespace, name)):
        _runtime.queues["Model"].add(referrer)


@kopf.on.event(GROUP, VERSION, "experiments")
async def experiment_event(event: dict[str, Any], body: dict[str, Any], namespace: str, name: str, uid: str,
                           spec: dict[str, Any], **_: Any) -> None:
    dataset_name = referred_dataset(event.get("type"), spec)
    _runtime.references.set((namespace, name), (namespace, dataset_name) if dataset_name else None)
    _enqueue("Experiment", (namespace, name), event.get("type"), uid, body)


@kopf.on.event(GROUP, VERSION, "models")
async def model_event(event: dict[str, Any], body: dict[str, Any], namespace: str, name: str, uid: str,
                      spec: dict[str, Any], **_: Any) -> None:
    """A version's change can move any alias of its modelName: every version of it takes a look."""
    key, event_type = (namespace, name), event.get("type")
    dataset_name = validation_dataset(event_type, spec)
    _runtime.model_datasets.set(key, (namespace, dataset_name) if dataset_name else None)
    family = model_family(spec)
    _runtime.families.set(key, None if event_type == "DELETED" or not family else (namespace, family))
    _enqueue("Model", key, event_type, uid, body)
    for sibling in _runtime.families.referrers((namespace, family)) if family else []:
        _runtime.queues["Model"].add(sibling)
    for subject in model_subjects(name, spec):
        for referrer in _runtime.served.referrers((namespace, subject)):
            _runtime.queues["Deployment"].add(referrer)


@kopf.on.event(GROUP, VERSION, "deployments")
async def deployment_event(event: dict[str, Any], body: dict[str, Any], namespace: str, name: str, uid: str,
                           spec: dict[str, Any], **_: Any) -> None:
    subject = None if event.get("type") == "DELETED" else served_subject(spec.get("modelRef") or {})
    _runtime.served.set((namespace, name), (namespace, subject) if subject else None)
    _enqueue("Deployment", (namespace, name), event.get("type"), uid, body)


# The server Deployments, Services and autoscalers of Deployments: any change is their owner's business.
SERVING_CHILDREN = (("apps", "v1", "deployments"), ("", "v1", "services"),
                    ("autoscaling", "v2", "horizontalpodautoscalers"))


async def serving_child_event(body: dict[str, Any], **_: Any) -> None:
    owner = _runtime.owners.get(serving_owner(body) or "")
    if owner:
        kind, key = owner
        _runtime.queues[kind].add(key)


for _group, _version, _plural in SERVING_CHILDREN:
    kopf.on.event(_group, _version, _plural)(serving_child_event)


@kopf.on.event("batch", "v1", "jobs")
async def job_event(event: dict[str, Any], namespace: str, body: dict[str, Any], **_: Any) -> None:
    """A finished or deleted Job frees a slot and carries a result: its owner takes another look."""
    owner = job_owner(event.get("type"), body)
    if owner:
        kind, name = owner
        _runtime.queues[kind].add((namespace, name))


@kopf.on.event("", "v1", "pods")
async def pod_event(body: dict[str, Any], **_: Any) -> None:
    """A pod that cannot start (image, scheduling, configuration): its owner says so in status. A
    server pod's readiness and restarts judge its version: its Deployment takes a look."""
    owner = _runtime.owners.get(blocked_pod_owner(body) or serving_owner(body) or "")
    if owner:
        kind, key = owner
        _runtime.queues[kind].add(key)

