"""The Helm chart installed by the pinned helm into the local cluster, as users install it: its
operator runs as a pod on the local node (in-cluster configuration, the chart's ServiceAccount) and
drives the example pipeline to a serving model; that identity is refused what the chart does not
grant; `helm upgrade` updates a changed CRD and `helm uninstall` keeps the CRDs and users' objects."""

import base64
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from pipeline import apply, condition, status, write_csv
from support import get_json, lease_holder_pod, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.restricted, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "mlops-operator"
EXAMPLES = REPO / "manifests" / "examples"
RELEASE = "mlops-operator"  # the chart's name: its objects are called this, not "<release>-mlops-operator"
INSTALL_SECONDS = 240
SCRAPE_SECONDS = 30  # a few 2 s scrape intervals and the discovery of a new pod
PIPELINE_SECONDS = 900


def helm_run(helm: Path, cluster, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(helm), *args], capture_output=True, text=True, env=cluster.env,
                            timeout=INSTALL_SECONDS + 60)
    if check:
        assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stderr}"
    return result


@pytest.fixture
def release(helm, cluster, namespace):
    """Installs the chart into the test's namespace (`helm_install(*args)`), and uninstalls it at the
    end so that no cluster-scoped RBAC of it outlives the test."""
    installed = []

    def helm_install(*args: str) -> None:
        helm_run(helm, cluster, "install", RELEASE, str(CHART), "--namespace", namespace, "--wait",
                 "--timeout", f"{INSTALL_SECONDS}s", *args)
        installed.append(RELEASE)

    yield helm_install
    for name in installed:
        helm_run(helm, cluster, "uninstall", name, "--namespace", namespace, "--wait", check=False)


def operator_pods(cluster, namespace) -> list[dict]:
    return get_json(cluster, namespace, "pods", "-l", "app.kubernetes.io/name=mlops-operator")["items"]


def leader_pod(cluster, namespace) -> dict:
    """The operator pod holding the chart's Lease (the other one stands by)."""
    return wait_for(lambda: lease_holder_pod(cluster, namespace, f"{RELEASE}-leader", operator_pods(cluster, namespace)),
                    30, "an operator pod to hold the Lease")


def example(name: str, **changes) -> dict:
    manifest = yaml.safe_load((EXAMPLES / name).read_text())
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        target = manifest
        for key in parents:
            target = target[key]
        target[leaf] = value
    return manifest


