"""Which reconciles a watch event asks for."""

import pytest
from builders import job, pod

from mlops_operator.logic.wakes import blocked_pod_owner, job_owner, referred_dataset


def owned(state, kind="Experiment", api_version="mlops.dev/v1alpha1", controller=True):
    built = job("exp-r1-t0", "uid-exp", state=state)
    built["metadata"]["ownerReferences"] = [{"apiVersion": api_version, "kind": kind, "name": "exp",
                                             "uid": "uid-exp", "controller": controller}]
    return built


@pytest.mark.parametrize("event_type, built, owner", [
    ("MODIFIED", owned("complete"), ("Experiment", "exp")),
    ("DELETED", owned("running"), ("Experiment", "exp")),
    (None, owned("failed", kind="Dataset"), ("Dataset", "exp")),
    ("MODIFIED", owned("running"), None),  # nothing settled: no reconcile
    ("MODIFIED", owned("complete", kind="Deployment", api_version="apps/v1"), None),  # not ours
    ("MODIFIED", owned("complete", controller=False), None),
])
def test_a_settled_job_wakes_its_controlling_owner_of_ours(event_type, built, owner):
    assert job_owner(event_type, built) == owner


def test_only_a_pod_that_cannot_start_wakes_its_owner():
    stuck = pod("uid-j", phase="Pending", waiting=("ImagePullBackOff", "no"))
    stuck["metadata"]["labels"] = {"mlops.dev/owner-uid": "uid-exp"}
    running = {**pod("uid-j"), "metadata": {**stuck["metadata"]}}
    assert blocked_pod_owner(stuck) == "uid-exp" and blocked_pod_owner(running) is None


@pytest.mark.parametrize("event_type, spec, dataset", [
    ("ADDED", {"datasetRef": {"name": "data"}}, "data"),
    ("DELETED", {"datasetRef": {"name": "data"}}, None),
    ("MODIFIED", {}, None),
])
def test_an_experiment_refers_to_its_dataset_until_it_is_deleted(event_type, spec, dataset):
    assert referred_dataset(event_type, spec) == dataset
