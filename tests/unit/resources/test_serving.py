"""The model servers' Deployment as Prometheus sees it: its pods announce their /metrics."""

from mlops_operator.api.deployment import DeploymentSpec
from mlops_operator.api.model import Artifact
from mlops_operator.resources.serving import Served, server_deployment

from builders import meta

OWNER = meta("Deployment", "churn", "uid-d")
SERVED = Served("churn-v1", "churn", "1", Artifact(uri="file:///m/v1.joblib"))


def pod_annotations(**spec) -> dict[str, str]:
    deployment_spec = DeploymentSpec.model_validate({"modelRef": {"modelName": "churn"}, **spec})
    return server_deployment(OWNER, deployment_spec, SERVED, None, 1)["spec"]["template"]["metadata"]["annotations"]


def test_server_pods_ask_to_be_scraped_on_their_http_port():
    assert pod_annotations() == {"prometheus.io/scrape": "true", "prometheus.io/port": "8080",
                                 "prometheus.io/path": "/metrics"}
    assert pod_annotations(server={"port": 9000})["prometheus.io/port"] == "9000"


def test_the_users_pod_annotations_win_so_scraping_can_be_turned_off():
    annotations = pod_annotations(pod={"annotations": {"prometheus.io/scrape": "false", "team": "ml"}})
    assert annotations["prometheus.io/scrape"] == "false" and annotations["team"] == "ml"
    assert annotations["prometheus.io/port"] == "8080"
