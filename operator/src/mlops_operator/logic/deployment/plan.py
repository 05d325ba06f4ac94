"""A Deployment's whole decision: the target Model, the rollout step (logic.deployment.rollout),
the server Deployments, Service and autoscaler that follow from it, and what status says."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...api.deployment import RUNTIME_IMAGE, Analysis, DeploymentSpec
from ...api.vocabulary import ConditionType, DeploymentPhase, DeploymentReason
from ...contract import SERVING_SIGNATURE
from ...resources.meta import Meta
from ...resources.names import server_name
from ...resources.serving import Served, autoscaler, server_deployment, service, url
from ..conditions import FALSE, TRUE, Observation, Progress, standing
from ..errors import failure_report
from ..patch import merge_patch
from ..plan import Deletion, Plan
from .children import PodFacts, ServerFacts, drifted, foreign_port_taking, owns
from .health import CanaryHealth, Requests
from .prometheus import prometheus_address
from .rollout import Controls, Decision, RolloutInput, Stage, decide
from .target import ModelFacts, Target, target_of, wanted

ANALYSIS_INTERVAL = 5.0
"""While a canary runs, how often its servers' counters are read: they change without a watch event."""


@dataclass(frozen=True)
class DeploymentWorld:
    """Everything a Deployment reconcile reads, gathered in one place."""

    meta: Meta
    spec: DeploymentSpec
    status: dict[str, Any]
    models: list[ModelFacts]  # the Models of its namespace the modelRef may name
    servers: list[ServerFacts]  # its server Deployments
    pods: dict[str, PodFacts]  # by the Model they serve
    signatures: dict[str, str | None]  # by Model: its training data's columns, for a server not made yet
    children: dict[tuple[str, str], dict[str, Any]]  # its Service and autoscaler, by (kind, name)
    now: datetime
    requests: Requests = field(default_factory=Requests)  # the canary's servers' counters
    unread: tuple[str, ...] = ()
    prometheus: float | None = None
    prometheus_error: str | None = None
    prometheus_allowed: tuple[str, ...] = ()  # the base URLs the operator may query (its flags)


def analysis_refusal(spec: DeploymentSpec, allowed: tuple[str, ...]) -> str | None:
    """Why the canary analysis asks for a Prometheus the operator will not query, or None."""
    canary = spec.strategy.canary if spec.strategy else None
    query = canary.analysis.prometheus if canary else None
    return prometheus_address(query.address, allowed).refusal if query else None


def _replicas(world: DeploymentWorld, stable: ServerFacts | None) -> int:
    """The size of the serving fleet: spec.replicas, or what the autoscaler has made the stable version."""
    scaling = world.spec.autoscaling
    if scaling is None:
        return world.spec.replicas
    current = stable.replicas if stable else world.spec.replicas
    return min(max(current, scaling.min_replicas), scaling.max_replicas)


def _health(world: DeploymentWorld) -> CanaryHealth | None:
    canary = world.status.get("canary")
    if not canary:
        return None
    pods = world.pods.get(canary["model"], PodFacts())
    return CanaryHealth(pods.ready, pods.restarts, world.requests, world.unread, world.prometheus,
                        world.prometheus_error)


def rollout_input(world: DeploymentWorld, target: Target) -> RolloutInput:
    spec, status = world.spec, world.status
    canary = spec.strategy.canary if spec.strategy else None
    stable = next((s for s in world.servers if s.model == status.get("stableModel")), None)
    return RolloutInput(
        target=target.model.meta.name if target.model else None,
        stable=status.get("stableModel"), canary=status.get("canary"), rolled_back=status.get("rolledBack"),
        steps=list(canary.steps) if canary else [], analysis=canary.analysis if canary else Analysis(),
        progress_deadline=float(canary.progress_deadline_seconds if canary else 300),
        controls=Controls(spec.paused, spec.promote, spec.abort), replicas=_replicas(world, stable),
        health=_health(world), now=world.now)


def _served(facts: ModelFacts) -> Served:
    assert facts.spec is not None
    return Served(facts.meta.name, facts.spec.model_name, facts.spec.version, facts.spec.artifact)


