"""A Deployment's whole decision: its children, the writes it skips when nothing changed, and what
status says (kstatus, the conditions machines read)."""

from mlops_operator.api.deployment import DeploymentSpec
from mlops_operator.api.model import ModelSpec
from mlops_operator.logic.deployment.children import PodFacts, ServerFacts
from mlops_operator.logic.deployment.plan import DeploymentWorld, plan
from mlops_operator.logic.deployment.target import ModelFacts
from mlops_operator.logic.patch import applied

from builders import NOW, meta, server_side_applied
from kstatus import CURRENT, FAILED, IN_PROGRESS, compute

OWNER = meta("Deployment", "churn", "uid-d")
SIGNATURE = '{"inputs":[{"datatype":"FP64","name":"a","nullable":true}],"target":"y"}'


def model(name: str, aliases: list[str] | None = None, fmt: str = "sklearn") -> ModelFacts:
    spec = ModelSpec.model_validate({"modelName": "churn", "version": name, "artifact": {
        "uri": f"file:///m/{name}.joblib", "format": fmt}})
    return ModelFacts(meta("Model", name, f"uid-{name}"), spec, {"aliases": aliases or []})


def spec(**extra) -> DeploymentSpec:
    return DeploymentSpec.model_validate({"modelRef": {"modelName": "churn"}, "replicas": 2, **extra})


def world(status=None, servers=(), pods=None, children=None, models=None, **extra) -> DeploymentWorld:
    return DeploymentWorld(OWNER, extra.pop("spec", spec()), status or {},
                           models if models is not None else [model("v1", ["champion"])], list(servers), pods or {},
                           {"v1": SIGNATURE, "v2": SIGNATURE}, children or {}, NOW, **extra)


def as_observed(manifest: dict, ready: int = 0) -> ServerFacts:
    applied_ = server_side_applied(manifest)
    body = {**applied_, "metadata": {**applied_["metadata"], "generation": 1},
            "status": {"readyReplicas": ready, "observedGeneration": 1}}
    return ServerFacts.of(body)


def kstatus(status: dict) -> tuple[str, str]:
    return compute({"metadata": {"generation": 1}, "status": status})


def test_nothing_to_serve_yet_waits_for_the_alias():
    decided = plan(world(models=[model("v1")]))
    status = applied({}, decided.status)
    assert status["phase"] == "Waiting" and kstatus(status) == (IN_PROGRESS, "R3")
    assert "no version of churn holds alias champion" in status["conditions"][0]["message"]
    assert [m["kind"] for m in decided.apply] == ["Service"]


