"""The benchmark's objects: each kind in a state that settles (Ready, or Waiting on something
absent) and work that runs on kwok's simulated nodes, reporting through the termination message
as a real pod would (DESIGN.md section 3)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hack"))

from kwok import pod_settings  # noqa: E402

API = "mlops.dev/v1alpha1"
DIGEST = "sha256:" + "0" * 64
IMAGE = "ghcr.io/mlops-operator/bench:never-pulled"  # kwok runs no image


def simulated(result: str, seconds: float = 1.0) -> dict:
    """spec.pod settings that put a kind's pods on kwok nodes, where they end after `seconds` with
    `result` as their termination message ($(PARAM_X) in it is the pod's env value)."""
    return pod_settings(f"{seconds:g}s", result=result)


def _object(kind: str, name: str, spec: dict) -> dict:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": spec}


def ready_dataset(name: str) -> dict:
    """Validated on a kwok node: Ready."""
    return _object("Dataset", name, {
        "source": {"uri": f"file:///bench/{name}.csv"}, "format": "csv",
        "schema": {"columns": [{"name": "x", "type": "float"}, {"name": "y", "type": "integer"}], "target": "y"},
        "validation": {"minRows": 1},
        "pod": simulated(json.dumps({"passed": True, "digest": DIGEST, "metrics": {"rows": 1000}}))})


def experiment(name: str, dataset: str, trials: int, parallelism: int, seconds: float = 1.0,
               first: int = 1) -> dict:
    """A sweep of `trials` values of x from `first` on kwok nodes, each trial scoring x."""
    return _object("Experiment", name, {
        "datasetRef": {"name": dataset}, "trainer": {"image": IMAGE},
        "search": {"parameters": {"x": {"values": list(range(first, first + trials))}}, "maxTrials": trials,
                   "parallelism": parallelism},
        "objective": {"metric": "score", "goal": "maximize"},
        "pod": simulated('{"metrics": {"score": $(PARAM_X)}}', seconds)})


def waiting_experiment(name: str) -> dict:
    """Waits for a Dataset nobody created."""
    return _object("Experiment", name, {
        "datasetRef": {"name": "absent"}, "trainer": {"image": IMAGE},
        "search": {"parameters": {"x": {"values": [1, 2]}}, "maxTrials": 2},
        "objective": {"metric": "score", "goal": "maximize"}})


def waiting_model(name: str) -> dict:
    """Waits for the Dataset its gate scores."""
    return _object("Model", name, {
        "modelName": name, "version": "1", "artifact": {"uri": f"file:///bench/{name}.joblib"},
        "aliases": ["champion"], "validation": {"dataset": {"name": "absent"},
                                                "thresholds": [{"metric": "score", "min": 0.5}]}})


def waiting_deployment(name: str) -> dict:
    """Waits for a holder of an alias no version holds."""
    return _object("Deployment", name, {"modelRef": {"modelName": "absent", "alias": "champion"}})


# Each Deployment has a ClusterIP Service, and the local cluster's Service range is a /24 (shared
# by the bench's two namespaces of objects at rest): the rest of the objects are the other kinds.
MAX_DEPLOYMENTS = 100


def at_rest(count: int, prefix: str = "") -> list[dict]:
    """`count` objects of the four kinds (a third each of Datasets, Experiments and Models, and at
    most MAX_DEPLOYMENTS Deployments) that settle and then have nothing to do."""
    deployments = min(MAX_DEPLOYMENTS, count // 4)
    third = (count - deployments) // 3
    return ([ready_dataset(f"{prefix}d{i}") for i in range(third)]
            + [waiting_experiment(f"{prefix}e{i}") for i in range(third)]
            + [waiting_model(f"{prefix}m{i}") for i in range(count - deployments - 2 * third)]
            + [waiting_deployment(f"{prefix}p{i}") for i in range(deployments)])


def in_namespace(objects: list[dict], namespace: str) -> list[dict]:
    return [{**o, "metadata": {**o["metadata"], "namespace": namespace}} for o in objects]
