"""Every shape a program can leave in its termination message becomes a named outcome: a
malformed result never freezes an object, and nothing unencodable or unbounded reaches status."""

import json

import pytest

from mlops_operator.logic.jobs import Termination, job_facts
from mlops_operator.logic.results import failure_field, judge_trial, judge_validation

from builders import encodable, job

SUCCEEDED_JOB = job_facts(job("t", "o", state="complete"))
FAILED_JOB = job_facts(job("t", "o", state="failed", reason="BackoffLimitExceeded",
                           message="Job has reached the specified backoff limit"))


def trial(message, *, job_=SUCCEEDED_JOB, exit_code=0, reason=None, pinned="sha256:pinned"):
    return judge_trial(job_, Termination(message, exit_code, reason), "roc_auc", pinned)


# (termination message, reason, words the message must contain)
TRIAL_TABLE = [
    (None, "MetricsMissing", "reported no metrics"),
    ("", "MetricsMissing", "reported no metrics"),
    ("Traceback (most recent call last): ...", "MetricsMissing", "reported no metrics"),
    (json.dumps({"artifactUri": "s3://x"}), "MetricsMissing", "reported no metrics"),
    (json.dumps({"metrics": {}}), "MetricsMissing", "reported no metrics"),
    ("[1, 2]", "MalformedResult", "not an object"),
    ("42", "MalformedResult", "not an object"),
    (json.dumps({"metrics": [0.9]}), "MalformedResult", "metrics"),
    (json.dumps({"metrics": "high"}), "MalformedResult", "metrics"),
    (json.dumps({"metrics": {"roc_auc": "high"}}), "MalformedResult", "metric 'roc_auc' must be a number"),
    (json.dumps({"metrics": {"roc_auc": {"value": 0.9}}}), "MalformedResult", "metric 'roc_auc' must be a number"),
    (json.dumps({"metrics": {"roc_auc": True}}), "MalformedResult", "metric 'roc_auc' must be a number"),
    (json.dumps({"metrics": {"roc_auc": 0.9}, "digest": 7}), "MalformedResult", "digest"),
    (json.dumps({"metrics": {"roc_auc": 0.9}, "artifactUri": "s3://" + "x" * 5000}), "MalformedResult", "artifactUri"),
    (json.dumps({"metrics": {f"m{i}": 1 for i in range(65)}}), "MalformedResult", "at most 64 metrics"),
    (json.dumps({"metrics": {"x" * 200: 1}}), "MalformedResult", "metrics"),
    (json.dumps({"metrics": {"accuracy": 0.9}}), "ObjectiveMissing", "not the objective metric 'roc_auc'"),
    (json.dumps({"metrics": {"roc_auc": None}}), "ObjectiveNotFinite", "not a finite number"),
    ('{"metrics": {"roc_auc": NaN}}', "ObjectiveNotFinite", "not a finite number"),
    ('{"metrics": {"roc_auc": Infinity}}', "ObjectiveNotFinite", "not a finite number"),
    ('{"metrics": {"roc_auc": 1e400}}', "ObjectiveNotFinite", "not a finite number"),
    ('{"metrics": {"roc_auc": ' + "9" * 400 + "}}", "ObjectiveNotFinite", "not a finite number"),
    (json.dumps({"metrics": {"roc_auc": 0.9}, "digest": "sha256:other"}), "DatasetChanged", "sha256:other"),
]


@pytest.mark.parametrize("message, reason, words", TRIAL_TABLE)
def test_a_succeeded_job_without_a_usable_result_is_a_failed_trial(message, reason, words):
    outcome = trial(message)
    assert (outcome.phase, outcome.reason) == ("Failed", reason)
    assert words in outcome.message
    assert len(outcome.message) <= 512
    assert encodable({"metrics": outcome.metrics, "objective": outcome.objective})


def test_a_good_result():
    outcome = trial(json.dumps({"metrics": {"roc_auc": 0.91, "accuracy": 0.88, "loss": None},
                                "digest": "sha256:pinned", "artifactUri": "file:///m.joblib"}))
    assert (outcome.phase, outcome.reason, outcome.message) == ("Succeeded", "Succeeded", "roc_auc=0.91")
    assert outcome.metrics == {"roc_auc": 0.91, "accuracy": 0.88}  # a null metric is not kept
    assert (outcome.objective, outcome.artifact_uri) == (0.91, "file:///m.joblib")


def test_non_finite_metrics_besides_the_objective_are_left_out():
    outcome = trial('{"metrics": {"roc_auc": 0.5, "loss": NaN, "big": -Infinity}}')
    assert outcome.metrics == {"roc_auc": 0.5} and encodable(outcome.metrics)