def test_the_champion_gets_servers_a_service_and_a_url():
    decided = plan(world())
    server, service = decided.apply
    assert server["metadata"]["name"] == "churn-v1" and server["spec"]["replicas"] == 2
    container = server["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MLOPS_MODEL_URI"] == "file:///m/v1.joblib" and env["MLOPS_SERVING_SIGNATURE"] == SIGNATURE
    assert env["MLOPS_MODEL_NAME"] == "churn" and env["MLOPS_SERVER_ADDRESS"] is None  # from status.podIP
    pod = server["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert service["spec"]["selector"]["mlops.dev/owner-uid"] == "uid-d"
    status = applied({}, decided.status)
    assert status["url"] == "http://churn.ns.svc:8080" and status["stableModel"] == "v1"
    assert status["phase"] == "Starting" and kstatus(status) == (IN_PROGRESS, "R3")


def test_serving_writes_nothing_when_nothing_changed():
    first = plan(world())
    server, service = first.apply
    status = applied({}, first.status)
    steady = world(status=status, servers=[as_observed(server, ready=2)], pods={"v1": PodFacts(ready=2)},
                   children={("Service", "churn"): server_side_applied(service)})
    decided = plan(steady)
    status = applied(status, decided.status)
    assert status["phase"] == "Serving" and kstatus(status) == (CURRENT, "R5")
    again = plan(world(status=status, servers=[as_observed(server, ready=2)], pods={"v1": PodFacts(ready=2)},
                       children={("Service", "churn"): server_side_applied(service)}))
    assert (again.apply, again.delete, again.status, again.events) == ([], [], {}, [])


def test_a_service_port_rewritten_by_hand_is_made_again_other_edits_are_applied_back():
    first = plan(world())
    server, service = first.apply
    status = applied({}, first.status)
    observed = server_side_applied(service)
    rewritten = {**observed, "metadata": dict(observed["metadata"]),
                 "spec": {**observed["spec"], "ports": [{**service["spec"]["ports"][0], "port": 9090}]}}
    rewritten["metadata"]["managedFields"] = [
        {**observed["metadata"]["managedFields"][0], "fieldsV1": {"f:metadata": observed["metadata"][
            "managedFields"][0]["fieldsV1"]["f:metadata"], "f:spec": {"f:selector": {}, "f:type": {}}}},
        {"manager": "kubectl-patch", "operation": "Update", "fieldsV1": {"f:spec": {"f:ports": {
            'k:{"port":9090,"protocol":"TCP"}': {".": {}, "f:port": {}}}}}}]

    def decided(observed_service: dict):
        return plan(world(status=status, servers=[as_observed(server, ready=2)], pods={"v1": PodFacts(ready=2)},
                          children={("Service", "churn"): observed_service}))

    again = decided(rewritten)
    assert [(d.kind, d.name) for d in again.delete] == [("Service", "churn")]
    assert [m["kind"] for m in again.apply] == ["Service"] and again.apply[0]["spec"]["ports"][0]["port"] == 8080
    reselected = {**observed, "metadata": dict(observed["metadata"]),
                  "spec": {**observed["spec"], "selector": {"app": "other"}}}
    mine = observed["metadata"]["managedFields"][0]
    reselected["metadata"]["managedFields"] = [
        {**mine, "fieldsV1": {**mine["fieldsV1"], "f:spec": {k: v for k, v in mine["fieldsV1"]["f:spec"].items()
                                                             if k != "f:selector"}}},
        {"manager": "kubectl-patch", "operation": "Update", "fieldsV1": {"f:spec": {"f:selector": {}}}}]
    reverted = decided(reselected)
    assert reverted.delete == [] and [m["kind"] for m in reverted.apply] == ["Service"]


def test_a_new_champion_rolls_out_as_a_canary_and_a_rollback_is_stalled():
    canary_spec = spec(strategy={"canary": {"steps": [{"weight": 50, "pause": "1m"}]}})
    first = plan(world(spec=canary_spec))
    server, service = first.apply
    status = applied({}, first.status)
    models = [model("v1"), model("v2", ["champion"])]
    rolling = plan(world(spec=canary_spec, status=status, servers=[as_observed(server, 2)],
                         pods={"v1": PodFacts(ready=2)}, children={("Service", "churn"): server_side_applied(service)}, models=models))
    status = applied(status, rolling.status)
    assert status["canary"]["model"] == "v2" and status["phase"] == "RollingOut"
    assert [m["metadata"]["name"] for m in rolling.apply] == ["churn-v1", "churn-v2"]
    assert kstatus(status) == (IN_PROGRESS, "R3")
    canary_server = next(m for m in rolling.apply if m["metadata"]["name"] == "churn-v2")
    failing = plan(world(spec=canary_spec, status=status, servers=[as_observed(server, 1), as_observed(canary_server)],
                         pods={"v1": PodFacts(ready=1), "v2": PodFacts(restarts=3)},
                         children={("Service", "churn"): server_side_applied(service)}, models=models))
    status = applied(status, failing.status)
    assert status["phase"] == "Degraded" and kstatus(status) == (FAILED, "R4")
    assert [d.name for d in failing.delete] == ["churn-v2"]
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True" and "restarted 3 times" in degraded["message"]
    available = next(c for c in status["conditions"] if c["type"] == "Available")
    assert available["status"] == "True"


def test_a_custom_artifact_without_a_server_of_its_own_is_stalled():
    status = applied({}, plan(world(models=[model("v1", ["champion"], fmt="custom")])).status)
    assert kstatus(status) == (FAILED, "R4") and "artifact.format custom" in status["conditions"][0]["message"]


def hand_edited_image(manifest: dict, replicas_by: str | None = None) -> ServerFacts:
    """The server as the operator applied it, its image then set by hand; replicas_by, when given,
    is the manager that wrote spec.replicas since (taking the field from the operator)."""
    observed = as_observed(manifest)
    body = observed.body
    containers = body["spec"]["template"]["spec"]["containers"]
    containers[0] = {**containers[0], "image": "by-hand"}
    mine = body["metadata"]["managedFields"][0]["fieldsV1"]
    del mine["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"server"}']["f:image"]
    if replicas_by:
        del mine["f:spec"]["f:replicas"]
        body["metadata"]["managedFields"].append({"manager": replicas_by, "operation": "Update",
                                                  "fieldsV1": {"f:spec": {"f:replicas": {}}}})
    return ServerFacts.of(body)


def test_autoscaling_leaves_the_stable_count_to_the_autoscaler_once_it_wrote_it():
    scaled = spec(autoscaling={"minReplicas": 2, "maxReplicas": 5})
    first = plan(world(spec=scaled))
    server = first.apply[0]
    assert server["spec"]["replicas"] == 2 and first.apply[2]["kind"] == "HorizontalPodAutoscaler"
    status = applied({}, first.status)
    grown = dict(server, spec={**server["spec"], "replicas": 4})

    def reapplied(observed: ServerFacts) -> dict:
        decided = plan(world(spec=scaled, status=status, servers=[observed], pods={"v1": PodFacts(ready=4)}))
        return next(m for m in decided.apply if m["kind"] == "Deployment")

    # The autoscaler wrote the count: the image is put back, the count left out (and so left alone).
    assert "replicas" not in reapplied(hand_edited_image(grown, replicas_by="kube-controller-manager"))["spec"]
    # The operator still owns it (the autoscaler never wrote it): leaving it out would reset it to 1.
    assert reapplied(hand_edited_image(grown))["spec"]["replicas"] == 4


CANARY_WITH_PROMETHEUS = {"canary": {"steps": [{"weight": 50, "pause": "1m"}], "analysis": {
    "prometheus": {"address": "http://169.254.169.254/latest", "query": "up", "max": 1}}}}


def test_an_analysis_asking_for_a_prometheus_not_allowed_changes_nothing_and_says_why():
    refused = world(spec=spec(strategy=CANARY_WITH_PROMETHEUS),
                    prometheus_allowed=("http://prometheus.monitoring:9090",))
    decided = plan(refused)
    assert (decided.apply, decided.delete) == ([], [])
    ready = {c["type"]: c for c in applied({}, decided.status)["conditions"]}
    assert ready["Ready"]["reason"] == "PrometheusNotAllowed" and ready["Stalled"]["status"] == "True"
    message = ready["Ready"]["message"]
    assert "spec.strategy.canary.analysis.prometheus.address 'http://169.254.169.254/latest'" in message
    assert "allowed: http://prometheus.monitoring:9090" in message
    assert [e.reason for e in decided.events] == ["PrometheusNotAllowed"]
    allowed = world(spec=spec(strategy=CANARY_WITH_PROMETHEUS), prometheus_allowed=("http://169.254.169.254/latest",))
    assert [m["kind"] for m in plan(allowed).apply] == ["Deployment", "Service"]
