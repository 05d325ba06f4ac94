"""A Dataset's decisions, step by step as the cluster would play them."""

import json
from datetime import timedelta

import pytest

from mlops_operator import labels
from mlops_operator.api.dataset import DatasetSpec
from mlops_operator.logic.dataset.plan import DatasetWorld, plan
from mlops_operator.logic.patch import applied

from builders import NOW, condition, facts, job, meta, pod
from kstatus import CURRENT, FAILED, IN_PROGRESS, compute

SPEC = {"source": {"uri": "file:///data/cancer.csv"}, "format": "csv"}
DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64


def passed(digest=DIGEST, rows=569):
    return json.dumps({"digest": digest, "metrics": {"rows": rows}, "passed": True, "failed": [],
                       "stats": {"age": {"type": "int64", "nulls": 0}}})


def failed_rules():
    return json.dumps({"digest": OTHER, "metrics": {"rows": 40}, "passed": False,
                       "failed": [{"name": "minRows", "message": "40 rows; at least 100 required"}]})


def round_job(name, state="complete", generation=1, number=0, **extra):
    return job(name, "uid-d", state=state, labels_={labels.GENERATION: str(generation), labels.ROUND: str(number)},
               **extra)


def world(status=None, jobs=(), pods=None, events=None, generation=1, spec=None, now=NOW, deleting=False):
    return DatasetWorld(meta("Dataset", "d", "uid-d", generation, deleting=deleting),
                        DatasetSpec.model_validate(spec or SPEC), status or {"observedGeneration": 0}, facts(*jobs), now,
                        pods or {}, events or {})


def finished(name, message, state="complete", **extra):
    built = round_job(name, state, **extra)
    return built, {f"uid-{name}": [pod(f"uid-{name}", phase="Succeeded", terminated={"exitCode": 0, "message": message})]}


def kstatus(status, generation=1):
    return compute({"metadata": {"generation": generation}, "status": status})


def test_a_new_dataset_starts_its_validation_and_reads_in_progress():
    result = plan(world())
    assert [c.manifest["metadata"]["name"] for c in result.create] == ["d-validate-g1-0"]
    status = applied({"observedGeneration": 0}, result.status)
    assert status["phase"] == "Validating"
    assert condition(status, "Ready")["status"] == "Unknown" and condition(status, "Reconciling")["status"] == "True"
    assert kstatus(status) == (IN_PROGRESS, "R2")  # observedGeneration 0: not yet reflected
    assert result.requeue_after == 10.0  # a look at the new round once it should have a pod


def test_a_passed_validation_records_digest_statistics_and_ready_once():
    job_, pods = finished("d-validate-g1-0", passed())
    first = plan(world({"observedGeneration": 0}, [job_], pods))
    status = applied({"observedGeneration": 0}, first.status)
    assert (status["digest"], status["phase"], status["stats"]["rows"]) == (DIGEST, "Ready", 569)
    assert (status["lastValidationJob"], status["validatedGeneration"], status["observedGeneration"]) == (
        "d-validate-g1-0", 1, 1)
    assert condition(status, "Validated")["reason"] == "ValidationPassed"
    assert not condition(status, "Reconciling") and kstatus(status) == (CURRENT, "R5")
    assert [e.reason for e in first.events] == ["ValidationPassed"] and not first.create
    again = plan(world(status, [job_], pods))
    assert again.status == {} and again.events == [] and again.create == []


def test_data_that_fails_its_rules_is_invalid_and_stalled_without_a_digest():
    job_, pods = finished("d-validate-g1-0", failed_rules())
    status = applied({}, plan(world({}, [job_], pods)).status)
    assert status["phase"] == "Invalid" and "digest" not in status
    assert condition(status, "Ready")["message"] == "spec.validation.minRows: 40 rows; at least 100 required"
    assert kstatus(status) == (FAILED, "R4")


def test_a_validator_that_cannot_read_the_data_is_an_error():
    job_, pods = finished("d-validate-g1-0", json.dumps({"error": "no such file"}), state="failed",
                          reason="BackoffLimitExceeded")
    status = applied({}, plan(world({}, [job_], pods)).status)
    assert status["phase"] == "Error" and condition(status, "Validated")["reason"] == "ValidatorFailed"
    assert "no such file" in condition(status, "Ready")["message"] and kstatus(status)[0] == FAILED


def test_an_edit_revalidates_and_observed_generation_waits_for_the_result():
    job_, pods = finished("d-validate-g1-0", passed())
    ready = applied({}, plan(world({}, [job_], pods)).status)
    edited = plan(world(ready, [job_], pods, generation=2))
    assert [c.manifest["metadata"]["name"] for c in edited.create] == ["d-validate-g2-0"]
    status = applied(ready, edited.status)
    assert status["observedGeneration"] == 1 and status["digest"] == DIGEST  # what status shows is gen 1's
    assert condition(status, "Ready")["observedGeneration"] == 2 and status["phase"] == "Validating"
    assert kstatus(status, generation=2) == (IN_PROGRESS, "R2")


