"""The Jobs the operator builds."""

import json

from mlops_operator.api.dataset import DatasetSpec
from mlops_operator.api.experiment import ExperimentSpec
from mlops_operator.resources.jobs import trial_job, validation_job

from builders import meta

EXPERIMENT = ExperimentSpec.model_validate({
    "datasetRef": {"name": "data"},
    "trainer": {"image": "python:3.11", "command": ["python", "-m", "train"],
                "args": ["--n", "${params.n_estimators}", "--c=${params.C}", "$(HOME)"],
                "env": [{"name": "EXTRA", "value": "1"}], "resources": {"limits": {"cpu": "1"}}},
    "artifactRoot": "file:///tmp/artifacts/",
    "search": {"parameters": {"n_estimators": {"values": [1]}, "C": {"values": [1]}}},
    "objective": {"metric": "auc", "goal": "maximize"},
    "trialPolicy": {"backoffLimit": 1},
})
DATASET = DatasetSpec.model_validate({"source": {"uri": "file:///data.csv", "secretRef": {"name": "creds"}},
                                      "format": "csv", "validation": {"minRows": 10,
                                                                      "validator": {"image": "v", "env": [
                                                                          {"name": "PASSWORD", "value": "hunter2"}]}}})


def env_of(job):
    return {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_trial_job():
    owner = meta("Experiment", "exp", "uid-1")
    job = trial_job(owner, EXPERIMENT, DATASET.data_spec(), "sha256:abc", "exp-r2-t5", 2, 5,
                    {"n_estimators": 50.0, "C": 0.1})
    assert job["metadata"]["name"] == "exp-r2-t5"
    assert job["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "mlops-operator", "mlops.dev/owner-uid": "uid-1",
                                         "mlops.dev/experiment": "exp", "mlops.dev/run": "2", "mlops.dev/trial": "5"}
    assert job["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert job["spec"]["template"]["metadata"]["labels"] == job["metadata"]["labels"]
    assert job["spec"]["backoffLimit"] == 1 and job["spec"]["activeDeadlineSeconds"] == 86400  # the API's default
    assert job["spec"]["podFailurePolicy"]["rules"][0] == {"action": "Ignore",
                                                           "onPodConditions": [{"type": "DisruptionTarget"}]}
    main = job["spec"]["template"]["spec"]["containers"][0]
    assert main["args"] == ["--n", "50", "--c=0.1", "$(HOME)"]  # the user's own $(HOME) stays a reference
    env = env_of(job)
    assert env["PARAM_N_ESTIMATORS"] == "50" and env["PARAM_C"] == "0.1" and env["EXTRA"] == "1"
    assert env["MLOPS_DATASET_DIGEST"] == "sha256:abc" and env["MLOPS_TRIAL"] == "exp-r2-t5"
    assert env["MLOPS_ARTIFACT_URI"] == "file:///tmp/artifacts/exp/r2-t5/model.joblib"
    assert json.loads(env["MLOPS_DATASET_SPEC"]) == {
        "source": {"uri": "file:///data.csv", "secretRef": {"name": "creds"}}, "format": "csv",
        "splits": {"train": 0.8, "test": 0.2, "seed": 42}}
    assert main["envFrom"] == [{"secretRef": {"name": "creds"}}]


def test_validation_job_carries_the_checks_and_no_secret_values():
    owner = meta("Dataset", "data", "uid-2", generation=3)
    job = validation_job(owner, DATASET, "data-validate-g3-1", 1)
    assert job["metadata"]["labels"]["mlops.dev/generation"] == "3" and job["metadata"]["labels"]["mlops.dev/round"] == "1"
    assert job["spec"]["activeDeadlineSeconds"] == 1800 and job["spec"]["backoffLimit"] == 2
    payload = env_of(job)["MLOPS_DATASET_SPEC"]
    assert json.loads(payload)["validation"] == {"minRows": 10}
    assert "hunter2" not in payload  # the validator's own env is not part of what it receives as data spec


def test_the_built_in_validator_is_the_runtime_image():
    plain = DatasetSpec.model_validate({"source": {"uri": "file:///d.csv"}, "format": "csv"})
    job = validation_job(meta("Dataset", "data", "uid-2"), plain, "data-validate-g1-0", 0)
    main = job["spec"]["template"]["spec"]["containers"][0]
    assert main["command"] == ["python3", "-m", "mlops_operator.runtime.validate"]
    assert "envFrom" not in main
