"""Hands on the operator's children (docs/decisions.md, 73): a trial Job, an evaluation Job, a
server Deployment or the Service edited or deleted by hand comes back as the operator makes it;
what other field managers add to them stays, and the operator does not write again once its own
fields are back."""

import time
from pathlib import Path

import fsspec
import joblib
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops_operator.runtime.examples.common import TARGET, breast_cancer_frame

from pipeline import apply, condition, dataset, events, events_once_posted, experiment, experiment_finished, jobs_of, model, status, \
    write_csv
import predictions
from support import get_json, get_json_if_found, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.restricted]

FEATURES = breast_cancer_frame().drop(columns=[TARGET])
ROWS = FEATURES.head(3)
# A trial that runs for PARAM_X seconds, then reports x as its score.
SLOW_REPORT_X = ("import os, time; from mlops_operator.runtime import report; x = float(os.environ['PARAM_X']); "
                 "time.sleep(x); report({'score': x})")
# The built-in evaluator, started a few seconds late: long enough to delete its Job mid-evaluation.
SLOW_EVALUATOR = {"image": "python:3.11", "command": ["python", "-c"], "args": [
    "import runpy, time; time.sleep(6); runpy.run_module('mlops_operator.runtime.evaluate', run_name='__main__')"]}


def uids(cluster, namespace, kind, name) -> dict[str, str]:
    return {j["metadata"]["name"]: j["metadata"]["uid"] for j in jobs_of(cluster, namespace, kind, name)}


def running_pod_of(cluster, namespace, job: str) -> bool:
    pods = get_json(cluster, namespace, "pods", "-l", f"job-name={job}")["items"]
    return any((p.get("status") or {}).get("phase") == "Running" for p in pods)


def test_a_trial_job_deleted_while_it_runs_starts_again_and_a_recorded_result_is_kept(crds, namespace, operator,
                                                                                      tmp_path):
    operator.start()
    apply(crds, namespace, dataset("data", write_csv(tmp_path / "data.csv")))
    apply(crds, namespace, experiment("sweep", "data", {"image": "python:3.11", "command": ["python", "-c"],
                                                        "args": [SLOW_REPORT_X]}, values=(1, 12, 8), parallelism=3))
    wait_for(lambda: "0" in (status(crds, namespace, "experiment", "sweep").get("trialResults") or {})
             and running_pod_of(crds, namespace, "sweep-r1-t1") and running_pod_of(crds, namespace, "sweep-r1-t2"),
             120, "trial 0 recorded while trials 1 and 2 run")
    before = uids(crds, namespace, "experiment", "sweep")
    # The label its Experiment lists its Jobs by, removed by hand: the Job is found again and labelled back.
    crds.kubectl("label", "job", "sweep-r1-t2", "mlops.dev/owner-uid-", namespace=namespace)
    crds.kubectl("delete", "job", "sweep-r1-t0", "sweep-r1-t1", namespace=namespace)
    deleted_at = time.monotonic()

    again = wait_for(lambda: (uid := uids(crds, namespace, "experiment", "sweep").get("sweep-r1-t1"))
                     and uid != before["sweep-r1-t1"] and uid, 30, "trial 1's Job made again")
    print(f"trial Job made again {time.monotonic() - deleted_at:.1f}s after its deletion")
    finished = wait_for(lambda: experiment_finished(crds, namespace, "sweep"), 120, "the run to finish")
    assert finished["phase"] == "Succeeded" and finished["trials"] == {
        "total": 3, "pending": 0, "running": 0, "succeeded": 3, "failed": 0}
    assert finished["bestTrial"]["index"] == 1 and finished["bestTrial"]["objectiveValue"] == 12
    assert finished["trialResults"]["0"] == {"phase": "Succeeded", "value": 1.0}
    # Trial 0's result stands without its Job: it never ran again. Trial 2's Job is the one it started.
    assert uids(crds, namespace, "experiment", "sweep") == {"sweep-r1-t1": again,
                                                             "sweep-r1-t2": before["sweep-r1-t2"]}
    deleted = [message for reason, message in events(crds, namespace, "sweep") if reason == "TrialJobDeleted"]
    assert len(deleted) == 1 and "sweep-r1-t1" in deleted[0], deleted