@pytest.mark.parametrize("message, termination_reason, reason, words", [
    ("ValueError: bad data", "Error", "BackoffLimitExceeded",
     "Job has reached the specified backoff limit; exit code 3; ValueError: bad data"),
    (json.dumps({"error": {"code": 7, "detail": "nested"}}), "Error", "BackoffLimitExceeded", "'code': 7"),
    ("", "OOMKilled", "OOMKilled", "exit code 3"),
    ("x" * 10000, "Error", "BackoffLimitExceeded", "xxx"),
])
def test_a_failed_job_keeps_its_reason_exit_code_and_the_programs_words(message, termination_reason, reason, words):
    outcome = trial(message, job_=FAILED_JOB, exit_code=3, reason=termination_reason)
    assert (outcome.phase, outcome.reason) == ("Failed", reason)
    assert words in outcome.message and len(outcome.message) <= 512


def test_an_unknown_job_failure_reason_is_named_in_the_message():
    odd = job_facts(job("t", "o", state="failed", reason="PodFailurePolicy", message="matched a rule"))
    outcome = trial(None, job_=odd, exit_code=None)
    assert outcome.reason == "JobFailed" and outcome.message == "PodFailurePolicy; matched a rule"


def validation(message, job_=SUCCEEDED_JOB, exit_code=0):
    return judge_validation(job_, Termination(message, exit_code, None))


PASSED = {"passed": True, "digest": "sha256:" + "a" * 64, "metrics": {"rows": 569},
          "stats": {"age": {"type": "int64", "nulls": 0, "mean": 41.5}}}

VALIDATION_TABLE = [
    (None, "ValidatorFailed", "reported no result"),
    ("not json", "ValidatorFailed", "reported no result"),
    ("[]", "ValidatorFailed", "not an object"),
    (json.dumps({"digest": "sha256:aa"}), "ValidatorFailed", "passed"),
    (json.dumps({"passed": True}), "ValidatorFailed", "digest"),  # never Ready without a digest
    (json.dumps({**PASSED, "digest": ""}), "ValidatorFailed", "digest"),
    (json.dumps({**PASSED, "digest": "md5"}), "ValidatorFailed", "digest"),
    (json.dumps({**PASSED, "passed": "yes"}), "ValidatorFailed", "passed"),
    (json.dumps({**PASSED, "failed": "everything"}), "ValidatorFailed", "failed"),
    (json.dumps({"error": {"nested": ["object"]}}), "ValidatorFailed", "passed"),
    (json.dumps({**PASSED, "passed": False, "failed": [{"name": "minRows", "message": "2 rows"}]}),
     "ValidationFailed", "minRows: 2 rows"),
    (json.dumps({**PASSED, "passed": False, "failed": []}), "ValidationFailed", "without naming a check"),
]


@pytest.mark.parametrize("message, reason, words", VALIDATION_TABLE)
def test_validation_results(message, reason, words):
    verdict = validation(message)
    assert verdict.reason == reason and words in verdict.message
    assert verdict.digest is None or verdict.reason != "ValidatorFailed"


def test_a_passed_validation_keeps_finite_statistics_only():
    document = {**PASSED, "metrics": {"rows": 1e300}, "stats": {
        "age": {"type": "int64", "nulls": 0, "mean": float("nan"), "max": float("inf"), "min": 1},
        "bad": {"nulls": "many"}}}
    verdict = validation(json.dumps(document))
    assert verdict.passed and verdict.digest == PASSED["digest"]
    assert verdict.columns == {"age": {"type": "int64", "nulls": 0, "min": 1.0}}
    assert verdict.rows is None  # 1e300 rows is not a count
    assert encodable(verdict.columns)


def test_a_failed_validator_job_says_why():
    failed = job_facts(job("v", "o", state="failed", reason="BackoffLimitExceeded"))
    verdict = validation(json.dumps({"error": "cannot read file:///x.csv as csv: no such file"}), failed, 2)
    assert verdict.reason == "ValidatorFailed"
    assert verdict.message == ("the validator failed (BackoffLimitExceeded after spec.validation.backoffLimit retries, "
                               "exit code 2): "
                               "cannot read file:///x.csv as csv: no such file")


@pytest.mark.parametrize("check, field", [
    ("column mean_radius", "spec.schema.columns[name=mean_radius]"),
    ("minRows", "spec.validation.minRows"),
    ("maxNullFraction", "spec.validation.maxNullFraction"),
    ("radius-positive", "spec.validation.rules[name=radius-positive]"),
    ("a custom validator's check", "a custom validator's check"),  # not a rule of the spec: as reported
])
def test_a_failed_check_names_its_spec_field(check, field):
    assert failure_field(check, {"radius-positive"}) == field


def test_a_failed_validation_names_the_spec_fields_of_its_checks():
    failed = {**PASSED, "passed": False, "failed": [
        {"name": "column age", "message": "column 'age': values are floating, not integer"},
        {"name": "positive", "message": "3 values of 'age' are below 0"}]}
    verdict = judge_validation(SUCCEEDED_JOB, Termination(json.dumps(failed), 0, None), {"positive"})
    assert verdict.message == ("spec.schema.columns[name=age]: column 'age': values are floating, not integer; "
                               "spec.validation.rules[name=positive]: 3 values of 'age' are below 0")
