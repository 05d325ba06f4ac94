"""Which Model a Deployment serves now: the pinned one, or the version of a modelName that holds
the alias (status.aliases, as the registry granted it)."""

from dataclasses import dataclass
from typing import Any

from ...api.deployment import ModelRef
from ...api.model import ModelSpec
from ...api.vocabulary import DeploymentReason
from ...resources.meta import Meta

DEFAULT_ALIAS = "champion"
SERVABLE_FORMATS = ("sklearn", "onnx")


@dataclass(frozen=True)
class ModelFacts:
    """A Model as read (spec None when it does not parse)."""

    meta: Meta
    spec: ModelSpec | None
    status: dict[str, Any]

    @property
    def aliases(self) -> list[str]:
        return list(self.status.get("aliases") or [])


@dataclass(frozen=True)
class Target:
    model: ModelFacts | None
    reason: DeploymentReason | None = None  # why there is none
    message: str = ""


def training_dataset(spec: ModelSpec) -> str | None:
    """The Dataset whose columns a version's servers take: the one it was gated on, else the one
    it was trained on."""
    if spec.validation:
        return spec.validation.dataset.name
    return spec.lineage.dataset if spec.lineage else None


def wanted(ref: ModelRef) -> str:
    """The target in words, for messages."""
    return f"Model {ref.name}" if ref.name else f"the holder of alias {ref.alias or DEFAULT_ALIAS} of {ref.model_name}"


def target_of(ref: ModelRef, models: list[ModelFacts], own_server: bool) -> Target:
    """own_server: the Deployment runs its own server image, which may load any format."""
    live = [m for m in models if m.spec is not None and not m.meta.deleting]
    if ref.name:
        found = next((m for m in live if m.meta.name == ref.name), None)
        if found is None:
            return Target(None, DeploymentReason.MODEL_NOT_FOUND,
                          f"modelRef.name: no Model {ref.name} in the namespace")
    else:
        alias = ref.alias or DEFAULT_ALIAS
        found = next((m for m in live if m.spec.model_name == ref.model_name and alias in m.aliases), None)
        if found is None:
            return Target(None, DeploymentReason.NO_ALIAS_HOLDER,
                          f"no version of {ref.model_name} holds alias {alias} (yet)")
    assert found.spec is not None
    if found.spec.artifact.format not in SERVABLE_FORMATS and not own_server:
        return Target(None, DeploymentReason.NO_ARTIFACT,
                      f"Model {found.meta.name} has artifact.format {found.spec.artifact.format}; the model server "
                      f"loads {' and '.join(SERVABLE_FORMATS)}; set server.image to a server that loads it")
    return Target(found)
