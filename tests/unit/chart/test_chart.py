"""charts/mlops-operator rendered by the pinned helm (no cluster): the defaults, namespaced RBAC,
values the schema refuses, and the operator's pod against Pod Security "restricted"."""

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

import mlops_operator

from mlops_operator.api.crdgen import rendered_files
from mlops_operator.kube.rbac import CRD_READ_RULES, EDIT_RULES, LEADER_ELECTION_RULES, NAMESPACE_READ_RULES, VIEW_RULES, \
    operator_rules

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "mlops-operator"
# The first use builds helm from its Go module (minutes, once; cached afterwards).
pytestmark = pytest.mark.timeout(1800)


def _run(helm: Path, *args: str) -> subprocess.CompletedProcess:
    # KUBECONFIG=/dev/null: nothing here may reach a cluster, whatever the caller's environment.
    return subprocess.run([str(helm), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "KUBECONFIG": os.devnull})


def render(helm: Path, *args: str) -> dict[tuple[str, str, str | None], dict]:
    """`helm template` of the chart, keyed by (kind, name, namespace)."""
    result = _run(helm, "template", "mlops-operator", str(CHART), "--namespace", "mlops-system", *args)
    assert result.returncode == 0, result.stderr
    objects = {}
    for doc in yaml.safe_load_all(result.stdout):
        if doc:
            key = (doc["kind"], doc["metadata"]["name"], doc["metadata"].get("namespace"))
            assert key not in objects, f"{key} rendered twice"
            objects[key] = doc
    return objects


def refusal(helm: Path, *args: str) -> str:
    result = _run(helm, "template", "mlops-operator", str(CHART), *args)
    assert result.returncode != 0, f"helm accepted {args}"
    return result.stderr


def _grants(rules: list[dict]) -> set[tuple[str, str, str]]:
    return {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def _rules(*tables) -> set[tuple[str, str, str]]:
    return _grants([rule.as_dict() for table in tables for rule in table])


def _container(objects) -> dict:
    deployment = objects[("Deployment", "mlops-operator", "mlops-system")]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_chart_metadata_follows_the_project():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert (chart["apiVersion"], chart["type"], chart["version"]) == ("v2", "application", "0.1.0")
    assert chart["appVersion"] == version == mlops_operator.__version__
    assert not (CHART / "crds").exists()  # Helm's crds/ folder never upgrades CRDs: they are templates


def test_lint_strict_passes(helm):
    for args in ((), ("--set", "rbac.namespaces={team-a,team-b}")):
        result = _run(helm, "lint", "--strict", str(CHART), *args)
        assert result.returncode == 0, result.stdout + result.stderr


def test_defaults_render_the_operator_cluster_wide(helm):
    objects = render(helm)
    assert sorted({kind for kind, _, _ in objects}) == [
        "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Deployment", "PodDisruptionBudget", "Role",
        "RoleBinding", "Service", "ServiceAccount"]
    role = objects[("ClusterRole", "mlops-operator", None)]
    assert _grants(role["rules"]) == _rules(operator_rules(), CRD_READ_RULES)
    binding = objects[("ClusterRoleBinding", "mlops-operator", None)]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "mlops-operator"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "mlops-operator", "namespace": "mlops-system"}]
    assert ("ServiceAccount", "mlops-operator", "mlops-system") in objects
    container = _container(objects)
    assert container["image"] == "ghcr.io/mlops-operator/operator:0.1.0"
    assert container["command"] == ["python", "-m", "mlops_operator"]
    assert container["args"] == ["--all-namespaces", "--liveness=http://$(POD_IP):8080/healthz",
                                 "--metrics-address=$(POD_IP):8383", "--workers=4", "--leader-elect",
                                 "--leader-election-id=mlops-operator-leader", "--leader-elect-lease-duration=15",
                                 "--leader-elect-renew-deadline=10", "--leader-elect-retry-period=2"]
    downward = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"] if "valueFrom" in e}
    assert downward == {"POD_IP": "status.podIP", "POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
    deployment = objects[("Deployment", "mlops-operator", "mlops-system")]
    # Two replicas, one of which reconciles (the Lease's holder), replaced one at a time.
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate",
                                              "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "mlops-operator"
    # The Lease's permissions: a Role in the release's namespace only.
    election = objects[("Role", "mlops-operator-leader-election", "mlops-system")]
    assert _grants(election["rules"]) == _rules(LEADER_ELECTION_RULES) == {
        ("coordination.k8s.io", "leases", verb) for verb in ("get", "create", "update")}
    binding = objects[("RoleBinding", "mlops-operator-leader-election", "mlops-system")]
    assert binding["roleRef"]["name"] == "mlops-operator-leader-election"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "mlops-operator", "namespace": "mlops-system"}]


