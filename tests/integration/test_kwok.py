"""Simulated nodes (hack/kwok.py): pods on kwok's Nodes run, end and report the way real ones do,
and an Experiment's trials run there through the operator while its Dataset validates on the local
node."""

import ipaddress
import json

import pytest
from kwok import POD_CIDR, pod_settings

from pipeline import apply, condition, dataset, experiment_finished, phase_is, write_csv
from support import OperatorRunner, get_json, wait_for

pytestmark = pytest.mark.cluster


def job(name: str, settings: dict, env: dict[str, str]) -> dict:
    return {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": 0, "template": {
            "metadata": {"annotations": settings["annotations"]},
            "spec": {"restartPolicy": "Never", "nodeSelector": settings["nodeSelector"],
                     "tolerations": settings["tolerations"],
                     "containers": [{"name": "main", "image": "simulated/anything:1",
                                     "env": [{"name": k, "value": v} for k, v in env.items()]}]}}},
    }


def pod_of(cluster, namespace, selector: str) -> dict | None:
    items = get_json(cluster, namespace, "pods", "-l", selector)["items"]
    return items[0] if len(items) == 1 else None


def finished_pod(cluster, namespace, job_name: str) -> dict | None:
    pod = pod_of(cluster, namespace, f"job-name={job_name}")
    return pod if pod and pod["status"].get("phase") in ("Succeeded", "Failed") else None


def terminated(pod: dict) -> dict:
    [status] = pod["status"]["containerStatuses"]
    return status["state"]["terminated"]


def test_annotated_pods_end_with_their_simulated_result_and_servers_keep_running(kwok, cluster, namespace):
    succeeds = pod_settings("1s", result='{"metrics": {"score": $(SCORE)}, "run": "$(MLOPS_TRIAL)"}')
    # The exit code comes from the env too, and the message from env MLOPS_SIMULATED_RESULT.
    fails = pod_settings("1s", exit_code="$(CODE)")
    server = pod_settings(None)
    assert "annotations" not in server
    apply(cluster, namespace, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "server"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "server"}}, "template": {
            "metadata": {"labels": {"app": "server"}},
            "spec": {**server, "containers": [{"name": "main", "image": "simulated/server:1"}]}}},
    })
    apply(cluster, namespace, job("succeeds", succeeds, {"SCORE": "0.75", "MLOPS_TRIAL": "e-r1-t0"}))
    apply(cluster, namespace, job("fails", fails, {"CODE": "3", "MLOPS_SIMULATED_RESULT": '{"error": "exit $(CODE)"}'}))

    done = wait_for(lambda: finished_pod(cluster, namespace, "succeeds"), 30, "the succeeding pod to end")
    assert done["status"]["phase"] == "Succeeded"
    assert done["spec"]["nodeName"] in kwok.nodes
    assert ipaddress.ip_address(done["status"]["podIP"]) in ipaddress.ip_network(POD_CIDR)
    end = terminated(done)
    assert (end["exitCode"], end["reason"]) == (0, "Completed")
    assert json.loads(end["message"]) == {"metrics": {"score": 0.75}, "run": "e-r1-t0"}

    failed = wait_for(lambda: finished_pod(cluster, namespace, "fails"), 30, "the failing pod to end")
    assert failed["status"]["phase"] == "Failed"
    end = terminated(failed)
    assert (end["exitCode"], end["reason"], end["message"]) == (3, "Error", '{"error": "exit 3"}')

    # The Job controller counts them like real pods.
    wait_for(lambda: condition(get_json(cluster, namespace, "job", "succeeds").get("status", {}), "Complete")
             .get("status") == "True", 30, "Job succeeds to complete")
    wait_for(lambda: condition(get_json(cluster, namespace, "job", "fails").get("status", {}), "Failed")
             .get("status") == "True", 30, "Job fails to fail")

    # Both Jobs' pods have ended by now; the server's, started with them, has no duration: it runs on.
    serving = pod_of(cluster, namespace, "app=server")
    assert serving["spec"]["nodeName"] in kwok.nodes
    assert serving["status"]["phase"] == "Running" and not serving["metadata"].get("deletionTimestamp")
    assert condition(serving["status"], "Ready")["status"] == "True"
    [container] = serving["status"]["containerStatuses"]
    assert "running" in container["state"] and container["restartCount"] == 0


# Each trial's score is its x; "null" reports a metric that is not a number (the way a trainer
# reports NaN): that trial fails through the contract, the others succeed.
SCORE = '{"metrics": {"score": $(PARAM_X)}}'


def test_an_experiments_trials_run_on_kwok_and_report_through_the_contract(kwok, crds, namespace, tmp_path):
    with OperatorRunner(crds, namespace, tmp_path) as runner:
        runner.start()
        # No spec.pod: the validation pod really runs, on the local node.
        apply(crds, namespace, dataset("cancer", write_csv(tmp_path / "cancer.csv")))
        wait_for(lambda: phase_is(crds, namespace, "dataset", "cancer", "Ready"), 60, "the Dataset to be Ready")
        apply(crds, namespace, {
            "apiVersion": "mlops.dev/v1alpha1", "kind": "Experiment", "metadata": {"name": "sim"},
            "spec": {"datasetRef": {"name": "cancer"},
                     "trainer": {"image": "simulated/trainer:1"},
                     "search": {"parameters": {"x": {"choices": ["1", "3", "null", "2"]}}, "maxTrials": 4,
                                "parallelism": 4},
                     "objective": {"metric": "score", "goal": "maximize"},
                     "pod": pod_settings("1s", result=SCORE)},
        })
        final = wait_for(lambda: experiment_finished(crds, namespace, "sim"), 60, "the Experiment to finish")

    assert final["phase"] == "Succeeded", final
    assert final["trials"] == {"total": 4, "pending": 0, "running": 0, "succeeded": 3, "failed": 1}
    best = final["bestTrial"]
    assert best["name"] == "sim-r1-t1" and best["objectiveValue"] == 3 and best["parameters"] == {"x": "3"}
    assert best["metrics"] == {"score": 3}
    by_index = {s["index"]: s for s in final["trialSummaries"]}
    assert by_index[2]["phase"] == "Failed" and by_index[2]["reason"] == "ObjectiveNotFinite"
    assert {i: s.get("objectiveValue") for i, s in by_index.items() if s["phase"] == "Succeeded"} == {0: 1, 1: 3, 3: 2}

    pods = get_json(crds, namespace, "pods", "-l", "job-name")["items"]
    trial_pods = [p for p in pods if p["metadata"]["labels"]["job-name"].startswith("sim-")]
    assert len(trial_pods) == 4 and all(p["spec"]["nodeName"] in kwok.nodes for p in trial_pods)
    validation = [p for p in pods if p not in trial_pods]
    assert validation and all(p["spec"]["nodeName"] == "local-node" for p in validation)
