"""Datasets and Experiments end to end: real validation and real training through the local node."""

import subprocess
import threading

import pytest

from pipeline import apply, condition, events, events_once_posted, experiment_finished, status, write_csv
from support import get_json, json_stream, wait_for

# The whole pipeline runs where Pod Security "restricted" is enforced.
pytestmark = [pytest.mark.cluster, pytest.mark.restricted]


class PodWatch:
    """Follows `kubectl get pods --watch` and records the most trial pods alive at once."""

    def __init__(self, cluster, namespace: str, selector: str):
        self.alive: dict[str, str] = {}
        self.most_alive = 0
        self.process = subprocess.Popen(
            [cluster.kubectl_path, "-n", namespace, "get", "pods", "-l", selector, "--watch", "-o", "json"],
            env=cluster.env, stdout=subprocess.PIPE, text=True)
        self.thread = threading.Thread(target=self._follow, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        for pod in json_stream(self.process.stdout):
            name, phase = pod["metadata"]["name"], pod.get("status", {}).get("phase", "Pending")
            if phase in ("Pending", "Running") and not pod["metadata"].get("deletionTimestamp"):
                self.alive[name] = phase
            else:
                self.alive.pop(name, None)
            self.most_alive = max(self.most_alive, len(self.alive))

    def stop(self) -> int:
        self.process.terminate()
        self.process.wait()
        return self.most_alive


def dataset_manifest(uri: str, min_rows: int = 100, refresh: str | None = None) -> str:
    return f"""
apiVersion: mlops.dev/v1alpha1
kind: Dataset
metadata: {{name: cancer}}
spec:
  source: {{uri: "{uri}"}}
  format: csv
  schema:
    columns:
      - {{name: mean_radius, type: float, nullable: false}}
      - {{name: target, type: integer, nullable: false}}
    target: target
  validation:
    minRows: {min_rows}
    rules: [{{name: binary-target, column: target, allowedValues: ["0", "1"]}}]
  splits: {{train: 0.75, test: 0.25, seed: 1}}
""" + (f"  refresh: {{interval: {refresh}}}\n" if refresh else "")


FOREST = """
apiVersion: mlops.dev/v1alpha1
kind: Experiment
metadata: {name: forest}
spec:
  datasetRef: {name: cancer}
  artifactRoot: "file://ARTIFACTS"
  trainer:
    image: python:3.11
    command: [python, -m, mlops_operator.runtime.examples.train_forest]
    args: [--n-estimators, "${params.n_estimators}", --max-depth, "${params.max_depth}"]
  search:
    algorithm: grid
    parameters:
      n_estimators: {values: [10, 30, 60]}
      max_depth: {values: [2, 5]}
    maxTrials: 6
    parallelism: 2
  objective: {metric: roc_auc, goal: maximize}
  trialPolicy: {backoffLimit: 0, activeDeadlineSeconds: 300}
"""


def test_a_sweep_trains_real_models_two_at_a_time_and_finds_the_best(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset_manifest(write_csv(tmp_path / "cancer.csv")))
    watch = PodWatch(crds, namespace, "mlops.dev/experiment=forest")
    operator.start()
    apply(crds, namespace, FOREST.replace("ARTIFACTS", str(tmp_path / "artifacts")))

    data = wait_for(lambda: (s := status(crds, namespace, "dataset", "cancer")).get("digest") and s, 120,
                    "the Dataset to be validated")
    assert data["digest"].startswith("sha256:") and data["stats"]["rows"] == 569
    assert data["stats"]["columns"]["mean_radius"]["nulls"] == 0
    assert condition(data, "Ready")["status"] == "True"

    final = wait_for(lambda: experiment_finished(crds, namespace, "forest"), 240, "the sweep to finish")
    assert watch.stop() <= 2, "more than parallelism=2 trial pods were alive at once"
    assert watch.most_alive == 2

    assert final["phase"] == "Succeeded" and final["progress"] == "6/6"
    assert final["trials"] == {"total": 6, "pending": 0, "running": 0, "succeeded": 6, "failed": 0}
    assert final["dataset"]["digest"] == data["digest"]
    best = final["bestTrial"]
    assert set(best["metrics"]) == {"roc_auc", "accuracy", "log_loss"}
    assert best["objectiveValue"] == best["metrics"]["roc_auc"] == max(s["objectiveValue"] for s in final["trialSummaries"])
    assert 0.9 < best["objectiveValue"] <= 1.0
    index = next(s["index"] for s in final["trialSummaries"] if s["name"] == best["name"])
    assert (tmp_path / "artifacts" / "forest" / f"r1-t{index}" / "model.joblib").stat().st_size > 0

    reasons = [reason for reason, _ in events_once_posted(crds, namespace, "forest", "RunStarted", "RunCompleted")]
    # One Event per run transition, none per trial that went well.
    assert sorted(reasons) == ["RunCompleted", "RunStarted"]
    table = crds.kubectl("get", "experiments", namespace=namespace).stdout
    assert "Succeeded" in table and "6/6" in table and f"{best['objectiveValue']:.4f}"[:5] in table


FLAKY = """
apiVersion: mlops.dev/v1alpha1
kind: Experiment
metadata: {name: flaky}
spec:
  datasetRef: {name: cancer}
  trainer:
    image: python:3.11
    command: [python, -c]
    args:
      - |
        import sys
        from mlops_operator.runtime import report
        x = int("${params.x}")
        if x == 1:
            print("cannot converge"); sys.exit(3)
        if x == 2:
            print("forgot to report"); sys.exit(0)
        report({"score": x})
  search:
    parameters: {x: {values: [0, 1, 2, 3]}}
    maxTrials: 4
    parallelism: 2
  objective: {metric: score, goal: maximize}
  trialPolicy: {backoffLimit: 1}
"""


def test_failed_trials_fail_alone_with_their_reasons(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset_manifest(write_csv(tmp_path / "cancer.csv")))
    operator.start()
    apply(crds, namespace, FLAKY)
    final = wait_for(lambda: experiment_finished(crds, namespace, "flaky"), 240, "the sweep to finish")

    assert final["phase"] == "Succeeded"
    assert final["trials"]["succeeded"] == 2 and final["trials"]["failed"] == 2
    assert final["bestTrial"]["name"] == "flaky-r1-t3" and final["bestTrial"]["objectiveValue"] == 3
    by_index = {s["index"]: s for s in final["trialSummaries"]}
    assert by_index[1]["reason"] == "BackoffLimitExceeded"
    assert "exit code 3" in by_index[1]["message"] and "cannot converge" in by_index[1]["message"]
    assert by_index[2]["reason"] == "MetricsMissing"
    attempts = get_json(crds, namespace, "pods", "-l", "job-name=flaky-r1-t1")["items"]
    assert len(attempts) == 2, "backoffLimit 1: the failing trial ran twice"
    failed_events = [m for r, m in events_once_posted(crds, namespace, "flaky", "TrialFailed", "TrialFailed")
                     if r == "TrialFailed"]
    assert len(failed_events) == 2 and any("MetricsMissing" in m for m in failed_events)


def test_an_experiment_waits_while_its_dataset_fails_validation(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset_manifest(write_csv(tmp_path / "small.csv", rows=40), min_rows=100))
    apply(crds, namespace, FLAKY)
    operator.start()
    data = wait_for(lambda: (s := status(crds, namespace, "dataset", "cancer")).get("phase") == "Invalid" and s, 120,
                    "the Dataset to fail validation")
    assert condition(data, "Ready")["message"] == "spec.validation.minRows: 40 rows; at least 100 required"
    waiting = wait_for(lambda: (s := status(crds, namespace, "experiment", "flaky")).get("phase") == "Waiting" and s,
                       60, "the Experiment to wait")
    ready = condition(waiting, "Ready")
    assert ready["reason"] == "WaitingForDataset"
    assert "minRows: 40 rows; at least 100 required" in ready["message"]
    assert get_json(crds, namespace, "jobs", "-l", "mlops.dev/experiment=flaky")["items"] == []


def test_deleting_an_experiment_deletes_its_jobs_and_pods(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset_manifest(write_csv(tmp_path / "cancer.csv")))
    operator.start()
    apply(crds, namespace, FLAKY.replace('report({"score": x})', 'import time; time.sleep(600)'))
    wait_for(lambda: len(get_json(crds, namespace, "pods", "-l", "mlops.dev/experiment=flaky")["items"]) >= 2, 120,
             "trials to start")
    crds.kubectl("delete", "experiment", "flaky", "--wait=false", namespace=namespace)
    wait_for(lambda: not get_json(crds, namespace, "jobs", "-l", "mlops.dev/experiment=flaky")["items"]
             and not get_json(crds, namespace, "pods", "-l", "mlops.dev/experiment=flaky")["items"], 60,
             "the garbage collector to remove the trials")


def test_new_data_starts_a_new_run_with_the_trigger(crds, namespace, operator, tmp_path):
    csv = tmp_path / "growing.csv"
    apply(crds, namespace, dataset_manifest(write_csv(csv, rows=200), refresh="1m"))
    operator.start()
    apply(crds, namespace, FLAKY.replace("maxTrials: 4", "maxTrials: 1").replace("parallelism: 2", "parallelism: 1")
          .replace("values: [0, 1, 2, 3]", "values: [3]")
          .replace("spec:\n  datasetRef", "spec:\n  trigger: {onDatasetChange: true}\n  datasetRef"))
    first = wait_for(lambda: experiment_finished(crds, namespace, "flaky"), 120, "the first run")
    assert first["run"] == 1

    write_csv(csv, rows=300)
    second = wait_for(lambda: (s := experiment_finished(crds, namespace, "flaky")) and s["run"] == 2 and s, 120,
                      "a second run on the new data")
    assert [r["run"] for r in second["runs"]] == [1, 2]
    assert second["runs"][0]["datasetDigest"] != second["runs"][1]["datasetDigest"]
    assert second["dataset"]["digest"] == status(crds, namespace, "dataset", "cancer")["digest"]
    assert second["runs"][1]["bestValue"] == 3
    assert any(r == "NewData" for r, _ in events(crds, namespace, "cancer"))


SLOW = FLAKY.replace("metadata: {name: flaky}", "metadata: {name: slow}").replace(
    'report({"score": x})', 'import time; time.sleep(1); report({"score": x})').replace(
    "values: [0, 1, 2, 3]", "values: [0, 3, 4, 5, 6, 7]").replace("maxTrials: 4", "maxTrials: 6")


def test_killing_the_operator_mid_sweep_loses_nothing_and_duplicates_nothing(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset_manifest(write_csv(tmp_path / "cancer.csv")))
    apply(crds, namespace, SLOW)

    def finished_trials() -> int:
        jobs = get_json(crds, namespace, "jobs", "-l", "mlops.dev/experiment=slow")["items"]
        return sum(1 for j in jobs if any(c["type"] in ("Complete", "Failed") for c in j["status"].get("conditions", [])))

    for threshold in (1, 3):
        crashed = operator.start()
        wait_for(lambda: finished_trials() >= threshold, 120, f"{threshold} finished trials")
        crashed.kill()
    operator.start()
    final = wait_for(lambda: experiment_finished(crds, namespace, "slow"), 180, "the sweep to finish after restarts")

    jobs = get_json(crds, namespace, "jobs", "-l", "mlops.dev/experiment=slow")["items"]
    assert sorted(j["metadata"]["name"] for j in jobs) == [f"slow-r1-t{i}" for i in range(6)]
    assert final["trials"] == {"total": 6, "pending": 0, "running": 0, "succeeded": 6, "failed": 0}
    assert final["bestTrial"]["name"] == "slow-r1-t5" and final["bestTrial"]["objectiveValue"] == 7
    assert sorted(final["trialResults"]) == [str(i) for i in range(6)]


def test_killing_the_operator_during_validation_validates_once(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset_manifest(write_csv(tmp_path / "cancer.csv")))
    crashed = operator.start()
    wait_for(lambda: get_json(crds, namespace, "jobs", "-l", "mlops.dev/dataset=cancer")["items"], 60,
             "the validation Job")
    crashed.kill()
    operator.start()
    ready = wait_for(lambda: (s := status(crds, namespace, "dataset", "cancer")).get("phase") == "Ready" and s, 120,
                     "the Dataset to be Ready after the restart")
    jobs = get_json(crds, namespace, "jobs", "-l", "mlops.dev/dataset=cancer")["items"]
    assert [j["metadata"]["name"] for j in jobs] == ["cancer-validate-g1-0"] == [ready["lastValidationJob"]]
    assert [r for r, _ in events_once_posted(crds, namespace, "cancer", "ValidationPassed")].count("ValidationPassed") == 1
