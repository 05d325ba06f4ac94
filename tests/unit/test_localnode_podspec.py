"""The local node's pure translation of pod specs."""

import base64
import sys
from pathlib import Path

import pytest

import mlops_operator

from localnode import podspec
from localnode.images import environment_paths, runtime_for
from localnode.ipam import AddressesExhausted, AddressPool, control_plane_address, gateway_address
from localnode.probes import ProbeSettings, ProbeTracker, resolve_port

POD = {
    "metadata": {"name": "p", "namespace": "ns", "uid": "u-1", "labels": {"team": "ml"}, "annotations": {"a": "1"}},
    "spec": {"nodeName": "local-node", "serviceAccountName": "default", "containers": []},
}
OBJECTS = podspec.ReferencedObjects(
    config_maps={"settings": {"mode": b"fast", "level": b"3"}},
    secrets={"creds": {"token": b"s3cr3t"}},
    service_account_token="jwt",
)


@pytest.mark.parametrize("text, expected", [
    ("$(A)-$(B)", "1-2"),
    ("$$(A)", "$(A)"),
    ("$(MISSING)", "$(MISSING)"),
    ("cost $5", "cost $5"),
])
def test_expand_follows_kubernetes_rules(text, expected):
    assert podspec.expand(text, {"A": "1", "B": "2"}) == expected


def test_env_order_envfrom_then_env_with_references():
    container = {
        "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
        "env": [
            {"name": "CFG_mode", "value": "override"},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "URL", "value": "http://$(IP):8080"},
            {"name": "TEAM", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['team']"}}},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
            {"name": "OPTIONAL", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "x", "optional": True}}},
        ],
    }
    env = podspec.container_env(POD, container, OBJECTS, "10.244.0.7", {"PATH": "/bin"})
    assert env == {"PATH": "/bin", "CFG_mode": "override", "CFG_level": "3", "IP": "10.244.0.7",
                   "URL": "http://10.244.0.7:8080", "TEAM": "ml", "TOKEN": "s3cr3t"}


