"""Manifests and reads shared by the tests that run Datasets and Experiments through the operator."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from mlops_operator.runtime.examples.common import breast_cancer_frame

from support import get_json, wait_for

EVENT_POSTED_SECONDS = 30


def apply(cluster, namespace, manifest: str | dict[str, Any]) -> None:
    text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest)
    cluster.kubectl("apply", "-f", "-", namespace=namespace, input=text)


def status(cluster, namespace, kind, name) -> dict:
    return get_json(cluster, namespace, kind, name).get("status") or {}


def condition(status_: dict, kind: str) -> dict:
    return next((c for c in status_.get("conditions") or [] if c["type"] == kind), {})


def phase_is(cluster, namespace, kind, name, *phases):
    """The object's status once its phase is one of phases, else None (for wait_for)."""
    current = status(cluster, namespace, kind, name)
    return current if current.get("phase") in phases else None


def experiment_finished(cluster, namespace, name):
    return phase_is(cluster, namespace, "experiment", name, "Succeeded", "Failed")


def events(cluster, namespace, name) -> list[tuple[str, str]]:
    items = get_json(cluster, namespace, "events", "--field-selector", f"involvedObject.name={name}")["items"]
    return [(e["reason"], e["message"]) for e in items]


def events_once_posted(cluster, namespace, name, *reasons: str) -> list[tuple[str, str]]:
    """The object's Events (reason, message) once each of reasons is among them, as many times as it
    is listed. The operator posts an Event after the status write it reports, so a test that has
    just seen that status waits for the Event; it then asserts exact counts on what this returns."""
    def posted() -> list[tuple[str, str]] | None:
        found = events(cluster, namespace, name)
        return None if Counter(reasons) - Counter(reason for reason, _ in found) else found
    return wait_for(posted, EVENT_POSTED_SECONDS, f"the Events {', '.join(reasons)} of {name}")


def write_csv(path: Path, rows: int | None = None) -> str:
    frame = breast_cancer_frame()
    (frame if rows is None else frame.head(rows)).to_csv(path, index=False)
    return f"file://{path}"


def dataset(name: str, uri: str, min_rows: int = 100, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.dev/v1alpha1", "kind": "Dataset", "metadata": {"name": name},
        "spec": {"source": {"uri": uri}, "format": "csv",
                 "schema": {"columns": [{"name": "mean_radius", "type": "float", "nullable": False},
                                        {"name": "target", "type": "integer", "nullable": False}], "target": "target"},
                 "validation": {"minRows": min_rows},
                 "splits": {"train": 0.75, "test": 0.25, "seed": 1}, **spec},
    }


def script_trainer(code: str) -> dict[str, Any]:
    """A trainer that runs `code`; PARAM_X holds the trial's x."""
    return {"image": "python:3.11", "command": ["python", "-c"], "args": [code]}


REPORT_X = "import os; from mlops_operator.runtime import report; report({'score': float(os.environ['PARAM_X'])})"
SLEEP = "import time; time.sleep(600)"


def experiment(name: str, dataset_name: str, trainer: dict[str, Any] | None = None, values=(1, 2),
               parallelism: int = 1, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.dev/v1alpha1", "kind": "Experiment", "metadata": {"name": name},
        "spec": {"datasetRef": {"name": dataset_name}, "trainer": trainer or script_trainer(REPORT_X),
                 "search": {"parameters": {"x": {"values": list(values)}}, "maxTrials": len(values),
                            "parallelism": parallelism},
                 "objective": {"metric": "score", "goal": "maximize"}, **spec},
    }


def model(name: str, dataset_name: str, evaluator: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    """A version of modelName "m" asking for champion, gated on dataset_name's test split."""
    validation = {"dataset": {"name": dataset_name}, "thresholds": [{"metric": "roc_auc", "min": 0.5}]}
    if evaluator:
        validation["evaluator"] = evaluator
    return {
        "apiVersion": "mlops.dev/v1alpha1", "kind": "Model", "metadata": {"name": name},
        "spec": {"modelName": "m", "version": name, "artifact": {"uri": "file:///nowhere/model.joblib"},
                 "aliases": ["champion"], "validation": validation, **spec},
    }


def settled(cluster, namespace, name):
    """The Model's status once its gate has answered for its current generation (None before, or
    while it does not exist yet)."""
    body = next((m for m in get_json(cluster, namespace, "models")["items"] if m["metadata"]["name"] == name), None)
    if body is None:
        return None
    current = body.get("status") or {}
    promoted = condition(current, "Promoted")
    answered = promoted.get("status") in ("True", "False") and promoted.get("observedGeneration") == \
        body["metadata"]["generation"] and current.get("observedGeneration") == body["metadata"]["generation"]
    return current if answered and not condition(current, "Reconciling") else None


def holders(cluster, namespace, model_name: str) -> dict[str, str]:
    items = get_json(cluster, namespace, "models")["items"]
    return {alias: m["metadata"]["name"] for m in items if m["spec"]["modelName"] == model_name
            for alias in (m.get("status") or {}).get("aliases") or []}


def jobs_of(cluster, namespace, kind: str, name: str) -> list[dict[str, Any]]:
    owner = get_json(cluster, namespace, kind, name)["metadata"]["uid"]
    return get_json(cluster, namespace, "jobs", "-l", f"mlops.dev/owner-uid={owner}")["items"]


def as_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)
