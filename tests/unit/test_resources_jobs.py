"""The Jobs the operator builds."""

import json

from mlops_operator.resources.jobs import trial_job, validation_job

EXPERIMENT = {
    "apiVersion": "mlops.dev/v1alpha1", "kind": "Experiment",
    "metadata": {"name": "exp", "namespace": "ns", "uid": "uid-1",
                 "labels": {"argocd.argoproj.io/instance": "ml"}},
    "spec": {
        "trainer": {"image": "python:3.11", "command": ["python", "-m", "train"],
                    "args": ["--n", "${params.n_estimators}", "--c=${params.C}"],
                    "env": [{"name": "EXTRA", "value": "1"}], "resources": {"limits": {"cpu": "1"}}},
        "artifactRoot": "file:///tmp/artifacts/",
        "trialPolicy": {"backoffLimit": 1, "activeDeadlineSeconds": 600},
    },
}
DATASET = {
    "apiVersion": "mlops.dev/v1alpha1", "kind": "Dataset",
    "metadata": {"name": "data", "namespace": "ns", "uid": "uid-2"},
    "spec": {"source": {"uri": "file:///data.csv"}, "format": "csv"},
}


def env_of(job):
    return {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_trial_job():
    job = trial_job(EXPERIMENT, DATASET, "exp-r1-t3", 1, 3, {"n_estimators": 50.0, "C": 0.5}, "sha256:aaa")
    meta = job["metadata"]
    assert meta["name"] == "exp-r1-t3" and meta["namespace"] == "ns"
    assert meta["ownerReferences"] == [{"apiVersion": "mlops.dev/v1alpha1", "kind": "Experiment", "name": "exp",
                                        "uid": "uid-1", "controller": True, "blockOwnerDeletion": True}]
    assert meta["labels"] == {"app.kubernetes.io/managed-by": "mlops-operator", "mlops.dev/experiment": "exp",
                              "mlops.dev/run": "1", "mlops.dev/trial": "3"}
    assert json.loads(meta["annotations"]["mlops.dev/parameters"]) == {"C": 0.5, "n_estimators": 50.0}
    spec = job["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (1, 600)
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    container = pod["containers"][0]
    assert container["args"] == ["--n", "50", "--c=0.5"]
    assert container["command"] == ["python", "-m", "train"]
    assert container["resources"] == {"limits": {"cpu": "1"}}
    env = env_of(job)
    assert env["PARAM_N_ESTIMATORS"] == "50" and env["PARAM_C"] == "0.5"
    assert env["MLOPS_DATASET_URI"] == "file:///data.csv" and env["MLOPS_DATASET_DIGEST"] == "sha256:aaa"
    assert env["MLOPS_ARTIFACT_URI"] == "file:///tmp/artifacts/exp/r1-t3/model.joblib"
    assert env["EXTRA"] == "1" and env["MLOPS_TRIAL"] == "exp-r1-t3"


def test_validation_job_runs_the_built_in_validator_by_default():
    job = validation_job({**DATASET, "metadata": {**DATASET["metadata"], "generation": 1}}, "data-validate-g1-0", 0)
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].startswith("ghcr.io/mlops-operator/runtime")
    assert container["command"] == ["python3", "-m", "mlops_operator.runtime.validate"]
    assert json.loads(env_of(job)["MLOPS_DATASET_SPEC"]) == DATASET["spec"]
    assert job["metadata"]["labels"]["mlops.dev/dataset"] == "data"


def test_validation_job_with_a_custom_validator():
    custom = {**DATASET, "metadata": {**DATASET["metadata"], "generation": 1}, "spec": {**DATASET["spec"], "validation": {"validator": {"image": "python:3.12",
                                                                                  "command": ["python", "check.py"]}}}}
    container = validation_job(custom, "v", 0)["spec"]["template"]["spec"]["containers"][0]
    assert (container["image"], container["command"]) == ("python:3.12", ["python", "check.py"])
