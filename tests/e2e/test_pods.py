"""The pods the operator runs: admitted under Pod Security "restricted", shaped by spec.pod and the
container's env sources, their refusals and start failures shown in status within a minute, and
no secret value copied anywhere."""

import base64
import hashlib
import json

import pytest

from pipeline import (
    apply,
    condition,
    dataset,
    events_once_posted,
    experiment,
    experiment_finished,
    jobs_of,
    phase_is,
    script_trainer,
    status,
    write_csv,
)
from support import get_json, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.restricted]
REPORTED_WITHIN = 60
SECRET_VALUE = "s3cr3t-value-never-copied"


def ready_message(cluster, namespace, kind, name, *words):
    message = condition(status(cluster, namespace, kind, name), "Ready").get("message", "")
    return message if all(w in message for w in words) else None


def test_a_trial_pod_refused_by_admission_shows_in_status(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset("data", write_csv(tmp_path / "cancer.csv")))
    apply(crds, namespace, experiment("privileged", "data", pod={"securityContext": {"runAsNonRoot": False}}))
    operator.start()
    message = wait_for(lambda: ready_message(crds, namespace, "experiment", "privileged", "FailedCreate",
                                             "PodSecurity"), REPORTED_WITHIN + 60, "the refusal in status")
    assert "privileged-r1-t0" in message and 'violates PodSecurity "restricted' in message
    assert condition(status(crds, namespace, "experiment", "privileged"), "Ready")["reason"] == "TrialsNotStarting"
    said = events_once_posted(crds, namespace, "privileged", "TrialNotStarting")
    assert [r for r, _ in said].count("TrialNotStarting") == 1


def test_a_validation_pod_refused_by_quota_shows_in_status(crds, namespace, operator, tmp_path):
    apply(crds, namespace, {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "no-pods"},
                            "spec": {"hard": {"pods": "0"}}})
    apply(crds, namespace, dataset("data", write_csv(tmp_path / "cancer.csv")))
    operator.start()
    message = wait_for(lambda: ready_message(crds, namespace, "dataset", "data", "exceeded quota"),
                       REPORTED_WITHIN + 30, "the quota refusal in status")
    assert message.startswith("validation Job data-validate-g1-0 cannot start: FailedCreate:")
    assert condition(status(crds, namespace, "dataset", "data"), "Ready")["reason"] == "PodNotStarting"


def test_an_image_that_cannot_run_shows_in_status(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset("data", write_csv(tmp_path / "cancer.csv")))
    apply(crds, namespace, experiment("odd", "data", {"image": "registry.invalid/trainer:1"}))
    operator.start()
    wait_for(lambda: ready_message(crds, namespace, "experiment", "odd", "odd-r1-t0", "ImageNotRunnableLocally"),
             REPORTED_WITHIN, "the pod's waiting reason in status")
    summary = status(crds, namespace, "experiment", "odd")["trialSummaries"][0]
    assert (summary["phase"], summary["reason"]) == ("Pending", "ImageNotRunnableLocally")


DATA_KEY = "AKIA-data-key"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# The script compares digests: it must not hold the secrets itself.
CHECK_POD = f"""
import hashlib, os, pathlib
from mlops_operator.runtime import report
digest = lambda name: hashlib.sha256(os.environ[name].encode()).hexdigest()
assert digest("TOKEN") == "{digest(SECRET_VALUE)}", "env from a Secret key"
assert os.environ["MODE"] == "fast", "env from a ConfigMap key"
assert os.environ["CREDS_USER"] == "alice", "envFrom a Secret with a prefix"
assert digest("AWS_ACCESS_KEY_ID") == "{digest(DATA_KEY)}", "the Dataset's secretRef"
assert pathlib.Path("/etc/trainer/settings.ini").read_text() == "depth=3", "a configMap volume"
report({{"score": 1}})
"""


