"""The four kinds: names, models and how kubectl shows them."""

from dataclasses import dataclass

from pydantic import BaseModel

from .common import GROUP
from .dataset import DatasetSpec, DatasetStatus
from .deployment import DeploymentSpec, DeploymentStatus
from .experiment import ExperimentSpec, ExperimentStatus
from .model import ModelSpec, ModelStatus
from .vocabulary import (
    AliasChange,
    CommonReason,
    ConditionType,
    DatasetEvent,
    DatasetPhase,
    DatasetReason,
    DeploymentEvent,
    DeploymentPhase,
    DeploymentReason,
    ExperimentEvent,
    ExperimentPhase,
    ExperimentReason,
    ModelEvent,
    ModelPhase,
    ModelReason,
    RunPhase,
    Term,
    TrialPhase,
    TrialReason,
)

CATEGORY = "mlops"


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: str = "string"
    priority: int = 0
    description: str = ""


def condition_column(condition_type: str) -> PrinterColumn:
    return PrinterColumn(
        condition_type,
        f'.status.conditions[?(@.type=="{condition_type}")].status',
        description=f"Status of the {condition_type} condition",
    )


AGE = PrinterColumn("Age", ".metadata.creationTimestamp", type="date")
PHASE = PrinterColumn("Phase", ".status.phase", description="Short summary of the state")


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    short_names: tuple[str, ...]
    spec: type[BaseModel]
    status: type[BaseModel]
    columns: tuple[PrinterColumn, ...]
    phases: type[Term]
    conditions: tuple[ConditionType, ...]
    terms: tuple[type[Term], ...]  # the reasons and Events it may show, and its sub-vocabularies
    # Spec fields a LIST can select on (the CRD's selectableFields): the operator reads the objects
    # it needs by them instead of listing the namespace.
    selectable_fields: tuple[str, ...] = ()

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"


DATASET = Kind(
    kind="Dataset",
    plural="datasets",
    short_names=("mlds",),
    spec=DatasetSpec,
    status=DatasetStatus,
    columns=(
        condition_column("Ready"),
        PHASE,
        PrinterColumn("Format", ".spec.format"),
        PrinterColumn("Rows", ".status.stats.rows", type="integer", description="Rows in the last validation"),
        PrinterColumn("Digest", ".status.digest", priority=1, description="Content digest"),
        PrinterColumn("Source", ".spec.source.uri", priority=1),
        AGE,
    ),
    phases=DatasetPhase,
    conditions=(ConditionType.READY, ConditionType.VALIDATED, ConditionType.RECONCILING, ConditionType.STALLED),
    terms=(DatasetReason, CommonReason, DatasetEvent),
)

EXPERIMENT = Kind(
    kind="Experiment",
    plural="experiments",
    short_names=("mlexp",),
    spec=ExperimentSpec,
    status=ExperimentStatus,
    columns=(
        condition_column("Ready"),
        PHASE,
        PrinterColumn("Trials", ".status.progress", description="Finished trials of the planned total"),
        PrinterColumn("Running", ".status.trials.running", type="integer"),
        PrinterColumn("Metric", ".spec.objective.metric"),
        PrinterColumn("Best", ".status.bestTrial.objectiveValue", type="number", description="Best objective value"),
        PrinterColumn("Best-Trial", ".status.bestTrial.name", priority=1),
        PrinterColumn("Dataset", ".spec.datasetRef.name", priority=1),
        AGE,
    ),
    phases=ExperimentPhase,
    conditions=(ConditionType.READY, ConditionType.SUCCEEDED, ConditionType.RECONCILING, ConditionType.STALLED),
    terms=(ExperimentReason, CommonReason, ExperimentEvent, RunPhase, TrialPhase, TrialReason),
)

MODEL = Kind(
    kind="Model",
    plural="models",
    short_names=("mlmodel",),
    spec=ModelSpec,
    status=ModelStatus,
    columns=(
        condition_column("Ready"),
        PrinterColumn("Model", ".spec.modelName"),
        PrinterColumn("Version", ".spec.version"),
        PHASE,
        PrinterColumn("Aliases", ".status.aliases", description="Aliases the version holds"),
        PrinterColumn("Asks", ".spec.aliases", priority=1, description="Aliases the version asks for"),
        condition_column("Evaluated"),
        PrinterColumn("Artifact", ".spec.artifact.uri", priority=1),
        AGE,
    ),
    phases=ModelPhase,
    conditions=(ConditionType.READY, ConditionType.EVALUATED, ConditionType.PROMOTED, ConditionType.RECONCILING,
                ConditionType.STALLED),
    terms=(ModelReason, CommonReason, ModelEvent, AliasChange),
    selectable_fields=(".spec.modelName",),  # a version's siblings; a Deployment's alias holders
)

DEPLOYMENT = Kind(
    kind="Deployment",
    plural="deployments",
    short_names=("mldeploy",),
    spec=DeploymentSpec,
    status=DeploymentStatus,
    columns=(
        condition_column("Ready"),
        PHASE,
        PrinterColumn("Stable", ".status.stableModel", description="Model serving outside a rollout"),
        PrinterColumn("Canary", ".status.canary.model"),
        PrinterColumn("Weight", ".status.canary.weight", type="integer", description="Canary traffic percent"),
        PrinterColumn("Replicas", ".status.readyReplicas", type="integer"),
        PrinterColumn("URL", ".status.url", priority=1),
        AGE,
    ),
    phases=DeploymentPhase,
    conditions=(ConditionType.READY, ConditionType.AVAILABLE, ConditionType.PROGRESSING, ConditionType.DEGRADED,
                ConditionType.RECONCILING, ConditionType.STALLED),
    terms=(DeploymentReason, CommonReason, DeploymentEvent),
)

KINDS = (DATASET, EXPERIMENT, MODEL, DEPLOYMENT)
