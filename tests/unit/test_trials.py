"""Judging a finished trial and choosing the best one."""

import json

import pytest

from mlops_operator.logic.trials import FAILED, SUCCEEDED, Outcome, Trial, best_trial, judge


def judged(message, succeeded=True, reason="", job_message="", exit_code=0, pinned=None, metric="roc_auc"):
    return judge(job_succeeded=succeeded, job_reason=reason, job_message=job_message, exit_code=exit_code,
                 termination_message=message, objective_metric=metric, pinned_digest=pinned)


@pytest.mark.parametrize("message, reason", [
    (None, "MetricsMissing"),
    ("", "MetricsMissing"),
    ("Traceback (most recent call last): ...", "MetricsMissing"),
    (json.dumps({"artifactUri": "s3://x"}), "MetricsMissing"),
    (json.dumps({"metrics": {}}), "MetricsMissing"),
    (json.dumps({"metrics": {"accuracy": 0.9}}), "ObjectiveMissing"),
    (json.dumps({"metrics": {"roc_auc": None}}), "ObjectiveNotFinite"),
    (json.dumps({"metrics": {"roc_auc": "high"}}), "ObjectiveNotFinite"),
    (json.dumps({"metrics": {"roc_auc": 0.9}, "digest": "sha256:other"}), "DatasetChanged"),
])
def test_a_succeeded_job_without_a_usable_objective_is_a_failed_trial(message, reason):
    outcome = judged(message, pinned="sha256:pinned")
    assert (outcome.phase, outcome.reason) == (FAILED, reason)
    assert outcome.message


def test_a_good_result():
    outcome = judged(json.dumps({"metrics": {"roc_auc": 0.91, "accuracy": 0.88}, "digest": "sha256:pinned",
                                 "artifactUri": "file:///m.joblib"}), pinned="sha256:pinned")
    assert outcome == Outcome(SUCCEEDED, "Succeeded", "roc_auc=0.91", {"roc_auc": 0.91, "accuracy": 0.88}, 0.91,
                              "file:///m.joblib")
    assert Outcome.from_json(outcome.to_json()) == outcome


def test_a_failed_job_keeps_its_reason_exit_code_and_the_programs_words():
    outcome = judged("ValueError: bad data", succeeded=False, reason="BackoffLimitExceeded",
                     job_message="Job has reached the specified backoff limit", exit_code=3)
    assert outcome.phase == FAILED and outcome.reason == "BackoffLimitExceeded"
    assert outcome.message == "Job has reached the specified backoff limit; exit code 3; ValueError: bad data"


def test_failure_messages_are_bounded():
    assert len(judged("x" * 10000, succeeded=False, reason="Error").message) <= 512


def trial(index, objective, phase=SUCCEEDED):
    return Trial(f"t{index}", 1, index, {}, Outcome(phase, phase, "", {}, objective), False)


@pytest.mark.parametrize("goal, trials, best", [
    ("maximize", [trial(0, 0.8), trial(1, 0.9), trial(2, 0.85)], "t1"),
    ("minimize", [trial(0, 0.8), trial(1, 0.9), trial(2, 0.85)], "t0"),
    ("maximize", [trial(3, 0.9), trial(1, 0.9), trial(2, 0.7)], "t1"),
    ("minimize", [trial(5, 0.1), trial(4, 0.1)], "t4"),
    ("maximize", [trial(0, None, FAILED), trial(1, 0.5)], "t1"),
    ("maximize", [trial(0, 0.99, FAILED), trial(1, 0.5)], "t1"),
    ("maximize", [Trial("t0", 1, 0, {}, None, True), trial(1, 0.5)], "t1"),
])
def test_best_trial(goal, trials, best):
    assert best_trial(trials, goal).name == best


def test_no_best_trial_without_a_succeeded_one():
    assert best_trial([trial(0, None, FAILED)], "maximize") is None
    assert best_trial([], "minimize") is None


def test_trial_events_say_what_happened():
    from mlops_operator.logic.trials import finished_event, started_event

    assert started_event("exp-r1-t0", {"n": 50.0, "c": "gini"}).message == "trial exp-r1-t0: c=gini, n=50"
    ok = finished_event("exp-r1-t0", Outcome(SUCCEEDED, "Succeeded", "auc=0.9"))
    assert (ok.type, ok.reason, ok.message) == ("Normal", "TrialSucceeded", "trial exp-r1-t0: auc=0.9")
    bad = finished_event("exp-r1-t1", Outcome(FAILED, "MetricsMissing", "no metrics"))
    assert (bad.type, bad.reason, bad.message) == ("Warning", "TrialFailed", "trial exp-r1-t1: MetricsMissing: no metrics")
