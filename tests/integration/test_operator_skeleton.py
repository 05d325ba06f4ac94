"""The operator runs against the API server, says why it waits on examples whose inputs are missing
(a Model whose Dataset is missing; a Deployment of a modelName no version of which holds the
alias), and stops on SIGTERM."""

import json
import subprocess
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support import OperatorRunner, get_json, wait_for

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "manifests" / "examples"
OBJECTS = [
    ("model", "breast-cancer-1"),
    ("deployment.mlops.dev", "breast-cancer"),
]
READY = {
    "model": ("Unknown", "WaitingForDataset", "Dataset 'breast-cancer' not found in this namespace"),
    "deployment.mlops.dev": ("False", "NoAliasHolder",
                             "waiting for the holder of alias champion of breast-cancer: no version of breast-cancer "
                             "holds alias champion (yet)"),
}
MANIFESTS = [str(EXAMPLES / "model.yaml"), str(EXAMPLES / "deployment.yaml")]


@pytest.fixture
def run_operator(crds, namespace, tmp_path):
    with OperatorRunner(crds, namespace, tmp_path) as runner:
        yield runner.start


def exposition(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def scrape(text: str) -> dict[tuple[str, str, str], float]:
    """controller_runtime_* samples of the operator's /metrics: (name, controller, result) -> value."""
    return {(s.name, s.labels.get("controller", ""), s.labels.get("result", "")): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if s.name.startswith("controller_runtime_")}


def objects_by_phase(text: str, namespace: str) -> dict[tuple[str, str], float]:
    """mlops_objects of one namespace: (kind, phase) -> count."""
    return {(s.labels["kind"], s.labels["phase"]): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if s.name == "mlops_objects" and s.labels["namespace"] == namespace}


def get(cluster, namespace, kind, name) -> dict:
    return get_json(cluster, namespace, kind, name)


def ready(obj: dict) -> dict | None:
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == "Ready"), None)


def seen_at(cluster, namespace, kind, name, generation):
    """The object once its Ready condition speaks of generation (a waiting Model's status.observedGeneration
    stays behind: its status reflects no generation yet)."""
    obj = get(cluster, namespace, kind, name)
    condition = ready(obj)
    if condition and condition["observedGeneration"] == generation:
        return obj
    return None


def test_operator_records_each_kind_and_exits_cleanly_on_sigterm(crds, namespace, run_operator, promtool):
    crds.kubectl("apply", "-f", MANIFESTS[0], "-f", MANIFESTS[1], namespace=namespace)
    operator = run_operator()

    for kind, name in OBJECTS:
        obj = wait_for(lambda: seen_at(crds, namespace, kind, name, 1), 60, f"{kind} {name} seen")
        # Read back from the server: the condition survived the schema's pruning intact.
        status, reason, message = READY[kind]
        assert ready(obj) == {
            "type": "Ready", "status": status, "reason": reason, "message": message,
            "observedGeneration": 1, "lastTransitionTime": ready(obj)["lastTransitionTime"],
        }

    first = get(crds, namespace, "deployment.mlops.dev", "breast-cancer")
    crds.kubectl("patch", "deployment.mlops.dev", "breast-cancer", "--type=merge", "-p", '{"spec":{"replicas":3}}',
                 namespace=namespace)
    second = wait_for(lambda: seen_at(crds, namespace, "deployment.mlops.dev", "breast-cancer", 2), 60,
                      "the new generation seen")
    assert ready(second)["lastTransitionTime"] == ready(first)["lastTransitionTime"]
    assert second["status"]["observedGeneration"] == 2
    assert second["spec"]["replicas"] == 3

    # Its /metrics (loopback unless told otherwise) count those reconciles under controller-runtime's names.
    text = exposition(operator.metrics_port)
    samples = scrape(text)
    def reconciles(controller: str) -> float:
        return sum(samples[("controller_runtime_reconcile_total", controller, result)]
                   for result in ("success", "requeue_after"))

    assert reconciles("model") >= 1 and reconciles("deployment") >= 2, samples  # two generations
    for controller in ("dataset", "experiment", "model", "deployment"):
        assert samples[("controller_runtime_max_concurrent_reconciles", controller, "")] == 4
    # The domain metrics count the objects by the phase their status shows.
    phases = {(kind.split(".")[0].capitalize(), get(crds, namespace, kind, name)["status"].get("phase", "Unknown"))
              for kind, name in OBJECTS}
    assert objects_by_phase(text, namespace) == dict.fromkeys(phases, 1)
    lint = subprocess.run([str(promtool), "check", "metrics"], input=text, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    assert operator.terminate() == 0, operator.output()
    assert "Traceback" not in operator.output()
    # kopf's per-handler success Events are switched off: nothing posted for a healthy reconcile.
    events = crds.kubectl("get", "events", "-o", "name", namespace=namespace).stdout.split()
    assert events == []


def test_restart_writes_nothing_when_nothing_changed(crds, namespace, run_operator):
    crds.kubectl("apply", "-f", MANIFESTS[0], "-f", MANIFESTS[1], namespace=namespace)
    first = run_operator()
    for kind, name in OBJECTS:
        wait_for(lambda: seen_at(crds, namespace, kind, name, 1), 60, f"{kind} {name} seen")
    assert first.terminate() == 0, first.output()
    versions = {(k, n): get(crds, namespace, k, n)["metadata"]["resourceVersion"] for k, n in OBJECTS}

    # One worker per kind: once an object created after the restart is seen, every object listed
    # before it has been reconciled too.
    second = run_operator("--workers", "1")
    for kind, name in OBJECTS:
        probe = get(crds, namespace, kind, name)
        probe["metadata"] = {"name": f"{name}-probe"}
        probe.pop("status", None)
        crds.kubectl("apply", "-f", "-", namespace=namespace, input=json.dumps(probe))
    for kind, name in OBJECTS:
        wait_for(lambda: seen_at(crds, namespace, kind, f"{name}-probe", 1), 60, f"{kind} {name}-probe seen")
    assert second.terminate() == 0, second.output()
    assert versions == {(k, n): get(crds, namespace, k, n)["metadata"]["resourceVersion"] for k, n in OBJECTS}
