"""What serves a Deployment of ours: an apps/v1 Deployment of model servers per version served
(the stable one, and a canary during a rollout), one Service over both, and an optional
HorizontalPodAutoscaler on the stable version's."""

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .. import contract, labels
from ..api.common import Container
from ..api.dataset import DatasetSpec
from ..api.deployment import RUNTIME_IMAGE, DeploymentSpec
from ..api.model import Artifact
from .meta import Meta, owner_reference
from .names import label_value, server_name, service_name
from .pods import container, pod_template

SERVER_COMMAND = ["python3", "-m", "mlops_operator.runtime.serve"]
DATATYPES = {"integer": "INT64", "float": "FP64", "string": "BYTES", "boolean": "BOOL", "datetime": "BYTES"}
READY_PATH, LIVE_PATH, METRICS_PATH = "/v2/health/ready", "/v2/health/live", "/metrics"


@dataclass(frozen=True)
class Served:
    """A Model version as its servers need it."""

    name: str  # the Model object
    model_name: str  # spec.modelName: the name in /v2/models/{name}
    version: str
    artifact: Artifact


def serving_signature(dataset: dict[str, Any] | None) -> str | None:
    """The training data's feature columns as the server checks inputs against them: types and
    nullability from the schema, ranges and allowed values from the rules, else from the last
    validation's statistics. None without a readable schema."""
    if dataset is None:
        return None
    try:
        spec = DatasetSpec.model_validate(dataset["spec"])
    except ValidationError:
        return None
    if spec.schema_ is None:
        return None
    stats = (((dataset.get("status") or {}).get("stats") or {}).get("columns")) or {}
    inputs = []
    for column in spec.schema_.columns:
        if column.name == spec.schema_.target:
            continue
        described: dict[str, Any] = {"name": column.name, "datatype": DATATYPES[column.type],
                                     "nullable": column.nullable}
        rule = next((r for r in spec.validation.rules or [] if r.column == column.name), None)
        low, high = (rule.min, rule.max) if rule else (None, None)
        measured = stats.get(column.name) or {}
        low = low if low is not None else measured.get("min")
        high = high if high is not None else measured.get("max")
        if column.type in ("integer", "float"):
            described.update({k: v for k, v in (("min", low), ("max", high)) if v is not None})
        if rule and rule.allowed_values:
            described["allowedValues"] = list(rule.allowed_values)
        inputs.append(described)
    return json.dumps({"inputs": inputs, "target": spec.schema_.target}, sort_keys=True, separators=(",", ":"))


def _owner_labels(owner: Meta) -> dict[str, str]:
    return {labels.MANAGED_BY: labels.OPERATOR, labels.OWNER_UID: owner.uid,
            labels.DEPLOYMENT: label_value(owner.name)}


def server_labels(owner: Meta, model: str) -> dict[str, str]:
    """A version's server pods: its Deployment's selector."""
    return {**_owner_labels(owner), labels.MODEL: label_value(model)}


def _metadata(owner: Meta, name: str, extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"name": name, "namespace": owner.namespace, "labels": {**_owner_labels(owner), **(extra_labels or {})},
            "ownerReferences": [owner_reference(owner)]}


def _server_container(spec: DeploymentSpec, served: Served, signature: str | None) -> dict[str, Any]:
    server = spec.server
    env = {contract.MODEL_URI: served.artifact.uri, contract.MODEL_FORMAT: served.artifact.format,
           contract.MODEL_NAME: served.model_name, contract.MODEL_VERSION: served.version,
           contract.SERVER_PORT: str(server.port), contract.DRAIN_SECONDS: str(server.drain_seconds)}
    if signature:
        env[contract.SERVING_SIGNATURE] = signature
    program = Container(image=server.image, command=SERVER_COMMAND if server.image == RUNTIME_IMAGE else None,
                        env=server.env, env_from=server.env_from, resources=server.resources)
    built = container(program, "server", env, None)
    # The pod's own address, so the server never listens on 0.0.0.0.
    built["env"].insert(0, {"name": contract.SERVER_ADDRESS, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    built["ports"] = [{"name": "http", "containerPort": server.port, "protocol": "TCP"}]
    built["readinessProbe"] = {"httpGet": {"path": READY_PATH, "port": "http"}, "periodSeconds": 2,
                               "failureThreshold": 1, "timeoutSeconds": 2}
    built["livenessProbe"] = {"httpGet": {"path": LIVE_PATH, "port": "http"}, "periodSeconds": 10,
                              "failureThreshold": 3, "timeoutSeconds": 5}
    return built


def scrape_annotations(port: int) -> dict[str, str]:
    """What Prometheus' common `kubernetes-pods` job looks for: a server's /metrics is on its http port."""
    return {labels.PROMETHEUS_SCRAPE: "true", labels.PROMETHEUS_PORT: str(port), labels.PROMETHEUS_PATH: METRICS_PATH}


def server_deployment(owner: Meta, spec: DeploymentSpec, served: Served, signature: str | None,
                      replicas: int | None) -> dict[str, Any]:
    """replicas None: an autoscaler owns the count, so the operator leaves the field to it."""
    pod_labels = server_labels(owner, served.name)
    template = pod_template(_server_container(spec, served, signature), spec.pod, pod_labels)
    # The user's pod annotations win: `prometheus.io/scrape: "false"` opts out of being scraped.
    template["metadata"]["annotations"] = {**scrape_annotations(spec.server.port),
                                           **template["metadata"].get("annotations", {})}
    template["spec"]["restartPolicy"] = "Always"
    template["spec"]["terminationGracePeriodSeconds"] = spec.server.drain_seconds + 10
    metadata = _metadata(owner, server_name(owner.name, served.name), {labels.MODEL: label_value(served.name)})
    metadata["annotations"] = {labels.MODEL_ANNOTATION: served.name}
    deployment_spec: dict[str, Any] = {
        "selector": {"matchLabels": pod_labels},
        "template": template,
        # Scaling during a rollout adds pods before it removes any.
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
    }
    if replicas is not None:
        deployment_spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": deployment_spec}


def service(owner: Meta, spec: DeploymentSpec) -> dict[str, Any]:
    """One Service over every version's servers: a canary's share of the traffic is its share of
    the ready pods."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(owner, service_name(owner.name)),
            "spec": {"type": "ClusterIP", "selector": _owner_labels(owner),
                     "ports": [{"name": "http", "port": spec.server.port, "targetPort": "http", "protocol": "TCP"}]}}


def url(owner: Meta, spec: DeploymentSpec) -> str:
    return f"http://{service_name(owner.name)}.{owner.namespace}.svc:{spec.server.port}"


def autoscaler(owner: Meta, spec: DeploymentSpec, stable: str) -> dict[str, Any]:
    scaling = spec.autoscaling
    assert scaling is not None
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(owner, service_name(owner.name)),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": server_name(owner.name, stable)},
            "minReplicas": scaling.min_replicas, "maxReplicas": scaling.max_replicas,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": scaling.target_cpu_utilization}}}],
        },
    }