def test_without_leader_election_one_replica_is_recreated(helm):
    objects = render(helm, "--set", "leaderElection.enabled=false", "--set", "replicas=1")
    deployment = objects[("Deployment", "mlops-operator", "mlops-system")]
    assert (deployment["spec"]["replicas"], deployment["spec"]["strategy"]) == (1, {"type": "Recreate"})
    assert not any(arg.startswith("--leader-elect") for arg in _container(objects)["args"])
    assert not any(name.endswith("-leader-election") for _, name, _ in objects)
    # A lease duration no longer than the renew deadline would let a new leader start before the
    # old one stops: refused when rendering.
    assert "leaseDuration must be longer than renewDeadline" in refusal(helm, "--set", "leaderElection.renewDeadline=15")


def test_two_replicas_prefer_different_nodes_and_a_drain_takes_one_at_a_time(helm):
    objects = render(helm)
    pods = objects[("Deployment", "mlops-operator", "mlops-system")]["spec"]["selector"]["matchLabels"]
    budget = objects[("PodDisruptionBudget", "mlops-operator", "mlops-system")]["spec"]
    assert budget == {"maxUnavailable": 1, "selector": {"matchLabels": pods}}
    spread = objects[("Deployment", "mlops-operator", "mlops-system")]["spec"]["template"]["spec"]["affinity"]
    assert spread == {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                            "labelSelector": {"matchLabels": pods}}}]}}
    # A user's affinity replaces the default one; the budget can be left out.
    zone = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a"]}]}]}}}
    own = render(helm, "--set-json", f"affinity={json.dumps(zone)}", "--set", "podDisruptionBudget.enabled=false")
    assert own[("Deployment", "mlops-operator", "mlops-system")]["spec"]["template"]["spec"]["affinity"] == zone
    assert not any(kind == "PodDisruptionBudget" for kind, _, _ in own)
    # One replica: a budget of one unavailable pod would be no protection, nor is there anything to spread.
    single = render(helm, "--set", "leaderElection.enabled=false", "--set", "replicas=1")
    assert not any(kind == "PodDisruptionBudget" for kind, _, _ in single)
    assert "affinity" not in single[("Deployment", "mlops-operator", "mlops-system")]["spec"]["template"]["spec"]


def test_people_bound_to_view_edit_or_admin_get_the_four_kinds_but_never_write_status(helm):
    objects = render(helm)
    view = objects[("ClusterRole", "mlops-operator-view", None)]
    edit = objects[("ClusterRole", "mlops-operator-edit", None)]
    aggregated = {key for key, value in view["metadata"]["labels"].items()
                  if key.startswith("rbac.authorization.k8s.io/aggregate-to-") and value == "true"}
    assert aggregated == {f"rbac.authorization.k8s.io/aggregate-to-{role}" for role in ("view", "edit", "admin")}
    assert {k for k in edit["metadata"]["labels"] if k.startswith("rbac.authorization.k8s.io/")} == {
        "rbac.authorization.k8s.io/aggregate-to-edit", "rbac.authorization.k8s.io/aggregate-to-admin"}
    assert _grants(view["rules"]) == _rules(VIEW_RULES)
    assert _grants(edit["rules"]) == _rules(EDIT_RULES)
    plurals = ("datasets", "experiments", "models", "deployments")
    assert {(g, r, v) for g, r, v in _grants(view["rules"]) if v == "get"} == {
        ("mlops.dev", r, "get") for p in plurals for r in (p, f"{p}/status")}
    assert {r for _, r, _ in _grants(edit["rules"])} == set(plurals)  # no status, no other group
    for args in (("--set", "rbac.aggregateToDefaultRoles=false"), ("--set", "rbac.create=false")):
        assert not {name for kind, name, _ in render(helm, *args)} & {"mlops-operator-view", "mlops-operator-edit"}