def token_kubectl(cluster, namespace: str, service_account: str):
    """kubectl authenticated only by a token of the ServiceAccount (no client certificate)."""
    config = json.loads(cluster.kubectl("config", "view", "--raw", "--minify", "-o", "json").stdout)
    server = config["clusters"][0]["cluster"]
    token = cluster.kubectl("create", "token", service_account, "--duration=10m", namespace=namespace).stdout.strip()
    ca = Path(cluster.kubeconfig).with_name(f"ca-{namespace}.crt")
    ca.write_bytes(base64.b64decode(server["certificate-authority-data"]))

    def run(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([cluster.kubectl_path, "--kubeconfig", os.devnull, "--server", server["server"],
                               "--certificate-authority", str(ca), "--token", token, "-n", namespace, *args],
                              input=input, capture_output=True, text=True, timeout=60)

    return run


def test_the_charts_operator_runs_the_example_pipeline_with_its_own_identity(cluster, crds, namespace, release,
                                                                             prometheus, tmp_path):
    # The CRDs are the session's (kubectl-applied); the chart's defaults otherwise: every namespace.
    release("--set", "crds.enabled=false")
    pods = operator_pods(cluster, namespace)
    assert len(pods) == 2  # the chart's default: one leads, one stands by
    for pod in pods:
        assert pod["spec"]["serviceAccountName"] == RELEASE
        assert all(c["ready"] for c in pod["status"]["containerStatuses"]), pod["status"]
        if cluster.local:
            # In-cluster configuration only: no kubeconfig reaches the process, only the token volume.
            pid = int(pod["status"]["containerStatuses"][0]["containerID"].removeprefix("local://"))
            environment = dict(v.split("=", 1) for v in Path(f"/proc/{pid}/environ").read_text().split("\0") if v)
            assert "KUBECONFIG" not in environment and environment["KUBERNETES_SERVICE_HOST"]
    leader = leader_pod(cluster, namespace)

    data = tmp_path / "breast-cancer.csv"
    apply(cluster, namespace, example("dataset.yaml", **{"spec.source.uri": write_csv(data)}))
    apply(cluster, namespace, example("experiment.yaml", **{"spec.artifactRoot": f"file://{tmp_path}/artifacts"}))
    apply(cluster, namespace, example("deployment.yaml"))
    model = "breast-cancer-forest-v1"
    wait_for(lambda: promoted(cluster, namespace, model), PIPELINE_SECONDS,
             f"Model {model} promoted by the chart's operator")
    wait_for(lambda: condition(status(cluster, namespace, "mldeploy", "breast-cancer"), "Ready").get("status") == "True",
             300, "the example Deployment Ready")
    service_ip = get_json(cluster, namespace, "service", "breast-cancer")["spec"]["clusterIP"]
    answer = subprocess.run([sys.executable, str(REPO / "hack" / "predict.py"), f"http://{service_ip}:8080",
                             "breast-cancer", str(data), "3"], capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    # Its metrics Service answers (what a ServiceMonitor scrapes); Prometheus scrapes the pod itself.
    metrics_ip = get_json(cluster, namespace, "service", f"{RELEASE}-metrics")["spec"]["clusterIP"]
    with urllib.request.urlopen(f"http://{metrics_ip}:8383/metrics", timeout=10) as response:
        assert b"controller_runtime_reconcile_total" in response.read()
    # The same pod led throughout: no restart, no lost Lease, and every permission from the start.
    assert leader_pod(cluster, namespace)["metadata"]["name"] == leader["metadata"]["name"]
    the_metrics_tell_the_pipeline(cluster, namespace, prometheus, leader, model)
    the_stand_by_reconciled_nothing(prometheus, [p for p in pods if p["metadata"]["name"] != leader["metadata"]["name"]])
    assert [p["status"]["containerStatuses"][0]["restartCount"] for p in operator_pods(cluster, namespace)] == [0, 0]
    a_drain_takes_one_operator_pod_at_a_time(cluster, namespace, leader)


def a_drain_takes_one_operator_pod_at_a_time(cluster, namespace, leader: dict) -> None:
    """The chart's PodDisruptionBudget, enforced by the API server's eviction: the stand-by may go,
    then the leader may not until a replacement is Ready."""
    wait_for(lambda: get_json(cluster, namespace, "pdb", RELEASE).get("status", {}).get("disruptionsAllowed") == 1,
             30, "the disruption controller to allow one eviction")

    def evict(pod: str) -> subprocess.CompletedProcess:
        eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": namespace}}
        return cluster.kubectl("create", "--raw", f"/api/v1/namespaces/{namespace}/pods/{pod}/eviction", "-f", "-",
                               input=json.dumps(eviction), check=False)

    (stand_by,) = [p["metadata"]["name"] for p in operator_pods(cluster, namespace)
                   if p["metadata"]["name"] != leader["metadata"]["name"]]
    evicted = evict(stand_by)
    assert evicted.returncode == 0, evicted.stderr
    refused = evict(leader["metadata"]["name"])
    assert refused.returncode != 0 and "disruption budget" in refused.stderr, refused.stderr


def the_stand_by_reconciled_nothing(prometheus, stand_bys: list[dict]) -> None:
    """Scraped like the leader, the stand-by says it is one and shows no reconcile of any result."""
    (pod,) = [p["metadata"]["name"] for p in stand_bys]
    standing_by = f'leader_election_master_status{{pod="{pod}",name="{RELEASE}-leader"}}'
    wait_for(lambda: list(numbers(prometheus, standing_by).values()) == [0.0], SCRAPE_SECONDS, f"{standing_by} == 0")
    reconciles = f'sum(controller_runtime_reconcile_total{{pod="{pod}"}})'
    assert list(numbers(prometheus, reconciles).values()) == [0.0]


def numbers(prometheus, expr: str) -> dict[tuple[tuple[str, str], ...], float]:
    """An instant query's series, keyed by their labels."""
    return {tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in prometheus.query(expr)}


def the_metrics_tell_the_pipeline(cluster, namespace, prometheus, pod: dict, model: str) -> None:
    """What Prometheus, scraping the operator's and the server's pods, says of the pipeline, as a
    dashboard asks it: every controller reconciled (controller-runtime's standard query), each kind
    by phase, the sweep's best objective, the version's scores and gate decision, the champion's
    age, and the served requests by model and version."""
    ns, pod_name = f'namespace="{namespace}"', pod["metadata"]["name"]
    leading = f'leader_election_master_status{{pod="{pod_name}",name="{RELEASE}-leader"}}'
    wait_for(lambda: list(numbers(prometheus, leading).values()) == [1.0], SCRAPE_SECONDS, f"{leading} == 1")
    reconciles = f'sum by (controller) (rate(controller_runtime_reconcile_total{{pod="{pod_name}"}}[1m]))'
    wait_for(lambda: {dict(k)["controller"] for k in numbers(prometheus, reconciles)}
             == {"dataset", "experiment", "model", "deployment"}, SCRAPE_SECONDS,
             f"reconcile rates of the four controllers: {reconciles}")
    phases = {(("kind", "Dataset"), ("phase", "Ready")): 1.0, (("kind", "Experiment"), ("phase", "Succeeded")): 1.0,
              (("kind", "Model"), ("phase", "Promoted")): 1.0, (("kind", "Deployment"), ("phase", "Serving")): 1.0}
    objects = f"sum by (kind, phase) (mlops_objects{{{ns}}})"
    wait_for(lambda: numbers(prometheus, objects) == phases, SCRAPE_SECONDS, f"the objects by phase: {objects}")
    experiment = status(cluster, namespace, "experiment", "breast-cancer-forest")
    best = numbers(prometheus, f'mlops_experiment_best_objective{{{ns},experiment="breast-cancer-forest"}}')
    assert [(dict(k)["metric"], v) for k, v in best.items()] == [("roc_auc", experiment["bestTrial"]["objectiveValue"])]
    trials = numbers(prometheus, f'sum(mlops_experiment_trials_finished_total{{{ns},result="succeeded"}})')
    assert list(trials.values()) == [experiment["trials"]["succeeded"]]
    version = status(cluster, namespace, "model", model)
    scores = numbers(prometheus, f'mlops_model_evaluation_metric{{{ns},model="breast-cancer",version="1"}}')
    assert {dict(k)["metric"]: v for k, v in scores.items()} == version["validation"]["metrics"]
    decisions = numbers(prometheus, f"sum by (result) (mlops_model_gate_decisions_total{{{ns}}})")
    assert {dict(k)["result"]: v for k, v in decisions.items()} == {"passed": 1.0, "failed": 0.0, "overridden": 0.0}
    age = numbers(prometheus, f'mlops_model_alias_age_seconds{{{ns},model="breast-cancer",alias="champion"}}')
    assert [dict(k)["version"] for k in age] == ["1"] and 0 <= next(iter(age.values())) < PIPELINE_SECONDS
    served = f'sum by (model, version) (mlops_server_requests_total{{{ns},outcome="success"}})'
    wait_for(lambda: numbers(prometheus, served).get((("model", "breast-cancer"), ("version", "1")), 0) > 0,
             SCRAPE_SECONDS, f"the served predictions: {served}")


def promoted(cluster, namespace, model: str) -> bool:
    found = cluster.kubectl("get", "model", model, "-o", "json", namespace=namespace, check=False)
    return found.returncode == 0 and condition(json.loads(found.stdout).get("status") or {},
                                               "Promoted").get("status") == "True"


def test_the_charts_identity_is_refused_what_the_chart_does_not_grant_and_people_get_the_four_kinds(
        cluster, crds, namespace, release):
    release("--set", "crds.enabled=false", "--set", f"rbac.namespaces={{{namespace}}}")
    people_bound_to_edit_or_view_use_the_four_kinds_in_their_namespace_only(cluster, namespace)
    as_operator = token_kubectl(cluster, namespace, RELEASE)
    who = as_operator("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
    assert who.stdout == f"system:serviceaccount:{namespace}:{RELEASE}", who.stderr
    # Granted: what the operator does, and its Lease in its own namespace (the release's, here also watched).
    assert as_operator("get", "datasets,experiments,models,mldeploy,jobs").returncode == 0
    for verb in ("get", "create", "update"):
        assert as_operator("auth", "can-i", verb, "leases.coordination.k8s.io").stdout.strip() == "yes", verb
    # Refused: Secrets, making or deleting users' objects, and anything outside its namespace.
    apply(cluster, namespace, example("dataset.yaml"))
    another = yaml.safe_dump(example("dataset.yaml", **{"metadata.name": "another"}))
    refusals = {
        "read Secrets": as_operator("get", "secrets"),
        "create a Dataset": as_operator("create", "-f", "-", input=another),
        "delete a Dataset": as_operator("delete", "dataset", "breast-cancer", "--wait=false"),
        "list pods in kube-system": as_operator("get", "pods", "-n", "kube-system"),
        "read a Lease in kube-system": as_operator("get", "lease", "kube-scheduler", "-n", "kube-system"),
    }
    for what, result in refusals.items():
        assert result.returncode != 0 and "forbidden" in result.stderr.lower(), f"{what}: {result.stderr}"


def people_bound_to_edit_or_view_use_the_four_kinds_in_their_namespace_only(cluster, namespace) -> None:
    """The chart's aggregated ClusterRoles, merged into Kubernetes' default ones by
    kube-controller-manager: a RoleBinding to edit or view is all a namespace's people need."""
    cluster.kubectl("create", "rolebinding", "jane-edits", "--clusterrole=edit", "--user=jane", namespace=namespace)
    cluster.kubectl("create", "rolebinding", "joe-views", "--clusterrole=view", "--user=joe", namespace=namespace)

    def can(user: str, verb: str, resource: str, *args: str, where: str = namespace) -> bool:
        return cluster.kubectl("auth", "can-i", verb, resource, f"--as={user}", *args, namespace=where,
                               check=False).stdout.strip() == "yes"

    wait_for(lambda: can("jane", "create", "experiments.mlops.dev") and can("joe", "list", "models.mlops.dev"), 30,
             "the default edit and view ClusterRoles to aggregate the chart's")
    as_jane = cluster.kubectl("apply", "-f", "-", "--as=jane", namespace=namespace,
                              input=yaml.safe_dump(example("dataset.yaml", **{"metadata.name": "janes"})), check=False)
    assert as_jane.returncode == 0, as_jane.stderr
    assert "janes" in cluster.kubectl("get", "datasets", "--as=joe", "-o", "name", namespace=namespace).stdout
    for resource in ("datasets", "experiments", "models", "deployments"):
        assert all(can("jane", verb, f"{resource}.mlops.dev") for verb in ("create", "patch", "delete")), resource
        assert all(can("joe", verb, f"{resource}.mlops.dev") for verb in ("get", "list", "watch")), resource
        assert not can("joe", "create", f"{resource}.mlops.dev"), resource
        assert not can("jane", "patch", f"{resource}.mlops.dev", "--subresource=status"), resource
        assert not can("jane", "create", f"{resource}.mlops.dev", where="default"), resource
    cluster.kubectl("delete", "dataset", "janes", "--as=jane", namespace=namespace)


CRD = "datasets.mlops.dev"
PROBE_FIELD = "upgradeProbe"


def crd_spec_fields(cluster) -> dict:
    crd = get_json(cluster, None, "crd", CRD)
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]


def chart_with_a_new_dataset_field(folder: Path) -> Path:
    """A copy of the chart, one version on, whose Dataset CRD has one more optional spec field: a
    release upgraded to it must change the CRD in the cluster (Helm's crds/ folder never would)."""
    chart = folder / "mlops-operator"
    shutil.copytree(CHART, chart)
    template = chart / "templates" / "crds" / f"{CRD}.yaml"
    text = template.read_text()
    spec = text.index("\n          spec:\n")  # openAPIV3Schema.properties.spec
    at = text.index("\n            properties:\n", spec) + len("\n            properties:\n")
    field = f"              {PROBE_FIELD}:\n                description: added by the upgrade test\n                type: string\n"
    template.write_text(text[:at] + field + text[at:])
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    meta["version"] = meta["version"] + "-upgrade"
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    return chart


def test_upgrade_updates_a_changed_crd_and_uninstall_keeps_crds_and_objects(cluster, crds, namespace, helm,
                                                                           tmp_path):
    watch_here = ("--set", f"rbac.namespaces={{{namespace}}}")
    # The session installed the CRDs with kubectl; the release takes them over, as a user moving an
    # existing installation to Helm does.
    helm_run(helm, cluster, "install", RELEASE, str(CHART), "--namespace", namespace, "--take-ownership",
             "--wait", "--timeout", f"{INSTALL_SECONDS}s", *watch_here)
    try:
        assert PROBE_FIELD not in crd_spec_fields(cluster)
        changed = chart_with_a_new_dataset_field(tmp_path)
        # kubectl's server-side apply co-owns every field it set, so the first upgrade that changes
        # one takes it over (--force-conflicts), as docs/operations.md tells users who move to Helm.
        helm_run(helm, cluster, "upgrade", RELEASE, str(changed), "--namespace", namespace, "--wait",
                 "--force-conflicts", *watch_here)
        assert crd_spec_fields(cluster)[PROBE_FIELD]["type"] == "string"
        # Upgrading back removes the field again, with no force: the release alone owns it now.
        helm_run(helm, cluster, "upgrade", RELEASE, str(CHART), "--namespace", namespace, "--wait", *watch_here)
        assert PROBE_FIELD not in crd_spec_fields(cluster)
        apply(cluster, namespace, example("dataset.yaml"))
    finally:
        helm_run(helm, cluster, "uninstall", RELEASE, "--namespace", namespace, "--wait")
    # The operator and its permissions are gone; the CRDs (helm.sh/resource-policy: keep) and the
    # user's Dataset are not.
    assert not get_json(cluster, namespace, "deployments.apps,serviceaccounts,roles,rolebindings",
                        "-l", "app.kubernetes.io/instance=" + RELEASE)["items"]
    for crd in ("datasets", "experiments", "models", "deployments"):
        assert get_json(cluster, None, "crd", f"{crd}.mlops.dev")["metadata"].get("deletionTimestamp") is None
    assert get_json(cluster, namespace, "dataset", "breast-cancer")["metadata"]["name"] == "breast-cancer"
