"""In a pod the operator finds the API server as client-go does: from the kubelet's environment and
the mounted ServiceAccount folder, never through cluster DNS."""

import pytest

from mlops_operator.kube.incluster import InCluster, in_cluster


@pytest.fixture
def account(tmp_path):
    (tmp_path / "token").write_text("jwt\n")
    (tmp_path / "namespace").write_text("mlops-system")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    return tmp_path


@pytest.mark.parametrize("host, server", [("10.96.0.1", "https://10.96.0.1:443"),
                                          ("fd00::1", "https://[fd00::1]:443")])
def test_the_server_comes_from_the_kubelets_environment(account, monkeypatch, host, server):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    assert in_cluster(account) == InCluster(server, str(account / "ca.crt"), "jwt", "mlops-system")


def test_outside_a_pod_there_is_no_in_cluster_connection(account, monkeypatch, tmp_path):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert in_cluster(account) is None  # a token folder without the kubelet's environment
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    assert in_cluster(tmp_path / "absent") is None
