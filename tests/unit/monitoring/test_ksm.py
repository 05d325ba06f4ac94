"""charts/mlops-operator/files/kube-state-metrics.yaml cannot drift from the API: every path it reads
exists in the kind's models (by their wire names), and each phase list is the kind's vocabulary."""

import types
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from mlops_operator.api.common import GROUP, VERSION
from mlops_operator.api.kinds import KINDS

REPO = Path(__file__).resolve().parents[3]
CONFIG = yaml.safe_load((REPO / "charts" / "mlops-operator" / "files" / "kube-state-metrics.yaml").read_text())
RESOURCES = {resource["groupVersionKind"]["kind"]: resource for resource in CONFIG["spec"]["resources"]}
METADATA = {"name", "namespace", "labels", "annotations", "uid", "generation", "creationTimestamp"}


def _unwrap(annotation):
    """The type under Optional, Annotated and list: what a path step below it reads."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            (annotation,) = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        elif origin is list:
            (annotation,) = typing.get_args(annotation)
        else:
            return annotation


def _at(kind, path: list[str]):
    """The type at a kube-state-metrics path of an object of kind: metadata is the API server's,
    spec and status are the kind's models."""
    head, *rest = path
    if head == "metadata":
        assert len(rest) == 1 and rest[0] in METADATA, path
        return str
    return _below({"spec": kind.spec, "status": kind.status}[head], rest)


def _below(annotation, path: list[str]):
    """The type at a path relative to a model (a gauge's labels and value, relative to its path)."""
    for step in path:
        model = _unwrap(annotation)
        assert isinstance(model, type) and issubclass(model, BaseModel), f"{step}: {model} has no fields"
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        assert step in fields, f"{model.__name__} has no field {step} (fields: {', '.join(fields)})"
        annotation = fields[step].annotation
    return _unwrap(annotation)


@pytest.fixture(params=KINDS, ids=lambda kind: kind.kind)
def kind(request):
    return request.param


def test_every_kind_is_configured_once_with_its_group_and_version():
    assert sorted(RESOURCES) == sorted(kind.kind for kind in KINDS) and len(CONFIG["spec"]["resources"]) == len(KINDS)
    assert all(r["groupVersionKind"] == {"group": GROUP, "version": VERSION, "kind": k} for k, r in RESOURCES.items())
    prefixes = [resource["metricNamePrefix"] for resource in RESOURCES.values()]
    assert len(set(prefixes)) == len(prefixes)


def test_every_path_exists_in_the_kinds_models(kind):
    resource = RESOURCES[kind.kind]
    for path in resource["labelsFromPath"].values():
        _at(kind, path)
    for metric in resource["metrics"]:
        each = metric["each"]
        if each["type"] == "Gauge":
            gauge = each["gauge"]
            element = _at(kind, gauge["path"])
            for path in [*gauge["labelsFromPath"].values(), gauge["valueFrom"]]:
                _below(element, path)
        else:
            assert each["type"] == "StateSet", metric["name"]
            _at(kind, each["stateSet"]["path"])


def test_each_phase_list_is_the_kinds_vocabulary(kind):
    (state_set,) = [m["each"]["stateSet"] for m in RESOURCES[kind.kind]["metrics"] if m["each"]["type"] == "StateSet"]
    assert _at(kind, state_set["path"]) is kind.phases
    assert state_set["list"] == [str(phase) for phase in kind.phases]


def test_conditions_carry_type_status_and_reason(kind):
    (gauge,) = [m["each"]["gauge"] for m in RESOURCES[kind.kind]["metrics"] if m["name"] == "status_condition"]
    assert gauge["path"] == ["status", "conditions"]
    assert gauge["labelsFromPath"] == {"type": ["type"], "status": ["status"], "reason": ["reason"]}