def test_an_evaluation_job_deleted_mid_evaluation_is_made_again_and_the_gate_answers_once(crds, namespace, operator,
                                                                                          tmp_path):
    operator.start()
    apply(crds, namespace, dataset("data", write_csv(tmp_path / "data.csv")))
    apply(crds, namespace, model("v1", "data", SLOW_EVALUATOR, artifact={"uri": saved(tmp_path, "v1")}))
    job = wait_for(lambda: next(iter(uids(crds, namespace, "model", "v1").items()), None), 60, "the evaluation Job")
    wait_for(lambda: running_pod_of(crds, namespace, job[0]), 60, "the evaluation running")
    crds.kubectl("delete", "job", job[0], namespace=namespace)

    wait_for(lambda: uids(crds, namespace, "model", "v1").get(job[0]) not in (None, job[1]), 30,
             "the evaluation Job made again, under the same name")
    decided = wait_for(lambda: condition(status(crds, namespace, "model", "v1"), "Promoted").get("status") == "True"
                       and status(crds, namespace, "model", "v1"), 90, "the gate's answer")
    assert decided["aliases"] == ["champion"] and decided["validation"]["job"] == job[0]
    said = [reason for reason, _ in events_once_posted(crds, namespace, "v1", "EvaluationStarted", "EvaluationStarted",
                                                       "EvaluationSucceeded", "AliasTaken")]
    assert said.count("EvaluationStarted") == 2 and said.count("EvaluationSucceeded") == 1, said
    assert said.count("AliasTaken") == 1, said
    assert [m["metadata"]["name"] for m in get_json(crds, namespace, "models")["items"]] == ["v1"]


def saved(folder: Path, name: str) -> str:
    frame = breast_cancer_frame()
    estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    estimator.fit(frame.drop(columns=[TARGET]).to_numpy(), frame[TARGET])
    uri = f"file://{folder / name / 'model.joblib'}"
    with fsspec.open(uri, "wb", auto_mkdir=True) as f:
        joblib.dump(estimator, f)
    return uri


def serving(cluster, namespace) -> dict | None:
    current = status(cluster, namespace, "mldeploy", "cancer")
    return current if condition(current, "Ready").get("status") == "True" and current.get("stableModel") == "v1" \
        else None


def infer(cluster, namespace) -> predictions.Answer:
    service = get_json(cluster, namespace, "service", "cancer")
    address = f"{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"
    return predictions.infer(address, "cancer", [{"name": "input-0", "shape": list(ROWS.shape), "datatype": "FP64",
                                                     "data": ROWS.to_numpy().ravel().tolist()}], lambda _: None)


def until(what: str, predicate, timeout: float = 60) -> float:
    """Seconds until predicate holds."""
    start = time.monotonic()
    wait_for(predicate, timeout, what)
    took = time.monotonic() - start
    print(f"{what}: {took:.1f}s")
    return took


