"""What an Experiment knows of its Dataset, and whether a run may use it."""

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ...api.dataset import DatasetSpec, DataSpec
from ...api.vocabulary import ConditionType, ExperimentReason
from ..conditions import condition


@dataclass(frozen=True)
class DatasetView:
    name: str
    found: bool = False
    uid: str | None = None
    ready: bool = False
    current: bool = False  # its status describes its current generation
    message: str = ""  # its Ready condition's message
    digest: str | None = None
    data: DataSpec | None = None  # None when its spec does not parse

    @property
    def usable(self) -> bool:
        """A run may start, or go on starting trials, on it."""
        return self.found and self.ready and self.current and bool(self.digest) and self.data is not None

    @classmethod
    def of(cls, name: str, dataset: dict[str, Any] | None) -> "DatasetView":
        if dataset is None:
            return cls(name)
        status = dataset.get("status") or {}
        ready = condition(status.get("conditions") or [], ConditionType.READY)
        try:
            data = DatasetSpec.model_validate(dataset["spec"]).data_spec()
        except ValidationError:
            data = None
        return cls(name, True, dataset["metadata"].get("uid"), ready.get("status") == "True",
                   status.get("observedGeneration") == dataset["metadata"].get("generation"),
                   ready.get("message", ""), status.get("digest"), data)


def why_unusable(dataset: DatasetView, pinned_digest: str | None) -> tuple[ExperimentReason, str] | None:
    """Why no trial may start on this Dataset now, naming it; None when trials may start on the
    data pinned_digest identifies (None: any data, for a run about to start)."""
    name = f"Dataset {dataset.name!r}"
    if not dataset.found:
        return ExperimentReason.WAITING_FOR_DATASET, f"{name} not found"
    if dataset.data is None:
        return ExperimentReason.WAITING_FOR_DATASET, f"{name} has a spec this operator cannot read"
    if not dataset.current:
        return ExperimentReason.WAITING_FOR_DATASET, f"{name} is being validated for its latest change"
    if not dataset.ready or not dataset.digest:
        return ExperimentReason.WAITING_FOR_DATASET, f"{name} is not Ready: {dataset.message or 'not validated yet'}"
    if pinned_digest and dataset.digest != pinned_digest:
        return ExperimentReason.DATASET_CHANGED, (
            f"{name} now holds data {dataset.digest}, but the run pinned {pinned_digest}: restore the data, "
            "or start a new run (set trigger.onDatasetChange, or change the spec)")
    return None
