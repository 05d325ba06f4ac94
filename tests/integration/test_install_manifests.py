"""manifests/install against a real API server: `kubectl apply -k manifests/install --dry-run=server`
(client-side and --server-side) is accepted, every object through validation and admission (the
CRDs' structural schemas, the RBAC, the Deployment), with no Pod Security "restricted" warning for
the operator's pod.

A server dry run persists nothing, so the Namespace that a real apply creates first does not exist
for the objects after it: against a cluster without mlops-system the dry run is refused for them,
and the test creates the namespace (warning on "restricted") for the dry run, then deletes it. An
existing mlops-system (USE_EXISTING_CLUSTER) is used as it is and left alone."""

import re
from pathlib import Path

import pytest
import yaml
from support import wait_for

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "manifests" / "install"
NAMESPACE = "mlops-system"


def _applied(stdout: str) -> set[str]:
    """`kind.group/name` of each line `... configured (server dry run)` (created, serverside-applied, ...)."""
    names = set()
    for line in stdout.splitlines():
        match = re.fullmatch(r"(\S+) [\w-]+ \(server dry run\)", line)
        assert match, line
        names.add(match.group(1))
    return names


@pytest.mark.parametrize("mode", [(), ("--server-side",)], ids=["client-side", "server-side"])
def test_apply_k_is_accepted_by_the_api_server(cluster, mode):
    rendered = list(yaml.safe_load_all(cluster.kubectl("kustomize", str(INSTALL)).stdout))
    absent = cluster.kubectl("get", "namespace", NAMESPACE, check=False).returncode != 0
    if absent:
        refused = cluster.kubectl("apply", *mode, "-k", str(INSTALL), "--dry-run=server", check=False)
        assert refused.returncode != 0 and f'namespaces "{NAMESPACE}" not found' in refused.stderr, refused.stderr
        cluster.kubectl("create", "namespace", NAMESPACE, "--save-config")  # as if applied: no warning
        cluster.kubectl("label", "namespace", NAMESPACE, "pod-security.kubernetes.io/warn=restricted")
    try:
        result = cluster.kubectl("apply", *mode, "-k", str(INSTALL), "--dry-run=server")
        # kubectl prints kind.group/name (no group for the core kinds), lower-cased.
        expected = {
            f"{d['kind'].lower()}{'.' + d['apiVersion'].split('/')[0] if '/' in d['apiVersion'] else ''}/"
            f"{d['metadata']['name']}" for d in rendered}
        assert _applied(result.stdout) == expected
        assert "PodSecurity" not in result.stderr, result.stderr
    finally:
        if absent:
            cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
            wait_for(lambda: cluster.kubectl("get", "namespace", NAMESPACE, check=False).returncode != 0, 120,
                     f"namespace {NAMESPACE} to be gone")