def test_serving_children_edited_or_deleted_by_hand_come_back_and_other_managers_fields_stay(
        crds, namespace, audited_operator, tmp_path):
    cluster = crds
    audited = audited_operator.start()
    apply(cluster, namespace, {"apiVersion": "mlops.dev/v1alpha1", "kind": "Model", "metadata": {"name": "v1"},
                               "spec": {"modelName": "cancer", "version": "1", "artifact": {"uri": saved(tmp_path, "v1")},
                                        "aliases": ["champion"]}})
    apply(cluster, namespace, {"apiVersion": "mlops.dev/v1alpha1", "kind": "Deployment", "metadata": {"name": "cancer"},
                               "spec": {"modelRef": {"modelName": "cancer"}, "replicas": 1}})
    wait_for(lambda: serving(cluster, namespace), 120, "v1 serving")

    def server() -> dict:
        return get_json(cluster, namespace, "deployment.apps", "cancer-v1")

    def service() -> dict:
        return get_json(cluster, namespace, "service", "cancer")

    made = server()
    image = made["spec"]["template"]["spec"]["containers"][0]["image"]
    # Fields the operator owns, written by hand: back as it applies them, at the edit's watch event.
    cluster.kubectl("set", "image", "deployment.apps/cancer-v1", "server=python:3.12", namespace=namespace)
    cluster.kubectl("scale", "deployment.apps/cancer-v1", "--replicas=3", namespace=namespace)
    cluster.kubectl("label", "deployment.apps/cancer-v1", "mlops.dev/model=hacked", "--overwrite", namespace=namespace)
    until("server Deployment edits reverted", lambda: (body := server())["spec"]["replicas"] == 1
          and body["spec"]["template"]["spec"]["containers"][0]["image"] == image
          and body["metadata"]["labels"]["mlops.dev/model"] == "v1", 20)
    cluster.kubectl("delete", "deployment.apps", "cancer-v1", namespace=namespace)
    until("server Deployment made again", lambda: cluster.kubectl(
        "get", "deployment.apps", "cancer-v1", "-o", "jsonpath={.metadata.uid}", namespace=namespace,
        check=False).stdout not in ("", made["metadata"]["uid"]), 20)
    wait_for(lambda: serving(cluster, namespace), 90, "v1 serving again")

    selector = service()["spec"]["selector"]
    cluster.kubectl("patch", "service", "cancer", "-p", '{"spec": {"selector": {"mlops.dev/model": "nothing"}}}',
                    namespace=namespace)
    until("Service selector reverted", lambda: service()["spec"]["selector"] == selector, 20)
    cluster.kubectl("patch", "service", "cancer", "--type=json", "-p",
                    '[{"op": "replace", "path": "/spec/ports/0/port", "value": 9090}]', namespace=namespace)
    # The port is a key of the Service's ports, so the operator makes the Service again: poll through
    # the instant it does not exist.
    until("Service port reverted", lambda: (body := get_json_if_found(cluster, namespace, "service", "cancer"))
          and [p["port"] for p in body["spec"]["ports"]] == [8080], 20)
    uid = service()["metadata"]["uid"]
    cluster.kubectl("delete", "service", "cancer", namespace=namespace)
    until("Service made again", lambda: cluster.kubectl(
        "get", "service", "cancer", "-o", "jsonpath={.metadata.uid}", namespace=namespace,
        check=False).stdout not in ("", uid), 20)
    wait_for(lambda: infer(cluster, namespace) == (200, "1"), 60, "an answer through the Service made again")

    # Other managers' fields: an annotation, a label, an injected variable. They stay, and the
    # operator, converged, does not write (nor apply) the children again whatever it reconciles.
    cluster.kubectl("annotate", "deployment.apps/cancer-v1", "example.com/note=kept", namespace=namespace)
    cluster.kubectl("label", "service/cancer", "example.com/team=kept", namespace=namespace)
    cluster.kubectl("patch", "deployment.apps/cancer-v1", "--field-manager=sidecar-injector", "-p",
                    '{"spec": {"template": {"spec": {"containers": [{"name": "server", "env": '
                    '[{"name": "INJECTED", "value": "1"}]}]}}}}', namespace=namespace)
    cluster.kubectl("rollout", "status", "deployment.apps/cancer-v1", "--timeout=90s", namespace=namespace,
                    timeout=100)
    wait_for(lambda: serving(cluster, namespace), 60, "v1 serving with the injected variable")
    written = children_written(cluster, namespace)
    writes_before = children_writes(audited.requests(), namespace)
    for paused in ("true", "false"):  # two reconciles, each seen in status.observedGeneration
        cluster.kubectl("patch", "mldeploy", "cancer", "--type=merge", "-p", f'{{"spec": {{"paused": {paused}}}}}',
                        namespace=namespace)
        generation = get_json(cluster, namespace, "mldeploy", "cancer")["metadata"]["generation"]
        wait_for(lambda: status(cluster, namespace, "mldeploy", "cancer").get("observedGeneration") == generation,
                 30, f"the operator to reconcile generation {generation}")
    assert children_written(cluster, namespace) == written
    assert children_writes(audited.requests(), namespace) == writes_before
    body = server()
    assert body["metadata"]["annotations"]["example.com/note"] == "kept"
    assert {"name": "INJECTED", "value": "1"} in body["spec"]["template"]["spec"]["containers"][0]["env"]
    assert service()["metadata"]["labels"]["example.com/team"] == "kept"
    print(f"operator writes to the children over the whole test: {children_writes(audited.requests(), namespace)}")


