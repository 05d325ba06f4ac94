"""Namespaces stay apart (docs/decisions.md, 70): a user who may write mlops.dev objects (and Secrets)
in namespace A only cannot make the operator read or write anything in namespace B.

The operator runs as a user of its own, bound to the chart's ClusterRole (every namespace), and the
API server logs that user's requests (the session's local cluster audits it). It watches A only:
so any request of its into B could only come from A's objects. Namespace B holds what A's user
would like to reach: a Dataset, a Model, a Secret."""

from collections import Counter

import pytest
import yaml

from pipeline import condition, dataset, experiment, status, write_csv
from support import get_json, own_namespace, wait_for

pytestmark = pytest.mark.cluster

USER = "mlops-user-a"  # impersonated: kubectl --as
ALLOWED_PROMETHEUS = "http://prometheus.monitoring.invalid:9090"
METADATA_SERVICE = "http://169.254.169.254/latest/meta-data/"
MLOPS_KINDS = "datasets.mlops.dev,experiments.mlops.dev,models.mlops.dev,deployments.mlops.dev"
EVERYTHING = f"{MLOPS_KINDS},secrets,configmaps,jobs,pods,deployments.apps,services,horizontalpodautoscalers"


@pytest.fixture
def namespace_b(cluster, namespace):
    with own_namespace(cluster, f"{namespace}-b", restricted=False) as name:
        yield name


