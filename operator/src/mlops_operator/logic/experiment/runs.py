"""Runs: what the current run is (as status records it) and when a new one is due."""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ...api.experiment import ExperimentSpec, PinnedDataset, TrialResult
from ..dataset_view import DatasetView

# trialPolicy, pod and artifactRoot say how trials run, not what they train: an edit of them applies
# to the trials started after it.
RUN_DEFINING_FIELDS = ("dataset_ref", "trainer", "search", "objective")


def spec_hash(spec: ExperimentSpec) -> str:
    """Identity of what a run trains (not of registerModel or trigger); an edit of it starts a new run."""
    relevant = spec.model_dump(mode="json", by_alias=True, include=set(RUN_DEFINING_FIELDS))
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunState:
    """The current run as status records it: status is the durable record of results."""

    number: int = 0
    spec_hash: str | None = None
    pinned: PinnedDataset | None = None
    results: dict[int, TrialResult] = field(default_factory=dict)
    total: int = 0

    @property
    def complete(self) -> bool:
        return self.number > 0 and len(self.results) >= self.total

    @classmethod
    def of(cls, status: dict[str, Any]) -> "RunState":
        try:
            pinned = PinnedDataset.model_validate(status["dataset"]) if status.get("dataset") else None
        except ValidationError:
            pinned = None
        results = {}
        for key, value in (status.get("trialResults") or {}).items():
            try:
                results[int(key)] = TrialResult.model_validate(value)
            except (ValueError, ValidationError):
                continue
        return cls(status.get("run") or 0, status.get("specHash"), pinned, results,
                   (status.get("trials") or {}).get("total") or 0)


EDIT_SETTLE_SECONDS = 3.0  # a new run after an edit waits this long without another (GitOps bursts)
EDITED = "the spec changed"


def settling_for(because: str | None, spec_written_at: datetime | None, now: datetime) -> float:
    """Seconds a run due to an edit still waits for the spec to stay unchanged; 0 when it may start."""
    if because != EDITED or spec_written_at is None:
        return 0.0
    return max(0.0, EDIT_SETTLE_SECONDS - (now - spec_written_at).total_seconds())


def wanted_run(state: RunState, current_hash: str, spec: ExperimentSpec, dataset: DatasetView) -> str | None:
    """Why a new run is due, or None: the first run, an edit of what a run trains, or (with
    trigger.onDatasetChange) data other than the run's. A run whose data is gone cannot finish, so
    new data starts the new run at once, even before the current one ends."""
    if state.number == 0:
        return "first run"
    if state.spec_hash != current_hash:
        return EDITED
    pinned = state.pinned.digest if state.pinned else None
    if spec.trigger.on_dataset_change and dataset.usable and dataset.digest != pinned:
        return f"Dataset {dataset.name} has new data"
    return None


def pinned_dataset(dataset: DatasetView) -> PinnedDataset:
    return PinnedDataset(name=dataset.name, uid=dataset.uid, digest=dataset.digest, spec=dataset.data)