def test_an_autoscaled_server_keeps_its_count_when_the_operator_puts_a_hand_edit_back(crds, namespace, operator,
                                                                                     tmp_path):
    cluster = crds
    operator.start()
    apply(cluster, namespace, {"apiVersion": "mlops.dev/v1alpha1", "kind": "Model", "metadata": {"name": "v1"},
                               "spec": {"modelName": "cancer", "version": "1", "artifact": {"uri": saved(tmp_path, "v1")},
                                        "aliases": ["champion"]}})
    apply(cluster, namespace, {"apiVersion": "mlops.dev/v1alpha1", "kind": "Deployment", "metadata": {"name": "cancer"},
                               "spec": {"modelRef": {"modelName": "cancer"}, "replicas": 2,
                                        "autoscaling": {"minReplicas": 1, "maxReplicas": 3}}})
    wait_for(lambda: serving(cluster, namespace), 120, "v1 serving")
    assert get_json(cluster, namespace, "hpa", "cancer")["spec"]["scaleTargetRef"]["name"] == "cancer-v1"

    def server() -> dict:
        return get_json(cluster, namespace, "deployment.apps", "cancer-v1")

    def put_back(replicas: int) -> bool:
        body = server()
        return body["spec"]["template"]["spec"]["containers"][0]["image"] == image and body["spec"]["replicas"] == replicas

    image = server()["spec"]["template"]["spec"]["containers"][0]["image"]
    # The operator still owns the count it started with (the autoscaler, without CPU metrics here,
    # never wrote one): putting the image back must not drop it to the API server's default of 1.
    cluster.kubectl("set", "image", "deployment.apps/cancer-v1", "server=python:3.12", namespace=namespace)
    until("image reverted, the count of 2 kept", lambda: put_back(2), 20)
    # What the HorizontalPodAutoscaler does (through the scale subresource): the count is its own from now on.
    cluster.kubectl("scale", "deployment.apps/cancer-v1", "--replicas=3", namespace=namespace)
    wait_for(lambda: status(cluster, namespace, "mldeploy", "cancer").get("replicas") == 3, 30,
             "status counting the autoscaler's 3 servers")
    cluster.kubectl("set", "image", "deployment.apps/cancer-v1", "server=python:3.12", namespace=namespace)
    until("image reverted, the autoscaler's count of 3 kept", lambda: put_back(3), 20)
    generation = server()["metadata"]["generation"]
    cluster.kubectl("patch", "mldeploy", "cancer", "--type=merge", "-p", '{"spec": {"paused": true}}',
                    namespace=namespace)
    wanted = get_json(cluster, namespace, "mldeploy", "cancer")["metadata"]["generation"]
    wait_for(lambda: status(cluster, namespace, "mldeploy", "cancer").get("observedGeneration") == wanted, 30,
             "a reconcile of the edited Deployment")
    assert (server()["metadata"]["generation"], server()["spec"]["replicas"]) == (generation, 3)


def children_written(cluster, namespace) -> tuple[int, str]:
    """What changes when anybody writes the children's specs: the server Deployment's generation
    (its controller writes its status all along) and the Service's resourceVersion."""
    return (get_json(cluster, namespace, "deployment.apps", "cancer-v1")["metadata"]["generation"],
            get_json(cluster, namespace, "service", "cancer")["metadata"]["resourceVersion"])


def children_writes(requests: list[dict], namespace: str) -> dict[str, int]:
    """The operator's writes (applies included) to its server Deployments and Services, by verb."""
    children = (f"/apis/apps/v1/namespaces/{namespace}/deployments/", f"/api/v1/namespaces/{namespace}/services/")
    counted: dict[str, int] = {}
    for r in requests:
        if r["uri"].startswith(children) and r["verb"] in ("create", "patch", "update", "delete"):
            counted[f"{r['verb']} {r['resource']}"] = counted.get(f"{r['verb']} {r['resource']}", 0) + 1
    return counted
