"""Model: one model version, the stage wanted for it, and the gate it must pass."""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .common import ApiModel, Container, DnsLabel, FreeForm, Name, StatusBase, cel, rules
from .experiment import STAGES
from .vocabulary import ModelPhase

ARTIFACT_FORMATS = ("sklearn", "onnx", "custom")
SPLITS = ("train", "test", "validation")


class Artifact(ApiModel):
    """The stored model file."""

    uri: Annotated[
        str,
        Field(
            max_length=2048,
            json_schema_extra=rules(cel("size(self) > 0", "artifact.uri must not be empty")),
        ),
    ]
    """Where the model file is, e.g. s3://models/churn/7/model.joblib or file:///data/model.joblib."""
    format: Literal[ARTIFACT_FORMATS] = "sklearn"
    """sklearn (joblib), onnx or custom."""


class Lineage(ApiModel):
    """Where the model came from."""

    experiment: Annotated[str, Field(max_length=253)] | None = None
    """Experiment that trained the model."""
    trial: Annotated[str, Field(max_length=253)] | None = None
    """Trial that trained the model."""
    dataset_digest: Annotated[str, Field(max_length=128)] | None = None
    """Digest of the data it was trained on."""
    parameters: dict[str, FreeForm] | None = None
    """Hyperparameters it was trained with."""


class DatasetSplitRef(ApiModel):
    """A split of a Dataset in the same namespace."""

    name: Name
    """Name of the Dataset."""
    split: Literal[SPLITS] = "test"
    """Which split to score: train, test or validation."""


class Threshold(ApiModel):
    """A bound a validation metric must respect."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel("has(self.min) || has(self.max)", "a threshold needs min, max or both"),
            cel(
                "!has(self.min) || !has(self.max) || self.min <= self.max",
                "threshold min must not be greater than max",
            ),
        )
    )

    metric: Annotated[str, Field(min_length=1, max_length=128)]
    """Name of a metric the evaluation reports."""
    min: float | None = None
    """Smallest acceptable value."""
    max: float | None = None
    """Largest acceptable value."""


class CompareToProduction(ApiModel):
    """The candidate must beat the current Production version of the same modelName."""

    metric: Annotated[str, Field(min_length=1, max_length=128)]
    """Metric both versions are scored on."""
    goal: Literal["maximize", "minimize"] = "maximize"
    """Whether higher (maximize) or lower (minimize) is better."""
    min_improvement: float = 0.0
    """How much better than Production the candidate must be."""


class ModelValidation(ApiModel):
    """The promotion gate."""

    dataset: DatasetSplitRef
    """Held-back data the evaluation scores."""
    thresholds: Annotated[list[Threshold], Field(max_length=32)] | None = None
    """Bounds every evaluation metric named here must respect."""
    compare_to_production: CompareToProduction | None = None
    evaluator: Container | None = None
    """A custom evaluator container; the built-in evaluator by default."""


class ModelSpec(ApiModel):
    """One version of a model."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel("self.modelName == oldSelf.modelName", "modelName is immutable", fieldPath=".modelName"),
            cel("self.version == oldSelf.version", "version is immutable", fieldPath=".version"),
        )
    )

    model_name: DnsLabel
    """The model this is a version of; at most one version per modelName is Production."""
    version: Annotated[str, Field(min_length=1, max_length=63)]
    """Version label, unique within modelName."""
    artifact: Annotated[
        Artifact,
        Field(
            json_schema_extra=rules(
                cel("self == oldSelf", "artifact is immutable: create a new Model version instead")
            )
        ),
    ]
    lineage: Lineage | None = None
    stage: Literal[STAGES] = "None"
    """Stage wanted: None, Staging, Production or Archived; status.stage is the stage granted."""
    validation: ModelValidation | None = None


class Check(ApiModel):
    """One gate check."""

    name: str
    """What was checked, e.g. threshold roc_auc >= 0.8."""
    passed: bool
    """Whether the check passed."""
    message: str = ""
    """The numbers behind the verdict."""


class ValidationResult(ApiModel):
    """Result of the last evaluation."""

    metrics: dict[str, float] | None = None
    """Metrics the evaluation reported."""
    checks: Annotated[list[Check], Field(max_length=64)] | None = None
    """Every check of the gate."""
    passed: bool | None = None
    """Whether every check passed."""


class ModelStatus(StatusBase):
    """What the gate decided."""

    phase: ModelPhase | None = None
    """A one-word summary for printer columns; read conditions for decisions."""

    stage: Literal[STAGES] | None = None
    """Stage granted."""
    validation: ValidationResult | None = None
