"""What the Deployment's gather reads, judged: server pods by version, their readiness and
restarts, and whether a child has drifted from what the operator would apply."""

import copy

import pytest

from mlops_operator.logic.deployment.children import (PodFacts, ServerFacts, differs, drifted, foreign_port_taking,
                                                       owns, pod_facts, pods_by_model)

from builders import fields_of, server_side_applied


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


SERVER = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "churn-v1", "namespace": "ns", "labels": {"mlops.dev/model": "v1"},
                 "ownerReferences": [{"apiVersion": "mlops.dev/v1alpha1", "kind": "Deployment", "name": "churn",
                                      "uid": "uid-d", "controller": True}]},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"mlops.dev/model": "v1"}},
             "template": {"metadata": {"labels": {"mlops.dev/model": "v1"}}, "spec": {"containers": [
                 {"name": "server", "image": "runtime:1", "command": ["serve"],
                  "env": [{"name": "MODEL", "value": "v1"}],
                  "ports": [{"name": "http", "containerPort": 8080}],
                  "resources": {"limits": {"memory": "1024Mi"}}}]}}},
}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "churn", "namespace": "ns"},
           "spec": {"selector": {"mlops.dev/deployment": "churn"},
                    "ports": [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]}}


def edited(body: dict, edit, manager: str | None = None, fields: dict | None = None) -> dict:
    """body after someone else's write: edit changes it in place; manager's entry records fields,
    and takes the fields it changed from the operator (as the API server does for an Update)."""
    changed = copy.deepcopy(body)
    edit(changed)
    if manager:
        changed["metadata"]["managedFields"].append({"manager": manager, "operation": "Update", "fieldsV1": fields})
    return changed


def container(body: dict) -> dict:
    return body["spec"]["template"]["spec"]["containers"][0]


def operator_fields(body: dict) -> dict:
    return body["metadata"]["managedFields"][0]["fieldsV1"]


def annotate(body: dict) -> None:
    body["metadata"]["annotations"] = {"example.com/note": "kept"}


def inject_env(body: dict) -> None:
    container(body)["env"].append({"name": "INJECTED", "value": "1"})


def add_sidecar(body: dict) -> None:
    body["spec"]["template"]["spec"]["containers"].append({"name": "proxy", "image": "envoy"})


def canonical_memory(body: dict) -> None:
    container(body)["resources"]["limits"]["memory"] = "1Gi"


def relabel(body: dict) -> None:
    body["metadata"]["labels"]["mlops.dev/model"] = "hacked"
    del operator_fields(body)["f:metadata"]["f:labels"]["f:mlops.dev/model"]


def set_image(body: dict) -> None:
    container(body)["image"] = "python:3.12"
    del operator_fields(body)["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"server"}']["f:image"]


def take_replicas(body: dict) -> None:
    body["spec"]["replicas"] = 5
    del operator_fields(body)["f:spec"]["f:replicas"]


def deleted_env(body: dict) -> None:
    container(body)["env"] = []


def widen_selector(body: dict) -> None:  # a Service's selector is atomic: the writer takes it whole
    body["spec"]["selector"]["extra"] = "x"
    del operator_fields(body)["f:spec"]["f:selector"]


ADDED = {"annotate": (annotate, {"f:metadata": {"f:annotations": {"f:example.com/note": {}}}}),
         "inject_env": (inject_env, {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"server"}': {
             "f:env": {'k:{"name":"INJECTED"}': {".": {}, "f:name": {}, "f:value": {}}}}}}}}}),
         "add_sidecar": (add_sidecar, {"f:spec": {"f:template": {"f:spec": {"f:containers": {
             'k:{"name":"proxy"}': {".": {}, "f:name": {}, "f:image": {}}}}}}})}


@pytest.mark.parametrize("change", sorted(ADDED))
def test_what_other_managers_add_is_not_drift(change):
    edit, fields = ADDED[change]
    assert not drifted(SERVER, edited(server_side_applied(SERVER), edit, "someone", fields))


@pytest.mark.parametrize("edit, expected", [
    (lambda body: None, False),  # as applied
    (canonical_memory, False),  # the API server's canonical quantity is the same
    (relabel, True), (set_image, True), (take_replicas, True),  # fields the operator owns, written by hand
    (deleted_env, True),  # gone from the object
])
def test_a_hand_edit_of_what_the_operator_owns_is_drift(edit, expected):
    assert drifted(SERVER, edited(server_side_applied(SERVER), edit)) is expected


def test_a_child_missing_or_never_applied_by_the_operator_has_drifted():
    assert drifted(SERVER, None)
    assert drifted(SERVER, {**SERVER, "metadata": {**SERVER["metadata"], "managedFields": []}})


def test_a_new_value_or_a_field_no_longer_applied_is_drift():
    observed = server_side_applied(SERVER)
    newer = copy.deepcopy(SERVER)
    container(newer)["image"] = "runtime:2"
    assert drifted(newer, observed)
    fewer = copy.deepcopy(SERVER)
    del fewer["spec"]["replicas"]  # the operator's apply would remove it
    assert drifted(fewer, observed)
    assert not drifted(fewer, server_side_applied(fewer))


def test_an_atomic_value_taken_by_another_writer_is_drift():
    assert drifted(SERVICE, edited(server_side_applied(SERVICE), widen_selector, "someone",
                                   {"f:spec": {"f:selector": {}}}))


def test_replicas_are_owned_until_another_manager_writes_them():
    applied = server_side_applied(SERVER)
    assert owns(applied, "spec", "replicas")
    assert not owns(edited(applied, take_replicas, "kube-controller-manager", {"f:spec": {"f:replicas": {}}}),
                    "spec", "replicas")
    assert not owns(None, "spec", "replicas")


def rewrite_port(body: dict) -> None:
    body["spec"]["ports"][0]["port"] = 9090
    body["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:ports"] = {}


def add_port(body: dict) -> None:
    body["spec"]["ports"].append({"name": "metrics", "port": 9100, "protocol": "TCP"})


@pytest.mark.parametrize("edit, manager_fields, expected", [
    (rewrite_port, fields_of({"spec": {"ports": [{"name": "http", "port": 9090, "protocol": "TCP"}]}}), True),
    (add_port, fields_of({"spec": {"ports": [{"name": "metrics", "port": 9100, "protocol": "TCP"}]}}), False),
    (lambda body: None, {}, False),
])
def test_a_port_rewritten_by_hand_makes_the_service_again_another_port_stays(edit, manager_fields, expected):
    observed = edited(server_side_applied(SERVICE), edit, "someone", manager_fields)
    assert foreign_port_taking(SERVICE, observed) is expected
    assert not foreign_port_taking(SERVICE, None)