@pytest.fixture
def user_of_a(cluster, namespace):
    """USER may do anything to mlops.dev objects, and create and read Secrets and ConfigMaps, in A only."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "mlops-edit"},
            "rules": [{"apiGroups": ["mlops.dev"], "resources": ["*"], "verbs": ["*"]},
                      {"apiGroups": [""], "resources": ["secrets", "configmaps"], "verbs": ["create", "get", "list"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "mlops-edit"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "mlops-edit"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}]}
    cluster.kubectl("apply", "-f", "-", namespace=namespace, input=yaml.safe_dump_all([role, binding]))
    return lambda *args, **kw: cluster.kubectl(f"--as={USER}", *args, **kw)


def versions(cluster, namespace: str) -> dict[str, str]:
    """Every object of the kinds that matter in namespace, by kind/name, with its resourceVersion."""
    items = get_json(cluster, namespace, EVERYTHING)["items"]
    return {f"{i['kind']}/{i['metadata']['name']}": i["metadata"]["resourceVersion"] for i in items
            if not i["metadata"]["name"].startswith("kube-root-ca")}


def ready_of(cluster, namespace, kind, name, reason):
    """The Ready condition once its reason is `reason` (for wait_for)."""
    ready = condition(status(cluster, namespace, kind, name), "Ready")
    return ready if ready.get("reason") == reason else None


def test_a_user_of_one_namespace_cannot_make_the_operator_read_or_write_in_another(
        cluster, crds, namespace, namespace_b, user_of_a, audited_operator, tmp_path):
    a, b, as_user = namespace, namespace_b, user_of_a
    audited = audited_operator.start("--prometheus-address", ALLOWED_PROMETHEUS)
    data = write_csv(tmp_path / "data.csv", rows=120)
    # What A's user wants: B's Dataset, Model and Secret (made by B's admin).
    cluster.kubectl("create", "secret", "generic", "b-creds", "--from-literal=token=only-for-b", namespace=b)
    cluster.kubectl("apply", "-f", "-", namespace=b, input=yaml.safe_dump_all([
        dataset("shared-data", data),
        {"apiVersion": "mlops.dev/v1alpha1", "kind": "Model", "metadata": {"name": "b-model"},
         "spec": {"modelName": "churn", "version": "1", "artifact": {"uri": "file:///b/model.joblib"},
                  "aliases": ["champion"]}}]))
    before_b = versions(cluster, b)
    assert set(before_b) >= {"Secret/b-creds", "Dataset/shared-data", "Model/b-model"}, before_b

    # Sanity: the user has no rights in B at all.
    for args in (("get", "secret", "b-creds"), ("get", "datasets"), ("create", "secret", "generic", "x"),
                 ("create", "configmap", "x")):
        refused = as_user(*args, namespace=b, check=False)
        assert refused.returncode != 0 and "forbidden" in refused.stderr.lower(), (args, refused.stderr)

    # The operator (audited) runs: it watches A only, with rights in every namespace.
    # 1. Names that carry a path or a namespace are refused by the API server itself.
    for kind, spec, field in [
        ("Experiment", {**experiment("slash", f"../../{b}/datasets/shared-data")["spec"]}, "spec.datasetRef.name"),
        ("Deployment", {"modelRef": {"name": f"{b}/b-model"}}, "spec.modelRef.name"),
        ("Model", {"modelName": "churn", "version": "2", "artifact": {"uri": "file:///a/m"},
                   "validation": {"dataset": {"name": f"{b}/shared-data"}}}, "spec.validation.dataset.name"),
        ("Dataset", {**dataset("slash", data)["spec"], "source": {"uri": data, "secretRef": {"name": f"{b}/b-creds"}}},
         "spec.source.secretRef.name"),
    ]:
        manifest = {"apiVersion": "mlops.dev/v1alpha1", "kind": kind, "metadata": {"name": "slash"}, "spec": spec}
        refused = as_user("apply", "-f", "-", namespace=a, input=yaml.safe_dump(manifest), check=False)
        assert refused.returncode != 0 and f"{field}: Invalid value" in refused.stderr, refused.stderr
        assert "must name an object in this namespace" in refused.stderr
    # 2. A namespace field in a reference is unknown: refused by strict validation, dropped without.
    sneaky = experiment("sneaky", "shared-data")
    sneaky["spec"]["datasetRef"]["namespace"] = b
    refused = as_user("apply", "-f", "-", namespace=a, input=yaml.safe_dump(sneaky), check=False)
    assert refused.returncode != 0 and 'unknown field "spec.datasetRef.namespace"' in refused.stderr, refused.stderr
    as_user("apply", "--validate=false", "-f", "-", namespace=a, input=yaml.safe_dump(sneaky))
    assert get_json(cluster, a, "experiment", "sneaky")["spec"]["datasetRef"] == {"name": "shared-data"}

    # 3. Same names as B's objects: they resolve in A, where they do not exist.
    trainer = {"image": "python:3.11", "command": ["python", "-c", "pass"],
               "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "b-creds", "key": "token"}}}],
               "envFrom": [{"secretRef": {"name": "b-creds"}}]}
    reaching = experiment("reach-b", "shared-data", trainer,
                          registerModel={"modelName": "churn", "aliases": ["champion"]}, artifactRoot="file:///a")
    wants_b_data = {"apiVersion": "mlops.dev/v1alpha1", "kind": "Model", "metadata": {"name": "a-model"},
                    "spec": {"modelName": "churn", "version": "2", "artifact": {"uri": "file:///a/model.joblib"},
                             "aliases": ["champion"], "validation": {"dataset": {"name": "shared-data"}}}}
    serves_b = {"apiVersion": "mlops.dev/v1alpha1", "kind": "Deployment", "metadata": {"name": "serve-b"},
                "spec": {"modelRef": {"name": "b-model"}}}
    # A Dataset whose pods take B's Secret by name: they get A's (there is none), never B's.
    borrows_secret = dataset("a-data", data)
    borrows_secret["spec"]["source"]["secretRef"] = {"name": "b-creds"}
    # 4. A canary analysis asking the operator to GET an internal address.
    asks_internal = {"apiVersion": "mlops.dev/v1alpha1", "kind": "Deployment", "metadata": {"name": "ask-internal"},
                     "spec": {"modelRef": {"name": "a-model"}, "strategy": {"canary": {
                         "steps": [{"weight": 50, "pause": "1m"}],
                         "analysis": {"prometheus": {"address": METADATA_SERVICE, "query": "up", "max": 1}}}}}}
    as_user("apply", "-f", "-", namespace=a,
            input=yaml.safe_dump_all([reaching, wants_b_data, serves_b, borrows_secret, asks_internal]))

    # Each says, in A, what it waits for or why it is refused.
    for name in ("reach-b", "sneaky"):
        ready = wait_for(lambda n=name: ready_of(cluster, a, "experiment", n, "WaitingForDataset"), 60,
                         f"Experiment {name} to wait for its Dataset")
        assert ready["message"].endswith("Dataset 'shared-data' not found in this namespace"), ready
    ready = wait_for(lambda: ready_of(cluster, a, "model", "a-model", "WaitingForDataset"), 60,
                     "Model a-model to wait for its Dataset")
    assert "Dataset 'shared-data' not found in this namespace" in ready["message"], ready
    available = wait_for(lambda: (c := condition(status(cluster, a, "deployment.mlops.dev", "serve-b"), "Available"))
                         .get("reason") == "ModelNotFound" and c, 60, "Deployment serve-b to say ModelNotFound")
    assert available["message"] == "modelRef.name: no Model b-model in the namespace", available
    refused = wait_for(lambda: ready_of(cluster, a, "deployment.mlops.dev", "ask-internal", "PrometheusNotAllowed"), 60,
                       "Deployment ask-internal to be refused")
    assert refused["message"].startswith(
        f"spec.strategy.canary.analysis.prometheus.address {METADATA_SERVICE!r} is not a Prometheus this operator "
        f"may query; allowed: {ALLOWED_PROMETHEUS}"), refused
    assert condition(status(cluster, a, "deployment.mlops.dev", "ask-internal"), "Stalled")["status"] == "True"

    def blocked_on_secret():
        pods = get_json(cluster, a, "pods", "-l", "mlops.dev/dataset=a-data")["items"]
        waiting = [((s.get("state") or {}).get("waiting") or {}) for p in pods
                   for s in (p.get("status") or {}).get("containerStatuses") or []]
        return next((w for w in waiting if w.get("reason") == "CreateContainerConfigError"), None)

    waiting = wait_for(blocked_on_secret, 120, "a-data's validation pod to find no Secret b-creds in A")
    assert "b-creds" in waiting["message"] and "not found" in waiting["message"], waiting

    # Nothing of B was created, changed or read on A's behalf: not by the operator (its every
    # request is in the audit log), and not by anything the operator made.
    assert versions(cluster, b) == before_b
    requests = audited.requests()
    in_a = Counter((r["verb"], r["resource"], r["name"]) for r in requests if r["namespace"] == a)
    assert in_a[("get", "datasets", "shared-data")] and in_a[("get", "models", "b-model")], in_a  # it looked, in A
    assert [r for r in requests if r["namespace"] == b] == []
    assert [r for r in requests if r["resource"] == "secrets"] == []  # the operator never reads a Secret
    elsewhere = [r for r in requests if r["namespace"] not in (a, None)]
    assert elsewhere == [], elsewhere
    discovery = {r["uri"] for r in requests if r["resource"] is None}  # /api, /apis/...: no namespace in them
    assert all(u.startswith("/api") and "/namespaces/" not in u for u in discovery), discovery
    cluster_wide = {(r["verb"], r["resource"]) for r in requests if r["namespace"] is None and r["resource"]}
    assert cluster_wide <= {("list", "namespaces"), ("watch", "namespaces"), ("list", "customresourcedefinitions"),
                            ("watch", "customresourcedefinitions")}, cluster_wide
    # What A's objects made stays in A: a validation Job, and no server for ask-internal.
    jobs = get_json(cluster, a, "jobs")["items"]
    assert [j["metadata"]["ownerReferences"][0]["name"] for j in jobs] == ["a-data"], jobs
    assert get_json(cluster, a, "deployments.apps")["items"] == []
