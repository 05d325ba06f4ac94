"""The chart's monitoring objects (off by default): the ServiceMonitor of the operator's metrics
Service, the PodMonitor of the model servers, the PrometheusRule of files/alerts.yaml with the
release's settings, and the dashboard's ConfigMap."""

import json

import pytest
import yaml
from chart.test_chart import CHART, _run, refusal, render

from builders import meta
from mlops_operator.api.dataset import DatasetSpec
from mlops_operator.api.deployment import DeploymentSpec
from mlops_operator.api.model import Artifact
from mlops_operator.resources.jobs import validation_job
from mlops_operator.resources.serving import Served, server_deployment

FILES = CHART / "files"
MONITORING = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
ALL_ON = ("--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.podMonitor.enabled=true",
          "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.dashboard.enabled=true")
pytestmark = pytest.mark.timeout(1800)  # the first use builds helm


def _one(objects: dict, kind: str) -> dict:
    (found,) = [doc for (k, _, _), doc in objects.items() if k == kind]
    return found


def _selects(selector: dict, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector, as far as the chart uses it (matchLabels, Exists)."""
    assert {e["operator"] for e in selector.get("matchExpressions", [])} <= {"Exists"}
    return (selector.get("matchLabels", {}).items() <= labels.items()
            and all(e["key"] in labels for e in selector.get("matchExpressions", [])))


def test_nothing_for_prometheus_or_grafana_by_default(helm):
    objects = render(helm)
    assert not MONITORING & {kind for kind, _, _ in objects}
    assert not any(kind == "ConfigMap" for kind, _, _ in objects)


def test_lint_strict_passes_with_everything_on(helm):
    result = _run(helm, "lint", "--strict", str(CHART), *ALL_ON)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_service_monitor_scrapes_the_metrics_service_keeping_the_objects_namespaces(helm):
    objects = render(helm, *ALL_ON, "--set", "metrics.serviceMonitor.labels.release=prometheus",
                     "--set", "metrics.serviceMonitor.interval=15s")
    monitor = objects[("ServiceMonitor", "mlops-operator", "mlops-system")]
    service = objects[("Service", "mlops-operator-metrics", "mlops-system")]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert _selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["mlops-system"]}
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "honorLabels": True,
                                             "interval": "15s"}]
    assert [port["name"] for port in service["spec"]["ports"]] == ["metrics"]
    stderr = refusal(helm, "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.service.enabled=false")
    assert "metrics.serviceMonitor.enabled needs metrics.service.enabled" in stderr


def test_the_pod_monitor_selects_the_model_servers_only(helm):
    monitor = _one(render(helm, *ALL_ON), "PodMonitor")
    spec = DeploymentSpec.model_validate({"modelRef": {"name": "cancer-v3"}})
    served = Served("cancer-v3", "cancer", "3", Artifact.model_validate({"uri": "file:///m.joblib", "format": "sklearn"}))
    server = server_deployment(meta("Deployment", "cancer", "uid-1"), spec, served, None, 2)["spec"]["template"]
    assert _selects(monitor["spec"]["selector"], server["metadata"]["labels"])
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint == {"port": "http", "path": "/metrics"}
    assert endpoint["port"] in {port["name"] for port in server["spec"]["containers"][0]["ports"]}
    # The operator's Jobs (here a Dataset's validation) carry the managed-by label too.
    dataset = DatasetSpec.model_validate({"source": {"uri": "file:///d.csv"}, "format": "csv"})
    job = validation_job(meta("Dataset", "data", "uid-2"), dataset, "data-validate-g1-1", 1)
    assert not _selects(monitor["spec"]["selector"], job["spec"]["template"]["metadata"]["labels"])
    assert monitor["spec"]["namespaceSelector"] == {"any": True}
    namespaced = _one(render(helm, *ALL_ON, "--set", "rbac.namespaces={team-a,team-b}"), "PodMonitor")
    assert namespaced["spec"]["namespaceSelector"] == {"matchNames": ["team-a", "team-b"]}


def test_the_prometheus_rule_is_the_rule_file_with_the_defaults(helm):
    rule = render(helm, *ALL_ON, "--set", "metrics.prometheusRule.labels.release=prometheus")[
        ("PrometheusRule", "mlops-operator", "mlops-system")]
    assert rule["metadata"]["labels"]["release"] == "prometheus"
    assert rule["spec"] == {"groups": yaml.safe_load((FILES / "alerts.yaml").read_text())["groups"]}


def test_the_prometheus_rule_takes_the_releases_settings(helm):
    result = _run(helm, "template", "prod", str(CHART), "--namespace", "ops", *ALL_ON,
                  "--set", "metrics.prometheusRule.settings.staleAliases=champion|production",
                  "--set", "metrics.prometheusRule.settings.staleAliasDays=7",
                  "--set", "metrics.prometheusRule.settings.serverErrorsFor=30m",
                  "--show-only", "templates/prometheusrule.yaml")
    assert result.returncode == 0, result.stderr
    rules = {r["alert"]: r for group in yaml.safe_load(result.stdout)["spec"]["groups"] for r in group["rules"]}
    # The job of this release's ServiceMonitor: its Service's name.
    assert rules["MlopsOperatorDown"]["expr"] == 'absent(up{job="prod-mlops-operator-metrics"} == 1)'
    assert 'alias=~"champion|production"' in rules["MlopsModelAliasStale"]["expr"]
    assert rules["MlopsModelAliasStale"]["expr"].endswith("> 7 * 86400")
    assert rules["MlopsServerErrors"]["for"] == "30m"
    own_job = _run(helm, "template", "prod", str(CHART), *ALL_ON, "--show-only", "templates/prometheusrule.yaml",
                   "--set", "metrics.prometheusRule.settings.operatorJob=kubernetes-pods")
    assert 'up{job="kubernetes-pods"}' in own_job.stdout


def test_the_dashboard_config_map_holds_the_dashboard_for_grafanas_sidecar(helm):
    config_map = render(helm, *ALL_ON, "--set", "metrics.dashboard.annotations.grafana_folder=MLOps")[
        ("ConfigMap", "mlops-operator-dashboard", "mlops-system")]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["annotations"] == {"grafana_folder": "MLOps"}
    assert json.loads(config_map["data"]["mlops-operator.json"]) == json.loads((FILES / "dashboard.json").read_text())


@pytest.mark.parametrize("args, message", [
    (("--set", "metrics.podMonitor.enable=true"), "additional properties 'enable' not allowed"),
    (("--set", "metrics.serviceMonitor.interval=often"), "does not match pattern"),
    (("--set", "metrics.prometheusRule.settings.serverErrorRatio=2"), "maximum"),
    (("--set", "metrics.prometheusRule.settings.workQueueFor=15"), "got number, want string"),
    (("--set", "metrics.prometheusRule.settings.workQueueFor=15min"), "does not match pattern"),
    (("--set", "metrics.prometheusRule.settings.staleAliases=a\"b"), "does not match pattern"),
    (("--set", "metrics.prometheusRule.settings.latency=1"), "additional properties 'latency' not allowed"),
])
def test_monitoring_values_outside_the_schema_are_refused(helm, args, message):
    assert message in refusal(helm, *args)


def test_every_setting_fills_a_placeholder():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    template = (FILES / "alerts.yaml.in").read_text()
    assert all(f"@{name}@" in template for name in values["metrics"]["prometheusRule"]["settings"])