def test_the_crds_are_crds_folder_plus_labels_and_keep(helm):
    objects = render(helm)
    crds = {name: doc for (kind, name, _), doc in objects.items() if kind == "CustomResourceDefinition"}
    for filename, text in rendered_files().items():
        expected = yaml.safe_load(text)
        got = crds.pop(expected["metadata"]["name"])
        assert got["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
        assert got["metadata"]["labels"]["app.kubernetes.io/instance"] == "mlops-operator"
        assert {**got, "metadata": {"name": got["metadata"]["name"]}} == expected, filename
    assert not crds
    unkept = render(helm, "--set", "crds.keep=false")
    assert all("annotations" not in doc["metadata"] for (kind, _, _), doc in unkept.items()
               if kind == "CustomResourceDefinition")
    assert not any(kind == "CustomResourceDefinition" for kind, _, _ in render(helm, "--set", "crds.enabled=false"))


def test_namespaced_rbac_is_a_role_in_each_namespace(helm):
    objects = render(helm, "--set", "rbac.namespaces={team-a,team-b}")
    for namespace in ("team-a", "team-b"):
        role = objects[("Role", "mlops-operator", namespace)]
        assert _grants(role["rules"]) == _rules(operator_rules())
        binding = objects[("RoleBinding", "mlops-operator", namespace)]
        assert binding["roleRef"]["kind"] == "Role"
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "mlops-operator", "namespace": "mlops-system"}]
    reads = objects[("ClusterRole", "mlops-operator-cluster-reads", None)]
    assert _grants(reads["rules"]) == _rules(CRD_READ_RULES, NAMESPACE_READ_RULES)
    assert ("ClusterRole", "mlops-operator", None) not in objects
    assert _container(objects)["args"][:2] == ["--namespace=team-a", "--namespace=team-b"]
    assert "--all-namespaces" not in _container(objects)["args"]

    strict = render(helm, "--set", "rbac.namespaces={team-a}", "--set", "rbac.clusterReads=false",
                    "--set", "rbac.aggregateToDefaultRoles=false")
    assert not any(kind.startswith("Cluster") for kind, _, _ in strict)


def test_rbac_and_service_account_can_be_left_to_the_user(helm):
    objects = render(helm, "--set", "rbac.create=false", "--set", "serviceAccount.create=false",
                     "--set", "serviceAccount.name=ops")
    assert not any("Role" in kind or kind == "ServiceAccount" for kind, _, _ in objects)
    assert objects[("Deployment", "mlops-operator", "mlops-system")]["spec"]["template"]["spec"][
        "serviceAccountName"] == "ops"
    assert "serviceAccount.name is required" in refusal(helm, "--set", "serviceAccount.create=false")


@pytest.mark.parametrize("args, message", [
    (("--set", "foo=bar"), "at '': additional properties 'foo' not allowed"),
    (("--set", "crds.enable=true"), "at '/crds': additional properties 'enable' not allowed"),
    (("--set", "crds.keep=yes"), "at '/crds/keep': got string, want boolean"),
    (("--set", "leaderElection.enabled=false"), "at '/replicas': value must be 1"),
    (("--set", "replicas=0"), "at '/replicas': minimum: got 0, want 1"),
    (("--set", "leaderElection.retryPeriod=0"), "at '/leaderElection/retryPeriod': minimum: got 0, want 1"),
    (("--set", "operator.workers=0"), "at '/operator/workers': minimum: got 0, want 1"),
    (("--set", "operator.logLevel=loud"), "value must be one of 'info', 'verbose', 'debug'"),
    (("--set", "image.pullPolicy=Sometimes"), "value must be one of"),
    (("--set", "rbac.namespaces={Team_A}"), "does not match pattern"),
    (("--set", "rbac.namespaces={team-*}"), "does not match pattern"),
    (("--set", "resources.limits.memory=lots"), "does not match pattern"),
    (("--set", "resources.limits.gpu=1"), "additional properties 'gpu' not allowed"),
    (("--set", "operator.healthPort=80"), "minimum"),
    (("--set", "operator.metricsPort=99999"), "maximum"),
    (("--set", "metrics.service.enable=false"), "additional properties 'enable' not allowed"),
    (("--set", "podDisruptionBudget.minAvailable=1"), "additional properties 'minAvailable' not allowed"),
    (("--set", "rbac.aggregateToDefaultRoles=yes"), "at '/rbac/aggregateToDefaultRoles': got string, want boolean"),
    (("--set-json", 'tolerations=[{"key":"a","operator":"Maybe"}]'), "value must be one of"),
    (("--set", "canaryAnalysis.prometheusAddresses={prometheus:9090}"), "does not match pattern"),
    (("--set", "canaryAnalysis.prometheusAddresses={http://u:p@prometheus:9090}"), "does not match pattern"),
])
def test_values_outside_the_schema_are_refused_with_its_message(helm, args, message):
    stderr = refusal(helm, *args)
    assert "values don't meet the specifications of the schema" in stderr
    assert message in stderr, stderr