def test_pod_settings_and_env_sources_reach_the_pods_and_secrets_stay_secret(crds, namespace, operator, tmp_path):
    b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    apply(crds, namespace, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "trainer"},
                            "data": {"token": b64(SECRET_VALUE), "USER": b64("alice")}})
    apply(crds, namespace, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "data-creds"},
                            "data": {"AWS_ACCESS_KEY_ID": b64(DATA_KEY)}})
    apply(crds, namespace, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "trainer"},
                            "data": {"mode": "fast", "settings.ini": "depth=3"}})
    apply(crds, namespace, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "trainer"}})
    apply(crds, namespace, {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                            "metadata": {"name": f"{namespace}-batch"}, "value": 1000})
    uri = write_csv(tmp_path / "cancer.csv")
    apply(crds, namespace, dataset("data", uri, source={"uri": uri, "secretRef": {"name": "data-creds"}}))
    trainer = {**script_trainer(CHECK_POD),
               "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "trainer", "key": "token"}}},
                       {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "trainer", "key": "mode"}}}],
               "envFrom": [{"prefix": "CREDS_", "secretRef": {"name": "trainer"}}],
               "volumeMounts": [{"name": "settings", "mountPath": "/etc/trainer", "readOnly": True}],
               "securityContext": {"readOnlyRootFilesystem": True}}
    pod = {"labels": {"kueue.x-k8s.io/queue-name": "research"}, "annotations": {"team": "ml"},
           "serviceAccountName": "trainer", "nodeSelector": {"mlops.dev/local-node": "true"},
           "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}],
           "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
               {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}}},
           "priorityClassName": f"{namespace}-batch", "securityContext": {"runAsUser": 1000, "fsGroup": 1000},
           "volumes": [{"name": "settings", "configMap": {"name": "trainer", "items": [
               {"key": "settings.ini", "path": "settings.ini"}]}}]}
    apply(crds, namespace, experiment("custom", "data", trainer, values=(1,), pod=pod))
    operator.start()
    try:
        final = wait_for(lambda: experiment_finished(crds, namespace, "custom"), 180, "the customised trial")
    finally:
        crds.kubectl("delete", "priorityclass", f"{namespace}-batch", check=False)
    assert final["phase"] == "Succeeded", final["trialSummaries"]

    (trial,) = get_json(crds, namespace, "pods", "-l", "mlops.dev/trial=0")["items"]
    spec = trial["spec"]
    assert trial["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "research"
    assert trial["metadata"]["annotations"]["team"] == "ml"
    assert (spec["serviceAccountName"], spec["priorityClassName"]) == ("trainer", f"{namespace}-batch")
    assert spec["securityContext"]["runAsUser"] == 1000 and spec["securityContext"]["runAsNonRoot"] is True
    assert spec["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}

    # No secret value was copied into anything the operator wrote or posted.
    written = [item for kind in ("jobs", "datasets", "experiments", "events") for item in get_json(crds, namespace, kind)["items"]]
    assert [f"{o['kind']}/{o['metadata']['name']}" for o in written
            if SECRET_VALUE in json.dumps(o) or DATA_KEY in json.dumps(o)] == []
    for kind, name in (("dataset", "data"), ("experiment", "custom")):  # no kopf state annotations either
        annotations = get_json(crds, namespace, kind, name)["metadata"].get("annotations", {})
        assert not [a for a in annotations if a.startswith("mlops.dev/") or "last-handled" in a]
    assert phase_is(crds, namespace, "dataset", "data", "Ready")
    assert {j["metadata"]["name"] for j in jobs_of(crds, namespace, "experiment", "custom")} == {"custom-r1-t0"}


def test_a_child_the_api_server_refuses_stalls_with_its_words(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset("data", write_csv(tmp_path / "cancer.csv")))
    apply(crds, namespace, experiment("bad-affinity", "data", pod={"affinity": {"nodeAffinity": "anywhere"}}))
    operator.start()
    message = wait_for(lambda: ready_message(crds, namespace, "experiment", "bad-affinity", "refused"), 90,
                       "the refusal in status")
    current = status(crds, namespace, "experiment", "bad-affinity")
    assert condition(current, "Ready")["reason"] == "ChildRefused" and "affinity" in message
    assert condition(current, "Stalled")["status"] == "True"
    said = events_once_posted(crds, namespace, "bad-affinity", "ChildRefused")
    assert [r for r, _ in said].count("ChildRefused") == 1


def test_an_evicted_trial_pod_is_retried_without_counting_as_a_failure(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset("data", write_csv(tmp_path / "cancer.csv")))
    gated = script_trainer(
        "import os, pathlib, time\n"
        "gate = pathlib.Path(os.environ['GATE'])\n"
        "while not gate.exists(): time.sleep(0.2)\n"
        "from mlops_operator.runtime import report; report({'score': 1.0})")
    gated["env"] = [{"name": "GATE", "value": str(tmp_path / "gate")}]
    apply(crds, namespace, experiment("evicted", "data", gated, values=(1,), trialPolicy={"backoffLimit": 0}))
    operator.start()

    def running_pod():
        pods = get_json(crds, namespace, "pods", "-l", "job-name=evicted-r1-t0")["items"]
        return next((p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Running"), None)

    first = wait_for(running_pod, 120, "the trial's pod to run")
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": first, "namespace": namespace}}
    crds.kubectl("create", "--raw", f"/api/v1/namespaces/{namespace}/pods/{first}/eviction", "-f", "-",
                 input=json.dumps(eviction))
    second = wait_for(lambda: (name := running_pod()) and name != first and name, 120, "a replacement pod")
    (tmp_path / "gate").touch()
    final = wait_for(lambda: experiment_finished(crds, namespace, "evicted"), 120, "the trial to finish")
    assert final["phase"] == "Succeeded" and final["trials"]["failed"] == 0, final
    job = get_json(crds, namespace, "job", "evicted-r1-t0")
    assert not job["status"].get("failed") and second != first  # the eviction was not counted
