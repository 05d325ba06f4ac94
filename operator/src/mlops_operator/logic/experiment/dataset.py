"""Whether an Experiment's run may use its Dataset."""

from ...api.vocabulary import ExperimentReason
from ..dataset_view import DatasetView


def why_unusable(dataset: DatasetView, pinned_digest: str | None) -> tuple[ExperimentReason, str] | None:
    """Why no trial may start on this Dataset now, naming it; None when trials may start on the
    data pinned_digest identifies (None: any data, for a run about to start)."""
    problem = dataset.problem()
    if problem:
        return ExperimentReason.WAITING_FOR_DATASET, problem
    if pinned_digest and dataset.digest != pinned_digest:
        return ExperimentReason.DATASET_CHANGED, (
            f"Dataset {dataset.name!r} now holds data {dataset.digest}, but the run pinned {pinned_digest}: "
            "restore the data, or start a new run (set trigger.onDatasetChange, or change the spec)")
    return None