def test_canary_analyses_may_query_only_the_listed_prometheus(helm):
    default = _container(render(helm))["args"]
    assert not [a for a in default if a.startswith("--prometheus-address")]  # none allowed by default
    listed = _container(render(helm, "--set", "canaryAnalysis.prometheusAddresses={http://prometheus-operated."
                                              "monitoring:9090,https://thanos.monitoring/q}"))["args"]
    assert [a for a in listed if a.startswith("--prometheus-address")] == [
        "--prometheus-address=http://prometheus-operated.monitoring:9090",
        "--prometheus-address=https://thanos.monitoring/q"]


def test_the_operator_listens_on_the_pods_address_only(helm):
    container = _container(render(helm, "--set", "operator.healthPort=9440", "--set", "operator.metricsPort=9441"))
    assert {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}} in container["env"]
    assert "--liveness=http://$(POD_IP):9440/healthz" in container["args"]
    assert "--metrics-address=$(POD_IP):9441" in container["args"]
    assert "0.0.0.0" not in yaml.safe_dump(container)
    assert container["ports"] == [{"name": "health", "containerPort": 9440, "protocol": "TCP"},
                                  {"name": "metrics", "containerPort": 9441, "protocol": "TCP"}]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}


def test_an_api_server_restart_does_not_restart_the_operator(helm):
    """/healthz says 503 once the API server has not answered for 5 s (logic/liveness.py); the
    kubelet restarts the container only after about a minute of 503s, not for a 10-20 s restart."""
    probe = _container(render(helm))["livenessProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 60
    assert probe["timeoutSeconds"] > 3  # the endpoint's own check of the API server times out at 3 s


def test_the_metrics_service_selects_the_operator_pod_and_its_metrics_port(helm):
    objects = render(helm)
    service = objects[("Service", "mlops-operator-metrics", "mlops-system")]
    pod_labels = objects[("Deployment", "mlops-operator", "mlops-system")]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 8383, "targetPort": "metrics", "protocol": "TCP"}]
    assert ("Service", "mlops-operator-metrics", "mlops-system") not in render(
        helm, "--set", "metrics.service.enabled=false")


def test_the_operators_pod_asks_prometheus_to_scrape_its_metrics_port(helm):
    def annotations(*args: str) -> dict[str, str]:
        deployment = render(helm, *args)[("Deployment", "mlops-operator", "mlops-system")]
        return deployment["spec"]["template"]["metadata"]["annotations"]

    assert annotations() == {"prometheus.io/scrape": "true", "prometheus.io/port": "8383",
                             "prometheus.io/path": "/metrics"}
    assert annotations("--set", "operator.metricsPort=9441")["prometheus.io/port"] == "9441"
    # podAnnotations add to them and replace them: scraping can be turned off.
    assert annotations("--set", "podAnnotations.team=ml", "--set-string",
                       "podAnnotations.prometheus\\.io/scrape=false") == {
        "prometheus.io/scrape": "false", "prometheus.io/port": "8383", "prometheus.io/path": "/metrics", "team": "ml"}


def test_the_operators_pod_passes_pod_security_restricted(helm):
    """The restricted profile's checks (pod-security-admission, v1.36) on the rendered pod."""
    pod = render(helm)[("Deployment", "mlops-operator", "mlops-system")]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"].get("runAsUser") != 0
    assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod)
    allowed_volumes = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                       "projected", "secret"}
    for volume in pod.get("volumes", []):
        assert set(volume) - {"name"} <= allowed_volumes, volume
    for container in pod["containers"] + pod.get("initContainers", []):
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert not security["capabilities"].get("add")
        assert security.get("privileged") is not True
        assert security.get("runAsUser") != 0
        assert security["readOnlyRootFilesystem"] is True  # beyond restricted: the operator writes nothing
        assert not any(port.get("hostPort") for port in container.get("ports", []))
        assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["cpu"]


def test_notes_say_what_was_installed_and_how_to_check_it(helm):
    result = _run(helm, "install", "mlops-operator", str(CHART), "--dry-run=client", "--namespace", "mlops-system",
                  "--set", "rbac.namespaces={team-a}")
    assert result.returncode == 0, result.stderr
    notes = result.stdout[result.stdout.index("NOTES:"):]
    assert "watches the namespaces team-a" in notes
    assert "kubectl -n mlops-system rollout status deployment/mlops-operator" in notes
    assert "kubectl get mlops -n team-a" in notes
    assert re.search(r"kubectl wait --for=condition=Ready experiment/\S+", notes)
