"""A version's evaluations: which Job its current inputs need, and what a finished one recorded.

An evaluation is named by what it scores (the version's scoring key, the artifact) and on which data
(the Dataset's data spec and digest): the same inputs name the same Job, so a resync or a restart
never scores twice, and a new artifact, evaluator, split or digest scores again. Until the new
scores arrive, the recorded ones stand for the version (new data never drops a champion by itself).
"""

from dataclasses import dataclass
from typing import Any

from ... import labels
from ...api.model import Artifact, ModelSpec
from ...resources.jobs import evaluation_identity, evaluation_job, scoring_key
from ...resources.meta import Meta
from ...resources.names import evaluation_name, rescore_name
from ..dataset_view import DatasetView
from ..jobs import JobFacts, latest_termination
from ..results import EvaluationOutcome, judge_evaluation
from .registry import Compared, Scores, Version


@dataclass(frozen=True)
class Inputs:
    """What an evaluation started now would score: the version's key on the Dataset's data."""

    key: str
    dataset: DatasetView

    def job_name(self, model: str, spec: ModelSpec) -> str:
        identity = evaluation_identity(self.key, spec.artifact, self.dataset.data, self.dataset.digest or "")
        return evaluation_name(model, identity)

    def rescore_name(self, model: str, holder: Version) -> str:
        identity = evaluation_identity(f"rescore:{holder.name}", artifact_of(holder), self.dataset.data,
                                       self.dataset.digest or "")
        return rescore_name(model, identity)


def artifact_of(version: Version) -> Artifact:
    return Artifact(uri=version.artifact_uri, format=version.artifact_format)


def unrecorded_finished(jobs: list[JobFacts], validation: dict[str, Any]) -> list[JobFacts]:
    """Finished evaluation Jobs whose result status does not hold: their pods are read."""
    recorded = {validation.get("job"), (validation.get("baseline") or {}).get("job")}
    return [j for j in jobs if j.finished and j.name not in recorded]


def recorded(outcome: EvaluationOutcome, previous: dict[str, Any], key: str, job: str, spec: ModelSpec, digest: str,
             at: str) -> dict[str, Any]:
    """status.validation after an evaluation: its scores (or error). After new data for the same
    key, the gate's last answer is kept: it stands until the comparison on the new data is made."""
    assert spec.validation is not None
    record = {"key": key, "job": job, "dataset": spec.validation.dataset.name, "split": spec.validation.dataset.split,
              "datasetDigest": digest, "evaluatedAt": at}
    if previous.get("key") == key:
        record.update({k: previous[k] for k in ("checks", "passed", "overridden", "baseline") if k in previous})
    if outcome.succeeded:
        record["metrics"] = outcome.metrics
    else:
        record["error"] = outcome.message
    return record


def rescore_record(outcome: EvaluationOutcome, job: JobFacts, holder: Version, digest: str) -> dict[str, Any]:
    record = {"model": holder.name, "rescored": True, "job": job.name, "artifactUri": holder.artifact_uri,
              "datasetDigest": digest}
    if outcome.succeeded:
        record["metrics"] = outcome.metrics
    else:
        record["error"] = outcome.message
    return record


def judged(job: JobFacts, pods: dict[str, list[dict[str, Any]]], digest: str) -> EvaluationOutcome:
    return judge_evaluation(job, latest_termination(pods.get(job.uid, [])), digest)


def evaluation_creation(meta: Meta, spec: ModelSpec, inputs: Inputs, name: str) -> dict[str, Any]:
    return evaluation_job(meta, spec, inputs.dataset.data, inputs.dataset.digest or "", name, spec.artifact, {})


def rescore_creation(meta: Meta, spec: ModelSpec, inputs: Inputs, name: str, holder: Version) -> dict[str, Any]:
    return evaluation_job(meta, spec, inputs.dataset.data, inputs.dataset.digest or "", name, artifact_of(holder),
                          {labels.BASELINE_ANNOTATION: holder.name})


def standing_record(spec: ModelSpec, validation: dict[str, Any]) -> dict[str, Any]:
    """The recorded evaluation when it stands for the spec as it is (the same artifact, data
    reference and evaluator; the data's digest may since have moved on); else nothing."""
    return validation if spec.validation is not None and validation.get("key") == scoring_key(spec) else {}


def scores_of(spec: ModelSpec, validation: dict[str, Any]) -> Scores | None:
    record = standing_record(spec, validation)
    if record.get("metrics") is None:
        return None
    return Scores(dict(record["metrics"]), record.get("dataset", ""), record.get("split", ""),
                  record.get("datasetDigest", ""))


def compared_of(validation: dict[str, Any]) -> Compared | None:
    baseline = validation.get("baseline") or {}
    if not baseline.get("model"):
        return None
    return Compared(baseline["model"], baseline.get("artifactUri", ""), baseline.get("datasetDigest", ""),
                    dict(baseline.get("metrics") or {}), bool(baseline.get("rescored")), baseline.get("error"))


def version_of(meta: Meta, spec: ModelSpec, status: dict[str, Any]) -> Version:
    validation = status.get("validation") or {}
    gate = spec.validation
    scores = scores_of(spec, validation)
    return Version(meta.name, meta.created, tuple(spec.aliases or ()), spec.artifact.uri, spec.artifact.format,
                   gate is not None, scores, tuple(gate.thresholds or ()) if gate else (),
                   gate.compare_to if gate else None, spec.override.reason if spec.override else None,
                   compared_of(validation), scores is not None and validation.get("passed") is True)
