"""Model: one model version, the aliases it asks for, and the gate that grants them."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .common import ApiModel, Container, DnsLabel, FreeForm, Name, PodSettings, StatusBase, cel, rules
from .vocabulary import AliasChange, ModelPhase

ARTIFACT_FORMATS = ("sklearn", "onnx", "custom")
SPLITS = ("train", "test", "validation")
GOALS = ("maximize", "minimize")
ALIAS_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
MAX_ALIASES = 8
MAX_HISTORY = 20
MetricName = Annotated[str, Field(min_length=1, max_length=128)]
AliasName = Annotated[
    str,
    Field(
        max_length=63,
        json_schema_extra=rules(cel(
            f"self.matches('{ALIAS_PATTERN}')",
            "an alias is lowercase letters, digits and '-', starting with a letter, e.g. champion or challenger",
        )),
    ),
]


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
    """sklearn (joblib), onnx, or custom (only a custom evaluator can score it)."""


class Lineage(ApiModel):
    """Where the model came from; registerModel fills it in."""

    experiment: Annotated[str, Field(max_length=253)] | None = None
    """Experiment that trained the model."""
    run: int | None = None
    """Run of the Experiment."""
    trial: Annotated[str, Field(max_length=253)] | None = None
    """Trial that trained the model."""
    dataset: Name | None = None
    """Dataset it was trained on (in the same namespace)."""
    dataset_digest: Annotated[str, Field(max_length=128)] | None = None
    """Digest of the data it was trained on."""
    parameters: dict[str, FreeForm] | None = None
    """Hyperparameters it was trained with."""
    metrics: dict[str, float] | None = None
    """Metrics the trial reported."""
    trainer_image: Annotated[str, Field(max_length=512)] | None = None
    """Image of the trainer container."""


class DatasetSplitRef(ApiModel):
    """A split of a Dataset in the same namespace."""

    name: Name
    """Name of the Dataset; the evaluation scores its data pinned by the digest of its last validation."""
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

    metric: MetricName
    """Name of a metric the evaluation reports."""
    min: float | None = None
    """Smallest acceptable value."""
    max: float | None = None
    """Largest acceptable value."""


class CompareTo(ApiModel):
    """The candidate must beat the version holding an alias of the same modelName."""

    alias: AliasName
    """Alias whose holder is the one to beat, e.g. champion."""
    metric: MetricName
    """Metric both versions are scored on, on the same data."""
    goal: Literal[GOALS] = "maximize"
    """Whether higher (maximize) or lower (minimize) is better."""
    min_improvement: Annotated[float, Field(ge=0)] = 0.0
    """How much better than the holder the candidate must be (0: at least as good)."""


class ModelValidation(ApiModel):
    """The promotion gate: an evaluation on held-back data, thresholds, a comparison."""

    dataset: DatasetSplitRef
    """Held-back data the evaluation scores."""
    thresholds: Annotated[list[Threshold], Field(max_length=32)] | None = None
    """Bounds the evaluation's metrics must respect."""
    compare_to: CompareTo | None = None
    evaluator: Container | None = None
    """A custom evaluator container; the built-in evaluator by default. It reports with the runtime's report()."""
    active_deadline_seconds: Annotated[int, Field(ge=1, le=604800)] = 1800
    """Wall-clock limit of one evaluation."""
    backoff_limit: Annotated[int, Field(ge=0, le=10)] = 1
    """Retries of a failed evaluation pod before the evaluation fails."""


class Override(ApiModel):
    """Take the asked aliases despite a lost comparison (never despite failed thresholds or a failed
    evaluation). Recorded in status and in an Event."""

    reason: Annotated[
        str,
        Field(max_length=1024, json_schema_extra=rules(cel(
            "size(self.trim()) > 0", "override.reason is mandatory: say why the comparison is overridden"))),
    ]
    """Why, for the audit trail, e.g. "INC-123: the champion's data drifted"."""


