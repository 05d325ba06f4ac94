"""Observability end to end with a real Prometheus (the `prometheus` fixture: hack/prometheus.py in
the local cluster's control-plane namespace, finding pods by its Kubernetes discovery): the model
servers' metrics answer PromQL; a canary analysis asks that Prometheus at every step, rolling back
a version whose servers see inputs outside the training data; the chart's operator pod is scraped,
and pods reach Prometheus as the in-cluster operator does; the chart's alert rules evaluate."""

import json
import subprocess
from pathlib import Path

import fsspec
import joblib
import pytest
from sklearn.linear_model import LogisticRegression

from mlops_operator.runtime.examples.common import TARGET, breast_cancer_frame

from pipeline import apply, condition, dataset, events_once_posted, experiment, script_trainer, status, write_csv
from prometheus import CHART_RULES
import predictions
from predictions import Answer, Traffic
from support import get_json, lease_holder_pod, wait_for

# The first use of the `prometheus` fixture may build Prometheus from its Go module (minutes, once).
pytestmark = [pytest.mark.cluster, pytest.mark.restricted, pytest.mark.timeout(900)]

FEATURE = "mean_radius"  # the training Dataset's one feature column; its rule bounds what the servers expect
LOW, HIGH = 5.0, 30.0
USUAL, DRIFTED = [12.0, 17.5, 20.1], [75.0, 80.0, 95.0]  # the breast-cancer data's radii lie in 6.98-28.11
SCRAPE_SECONDS = 30  # a few 2s scrape intervals, and the discovery of a new pod


def saved(folder: Path, name: str) -> str:
    """A classifier on FEATURE (fitted on a named column, so its servers check that input)."""
    frame = breast_cancer_frame()
    estimator = LogisticRegression(max_iter=1000).fit(frame[[FEATURE]], frame[TARGET])
    uri = f"file://{folder / name / 'model.joblib'}"
    with fsspec.open(uri, "wb", auto_mkdir=True) as f:
        joblib.dump(estimator, f)
    return uri


def training_data(folder: Path) -> dict:
    """The Dataset the versions were trained on: their servers take its columns, within its rule."""
    return dataset("radii", write_csv(folder / "data.csv"), validation={
        "minRows": 100, "rules": [{"name": "radius", "column": FEATURE, "min": LOW, "max": HIGH}]})


def version(name: str, number: str, uri: str) -> dict:
    return {"apiVersion": "mlops.dev/v1alpha1", "kind": "Model", "metadata": {"name": name},
            "spec": {"modelName": "cancer", "version": number, "artifact": {"uri": uri}, "aliases": ["champion"],
                     "lineage": {"dataset": "radii"}}}


def deployment(replicas: int, analysis: dict | None = None, pause: str = "1h") -> dict:
    return {"apiVersion": "mlops.dev/v1alpha1", "kind": "Deployment", "metadata": {"name": "cancer"},
            "spec": {"modelRef": {"modelName": "cancer"}, "replicas": replicas,
                     "strategy": {"canary": {"steps": [{"weight": 50, "pause": pause}],
                                             "analysis": {"minRequests": 5, **(analysis or {})},
                                             "progressDeadlineSeconds": 90}}}}


def infer(address: str, radii: list[float]) -> Answer:
    """One prediction through the Service."""
    return predictions.infer(address, "cancer", [{"name": FEATURE, "shape": [len(radii)], "datatype": "FP64",
                                                     "data": radii}])


def serving(cluster, namespace, model: str) -> dict | None:
    current = status(cluster, namespace, "mldeploy", "cancer")
    ready = condition(current, "Ready").get("status") == "True"
    return current if ready and current.get("stableModel") == model and not current.get("canary") else None


def start_serving(cluster, namespace, tmp_path, replicas: int, analysis: dict | None = None, pause: str = "1h") -> str:
    """v1 served behind the Service; returns the Service's ClusterIP:port."""
    apply(cluster, namespace, training_data(tmp_path))  # first: a version's servers take its columns at creation
    apply(cluster, namespace, version("v1", "1", saved(tmp_path, "v1")))
    apply(cluster, namespace, deployment(replicas, analysis, pause))
    wait_for(lambda: serving(cluster, namespace, "v1"), 120, "v1 serving")
    service = get_json(cluster, namespace, "service", "cancer")
    return f"{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"


def pod_ip(cluster, namespace, pod: str) -> str:
    return get_json(cluster, namespace, "pod", pod)["status"]["podIP"]


def numbers(prometheus, expr: str) -> dict[tuple[tuple[str, str], ...], float]:
    """An instant query's series, keyed by their labels."""
    return {tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in prometheus.query(expr)}


