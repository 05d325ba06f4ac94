"""Deployment: serve a Model, roll new versions out as canaries, roll back on failure."""

from typing import Annotated

from pydantic import ConfigDict, Field

from .. import __version__
from .common import (ApiModel, DnsLabel, Duration, EnvFromSource, EnvVar, Name, PodSettings, ResourceRequirements,
                     StatusBase, cel, keyed_by, rules)
from .model import AliasName
from .vocabulary import DeploymentPhase

# Tagged with the operator's version, never :latest, which Kubernetes always pulls: an image loaded
# into a cluster (kind) serves, and an operator upgrade moves its pods to the matching runtime.
RUNTIME_IMAGE = f"ghcr.io/mlops-operator/runtime:{__version__}"


class ModelRef(ApiModel):
    """Which Model to serve: a pinned one, or whichever version holds an alias of a modelName."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel(
                "has(self.name) != has(self.modelName)",
                "modelRef needs exactly one of name (a pinned Model) or modelName (follow an alias)",
            ),
            cel("!has(self.alias) || has(self.modelName)", "modelRef.alias goes with modelName"),
        )
    )

    name: Name | None = None
    """A Model object in the same namespace, served whatever its gate said (pinning is a decision)."""
    model_name: DnsLabel | None = None
    """Follow the version of this modelName that holds alias (a Model's modelName, a DNS label)."""
    alias: AliasName | None = None
    """The alias to follow with modelName (default champion)."""


class Server(ApiModel):
    """The model server container."""

    image: Annotated[str, Field(min_length=1, max_length=512)] = RUNTIME_IMAGE
    """Server image; the project's runtime image (Open Inference Protocol v2) by default."""
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    """Port the server listens on and the Service exposes."""
    resources: ResourceRequirements | None = None
    """Compute resources of each server pod."""
    env: Annotated[list[EnvVar], Field(max_length=64, json_schema_extra=keyed_by("name"))] | None = None
    """Extra environment variables (e.g. the artifact store's credentials); the operator's MLOPS_* win."""
    env_from: Annotated[list[EnvFromSource], Field(max_length=16)] | None = None
    """Secrets and ConfigMaps whose keys become environment variables (e.g. AWS_ACCESS_KEY_ID)."""
    drain_seconds: Annotated[int, Field(ge=0, le=300)] = 5
    """After SIGTERM, how long a server keeps answering while it is taken out of the Service."""


class CanaryStep(ApiModel):
    """One traffic step of a rollout."""

    weight: Annotated[int, Field(ge=1, le=100)]
    """Percent of traffic on the new version during this step, as its share of the ready server pods:
    the split of replicas (or one pod more) closest to it, with at least one pod on each side, so
    the precision is about 100/replicas points and the surge at most one pod (docs/decisions.md, 48)."""
    pause: Duration | None = None
    """How long to watch this step before the next one; without it the step waits for spec.promote."""


class PrometheusAnalysis(ApiModel):
    """A PromQL query checked at every step."""

    address: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    """Base URL of the Prometheus server, e.g. http://prometheus.monitoring:9090: one of those the
    operator is allowed to query (its --prometheus-address flags; the chart's
    canaryAnalysis.prometheusAddresses), else the Deployment is refused. Without it, the first of those."""
    query: Annotated[str, Field(min_length=1, max_length=4096)]
    """PromQL query returning one number."""
    max: float
    """The query's result must stay at or below this."""


class Analysis(ApiModel):
    """Checks of the canary, made all through every step; one failing rolls back."""

    max_error_rate: Annotated[float, Field(ge=0, le=1)] = 0.05
    """Largest fraction of inference requests the canary's servers may answer with an error (5xx),
    read from their own /metrics; judged once they have answered minRequests."""
    min_requests: Annotated[int, Field(ge=1, le=1000000)] = 10
    """Requests the canary must have answered before its error rate is judged."""
    max_restarts: Annotated[int, Field(ge=0, le=100)] = 0
    """Container restarts the canary's pods may have in total (a server that cannot load its model exits)."""
    prometheus: PrometheusAnalysis | None = None


class Canary(ApiModel):
    """Shift traffic to a new version in steps."""

    steps: Annotated[
        list[CanaryStep],
        Field(
            min_length=1,
            max_length=10,
            json_schema_extra=rules(
                cel(
                    "self.map(s, s.weight).isSorted() && self.all(s, self.exists_one(t, t.weight == s.weight))",
                    "canary step weights must be strictly increasing",
                )
            ),
        ),
    ]
    """Traffic steps, weights strictly increasing within 1..100; after the last, the canary takes all."""
    analysis: Analysis = Field(default_factory=Analysis)
    progress_deadline_seconds: Annotated[int, Field(ge=10, le=86400)] = 300
    """How long the canary may take to have a step's pods ready before the rollout rolls back."""


class Strategy(ApiModel):
    """How a new model version replaces the serving one."""

    canary: Canary | None = None
    """Without canary, a new version replaces the old one at once."""


class Autoscaling(ApiModel):
    """A HorizontalPodAutoscaler on the server; replicas is then its starting point."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel(
                "self.minReplicas <= self.maxReplicas",
                "autoscaling.minReplicas must not exceed maxReplicas",
                fieldPath=".minReplicas",
            )
        )
    )

    min_replicas: Annotated[int, Field(ge=1)] = 1
    """Fewest server pods."""
    max_replicas: Annotated[int, Field(ge=1)]
    """Most server pods."""
    target_cpu_utilization: int = Field(default=80, ge=1, le=100, alias="targetCPUUtilization")
    """Average CPU utilization (percent of requests) the autoscaler aims for."""


class Promote(ApiModel):
    """Let a rollout go on without waiting: through a step, or all the way."""

    model: Name
    """The Model whose rollout this approves (so an old approval never applies to a new rollout)."""
    step: Annotated[int, Field(ge=1, le=10)] | None = None
    """Approve the steps up to this one (their pauses end); without it, promote to 100% now."""


class DeploymentSpec(ApiModel):
    """Serving of one model."""

    model_ref: ModelRef
    replicas: Annotated[int, Field(ge=0, le=1000)] = 1
    """Server pods (the autoscaler's starting point while autoscaling is set)."""
    server: Server = Field(default_factory=Server)
    strategy: Strategy | None = None
    autoscaling: Autoscaling | None = None
    paused: bool = False
    """Hold a rollout at its current step (its pause stops counting) until this is false again."""
    promote: Promote | None = None
    abort: Name | None = None
    """A Model whose rollout to give up: the stable version serves while this names the target;
    remove it to roll that Model out again."""
    pod: PodSettings | None = None


class CanaryStatus(ApiModel):
    """The rollout under way."""

    model: str
    """Model being rolled out."""
    weight: int
    """Percent of traffic it receives (the share of server pods it runs)."""
    step: int
    """Current step, from 1; one past the last step while the canary takes all the traffic."""
    step_started_at: str
    """When the current step began; its pause counts from here, minus time spent paused."""
    paused_at: str | None = None
    """When spec.paused held the rollout."""
    replicas: int | None = None
    """Canary server pods at this step."""
    stable_replicas: int | None = None
    """Stable server pods at this step."""


class RolledBack(ApiModel):
    """The last rollout given up: the operator does not try that Model again while it stays the target."""

    model: str
    """The Model whose rollout was given up."""
    reason: str
    """RolledBack (a check failed) or Aborted (spec.abort)."""
    message: str
    """What failed, with its numbers."""
    at: str
    """When."""


class DeploymentStatus(StatusBase):
    """What is served and how the rollout goes."""

    phase: DeploymentPhase | None = None
    """A one-word summary for printer columns; read conditions for decisions."""

    stable_model: str | None = None
    """Model serving all traffic outside a rollout."""
    canary: CanaryStatus | None = None
    """The rollout under way, if any."""
    rolled_back: RolledBack | None = None
    """The target's rollout given up, while that Model stays the target."""
    url: str | None = None
    """In-cluster URL of the model server."""
    replicas: int | None = None
    """Server pods."""
    ready_replicas: int | None = None
    """Server pods ready to serve."""