class ModelSpec(ApiModel):
    """One version of a model. It asks for aliases (spec.aliases); the operator grants them only
    through the gate. Holders are resolved from what is in the cluster alone: for each (modelName,
    alias) the holder is the most recently created version (creationTimestamp, ties broken by name:
    the greater name is the newer) that asks for the alias and whose gate passes for its current
    generation. The gate of a version compares it with the holder of its compareTo alias among the
    versions created before it. So the same objects always give the same holders, whichever order
    they were reconciled in, and deleting or un-asking a version (a Git revert) hands its aliases
    back to the previous passing version: a rollback is a pointer move, with no new evaluation."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel("self.modelName == oldSelf.modelName", "modelName is immutable", fieldPath=".modelName"),
            cel("self.version == oldSelf.version", "version is immutable", fieldPath=".version"),
            cel(
                "!has(self.override) || (has(self.validation) && has(self.validation.compareTo))",
                "override applies to a lost comparison only: it needs validation.compareTo",
                fieldPath=".override",
            ),
        )
    )

    model_name: DnsLabel
    """The model this is a version of; each alias of a modelName has at most one holder."""
    version: Annotated[str, Field(min_length=1, max_length=63)]
    """Version label, e.g. 7; for people and lineage (holders are resolved by creation time)."""
    artifact: Annotated[
        Artifact,
        Field(
            json_schema_extra=rules(
                cel("self == oldSelf", "artifact is immutable: create a new Model version instead")
            )
        ),
    ]
    lineage: Lineage | None = None
    aliases: Annotated[
        list[AliasName],
        Field(max_length=MAX_ALIASES, json_schema_extra={"x-kubernetes-list-type": "set"}),
    ] | None = None
    """Aliases asked for, e.g. [champion]; status.aliases are the ones the gate granted."""
    validation: ModelValidation | None = None
    """Without validation there is no gate: the version takes what it asks for (it says so)."""
    override: Override | None = None
    pod: PodSettings | None = None
    """Settings of the evaluation pods: service account, scheduling, security context, volumes."""


class Check(ApiModel):
    """One check of the gate."""

    name: str
    """What was checked, e.g. roc_auc >= 0.9, or roc_auc beats champion."""
    passed: bool
    """Whether the check passed."""
    message: str = ""
    """The numbers behind the verdict."""


class Baseline(ApiModel):
    """The version the candidate was compared with."""

    model: str
    """Name of the Model that held the compared alias."""
    metrics: dict[str, float] | None = None
    """Its metrics on the candidate's data."""
    rescored: bool = False
    """It was scored on other data, so the operator scored it again on the candidate's."""
    job: str | None = None
    """The Job that scored it again."""
    artifact_uri: str | None = None
    """Its artifact, as scored."""
    dataset_digest: str | None = None
    """Digest of the data it was scored on."""
    error: str | None = None
    """Why scoring it again failed."""


class ValidationResult(ApiModel):
    """The last evaluation and the gate's checks against it."""

    key: str | None = None
    """Hash of what the scores depend on (artifact, data, split, evaluator): a change of any re-evaluates."""
    job: str | None = None
    """The evaluation Job."""
    dataset: str | None = None
    """Dataset scored."""
    split: str | None = None
    """Split scored."""
    dataset_digest: str | None = None
    """Digest of the data scored."""
    evaluated_at: datetime | None = None
    """When the evaluation finished."""
    metrics: dict[str, float] | None = None
    """Metrics the evaluation reported."""
    error: str | None = None
    """Why the evaluation failed."""
    baseline: Baseline | None = None
    checks: Annotated[list[Check], Field(max_length=64)] | None = None
    """Every check of the gate."""
    passed: bool | None = None
    """Whether the gate passed (an override counts as passed; see overridden)."""
    overridden: str | None = None
    """The override's reason, when the gate passed only by it."""


class AliasRecord(ApiModel):
    """One hand-over of an alias: the promotion history."""

    alias: str
    """The alias."""
    change: AliasChange
    """Took or Lost."""
    at: datetime
    """When."""
    replaced: str | None = None
    """Took: the version that held it before, if any."""
    superseded_by: str | None = None
    """Lost: the version that holds it now, if any."""
    reason: str | None = None
    """Why, e.g. GatePassed, Overridden, Superseded, NotAsked, GateFailed."""


class ModelStatus(StatusBase):
    """What the gate decided and which aliases the version holds."""

    phase: ModelPhase | None = None
    """A one-word summary for printer columns; read conditions for decisions."""
    aliases: Annotated[list[str], Field(max_length=MAX_ALIASES)] | None = None
    """Aliases the version holds now."""
    promoted_at: dict[str, datetime] | None = None
    """When it took each alias it holds (its age in that role)."""
    history: Annotated[list[AliasRecord], Field(max_length=MAX_HISTORY)] | None = None
    """The last 20 alias hand-overs, newest last."""
    validation: ValidationResult | None = None
