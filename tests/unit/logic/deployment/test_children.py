"""What the Deployment's gather reads, judged: server pods by version, their readiness and
restarts, and whether a child differs from what the operator would apply."""

import pytest

from mlops_operator.logic.deployment.children import PodFacts, ServerFacts, differs, pod_facts, pods_by_model


def pod(model_label: str, ready: bool = True, restarts: int = 0, deleting: bool = False) -> dict:
    metadata = {"name": f"p-{model_label}", "labels": {"mlops.dev/model": model_label}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-27T12:00:00Z"
    return {"metadata": metadata, "status": {
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "containerStatuses": [{"name": "server", "restartCount": restarts}]}}


def server(model: str, label: str) -> ServerFacts:
    return ServerFacts.of({"metadata": {"name": f"d-{model}", "labels": {"mlops.dev/model": label},
                                        "annotations": {"mlops.dev/model": model}}, "spec": {"replicas": 2}})


def test_ready_pods_and_restarts_are_counted_and_a_terminating_pod_is_not_ready():
    assert pod_facts([pod("v1"), pod("v1", ready=False, restarts=2), pod("v1", deleting=True, restarts=1)]) == \
        PodFacts(ready=1, restarts=3)
    assert pod_facts([]) == PodFacts()


def test_pods_belong_to_the_full_model_name_through_their_server_and_orphans_to_nobody():
    long_name = "a" * 70
    grouped = pods_by_model([pod("v1"), pod("aaaa-1234abcd"), pod("gone")],
                            [server("v1", "v1"), server(long_name, "aaaa-1234abcd")])
    assert {model: len(pods) for model, pods in grouped.items()} == {"v1": 1, long_name: 1}


@pytest.mark.parametrize("desired, observed, expected", [
    ({"a": 1}, {"a": 1, "defaulted": True}, False),  # what the API server adds is not a difference
    ({"a": 1}, {"a": 2}, True),
    ({"a": {"b": [1, {"c": 2}]}}, {"a": {"b": [1, {"c": 2, "d": 3}]}}, False),
    ({"a": [1, 2]}, {"a": [1, 2, 3]}, True),  # a list must match item by item
    ({"a": 1}, None, True),  # a child that does not exist
    # Resource quantities as the API server rewrites them are the same; another value is not.
    ({"resources": {"limits": {"memory": "1024Mi", "cpu": 0.5}}},
     {"resources": {"limits": {"memory": "1Gi", "cpu": "500m"}}}, False),
    ({"resources": {"requests": {"memory": "1024Mi"}}}, {"resources": {"requests": {"memory": "1G"}}}, True),
    ({"resources": {"requests": {"memory": "1Gi"}}}, {"resources": {}}, True),
    ({"env": [{"name": "N", "value": "1024Mi"}]}, {"env": [{"name": "N", "value": "1Gi"}]}, True),  # not a quantity
])
def test_differs(desired, observed, expected):
    assert differs(desired, observed) is expected
