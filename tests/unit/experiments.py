"""A small stand-in for the cluster around an Experiment's plan: it applies each plan as the API
server and the Job controller would (status merge patch, Jobs created and deleted), so a test can
play a sweep step by step, pure and in milliseconds."""

import json
from dataclasses import dataclass, field, replace
from typing import Any

from mlops_operator.api.dataset import DatasetSpec
from mlops_operator.api.experiment import ExperimentSpec
from mlops_operator.logic.dataset_view import DatasetView
from mlops_operator.logic.experiment.plan import ExperimentWorld, plan
from mlops_operator.logic.jobs import job_facts
from mlops_operator.logic.patch import applied
from mlops_operator.logic.plan import Plan

from builders import NOW, job, meta, pod

DIGEST = "sha256:" + "a" * 64
NEW_DIGEST = "sha256:" + "b" * 64
DATA = {"source": {"uri": "file:///data/cancer.csv"}, "format": "csv"}


def spec(max_trials=4, parallelism=2, trigger=False, **extra) -> dict[str, Any]:
    built = {
        "datasetRef": {"name": "data"},
        "trainer": {"image": "python:3.11", "args": ["--x", "${params.x}"]},
        "search": {"parameters": {"x": {"values": list(range(max_trials))}}, "maxTrials": max_trials,
                   "parallelism": parallelism},
        "objective": {"metric": "auc", "goal": "maximize"},
        **extra,
    }
    if trigger:
        built["trigger"] = {"onDatasetChange": True}
    return built


def dataset(digest=DIGEST, ready=True, current=True, found=True, data=None) -> DatasetView:
    if not found:
        return DatasetView("data")
    return DatasetView("data", True, "uid-data", ready, current, "validated" if ready else "minRows: 40 rows",
                       digest, DatasetSpec.model_validate(data or DATA).data_spec())


@dataclass
class Sweep:
    spec: dict[str, Any] = field(default_factory=spec)
    dataset: DatasetView = field(default_factory=dataset)
    status: dict[str, Any] = field(default_factory=lambda: {"observedGeneration": 0})
    generation: int = 1
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    pods: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    posted: list[tuple[str, str]] = field(default_factory=list)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # registered Model versions by name
    now: Any = NOW
    spec_written_at: Any = None  # when the spec was last written (managedFields); None: long ago

    def world(self) -> ExperimentWorld:
        return ExperimentWorld(replace(meta("Experiment", "exp", "uid-exp", self.generation),
                                       spec_written_at=self.spec_written_at),
                               ExperimentSpec.model_validate(self.spec), self.status, self.dataset,
                               [job_facts(j) for j in self.jobs.values()], self.now, self.pods, self.events)

    def step(self, patch_status: bool = True) -> Plan:
        """One reconcile, applied (without its status patch: as if the operator died before it)."""
        decided = plan(self.world())
        for deletion in decided.delete:
            self.jobs.pop(deletion.name, None)
        for creation in decided.create:
            manifest = creation.manifest
            name = manifest["metadata"]["name"]
            if manifest["kind"] == "Model":
                if name not in self.models and creation.event:
                    self.posted.append((creation.event.reason, creation.event.message))
                self.models.setdefault(name, manifest)
            elif name not in self.jobs:
                self.jobs[name] = {**job(name, "uid-exp", labels_=manifest["metadata"]["labels"],
                                         annotations=manifest["metadata"].get("annotations")), "spec": manifest["spec"]}
                self.pods[f"uid-{name}"] = [pod(f"uid-{name}")]
                if creation.event:
                    self.posted.append((creation.event.reason, creation.event.message))
        if patch_status:
            self.status = applied(self.status, decided.status)
        self.posted += [(e.reason, e.message) for e in decided.events]
        return decided

    def finish(self, name: str, metrics: dict[str, Any] | None = None, *, failed: str = "", message: str | None = None,
               digest: str = DIGEST):
        """The trial's Job finishes: with metrics reported, or failed with a Job reason."""
        old = self.jobs[name]
        text = message if message is not None else json.dumps({"metrics": metrics or {}, "digest": digest})
        state = "failed" if failed else "complete"
        self.jobs[name] = {**job(name, "uid-exp", state=state, reason=failed,
                                 labels_=old["metadata"]["labels"], annotations=old["metadata"]["annotations"]),
                           "spec": old["spec"]}
        self.pods[f"uid-{name}"] = [pod(f"uid-{name}", phase="Failed" if failed else "Succeeded",
                                        terminated={"exitCode": 1 if failed else 0, "message": text})]

    def settle(self, steps: int = 5) -> None:
        for _ in range(steps):
            self.step()

    def reasons(self) -> list[str]:
        return [reason for reason, _ in self.posted]
