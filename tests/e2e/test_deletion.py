"""Deletion never needs the operator: with it stopped, every kind in every phase, the namespace and
the CRDs go within seconds (no finalizer is ever added)."""

from pathlib import Path

import pytest

from pipeline import SLEEP, apply, dataset, experiment, jobs_of, model, phase_is, script_trainer, status, write_csv
from support import get_json, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.restricted]
GONE_SECONDS = 15
REPO = Path(__file__).resolve().parents[2]


def every_phase(cluster, namespace, operator, tmp_path):
    """Datasets Validating, Ready and Invalid; Experiments Waiting, Running, Succeeded and Failed; a
    Model Waiting and one Evaluating; a Deployment Waiting (serving ones: tests/e2e/test_serving.py)."""
    uri = write_csv(tmp_path / "cancer.csv")
    apply(cluster, namespace, dataset("ready", uri))
    apply(cluster, namespace, dataset("invalid", write_csv(tmp_path / "small.csv", rows=10)))
    apply(cluster, namespace, dataset("validating", uri, validation={
        "validator": script_trainer(SLEEP)}))
    apply(cluster, namespace, experiment("waiting", "missing"))
    apply(cluster, namespace, experiment("running", "ready", script_trainer(SLEEP)))
    apply(cluster, namespace, experiment("succeeded", "ready", values=(1,)))
    apply(cluster, namespace, experiment("failed", "ready", script_trainer("raise SystemExit(3)"), values=(1,)))
    apply(cluster, namespace, model("waiting", "missing"))
    apply(cluster, namespace, model("evaluating", "ready", evaluator=script_trainer(SLEEP)))
    apply(cluster, namespace, {"apiVersion": "mlops.dev/v1alpha1", "kind": "Deployment", "metadata": {"name": "waiting"},
                               "spec": {"modelRef": {"modelName": "nobody"}}})
    expected = {("dataset", "ready"): ("Ready",), ("dataset", "invalid"): ("Invalid",),
                ("dataset", "validating"): ("Validating",), ("experiment", "waiting"): ("Waiting",),
                ("experiment", "running"): ("Running",), ("experiment", "succeeded"): ("Succeeded",),
                ("experiment", "failed"): ("Failed",), ("model", "waiting"): ("Waiting",),
                ("model", "evaluating"): ("Evaluating",), ("mldeploy", "waiting"): ("Waiting",)}
    for (kind, name), phases in expected.items():
        wait_for(lambda: phase_is(cluster, namespace, kind, name, *phases), 120, f"{kind} {name} in {phases}")
    wait_for(lambda: jobs_of(cluster, namespace, "experiment", "running"), 60, "the running trial's Job")
    return expected


def test_every_kind_in_every_phase_is_deleted_with_the_operator_stopped(crds, namespace, operator, tmp_path):
    running = operator.start()
    objects = every_phase(crds, namespace, operator, tmp_path)
    running.kill()
    for kind in ("datasets", "experiments", "models", "mldeploy"):
        for item in get_json(crds, namespace, kind)["items"]:
            assert not item["metadata"].get("finalizers"), item["metadata"]["name"]
            assert not [a for a in item["metadata"].get("annotations", {}) if a.startswith("mlops.dev/")]
    for kind, name in objects:
        crds.kubectl("delete", kind, name, "--wait=true", f"--timeout={GONE_SECONDS}s", namespace=namespace)
    for kind in ("datasets", "experiments", "models", "mldeploy"):
        assert get_json(crds, namespace, kind)["items"] == []


def test_a_namespace_with_objects_in_every_phase_is_deleted_with_the_operator_stopped(crds, namespace, operator,
                                                                                       tmp_path):
    running = operator.start()
    every_phase(crds, namespace, operator, tmp_path)
    running.kill()
    crds.kubectl("delete", "namespace", namespace, "--wait=false")
    wait_for(lambda: crds.kubectl("get", "namespace", namespace, check=False).returncode != 0, 90,
             "the namespace to be gone")


def test_a_finalizer_left_by_an_earlier_version_is_removed(crds, namespace, operator, tmp_path):
    old = dataset("old", write_csv(tmp_path / "cancer.csv"))
    old["metadata"]["finalizers"] = ["mlops.dev/finalizer"]
    apply(crds, namespace, old)
    operator.start()
    wait_for(lambda: not get_json(crds, namespace, "dataset", "old")["metadata"].get("finalizers"), 60,
             "the earlier version's finalizer to be removed")
    assert status(crds, namespace, "dataset", "old").get("observedGeneration") is not None


def test_the_crds_are_deleted_with_the_operator_stopped(crds, namespace, operator, tmp_path):
    running = operator.start()
    apply(crds, namespace, dataset("ready", write_csv(tmp_path / "cancer.csv")))
    apply(crds, namespace, experiment("running", "ready", script_trainer(SLEEP)))
    wait_for(lambda: phase_is(crds, namespace, "experiment", "running", "Running"), 120, "a running Experiment")
    running.kill()
    try:
        crds.kubectl("delete", "-f", str(REPO / "crds"), "--wait=true", "--timeout=60s", timeout=90)
    finally:  # the rest of the session needs them
        crds.kubectl("apply", "--server-side", "-f", str(REPO / "crds"))
        crds.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(REPO / "crds"))