def test_a_refresh_round_with_new_data_records_the_new_digest_and_announces_it():
    spec = {**SPEC, "refresh": {"interval": "10m"}}
    job_, pods = finished("d-validate-g1-0", passed())
    ready = applied({}, plan(world({}, [job_], pods, spec=spec)).status)
    later = NOW + timedelta(minutes=15)  # created an hour ago: round 7 is due
    during = plan(world(ready, [job_], pods, spec=spec, now=later))
    assert [c.manifest["metadata"]["name"] for c in during.create] == ["d-validate-g1-7"]
    assert during.status == {} and 0 < during.requeue_after <= 600
    refreshed, more = finished("d-validate-g1-7", passed(OTHER), number=7)
    result = plan(world(ready, [job_, refreshed], {**pods, **more}, spec=spec, now=later))
    assert result.status["digest"] == OTHER and result.status["digestChangedAt"] == "2026-11-26T12:15:00Z"
    assert [e.reason for e in result.events] == ["ValidationPassed", "NewData"]
    assert [d.name for d in result.delete] == []


def test_a_round_whose_pod_cannot_start_says_why_once():
    job_ = round_job("d-validate-g1-0", "running")
    pods = {"uid-d-validate-g1-0": [pod("uid-d-validate-g1-0", phase="Pending",
                                         waiting=("ImagePullBackOff", 'Back-off pulling image "nope"'))]}
    first = plan(world({}, [job_], pods))
    status = applied({}, first.status)
    ready = condition(status, "Ready")
    assert ready["reason"] == "PodNotStarting" and "ImagePullBackOff" in ready["message"]
    assert [e.reason for e in first.events] == ["PodNotStarting"]
    assert plan(world(status, [job_], pods)).events == []


def test_a_round_refused_by_admission_says_so_from_the_jobs_events():
    job_ = round_job("d-validate-g1-0", "running", active=0, created=NOW - timedelta(seconds=30))
    events = {"uid-d-validate-g1-0": [{"reason": "FailedCreate", "lastTimestamp": "2026-11-26T11:59:50Z",
                                       "message": 'pods "x" is forbidden: violates PodSecurity "restricted:latest"'}]}
    result = plan(world({}, [job_], {}, events))
    assert "violates PodSecurity" in condition(applied({}, result.status), "Ready")["message"]
    assert result.requeue_after == 10.0  # a pod-less round is looked at again soon


def test_a_refresh_round_that_cannot_start_shows_in_ready_and_the_last_result_holds():
    spec = {**SPEC, "refresh": {"interval": "10m"}}
    job_, pods = finished("d-validate-g1-0", passed())
    ready = applied({}, plan(world({}, [job_], pods, spec=spec)).status)
    stuck = round_job("d-validate-g1-7", "running", number=7)
    pods = {**pods, "uid-d-validate-g1-7": [pod("uid-d-validate-g1-7", phase="Pending",
                                                waiting=("ErrImagePull", "registry unreachable"))]}
    later = NOW + timedelta(minutes=15)
    first = plan(world(ready, [job_, stuck], pods, spec=spec, now=later))
    status = applied(ready, first.status)
    assert condition(status, "Ready")["status"] == "True" and status["digest"] == DIGEST
    assert "refresh Job d-validate-g1-7 cannot start: ErrImagePull" in condition(status, "Ready")["message"]
    assert [e.reason for e in first.events] == ["PodNotStarting"]
    assert plan(world(status, [job_, stuck], pods, spec=spec, now=later)).events == []


def test_a_deleted_validation_job_is_not_run_again():
    job_, pods = finished("d-validate-g1-0", passed())
    ready = applied({}, plan(world({}, [job_], pods)).status)
    result = plan(world(ready, [], {}))
    assert result.create == [] and result.status == {}


def test_a_reconcile_error_in_ready_is_restated_from_validated():
    job_, pods = finished("d-validate-g1-0", passed())
    ready = applied({}, plan(world({}, [job_], pods)).status)
    broken = {**ready, "conditions": [dict(c, status="False", reason="ReconcileError") if c["type"] == "Ready" else c
                                      for c in ready["conditions"]]}
    healed = applied(broken, plan(world(broken, [job_], pods)).status)
    assert condition(healed, "Ready")["status"] == "True" and condition(healed, "Ready")["reason"] == "ValidationPassed"


def test_a_dataset_being_deleted_gets_no_decision():
    assert plan(world(deleting=True)).create == []


@pytest.mark.parametrize("splits", [{"validation": 0.1}, {"train": 0.9}, {}])
def test_validation_pods_receive_resolved_splits(splits):
    result = plan(world(spec={**SPEC, "splits": splits}))
    env = {e["name"]: e["value"] for e in result.create[0].manifest["spec"]["template"]["spec"]["containers"][0]["env"]}
    resolved = json.loads(env["MLOPS_DATASET_SPEC"])["splits"]
    assert set(resolved) >= {"train", "test", "seed"} and resolved["train"] + resolved["test"] <= 1
