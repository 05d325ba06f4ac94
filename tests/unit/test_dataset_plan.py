"""The Dataset's plan: validation rounds and what a result means."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from mlops_operator.logic.dataset import (ValidationRun, parse_duration, plan, rounds, seconds_until_next_round,
                                         validation_round)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def dataset(status=None, generation=1):
    return {"metadata": {"name": "data", "generation": generation}, "spec": {}, "status": status or {}}


def passed(digest="sha256:aaa", rows=569):
    return json.dumps({"digest": digest, "metrics": {"rows": float(rows)}, "passed": True, "failed": [],
                       "stats": {"age": {"type": "int64", "nulls": 0}}, "statsOmitted": 0})


def condition(status, kind):
    return next(c for c in status["conditions"] if c["type"] == kind)


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("30m", 1800), ("1h30m", 5400), ("1.5h", 5400), ("250ms", 0.25)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["hourly", "", "10", "1d"])
def test_parse_duration_refuses_what_is_not_a_duration(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_rounds_advance_with_the_interval_since_creation():
    created = NOW
    assert validation_round(created, NOW + timedelta(minutes=25), None) == 0
    assert validation_round(created, NOW + timedelta(minutes=9), "10m") == 0
    assert validation_round(created, NOW + timedelta(minutes=25), "10m") == 2
    assert seconds_until_next_round(created, NOW + timedelta(minutes=25), "10m") == 300


def test_a_new_dataset_starts_its_validation_job_and_says_so():
    result = plan(dataset(), "data-validate-g1-0", busy=False, finished=None, now=NOW)
    assert result.create_job
    assert result.status_patch["phase"] == "Validating"
    assert condition(result.status_patch, "Ready")["status"] == "Unknown"


def test_a_passed_validation_records_digest_statistics_and_ready():
    result = plan(dataset(), "data-validate-g1-0", True, ValidationRun("data-validate-g1-0", True, passed()), NOW)
    status = result.status_patch
    assert not result.create_job
    assert (status["digest"], status["phase"], status["stats"]["rows"]) == ("sha256:aaa", "Ready", 569)
    assert status["lastValidationJob"] == "data-validate-g1-0" and status["validatedGeneration"] == 1
    assert condition(status, "Ready")["status"] == "True"
    assert condition(status, "Validated")["reason"] == "ValidationPassed"
    assert [e.reason for e in result.events] == ["ValidationPassed"]


def test_a_recorded_result_is_not_recorded_again():
    first = plan(dataset(), "data-validate-g1-0", True, ValidationRun("data-validate-g1-0", True, passed()), NOW)
    again = plan(dataset(first.status_patch), "data-validate-g1-0", True,
                 ValidationRun("data-validate-g1-0", True, passed()), NOW)
    assert again.status_patch == {} and again.events == [] and not again.create_job


def test_a_refresh_round_with_new_data_records_the_new_digest_and_when_it_was_seen():
    first = plan(dataset(), "data-validate-g1-0", True, ValidationRun("data-validate-g1-0", True, passed()), NOW)
    status = first.status_patch
    during = plan(dataset(status), "data-validate-g1-1", False, ValidationRun("data-validate-g1-0", True, passed()), NOW)
    assert during.create_job and during.status_patch == {}  # still Ready on the data it validated
    later = NOW + timedelta(minutes=10)
    result = plan(dataset(status), "data-validate-g1-1", True,
                  ValidationRun("data-validate-g1-1", True, passed("sha256:bbb")), later)
    assert result.status_patch["digest"] == "sha256:bbb"
    assert result.status_patch["digestChangedAt"] == "2026-11-26T12:10:00Z"
    assert [e.reason for e in result.events] == ["NewData", "ValidationPassed"]


def test_a_failed_rule_makes_the_dataset_not_ready_naming_the_rule_and_numbers():
    document = json.dumps({"digest": "sha256:aaa", "metrics": {"rows": 120}, "passed": False, "stats": {},
                           "failed": [{"name": "minRows", "message": "120 rows; at least 500 required"}]})
    status = plan(dataset(), "j", True, ValidationRun("j", True, document), NOW).status_patch
    ready = condition(status, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ValidationFailed")
    assert ready["message"] == "minRows: 120 rows; at least 500 required"
    assert "digest" not in status and status["phase"] == "Invalid"


def test_a_validator_that_could_not_run_is_reported_as_such():
    document = json.dumps({"error": "cannot read file:///missing.csv as csv: No such file"})
    status = plan(dataset(), "j", True, ValidationRun("j", False, document, "BackoffLimitExceeded", 2), NOW).status_patch
    ready = condition(status, "Ready")
    assert ready["reason"] == "ValidatorFailed"
    assert "BackoffLimitExceeded, exit code 2" in ready["message"] and "No such file" in ready["message"]


def test_a_round_that_outlasts_the_interval_delays_the_next_and_its_result_still_counts():
    first = plan(dataset(), "data-validate-g1-0", True, ValidationRun("data-validate-g1-0", True, passed()), NOW)
    status = first.status_patch
    # Round 1 still runs when round 2 is due: no pile-up.
    assert not plan(dataset(status), "data-validate-g1-2", True, ValidationRun("data-validate-g1-0", True, passed()),
                    NOW).create_job
    # When round 1 ends during round 2, its result is recorded all the same.
    late = plan(dataset(status), "data-validate-g1-2", False,
                ValidationRun("data-validate-g1-1", True, passed("sha256:bbb")), NOW)
    assert late.status_patch["digest"] == "sha256:bbb" and late.status_patch["lastValidationJob"] == "data-validate-g1-1"
    assert late.create_job


def job(name, generation, round_, done):
    status = {"conditions": [{"type": "Complete", "status": "True"}]} if done else {"active": 1}
    return {"metadata": {"name": name, "labels": {"mlops.dev/generation": str(generation), "mlops.dev/round": str(round_)}},
            "status": status}


def test_rounds_keep_the_due_running_latest_and_recorded_jobs_only():
    jobs = [job("g1-0", 1, 0, True), job("g2-3", 2, 3, True), job("g2-4", 2, 4, True), job("g2-10", 2, 10, True),
            job("g2-11", 2, 11, False), job("g1-9", 1, 9, False)]
    seen = rounds(jobs, 2, "g2-12", recorded="g2-4")
    assert seen.busy  # round 11 still runs
    assert seen.latest_finished["metadata"]["name"] == "g2-10"  # by round number, not by name
    assert seen.stale == ["g1-0", "g1-9", "g2-3"]
    idle = rounds([job("g2-10", 2, 10, True)], 2, "g2-12", recorded="g2-10")
    assert not idle.busy and idle.stale == []