def desired_children(world: DeploymentWorld, decision: Decision) -> list[dict[str, Any]]:
    """Each served version's Deployment (a version whose Model is gone keeps the one it has), the
    Service, and the autoscaler on the stable version."""
    by_name = {m.meta.name: m for m in world.models if m.spec is not None}
    existing = {s.model: s for s in world.servers}
    autoscaled = world.spec.autoscaling is not None
    manifests = []
    for model, replicas in decision.pods.items():
        if model not in by_name:
            continue
        running = existing.get(model)
        # The signature a version's servers started with stays theirs: new statistics of the
        # Dataset must not restart servers outside a rollout.
        signature = running.env(SERVING_SIGNATURE) if running else world.signatures.get(model)
        # Once the operator no longer owns its replicas (the autoscaler, or kubectl scale, wrote
        # them), the count is theirs; while it does, leaving the field out would reset it to 1.
        leave_count = (autoscaled and model == decision.stable and running is not None
                       and not owns(running.body, "spec", "replicas"))
        manifests.append(server_deployment(world.meta, world.spec, _served(by_name[model]), signature,
                                           None if leave_count else replicas))
    manifests.append(service(world.meta, world.spec))
    if autoscaled and decision.stable:
        manifests.append(autoscaler(world.meta, world.spec, decision.stable))
    return manifests


def _observed(world: DeploymentWorld, manifest: dict[str, Any]) -> dict[str, Any] | None:
    name = manifest["metadata"]["name"]
    if manifest["kind"] == "Deployment":
        return next((s.body for s in world.servers if s.name == name), None)
    return world.children.get((manifest["kind"], name))


