"""Serving end to end: model servers on the local node behind a Service that kube-proxy routes,
canary rollouts through every step under a steady stream of requests to the ClusterIP, rollbacks
of a version that answers with errors or cannot load, and an operator killed mid-rollout."""

from pathlib import Path

import fsspec
import joblib
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops_operator.runtime.examples.common import TARGET, breast_cancer_frame

from pipeline import apply, condition, events_once_posted, status
import predictions
from predictions import Answer, Traffic
from support import get_json, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.restricted]

FEATURES = breast_cancer_frame().drop(columns=[TARGET])
ROWS = FEATURES.head(3)


def saved(folder: Path, name: str, columns: int = len(FEATURES.columns)) -> str:
    """A classifier trained here; on fewer columns than requests carry, it answers every request with an error."""
    frame = breast_cancer_frame()
    estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    estimator.fit(frame.drop(columns=[TARGET]).iloc[:, :columns].to_numpy(), frame[TARGET])
    uri = f"file://{folder / name / 'model.joblib'}"
    with fsspec.open(uri, "wb", auto_mkdir=True) as f:
        joblib.dump(estimator, f)
    return uri


def version(name: str, number: str, uri: str) -> dict:
    """A version without a validation policy: it takes champion as the newest version asking for it."""
    return {"apiVersion": "mlops.dev/v1alpha1", "kind": "Model", "metadata": {"name": name},
            "spec": {"modelName": "cancer", "version": number, "artifact": {"uri": uri}, "aliases": ["champion"]}}


def deployment(steps: list[dict], **spec) -> dict:
    return {"apiVersion": "mlops.dev/v1alpha1", "kind": "Deployment", "metadata": {"name": "cancer"},
            "spec": {"modelRef": {"modelName": "cancer"}, "replicas": 2,
                     "strategy": {"canary": {"steps": steps, "analysis": {"minRequests": 5},
                                             "progressDeadlineSeconds": 90}}, **spec}}


def infer(address: str) -> Answer:
    """One prediction of ROWS through the Service."""
    def all_rows_answered(answer: dict) -> None:
        assert answer["outputs"][0]["shape"][0] == len(ROWS)

    return predictions.infer(address, "cancer", [{"name": "input-0", "shape": list(ROWS.shape), "datatype": "FP64",
                                                     "data": ROWS.to_numpy().ravel().tolist()}], all_rows_answered)


def cluster_address(cluster, namespace) -> str:
    service = get_json(cluster, namespace, "service", "cancer")
    return f"{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"


def serving(cluster, namespace, model: str) -> dict | None:
    current = status(cluster, namespace, "mldeploy", "cancer")
    ready = condition(current, "Ready").get("status") == "True"
    return current if ready and current.get("stableModel") == model and not current.get("canary") else None


def server_deployments(cluster, namespace) -> list[str]:
    return sorted(d["metadata"]["name"] for d in get_json(cluster, namespace, "deployments.apps")["items"])


def pods_of(cluster, namespace, model: str) -> list[dict]:
    return get_json(cluster, namespace, "pods", "-l", f"mlops.dev/model={model}")["items"]


def start_serving(cluster, namespace, tmp_path, steps) -> str:
    apply(cluster, namespace, version("v1", "1", saved(tmp_path, "v1")))
    apply(cluster, namespace, deployment(steps))
    wait_for(lambda: serving(cluster, namespace, "v1"), 120, "v1 serving")
    address = cluster_address(cluster, namespace)
    assert infer(address) == (200, "1")
    return address


def test_a_better_champion_rolls_out_through_every_step_without_a_failed_request(cluster, namespace, operator,
                                                                                tmp_path):
    running = operator.start()
    address = start_serving(cluster, namespace, tmp_path, [{"weight": 25, "pause": "3s"}, {"weight": 50, "pause": "3s"}])
    current = status(cluster, namespace, "mldeploy", "cancer")
    assert current["url"] == f"http://cancer.{namespace}.svc:8080" and current["phase"] == "Serving"
    traffic = Traffic(lambda: infer(address))
    apply(cluster, namespace, version("v2", "2", saved(tmp_path, "v2")))
    wait_for(lambda: serving(cluster, namespace, "v2"), 180, "v2 rolled out")
    wait_for(lambda: len(traffic.answers) > 20 and traffic.answers[-1] == (200, "2"), 30, "v2 answering")
    answers = traffic.finish()
    assert traffic.failed() == [], traffic.failed()[:5]
    assert {"1", "2"} <= {version for _, version in answers}
    assert server_deployments(cluster, namespace) == ["cancer-v2"]
    # The steps, from the Events: status shows each for 3 s plus its pods' start, which one slow
    # poll could miss. The killed-operator test below reads a step from status, where it stays.
    said = [message for _, message in events_once_posted(cluster, namespace, "cancer", "RolloutStarted",
                                                         "StepAdvanced", "Promoted")]
    assert any("step 1 at 25%" in m for m in said) and any("step 2 at 50%" in m for m in said), said

    # Deleting it needs no operator: its servers and Service go with it (owner references).
    running.kill()
    cluster.kubectl("delete", "mldeploy", "cancer", "--wait=true", "--timeout=15s", namespace=namespace)
    wait_for(lambda: not server_deployments(cluster, namespace)
             and not get_json(cluster, namespace, "services")["items"], 60, "servers and Service gone")