@pytest.mark.parametrize("var, message", [
    ({"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "x"}}}, "ConfigMap 'nope' not found"),
    ({"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "x"}}}, "key 'x' in Secret 'creds' not found"),
    ({"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "spec.hostname"}}}, "fieldRef 'spec.hostname' is not supported"),
])
def test_env_errors_name_what_is_missing(var, message):
    with pytest.raises(podspec.PodConfigError, match=message) as error:
        podspec.container_env(POD, {"env": [var]}, OBJECTS, "10.244.0.7", {})
    assert error.value.reason == "CreateContainerConfigError"


def test_every_container_learns_where_the_api_server_service_is():
    assert podspec.kubernetes_service_env("10.96.3.0/24") == {
        "KUBERNETES_SERVICE_HOST": "10.96.3.1", "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443", "KUBERNETES_PORT": "tcp://10.96.3.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://10.96.3.1:443", "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443", "KUBERNETES_PORT_443_TCP_ADDR": "10.96.3.1",
    }


def test_argv_uses_the_image_default_and_expands_variables():
    assert podspec.container_argv({"args": ["-c", "$(X)"]}, ("python3",), {"X": "1"}) == ["python3", "-c", "1"]
    assert podspec.container_argv({"command": ["run"], "args": []}, ("python3",), {}) == ["run"]


def test_volume_plans():
    pod = {**POD, "spec": {**POD["spec"], "volumes": [
        {"name": "scratch", "emptyDir": {}},
        {"name": "cfg", "configMap": {"name": "settings", "items": [{"key": "mode", "path": "m/mode"}]}},
        {"name": "sec", "secret": {"secretName": "creds", "defaultMode": 0o400}},
        {"name": "host", "hostPath": {"path": "/srv/data", "type": "DirectoryOrCreate"}},
        {"name": "kube-api-access", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token"}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
        ]}},
    ]}}
    plans = {p.name: p for p in podspec.volume_plans(pod, OBJECTS, "10.244.0.7")}
    assert plans["scratch"].files == {}
    assert plans["cfg"].files == {"m/mode": (b"fast", 0o644)}
    assert plans["sec"].files == {"token": (b"s3cr3t", 0o400)}
    assert plans["host"].host_path == "/srv/data" and plans["host"].create_host_path
    assert plans["kube-api-access"].files == {"token": (b"jwt", 0o644), "namespace": (b"ns", 0o644)}


def test_unsupported_volume_names_the_volume_and_the_supported_kinds():
    pod = {**POD, "spec": {**POD["spec"], "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}]}}
    with pytest.raises(podspec.PodConfigError) as error:
        podspec.volume_plans(pod, OBJECTS, "10.244.0.7")
    assert error.value.reason == "VolumeNotSupportedLocally"
    assert "volume 'data' is of kind persistentVolumeClaim" in error.value.message
    assert "emptyDir" in error.value.message


def test_mounts_include_sub_paths_and_the_termination_file():
    container = {"volumeMounts": [{"name": "cfg", "mountPath": "/etc/app", "readOnly": True, "subPath": "m"}],
                 "terminationMessagePath": "/tmp/result"}
    mounts = podspec.container_mounts(container, {"cfg": "/pods/u/volumes/cfg"}, "/pods/u/term")
    assert mounts == [podspec.Mount("/pods/u/volumes/cfg/m", "/etc/app", True),
                      podspec.Mount("/pods/u/term", "/tmp/result", False)]


def test_referenced_names():
    pod = {**POD, "spec": {"containers": [{"envFrom": [{"secretRef": {"name": "s1"}}],
                                           "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c1", "key": "k"}}}]}],
                           "volumes": [{"name": "v", "projected": {"sources": [{"configMap": {"name": "kube-root-ca.crt"}}]}}]}}
    assert podspec.referenced_names(pod) == ({"c1", "kube-root-ca.crt"}, {"s1"})


def test_secret_and_config_map_data_are_decoded():
    assert podspec.secret_data({"data": {"k": base64.b64encode(b"v").decode()}}) == {"k": b"v"}
    assert podspec.config_map_data({"data": {"a": "1"}, "binaryData": {"b": base64.b64encode(b"\0").decode()}}) == \
        {"a": b"1", "b": b"\0"}


@pytest.mark.parametrize("image, runs", [
    ("python:3.11", True), ("python:3.12-slim", True), ("docker.io/library/python:3", True), ("python", True),
    ("ghcr.io/mlops-operator/runtime:0.1.0", True), ("ghcr.io/mlops-operator/operator:0.1.0", True),
    ("ghcr.io/mlops-operator/operator@sha256:" + "0" * 64, True), ("ghcr.io/mlops-operator/other:1", False),
    ("nginx:1.27", False), ("python:2.7", False),
    ("myregistry/python:3.11", False),
])
def test_image_mapping(image, runs):
    assert (runtime_for(image, "/venv/bin/python") is not None) == runs


def test_project_images_default_to_their_entry_points():
    assert runtime_for("ghcr.io/mlops-operator/operator:0.1.0", "/venv/bin/python").default_command == \
        ("python3", "-m", "mlops_operator")
    assert runtime_for("ghcr.io/mlops-operator/runtime:0.1.0", "/venv/bin/python").default_command == \
        ("python3", "-m", "mlops_operator.runtime")


def test_the_images_files_are_the_interpreters_environment_and_the_project():
    paths = environment_paths(sys.executable)
    assert sys.base_prefix in paths or any(Path(sys.base_prefix).is_relative_to(p) for p in paths)
    assert any(Path(mlops_operator.__file__).is_relative_to(p) for p in paths)
    # Only the outermost folders: a nested one would be bound twice.
    assert not any(Path(a).is_relative_to(b) for a in paths for b in paths if a != b)


def test_python_commands_map_to_the_runtime_interpreter():
    runtime = runtime_for("python:3.11", "/venv/bin/python")
    assert runtime.executable("python3") == "/venv/bin/python"
    assert runtime.executable("/usr/local/bin/python") == "/venv/bin/python"
    assert runtime.executable("sh") == "sh"


def test_address_pool_reserves_the_gateway_and_keeps_addresses_stable():
    pool = AddressPool("10.244.3.0/29")  # .1 is the bridge's, .6 the control plane's
    assert pool.address_for("a") == "10.244.3.2"
    assert pool.address_for("a") == "10.244.3.2"
    pool.release("a")
    assert [pool.address_for(p) for p in "bcde"] == ["10.244.3.3", "10.244.3.4", "10.244.3.5", "10.244.3.2"]
    with pytest.raises(RuntimeError, match="no free address"):
        pool.address_for("f")


def test_the_gateway_and_the_control_plane_addresses_are_never_a_pods():
    assert (gateway_address("10.244.3.0/24"), control_plane_address("10.244.3.0/24")) == ("10.244.3.1", "10.244.3.254")
    pool = AddressPool("10.244.3.0/24")
    handed = {pool.address_for(str(i)) for i in range(252)}
    assert len(handed) == 252 and not handed & {"10.244.3.1", "10.244.3.254"}
    with pytest.raises(AddressesExhausted):
        pool.address_for("one too many")
    for i in range(252):  # every address given back and taken again: still never a reserved one
        pool.release(str(i))
    assert not {pool.address_for(f"again-{i}") for i in range(252)} & {"10.244.3.1", "10.244.3.254"}


def test_probe_tracker_thresholds():
    tracker = ProbeTracker(ProbeSettings(0, 1, 1, success_threshold=2, failure_threshold=3), initial=False)
    assert [tracker.record(ok) for ok in (True, False, True, True)] == [False, False, False, True]
    assert tracker.verdict is True
    assert [tracker.record(ok) for ok in (False, False, True, False, False, False)] == [False] * 5 + [True]
    assert tracker.verdict is False


def test_named_probe_ports_resolve_from_the_container():
    assert resolve_port("http", {"ports": [{"name": "http", "containerPort": 8080}]}) == 8080
    assert resolve_port(9090, {}) == 9090
    with pytest.raises(ValueError):
        resolve_port("metrics", {})


def test_address_pool_hands_out_fresh_addresses_before_reused_ones():
    pool = AddressPool("10.244.3.0/28")  # .1 is the bridge's, .14 the control plane's; .2 to .13 for pods
    assert [pool.address_for(p) for p in "ab"] == ["10.244.3.2", "10.244.3.3"]
    pool.release("a")
    pool.release("a")  # idempotent: a pod released at completion and again at deletion
    assert [pool.address_for(str(i)) for i in range(10)] == [f"10.244.3.{i}" for i in range(4, 14)]
    pool.release("0")
    assert [pool.address_for(p) for p in "fg"] == ["10.244.3.2", "10.244.3.4"]  # oldest released first
    with pytest.raises(AddressesExhausted, match="exhausted"):
        pool.address_for("h")
