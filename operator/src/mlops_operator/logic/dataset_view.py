"""What a reconcile knows of a Dataset it depends on (an Experiment's, a Model's evaluation data),
and why it cannot use it yet."""

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ..api.dataset import DatasetSpec, DataSpec
from ..api.vocabulary import ConditionType
from .conditions import condition


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

    def problem(self) -> str | None:
        """Why its data cannot be used now, naming it; None when it can."""
        name = f"Dataset {self.name!r}"
        if not self.found:
            return f"{name} not found in this namespace"
        if self.data is None:
            return f"{name} has a spec this operator cannot read"
        if not self.current:
            return f"{name} is being validated for its latest change"
        if not self.ready or not self.digest:
            return f"{name} is not Ready: {self.message or 'not validated yet'}"
        return None
