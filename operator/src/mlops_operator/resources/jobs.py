"""The Jobs the operator runs: one per trial, one per dataset validation round, one per model
evaluation (of the version, or of the holder it is compared with, on the version's data)."""

import hashlib
from typing import Any

from .. import contract, labels
from ..api.common import Container
from ..api.dataset import DatasetSpec, DataSpec
from ..api.deployment import RUNTIME_IMAGE
from ..api.experiment import ExperimentSpec
from ..api.model import Artifact, ModelSpec
from .meta import Meta, owner_reference
from .names import label_value
from .pods import compact_json, container, pod_template

VALIDATOR_COMMAND = ["python3", "-m", "mlops_operator.runtime.validate"]
EVALUATOR_COMMAND = ["python3", "-m", "mlops_operator.runtime.evaluate"]
# An evicted or preempted pod is retried without counting against backoffLimit.
RETRY_DISRUPTIONS = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}


def _job(name: str, owner: Meta, job_labels: dict[str, str], annotations: dict[str, str],
         template: dict[str, Any], backoff_limit: int, deadline: int) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": owner.namespace, "labels": job_labels,
                                "ownerReferences": [owner_reference(owner)]}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {"backoffLimit": backoff_limit, "activeDeadlineSeconds": deadline,
                 "podFailurePolicy": RETRY_DISRUPTIONS, "template": template},
    }


def _owner_labels(owner: Meta, name_key: str) -> dict[str, str]:
    return {labels.MANAGED_BY: labels.OPERATOR, labels.OWNER_UID: owner.uid, name_key: label_value(owner.name)}


def _data_env(data: DataSpec, digest: str | None, payload: str) -> dict[str, str]:
    return {contract.DATASET_URI: data.source.uri, contract.DATASET_FORMAT: data.format,
            contract.DATASET_DIGEST: digest or "", contract.DATASET_SPEC: payload}


def _credentials(data: DataSpec) -> list[dict[str, Any]]:
    secret = data.source.secret_ref
    return [{"secretRef": {"name": secret.name}}] if secret else []


TRIAL_SETTINGS_FIELDS = ("pod", "trial_policy", "artifact_root")


def _digest(value: Any) -> str:
    """A short, stable hash of a JSON value: the identity a child is named or annotated by."""
    return hashlib.sha256(compact_json(value).encode()).hexdigest()[:16]


def trial_settings_hash(spec: ExperimentSpec) -> str:
    """Identity of how trials run (not of what they train): an edit of it reaches the trials
    started after it, and a trial that could not start is made again with it."""
    return _digest(spec.model_dump(mode="json", by_alias=True, include=set(TRIAL_SETTINGS_FIELDS)))


def artifact_uri(root: str | None, experiment: str, run: int, index: int) -> str | None:
    if not root:
        return None
    return f"{root.rstrip('/')}/{experiment}/r{run}-t{index}/model.joblib"


def trial_job(experiment: Meta, spec: ExperimentSpec, data: DataSpec, digest: str, name: str, run: int,
              index: int, parameters: dict[str, Any]) -> dict[str, Any]:
    """A trial: the trainer with its parameters as PARAM_<NAME> env, in MLOPS_PARAMETERS and for
    ${params.<name>} in args, and the run's pinned data in MLOPS_DATASET_*."""
    env = {contract.parameter_env_name(k): contract.format_value(v) for k, v in sorted(parameters.items())}
    env.update({contract.PARAMETERS: compact_json(parameters), contract.EXPERIMENT: experiment.name,
                contract.TRIAL: name,
                **_data_env(data, digest, data.model_dump_json(by_alias=True, exclude_none=True))})
    artifact = artifact_uri(spec.artifact_root, experiment.name, run, index)
    if artifact:
        env[contract.ARTIFACT_URI] = artifact
    args = [contract.substitute(arg, parameters) for arg in spec.trainer.args or []]
    job_labels = {**_owner_labels(experiment, labels.EXPERIMENT), labels.RUN: str(run), labels.TRIAL: str(index)}
    template = pod_template(container(spec.trainer, "trainer", env, args, _credentials(data)), spec.pod, job_labels)
    annotations = {labels.PARAMETERS_ANNOTATION: compact_json(parameters),
                   labels.SETTINGS_ANNOTATION: trial_settings_hash(spec)}
    return _job(name, experiment, job_labels, annotations, template,
                spec.trial_policy.backoff_limit, spec.trial_policy.active_deadline_seconds)


def validation_job(dataset: Meta, spec: DatasetSpec, name: str, round_: int) -> dict[str, Any]:
    """A validation round: the built-in validator (the runtime image), or the Dataset's own."""
    validator = spec.validation.validator or Container(image=RUNTIME_IMAGE, command=VALIDATOR_COMMAND)
    data = spec.data_spec()
    payload = spec.validator_input().model_dump_json(by_alias=True, exclude_none=True)
    job_labels = {**_owner_labels(dataset, labels.DATASET), labels.GENERATION: str(dataset.generation),
                  labels.ROUND: str(round_)}
    main = container(validator, "validator", _data_env(data, None, payload), validator.args, _credentials(data))
    return _job(name, dataset, job_labels, {}, pod_template(main, spec.pod, job_labels),
                spec.validation.backoff_limit, spec.validation.active_deadline_seconds)


def scoring_key(spec: ModelSpec) -> str:
    """Identity of what a version's scores depend on besides the data's content: its artifact, the
    Dataset and split scored, the evaluator. Thresholds, the comparison, aliases and the override
    are judged against recorded scores, so editing them never re-runs an evaluation."""
    validation = spec.validation
    return _digest({
        "artifact": spec.artifact.model_dump(mode="json", by_alias=True),
        "dataset": validation.dataset.model_dump(mode="json", by_alias=True) if validation else None,
        "evaluator": validation.evaluator.model_dump(mode="json", by_alias=True, exclude_none=True)
        if validation and validation.evaluator else None,
    })


def evaluation_identity(subject: str, artifact: Artifact, data: DataSpec, digest: str) -> str:
    """One evaluation: what is scored (the version's scoring key, or the holder it is compared with)
    on which data, so the same inputs always name the same Job."""
    return _digest({"subject": subject, "artifact": artifact.model_dump(mode="json", by_alias=True),
                    "data": data.model_dump(mode="json", by_alias=True, exclude_none=True), "digest": digest})


def evaluation_job(model: Meta, spec: ModelSpec, data: DataSpec, digest: str, name: str, artifact: Artifact,
                   annotations: dict[str, str]) -> dict[str, Any]:
    """Scores artifact on the version's Dataset split, pinned by digest: the built-in evaluator
    (the runtime image), or the version's own."""
    validation = spec.validation
    assert validation is not None, "only a version with a gate is evaluated"
    evaluator = validation.evaluator or Container(image=RUNTIME_IMAGE, command=EVALUATOR_COMMAND)
    env = {**_data_env(data, digest, data.model_dump_json(by_alias=True, exclude_none=True)),
           contract.MODEL_URI: artifact.uri, contract.MODEL_FORMAT: artifact.format,
           contract.EVALUATION_SPLIT: validation.dataset.split}
    job_labels = _owner_labels(model, labels.MODEL)
    main = container(evaluator, "evaluator", env, evaluator.args, _credentials(data))
    return _job(name, model, job_labels, annotations, pod_template(main, spec.pod, job_labels),
                validation.backoff_limit, validation.active_deadline_seconds)
