"""The Jobs the operator runs: one per trial, one per dataset validation round."""

import json
from typing import Any

from .. import contract, labels
from ..api.deployment import RUNTIME_IMAGE
from ..logic.sweep import Parameters, format_value, substitute

VALIDATOR_COMMAND = ["python3", "-m", "mlops_operator.runtime.validate"]
VALIDATION_BACKOFF_LIMIT = 2
VALIDATION_DEADLINE_SECONDS = 1800


def owner_reference(owner: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def _env(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs.items()]


def _dataset_env(dataset: dict[str, Any], digest: str | None) -> dict[str, str]:
    spec = dataset["spec"]
    return {
        contract.DATASET_URI: spec["source"]["uri"],
        contract.DATASET_FORMAT: spec["format"],
        contract.DATASET_DIGEST: digest or "",
        contract.DATASET_SPEC: json.dumps(spec, sort_keys=True, separators=(",", ":")),
    }


def _container(container: dict[str, Any], name: str, env: dict[str, str], args: list[str] | None) -> dict[str, Any]:
    built: dict[str, Any] = {
        "name": name,
        "image": container["image"],
        # Failures then carry the log's tail when the program could not write its result.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "env": _env(env) + [e for e in container.get("env") or [] if e["name"] not in env],
    }
    if container.get("command"):
        built["command"] = list(container["command"])
    if args:
        built["args"] = args
    if container.get("resources"):
        built["resources"] = container["resources"]
    return built


def _job(name: str, namespace: str, owner: dict[str, Any], job_labels: dict[str, str], annotations: dict[str, str],
         container: dict[str, Any], backoff_limit: int, deadline: int | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "backoffLimit": backoff_limit,
        "template": {
            "metadata": {"labels": job_labels},
            "spec": {"restartPolicy": "Never", "containers": [container], "automountServiceAccountToken": False},
        },
    }
    if deadline:
        spec["activeDeadlineSeconds"] = deadline
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": job_labels, "annotations": annotations,
                     "ownerReferences": [owner_reference(owner)]},
        "spec": spec,
    }


def artifact_uri(root: str | None, experiment: str, run: int, index: int) -> str | None:
    if not root:
        return None
    return f"{root.rstrip('/')}/{experiment}/r{run}-t{index}/model.joblib"


def trial_job(experiment: dict[str, Any], dataset: dict[str, Any], name: str, run: int, index: int,
              parameters: Parameters, digest: str) -> dict[str, Any]:
    """A trial: the trainer container with its parameters as PARAM_<NAME> env, in MLOPS_PARAMETERS
    and substituted for ${params.<name>} in args, and the Dataset it trains on in MLOPS_DATASET_*."""
    spec = experiment["spec"]
    meta = experiment["metadata"]
    trainer = spec["trainer"]
    policy = spec.get("trialPolicy") or {}
    env = {contract.parameter_env_name(k): format_value(v) for k, v in sorted(parameters.items())}
    env.update({
        contract.PARAMETERS: json.dumps(parameters, sort_keys=True),
        contract.EXPERIMENT: meta["name"],
        contract.TRIAL: name,
        **_dataset_env(dataset, digest),
    })
    artifact = artifact_uri(spec.get("artifactRoot"), meta["name"], run, index)
    if artifact:
        env[contract.ARTIFACT_URI] = artifact
    args = [substitute(arg, parameters) for arg in trainer.get("args") or []]
    job_labels = {labels.MANAGED_BY: labels.OPERATOR, labels.EXPERIMENT: meta["name"], labels.RUN: str(run),
                  labels.TRIAL: str(index)}
    annotations = {labels.PARAMETERS_ANNOTATION: json.dumps(parameters, sort_keys=True)}
    return _job(name, meta["namespace"], experiment, job_labels, annotations, _container(trainer, "trainer", env, args),
                policy.get("backoffLimit", 0), policy.get("activeDeadlineSeconds"))


def validation_job(dataset: dict[str, Any], name: str, round_: int) -> dict[str, Any]:
    """A validation round: the built-in validator (the runtime image), or the Dataset's own."""
    meta = dataset["metadata"]
    custom = ((dataset["spec"].get("validation") or {}).get("validator"))
    container = custom or {"image": RUNTIME_IMAGE, "command": VALIDATOR_COMMAND}
    job_labels = {labels.MANAGED_BY: labels.OPERATOR, labels.DATASET: meta["name"],
                  labels.GENERATION: str(meta["generation"]), labels.ROUND: str(round_)}
    return _job(name, meta["namespace"], dataset, job_labels, {},
                _container(container, "validator", _dataset_env(dataset, None), container.get("args")),
                VALIDATION_BACKOFF_LIMIT, VALIDATION_DEADLINE_SECONDS)