def remade(world: DeploymentWorld, desired: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Children apply cannot repair: a Service whose port someone else rewrote. They are deleted
    and applied again in the same reconcile."""
    return [m for m in desired if m["kind"] == "Service" and foreign_port_taking(m, _observed(world, m))]


def removals(world: DeploymentWorld, decision: Decision, desired: list[dict[str, Any]]) -> list[Deletion]:
    kept = {server_name(world.meta.name, model) for model in decision.pods}
    gone = [Deletion("apps/v1", "Deployment", s.name) for s in world.servers if s.name not in kept]
    names = {(m["kind"], m["metadata"]["name"]) for m in desired}
    again = [Deletion(m["apiVersion"], m["kind"], m["metadata"]["name"]) for m in remade(world, desired)]
    return gone + again + [Deletion(body["apiVersion"], kind, name) for (kind, name), body in world.children.items()
                           if (kind, name) not in names]


@dataclass(frozen=True)
class Says:
    phase: DeploymentPhase
    ready: Observation
    progress: Progress
    available: Observation
    progressing: Observation
    degraded: Observation


def _stable_counts(world: DeploymentWorld, decision: Decision) -> tuple[int, int]:
    """(ready, wanted) servers of the stable version."""
    if decision.stable is None:
        return 0, 0
    server = next((s for s in world.servers if s.model == decision.stable), None)
    wanted_pods = decision.pods.get(decision.stable, 0)
    ready = world.pods.get(decision.stable, PodFacts()).ready if server else 0
    return ready, wanted_pods


def says(world: DeploymentWorld, target: Target, decision: Decision) -> Says:
    """Available: the stable version's servers answer; Progressing: a rollout (or the first start)
    is under way; Degraded: the target's rollout was given up; Ready: the target serves, fully."""
    ready_pods, wanted_pods = _stable_counts(world, decision)
    stable = decision.stable
    if stable is None:
        reason, message = target.reason or DeploymentReason.MODEL_NOT_FOUND, target.message
        available = Observation(ConditionType.AVAILABLE, FALSE, reason, message)
    elif wanted_pods == 0:
        available = Observation(ConditionType.AVAILABLE, TRUE, DeploymentReason.SCALED_TO_ZERO,
                                f"{stable}: spec.replicas is 0")
    elif ready_pods == 0:
        available = Observation(ConditionType.AVAILABLE, FALSE, DeploymentReason.NO_SERVER_READY,
                                f"no server of {stable} is ready yet (0 of {wanted_pods})")
    else:
        available = Observation(ConditionType.AVAILABLE, TRUE, DeploymentReason.SERVING,
                                f"{ready_pods} of {wanted_pods} servers of {stable} ready")
    stage = decision.stage
    given_up = decision.rolled_back or {}
    degraded = (Observation(ConditionType.DEGRADED, TRUE, given_up.get("reason", DeploymentReason.ROLLED_BACK),
                            f"rollout of {given_up.get('model')} given up at {given_up.get('at')}: "
                            f"{given_up.get('message')}; {stable} serves")
                if stage is Stage.DEGRADED else
                Observation(ConditionType.DEGRADED, FALSE, DeploymentReason.SERVING, "no rollout given up"))
    if stage in (Stage.ROLLING, Stage.PAUSED):
        progressing = Observation(ConditionType.PROGRESSING, TRUE, decision.reason, decision.message)
    elif stage is Stage.SERVING and ready_pods < wanted_pods:
        progressing = Observation(ConditionType.PROGRESSING, TRUE, DeploymentReason.STARTING,
                                  f"{ready_pods} of {wanted_pods} servers of {stable} ready")
    elif stage is Stage.DEGRADED:
        progressing = Observation(ConditionType.PROGRESSING, FALSE, degraded.reason, degraded.message)
    elif stage is Stage.WAITING:
        progressing = Observation(ConditionType.PROGRESSING, FALSE, available.reason,
                                  f"waiting for {wanted(world.spec.model_ref)}: {target.message}")
    else:
        previous = decision.reason if decision.reason == DeploymentReason.ROLLOUT_COMPLETE else DeploymentReason.SERVING
        progressing = Observation(ConditionType.PROGRESSING, FALSE, previous,
                                  decision.message or f"{stable} serves; no rollout under way")
    if stage is Stage.SERVING and ready_pods >= wanted_pods:
        ready = Observation(ConditionType.READY, TRUE, DeploymentReason.SERVING,
                            f"{stable} serves with {ready_pods} of {wanted_pods} servers ready")
        return Says(DeploymentPhase.SERVING, ready, Progress.DONE, available, progressing, degraded)
    if stage is Stage.DEGRADED:
        ready = Observation(ConditionType.READY, FALSE, degraded.reason, degraded.message)
        return Says(DeploymentPhase.DEGRADED, ready, Progress.STALLED, available, progressing, degraded)
    if stage is Stage.WAITING and target.reason == DeploymentReason.NO_ARTIFACT:
        ready = Observation(ConditionType.READY, FALSE, target.reason, target.message)
        return Says(DeploymentPhase.WAITING, ready, Progress.STALLED, available, progressing, degraded)
    phase = {Stage.WAITING: DeploymentPhase.WAITING, Stage.SERVING: DeploymentPhase.STARTING,
             Stage.ROLLING: DeploymentPhase.ROLLING_OUT, Stage.PAUSED: DeploymentPhase.PAUSED}[stage]
    ready = Observation(ConditionType.READY, FALSE, progressing.reason, progressing.message)
    return Says(phase, ready, Progress.WORKING, available, progressing, degraded)


def look_again_in(decision: Decision) -> float | None:
    if decision.stage not in (Stage.ROLLING, Stage.PAUSED):
        return None
    return min(decision.wake_in or ANALYSIS_INTERVAL, ANALYSIS_INTERVAL)


def plan(world: DeploymentWorld) -> Plan:
    if world.meta.deleting:
        return Plan()
    meta, spec, status = world.meta, world.spec, world.status
    refusal = analysis_refusal(spec, world.prometheus_allowed)
    if refusal:
        # As a spec that does not parse: nothing changes (what serves keeps serving, a rollout holds
        # where it is) until the address or the operator's list does; status says which and why.
        patch, events = failure_report(status, meta.generation, DeploymentReason.PROMETHEUS_NOT_ALLOWED, refusal,
                                       True, world.now)
        return Plan(status=patch, events=events)
    target = target_of(spec.model_ref, world.models, own_server=spec.server.image != RUNTIME_IMAGE)
    decision = decide(rollout_input(world, target))
    desired = desired_children(world, decision)
    changed = [m for m in desired if drifted(m, _observed(world, m))]
    verdict = says(world, target, decision)
    counted = [s for s in world.servers if s.model in decision.pods]
    wanted_status = {
        **status,
        "observedGeneration": meta.generation, "phase": verdict.phase, "stableModel": decision.stable,
        "canary": decision.canary, "rolledBack": decision.rolled_back, "url": url(meta, spec),
        "replicas": sum(decision.pods.values()),
        "readyReplicas": sum(world.pods.get(s.model, PodFacts()).ready for s in counted),
        "conditions": standing(status.get("conditions") or [], verdict.ready, verdict.progress, meta.generation,
                               world.now, verdict.available, verdict.progressing, verdict.degraded),
    }
    return Plan(delete=removals(world, decision, desired), apply=changed, status=merge_patch(status, wanted_status),
                events=decision.events, requeue_after=look_again_in(decision))