def test_a_version_that_answers_errors_or_cannot_load_is_rolled_back_while_the_stable_one_answers(
        cluster, namespace, operator, tmp_path):
    operator.start()
    address = start_serving(cluster, namespace, tmp_path, [{"weight": 50, "pause": "1h"}])
    traffic = Traffic(lambda: infer(address))
    apply(cluster, namespace, version("v2", "2", saved(tmp_path, "v2", columns=5)))

    def degraded(model):
        current = status(cluster, namespace, "mldeploy", "cancer")
        given_up = current.get("rolledBack") or {}
        return current if given_up.get("model") == model and current.get("phase") == "Degraded" else None

    after_errors = wait_for(lambda: degraded("v2"), 120, "the erroring canary rolled back")
    assert after_errors["stableModel"] == "v1" and not after_errors.get("canary")
    assert "error rate" in condition(after_errors, "Degraded")["message"]
    assert condition(after_errors, "Stalled")["status"] == "True" and condition(after_errors, "Ready")["status"] == "False"
    assert condition(after_errors, "Available")["status"] == "True"
    # Its pods drain before they go; once gone, no request can reach them.
    wait_for(lambda: server_deployments(cluster, namespace) == ["cancer-v1"] and not pods_of(cluster, namespace, "v2"),
             60, "the canary and its pods removed")
    errors_seen = len(traffic.answers)
    wait_for(lambda: len(traffic.answers) > errors_seen + 20, 60, "more requests")
    assert all(answer == (200, "1") for answer in traffic.answers[errors_seen:]), traffic.answers[errors_seen:][:5]
    assert any(code == 500 for code, _ in traffic.answers[:errors_seen])  # the canary really answered with errors

    apply(cluster, namespace, version("v3", "3", f"file://{tmp_path}/missing/model.joblib"))
    after_crash = wait_for(lambda: degraded("v3"), 120, "the canary that cannot load rolled back")
    assert "restarted" in condition(after_crash, "Degraded")["message"]
    served = len(traffic.answers)
    wait_for(lambda: len(traffic.answers) > served + 20, 60, "more requests")
    answers = traffic.finish()
    # The canary that cannot load is never ready, so it never takes traffic: nothing failed.
    assert all(answer == (200, "1") for answer in answers[errors_seen:]), [a for a in answers[errors_seen:] if a[0] != 200][:5]
    warnings = [(reason, message) for reason, message in events_once_posted(cluster, namespace, "cancer", "RolledBack", "RolledBack")
                if reason == "RolledBack"]
    assert len(warnings) == 2 and "v2" in warnings[0][1] + warnings[1][1]


def test_a_killed_operator_resumes_the_rollout_at_the_same_step_and_spec_promote_finishes_it(
        cluster, namespace, operator, tmp_path):
    first = operator.start()
    start_serving(cluster, namespace, tmp_path, [{"weight": 50, "pause": "1h"}, {"weight": 75}])
    apply(cluster, namespace, version("v2", "2", saved(tmp_path, "v2")))

    def at_step_one():
        current = status(cluster, namespace, "mldeploy", "cancer")
        canary = current.get("canary") or {}
        return canary if canary.get("step") == 1 and "pause ends at" in condition(current, "Progressing")[
            "message"] else None

    before = wait_for(at_step_one, 120, "step 1 with its canary ready")
    first.kill()
    operator.start()
    # The restarted operator shows it took over by acting on a spec change, then still holds step 1.
    cluster.kubectl("patch", "mldeploy", "cancer", "--type=merge", "-p", '{"spec": {"paused": true}}',
                    namespace=namespace)
    paused = wait_for(lambda: (status(cluster, namespace, "mldeploy", "cancer").get("canary") or {}).get("pausedAt")
                      and status(cluster, namespace, "mldeploy", "cancer"), 60, "paused by the new operator")
    assert paused["phase"] == "Paused"
    assert {k: paused["canary"][k] for k in before} == before  # same step, same start: the same remaining pause
    cluster.kubectl("patch", "mldeploy", "cancer", "--type=merge", "-p",
                    '{"spec": {"paused": false, "promote": {"model": "v2", "step": 1}}}', namespace=namespace)
    waiting = wait_for(lambda: condition(status(cluster, namespace, "mldeploy", "cancer"), "Progressing").get(
        "reason") == "WaitingForPromote" and status(cluster, namespace, "mldeploy", "cancer"), 90, "step 2 waits")
    assert waiting["canary"]["step"] == 2 and waiting["canary"]["weight"] == 75
    # A merge patch keeps keys it does not name: step is removed explicitly, for "all the way now".
    cluster.kubectl("patch", "mldeploy", "cancer", "--type=merge", "-p",
                    '{"spec": {"promote": {"model": "v2", "step": null}}}', namespace=namespace)
    wait_for(lambda: serving(cluster, namespace, "v2"), 120, "v2 promoted")