def test_model_server_metrics_reach_prometheus_through_its_kubernetes_discovery(cluster, namespace, operator,
                                                                                prometheus, tmp_path):
    operator.start()
    address = start_serving(cluster, namespace, tmp_path, replicas=1)
    sent = [infer(address, USUAL) for _ in range(5)]
    assert sent == [(200, "1")] * 5, sent
    (pod,) = [p["metadata"]["name"] for p in get_json(cluster, namespace, "pods", "-l", "mlops.dev/model=v1")["items"]]

    requests = f'sum by (model, version) (mlops_server_requests_total{{namespace="{namespace}",outcome="success"}})'
    wait_for(lambda: numbers(prometheus, requests) == {(("model", "cancer"), ("version", "1")): 5.0}, SCRAPE_SECONDS,
             f"Prometheus to count the 5 predictions: {requests}")
    up = numbers(prometheus, f'up{{namespace="{namespace}"}}')
    assert up == {(("__name__", "up"), ("instance", f"{pod_ip(cluster, namespace, pod)}:8080"),
                   ("job", "kubernetes-pods"), ("namespace", namespace), ("pod", pod)): 1.0}, up
    # Found by Prometheus' own Kubernetes discovery (role pod), through the pod's annotations.
    (target,) = [t for t in prometheus.targets() if t["labels"].get("namespace") == namespace]
    assert target["health"] == "up" and target["scrapeUrl"].endswith(":8080/metrics"), target
    discovered = target["discoveredLabels"]
    assert discovered["__meta_kubernetes_pod_name"] == pod
    assert discovered["__meta_kubernetes_pod_annotation_prometheus_io_scrape"] == "true"


def violations_of(namespace: str, version_: str) -> str:
    """The canary analysis' query: inputs the version's servers saw outside the training data's schema
    (0 before any: the series exist only from the first violation)."""
    return f'sum(mlops_server_schema_violations_total{{namespace="{namespace}",version="{version_}"}}) or vector(0)'


def test_a_canary_whose_servers_see_inputs_outside_the_training_data_is_rolled_back_by_its_prometheus_query(
        cluster, namespace, operator, prometheus, tmp_path):
    def analysis(version_: str) -> dict:
        return {"prometheus": {"address": prometheus.address, "query": violations_of(namespace, version_), "max": 0}}

    operator.start("--prometheus-address", prometheus.address)  # the one Prometheus analyses may query
    # The control: usual inputs, the query answers 0, within its max: v2 rolls out after its step's pause.
    address = start_serving(cluster, namespace, tmp_path, replicas=2, analysis=analysis("2"), pause="5s")
    radii = list(USUAL)  # what the stream sends; changed on the way
    traffic = Traffic(lambda: infer(address, radii), interval=0.1)
    apply(cluster, namespace, version("v2", "2", saved(tmp_path, "v2")))
    wait_for(lambda: serving(cluster, namespace, "v2"), 120, "v2 rolled out under its query's max")
    assert numbers(prometheus, violations_of(namespace, "2")) == {(): 0.0}

    # Drifted inputs reach v3's canary pod: Prometheus counts them, the operator's query gives more
    # than 0 and the rollout is given up, while v2 answers all along. The step's pause is long, so
    # only the analysis can end the step.
    long_step = {"steps": [{"weight": 50, "pause": "1h"}], "analysis": analysis("3")}
    cluster.kubectl("patch", "mldeploy", "cancer", "--type=merge", "-p",
                    json.dumps({"spec": {"strategy": {"canary": long_step}}}), namespace=namespace)
    apply(cluster, namespace, version("v3", "3", saved(tmp_path, "v3")))
    radii[:] = DRIFTED

    def rolled_back() -> dict | None:
        current = status(cluster, namespace, "mldeploy", "cancer")
        given_up = (current.get("rolledBack") or {}).get("model") == "v3"
        return current if given_up and current.get("phase") == "Degraded" else None

    after = wait_for(rolled_back, 120, "v3 rolled back on its Prometheus query")
    assert after["stableModel"] == "v2" and not after.get("canary")
    degraded = condition(after, "Degraded")["message"]
    assert "analysis.prometheus query gave" in degraded and "above its max 0" in degraded, degraded
    assert numbers(prometheus, violations_of(namespace, "3"))[()] > 0
    assert any(reason == "RolledBack" and "v3" in message
               for reason, message in events_once_posted(cluster, namespace, "cancer", "RolledBack"))
    # v2 keeps serving, drifted inputs included (drift is answered, and counted): nothing failed.
    wait_for(lambda: not get_json(cluster, namespace, "pods", "-l", "mlops.dev/model=v3")["items"], 60,
             "v3's pods gone")
    answered = len(traffic.answers)
    wait_for(lambda: len(traffic.answers) > answered + 10, 30, "more predictions")
    answers = traffic.finish()
    assert all(code == 200 for code, _ in answers), [a for a in answers if a[0] != 200][:5]
    assert {v for _, v in answers[answered:]} == {"2"}


CHART = Path(__file__).resolve().parents[2] / "charts" / "mlops-operator"


def helm_run(helm: Path, cluster, *args: str) -> None:
    result = subprocess.run([str(helm), *args], capture_output=True, text=True, env=cluster.env, timeout=300)
    assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stderr}"


