"""Namespaces stay apart (decision 70): every reference is a name in the referrer's own namespace.
No reference has a namespace field, and no name can carry one: the models refuse a name that is not
a DNS subdomain (a stored spec that predates the CRD's rule becomes InvalidSpec, naming the field)."""

import copy
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

from mlops_operator.api.common import PodSettings
from mlops_operator.api.dataset import DatasetSpec
from mlops_operator.api.deployment import DeploymentSpec
from mlops_operator.api.experiment import ExperimentSpec
from mlops_operator.api.kinds import KINDS
from mlops_operator.api.model import ModelSpec

DATASET = {"source": {"uri": "s3://b/x/"}, "format": "csv"}
EXPERIMENT = {"datasetRef": {"name": "d"}, "trainer": {"image": "x"}, "search": {"parameters": {"a": {"values": [1]}}},
              "objective": {"metric": "m", "goal": "maximize"}}
MODEL = {"modelName": "m", "version": "1", "artifact": {"uri": "s3://b/m"}}
DEPLOYMENT = {"modelRef": {"name": "m"}}


def with_name(spec: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    """spec with `name` at the dotted path (list indexes as numbers), built as far as needed."""
    out = copy.deepcopy(spec)
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    node: Any = out
    for key, following in zip(keys, keys[1:], strict=False):
        if isinstance(key, int):
            while len(node) <= key:
                node.append({})
            node = node[key]
        else:
            node = node.setdefault(key, [] if isinstance(following, int) else {})
    node[keys[-1]] = name
    return out


POD_REFS = ["pod.serviceAccountName", "pod.priorityClassName", "pod.imagePullSecrets.0.name"]
CONTAINER_REFS = ["env.0.valueFrom.secretKeyRef.name", "env.0.valueFrom.configMapKeyRef.name",
                  "envFrom.0.secretRef.name", "envFrom.0.configMapRef.name"]

REFERENCES = [
    (DatasetSpec, DATASET, "source.secretRef.name"),
    *[(DatasetSpec, DATASET, p) for p in POD_REFS],
    *[(DatasetSpec, {**DATASET, "validation": {"validator": {"image": "v"}}}, f"validation.validator.{p}")
      for p in CONTAINER_REFS],
    (ExperimentSpec, EXPERIMENT, "datasetRef.name"),
    (ExperimentSpec, EXPERIMENT, "registerModel.validation.dataset.name"),
    *[(ExperimentSpec, EXPERIMENT, f"trainer.{p}") for p in CONTAINER_REFS],
    *[(ExperimentSpec, EXPERIMENT, p) for p in POD_REFS],
    (ModelSpec, MODEL, "validation.dataset.name"),
    (ModelSpec, MODEL, "lineage.dataset"),
    *[(ModelSpec, MODEL, p) for p in POD_REFS],
    (DeploymentSpec, DEPLOYMENT, "modelRef.name"),
    (DeploymentSpec, DEPLOYMENT, "promote.model"),
    (DeploymentSpec, DEPLOYMENT, "abort"),
    *[(DeploymentSpec, DEPLOYMENT, f"server.{p}") for p in CONTAINER_REFS],
    *[(DeploymentSpec, DEPLOYMENT, p) for p in POD_REFS],
]
ESCAPES = ["../../other/datasets/churn", "other/churn", "churn/..", "..", ".", "Churn", "churn%2F..", "-churn",
           "churn.", "a" * 254]


def _spec(model: type[BaseModel], base: dict[str, Any], path: str, name: str) -> BaseModel:
    spec = with_name(base, path, name)
    if "KeyRef.name" in path:
        with_into(spec, path.rpartition(".")[0] + ".key", "k")
    if "valueFrom." in path:
        with_into(spec, path.partition(".valueFrom.")[0] + ".name", "VAR")
    if path.startswith("registerModel."):
        with_into(spec, "registerModel.modelName", "m")
    return model.model_validate(spec)


def with_into(spec: dict[str, Any], path: str, value: str) -> None:
    spec.update(with_name(spec, path, value))


@pytest.mark.parametrize("model, base, path", REFERENCES, ids=[f"{m.__name__}.{p}" for m, _, p in REFERENCES])
def test_a_reference_is_a_name_in_the_same_namespace(model, base, path):
    _spec(model, base, path, "churn.v2-a")  # a DNS subdomain is taken
    for escape in ESCAPES:
        with pytest.raises(ValidationError) as refused:
            _spec(model, base, path, escape)
        assert any(e["loc"][-1] == path.split(".")[-1] for e in refused.value.errors()), (escape, refused.value)


def _fields(model: type[BaseModel], seen: set) -> list[tuple[type[BaseModel], str]]:
    if model in seen:
        return []
    seen.add(model)
    found = []
    for name, field in model.model_fields.items():
        found.append((model, field.alias or name))
        stack = [field.annotation]
        while stack:
            kind = stack.pop()
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found += _fields(kind, seen)
            elif get_origin(kind) is not None or get_args(kind):
                stack.extend(get_args(kind))
    return found


@pytest.mark.parametrize("kind", KINDS, ids=[k.kind for k in KINDS])
def test_no_spec_field_names_a_namespace(kind):
    fields = _fields(kind.spec, set())
    assert fields and not [(m.__name__, f) for m, f in fields if "namespace" in f.lower()]


def test_pod_settings_pass_no_namespace_either():
    assert not [f for _, f in _fields(PodSettings, set()) if "namespace" in f.lower()]
