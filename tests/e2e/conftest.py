"""The operator, started by the test (so a test can kill and restart it), in the test's namespace;
or started as the audited user, whose every request the local cluster's API server logs."""

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from cluster.pki import write_user_kubeconfig
from mlops_operator.kube.rbac import CRD_READ_RULES, NAMESPACE_READ_RULES, operator_rules

from support import AUDITED_USER, OperatorProcess, OperatorRunner


@pytest.fixture
def operator(crds, namespace, tmp_path):
    with OperatorRunner(crds, namespace, tmp_path) as runner:
        yield runner


@dataclass
class Audited:
    """An operator running as AUDITED_USER, and where its requests start in the audit log."""

    process: OperatorProcess
    audit: Path
    offset: int

    def requests(self) -> list[dict]:
        """(verb, namespace, resource, name, uri) of each of its requests since it started, watches once."""
        with self.audit.open("rb") as log:
            log.seek(self.offset)
            events = [json.loads(line) for line in log]
        return [{"verb": e["verb"], "namespace": (e.get("objectRef") or {}).get("namespace"),
                 "resource": (e.get("objectRef") or {}).get("resource"),
                 "name": (e.get("objectRef") or {}).get("name"), "uri": e["requestURI"]}
                for e in events if e["user"]["username"] == AUDITED_USER and e.get("stage") == "ResponseComplete"]


@dataclass
class Identity:
    env: dict[str, str]


@pytest.fixture
def audited_operator(crds, namespace, tmp_path):
    """`.start(*args)`: the operator as AUDITED_USER with the chart's cluster-wide rules, watching the
    test's namespace."""
    cluster = crds
    if not cluster.local:
        pytest.skip("USE_EXISTING_CLUSTER: the audit log is the local cluster's")
    server = json.loads(Path(cluster.kubeconfig).read_text())["clusters"][0]["cluster"]["server"]
    kubeconfig = tmp_path / "operator.kubeconfig"
    write_user_kubeconfig(kubeconfig, server, cluster.state_dir / "pki", AUDITED_USER)
    name = f"{namespace}-operator"
    rules = [r.as_dict() for r in [*operator_rules(), *CRD_READ_RULES, *NAMESPACE_READ_RULES]]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
         "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": AUDITED_USER}]}]))
    started: list[OperatorProcess] = []

    class Starter:
        @staticmethod
        def start(*args: str) -> Audited:
            audit = cluster.state_dir / "logs" / "audit.log"
            offset = audit.stat().st_size if audit.exists() else 0
            identity = Identity({**cluster.env, "KUBECONFIG": str(kubeconfig)})
            started.append(OperatorProcess(identity, namespace, tmp_path / "operator.log", *args))
            return Audited(started[-1], audit, offset)

    try:
        yield Starter()
    finally:
        for process in started:
            if process.process.poll() is None:
                process.terminate()
        cluster.kubectl("delete", "clusterrolebinding,clusterrole", name, "--ignore-not-found", check=False)