def asking_prometheus(address: str, expr: str) -> dict:
    """A pod that asks Prometheus an instant query, as the in-cluster operator's canary analysis does,
    and ends with the answer's first value (or its traceback) as its termination message."""
    code = ("import json, urllib.parse, urllib.request\n"
            f"url = {address!r} + '/api/v1/query?' + urllib.parse.urlencode({{'query': {expr!r}}})\n"
            "answer = json.load(urllib.request.urlopen(url, timeout=10))\n"
            "open('/dev/termination-log', 'w').write(answer['data']['result'][0]['value'][1])\n")
    restricted = {"runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ask-prometheus"}, "spec": {
        "restartPolicy": "Never", "securityContext": restricted,
        "containers": [{"name": "ask", "image": "python:3.11", "command": ["python", "-c", code],
                        "terminationMessagePolicy": "FallbackToLogsOnError",
                        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}]}}


def terminated(cluster, namespace, pod: str) -> dict | None:
    return (get_json(cluster, namespace, "pod", pod)["status"].get("containerStatuses") or [{}])[0].get(
        "state", {}).get("terminated")


# A trainer that reports without importing anything heavy (so a hundred trials are cheap); every
# tenth value fails.
QUICK_TRAINER = ("import json, os; x = float(os.environ['PARAM_X']); assert x % 10, 'a failing value'; "
                 "open('/dev/termination-log', 'w').write(json.dumps({'metrics': {'score': x}}))")


def series_per_metric(prometheus, namespace: str) -> dict:
    return numbers(prometheus, f'count by (__name__) ({{namespace="{namespace}",__name__=~"mlops_.+"}})')


def test_the_charts_operator_pod_is_scraped_its_series_stay_flat_over_a_hundred_trials_and_pods_reach_prometheus(
        cluster, crds, namespace, helm, prometheus, tmp_path):
    helm_run(helm, cluster, "install", "mlops-operator", str(CHART), "--namespace", namespace, "--wait",
             "--timeout", "240s", "--set", "crds.enabled=false", "--set", f"rbac.namespaces={{{namespace}}}")
    try:
        # Two pods (the chart's default); the Lease's holder is the one that reconciles.
        pods = get_json(cluster, namespace, "pods", "-l", "app.kubernetes.io/name=mlops-operator")["items"]
        pod = wait_for(lambda: lease_holder_pod(cluster, namespace, "mlops-operator-leader", pods), 30,
                       "an operator pod to hold the Lease")["metadata"]["name"]
        workers = f'sum by (controller) (controller_runtime_max_concurrent_reconciles{{pod="{pod}"}})'
        four_each = {(("controller", c),): 4.0 for c in ("dataset", "experiment", "model", "deployment")}
        wait_for(lambda: numbers(prometheus, workers) == four_each, SCRAPE_SECONDS,
                 f"Prometheus to scrape the operator pod's controller-runtime metrics: {workers}")
        # Each pod's two ports (health, metrics) are two discovered targets, both rewritten to the
        # metrics port by the annotation: one scrape, one `up` per pod.
        up = f'up{{namespace="{namespace}"}}'
        wait_for(lambda: list(numbers(prometheus, up).values()) == [1.0] * len(pods), SCRAPE_SECONDS,
                 f"one {up} per operator pod")

        # A hundred trials add no series: the first finished trial's set is the last one's.
        apply(cluster, namespace, dataset("numbers", write_csv(tmp_path / "data.csv")))
        apply(cluster, namespace, experiment("hundred", "numbers", script_trainer(QUICK_TRAINER),
                                             values=range(1, 101), parallelism=20))
        # Summed over the pods, as dashboards do: the stand-by exposes the same counter series at 0
        # (so that increase() sees its first increments if it takes over).
        finished = (f'sum by (result) (mlops_experiment_trials_finished_total'
                    f'{{namespace="{namespace}",experiment="hundred"}})')
        best = f'mlops_experiment_best_objective{{namespace="{namespace}",experiment="hundred"}}'
        wait_for(lambda: numbers(prometheus, best), 120, "the first trial seen succeeded")
        first = series_per_metric(prometheus, namespace)
        wait_for(lambda: numbers(prometheus, finished) == {(("result", "succeeded"),): 90, (("result", "failed"),): 10},
                 300, "Prometheus to count the hundred trials finished")
        assert series_per_metric(prometheus, namespace) == first
        assert first[(("__name__", "mlops_experiment_trials"),)] == 4  # one per state, not per trial

        apply(cluster, namespace, asking_prometheus(prometheus.address, f'up{{pod="{pod}"}}'))
        ended = wait_for(lambda: terminated(cluster, namespace, "ask-prometheus"), 60, "the asking pod to end")
        assert (ended["exitCode"], ended.get("message")) == (0, "1"), ended
    finally:
        helm_run(helm, cluster, "uninstall", "mlops-operator", "--namespace", namespace, "--wait")


def test_the_charts_alert_rules_load_and_evaluate_without_errors(prometheus):
    # The fixture loads them: Prometheus would not have started on a file it cannot parse.
    rules = wait_for(lambda: (rules := prometheus.rules()) and all(r["health"] != "unknown" for r in rules)
                     and rules, SCRAPE_SECONDS, f"every rule of {CHART_RULES.name} evaluated")
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []
    assert {r["file"] for r in rules} == {str(CHART_RULES)}
