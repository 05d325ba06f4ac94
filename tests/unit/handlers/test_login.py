"""In a pod the operator finds the API server as client-go does: from the kubelet's environment,
never through cluster DNS."""

import pytest

from mlops_operator.handlers.login import in_cluster_server


@pytest.mark.parametrize("environ, server", [
    ({"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "https://10.96.0.1:443"),
    ({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}, "https://[fd00::1]:443"),
    ({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, None),
    ({}, None),
])
def test_the_server_comes_from_the_kubelets_environment(environ, server):
    assert in_cluster_server(environ) == server
