"""Deployment: serve a Model, roll new versions out as canaries, roll back on failure."""

from typing import Annotated

from pydantic import ConfigDict, Field

from .common import ApiModel, Duration, Name, ResourceRequirements, StatusBase, cel, rules
from .model import AliasName
from .vocabulary import DeploymentPhase

RUNTIME_IMAGE = "ghcr.io/mlops-operator/runtime:latest"


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
    """A Model object in the same namespace."""
    model_name: Annotated[str, Field(max_length=63)] | None = None
    """Follow the version of this modelName that holds alias."""
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


class CanaryStep(ApiModel):
    """One traffic step of a rollout."""

    weight: Annotated[int, Field(ge=1, le=100)]
    """Percent of traffic on the new version during this step."""
    pause: Duration | None = None
    """How long to watch this step before the next one."""


class PrometheusAnalysis(ApiModel):
    """A PromQL query checked at every step."""

    address: Annotated[str, Field(min_length=1, max_length=512)]
    """Base URL of the Prometheus server, e.g. http://prometheus.monitoring:9090."""
    query: Annotated[str, Field(min_length=1, max_length=4096)]
    """PromQL query returning one number."""
    max: float
    """The query's result must stay at or below this."""


class Analysis(ApiModel):
    """Health checks of the canary at each step; a failure rolls back."""

    max_error_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    """Largest fraction of failed requests the canary may have."""
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
    """Traffic steps, weights strictly increasing within 1..100."""
    analysis: Analysis | None = None


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


class DeploymentSpec(ApiModel):
    """Serving of one model."""

    model_ref: ModelRef
    replicas: Annotated[int, Field(ge=0)] = 1
    """Server pods (ignored while autoscaling is set)."""
    server: Server | None = None
    strategy: Strategy | None = None
    autoscaling: Autoscaling | None = None


class CanaryStatus(ApiModel):
    """The rollout under way."""

    model: str
    """Model being rolled out."""
    weight: int
    """Percent of traffic it receives."""
    step: int
    """Current step, from 1."""


class DeploymentStatus(StatusBase):
    """What is served and how the rollout goes."""

    phase: DeploymentPhase | None = None
    """A one-word summary for printer columns; read conditions for decisions."""

    stable_model: str | None = None
    """Model serving all traffic outside a rollout."""
    canary: CanaryStatus | None = None
    url: str | None = None
    """In-cluster URL of the model server."""
    replicas: int | None = None
    """Server pods."""
    ready_replicas: int | None = None
    """Server pods ready to serve."""
