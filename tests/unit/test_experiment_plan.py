"""The Experiment's plan: runs, slots, completion, triggers, status."""

from datetime import datetime, timedelta, timezone

from mlops_operator.logic.experiment import (MAX_FAILED_SUMMARIES, MAX_RUNNING_SUMMARIES, MAX_SUCCEEDED_SUMMARIES,
                                             DatasetView, plan, spec_hash)
from mlops_operator.logic.trials import FAILED, SUCCEEDED, Outcome, Trial

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)
READY = DatasetView("data", True, True, "ok", "sha256:aaa")


def experiment(status=None, generation=1, max_trials=6, parallelism=2, trigger=False, **search):
    spec = {
        "datasetRef": {"name": "data"},
        "trainer": {"image": "python:3.11"},
        "search": {"algorithm": "grid", "parameters": {"x": {"values": list(range(max_trials))}},
                   "maxTrials": max_trials, "parallelism": parallelism, **search},
        "objective": {"metric": "auc", "goal": "maximize"},
    }
    if trigger:
        spec["trigger"] = {"onDatasetChange": True}
    return {"metadata": {"name": "exp", "generation": generation}, "spec": spec, "status": status or {}}


def done(index, value=None, run=1, reason=None):
    phase = FAILED if reason or value is None else SUCCEEDED
    outcome = Outcome(phase, reason or ("Succeeded" if phase == SUCCEEDED else "MetricsMissing"), "m",
                      {"auc": value} if value is not None else {}, value)
    return Trial(f"exp-r{run}-t{index}", run, index, {"x": index}, outcome, False)


def running(index, run=1):
    return Trial(f"exp-r{run}-t{index}", run, index, {"x": index}, None, True)


def apply(exp, patch):
    """The status after the plan's patch (a JSON merge patch: None removes a key)."""
    status = dict(exp["status"])
    for key, value in patch.items():
        if value is None:
            status.pop(key, None)
        else:
            status[key] = value
    return {**exp, "status": status}


def condition(status, kind):
    return next(c for c in status["conditions"] if c["type"] == kind)


def test_waits_for_a_missing_dataset_with_a_reason():
    result = plan(experiment(), DatasetView("data", False), [], NOW)
    assert result.create == [] and result.run == 0
    ready = condition(result.status_patch, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "DatasetNotReady")
    assert ready["message"] == "Dataset 'data' not found"
    assert result.status_patch["phase"] == "Waiting"


def test_waits_for_a_dataset_that_is_not_ready_and_says_why():
    view = DatasetView("data", True, False, "minRows: 120 rows; at least 500 required")
    ready = condition(plan(experiment(), view, [], NOW).status_patch, "Ready")
    assert ready["message"] == "waiting for Dataset 'data' to be Ready: minRows: 120 rows; at least 500 required"


def test_first_run_pins_the_digest_and_starts_parallelism_trials():
    result = plan(experiment(), READY, [], NOW)
    assert (result.run, result.digest, result.create) == (1, "sha256:aaa", [0, 1])
    status = result.status_patch
    assert status["trials"] == {"total": 6, "pending": 4, "running": 2, "succeeded": 0, "failed": 0}
    assert (status["datasetDigest"], status["progress"], status["phase"]) == ("sha256:aaa", "0/6", "Running")
    assert [e.reason for e in result.events] == ["RunStarted"]


def test_never_more_than_parallelism_trials_hold_slots():
    exp = apply(experiment(), plan(experiment(), READY, [], NOW).status_patch)
    assert plan(exp, READY, [running(0), running(1)], NOW).create == []
    assert plan(exp, READY, [done(0, 0.5), running(1)], NOW).create == [2]
    # A finished Job whose pod still terminates keeps its slot.
    lingering = Trial("exp-r1-t0", 1, 0, {"x": 0}, done(0, 0.5).outcome, True)
    assert plan(exp, READY, [lingering, running(1)], NOW).create == []


def test_the_same_inputs_give_the_same_plan_and_nothing_to_write():
    first = plan(experiment(), READY, [], NOW)
    exp = apply(experiment(), first.status_patch)
    trials = [running(0), running(1)]
    again = plan(exp, READY, trials, NOW + timedelta(minutes=1))
    assert again.create == [] and again.status_patch == {} and again.events == []


def test_completion_with_a_best_trial():
    exp = apply(experiment(max_trials=3), plan(experiment(max_trials=3), READY, [], NOW).status_patch)
    result = plan(exp, READY, [done(0, 0.7), done(1, 0.9), done(2, reason="MetricsMissing")], NOW)
    status = result.status_patch
    assert status["phase"] == "Succeeded" and status["progress"] == "3/3"
    assert status["bestTrial"] == {"name": "exp-r1-t1", "parameters": {"x": 1}, "metrics": {"auc": 0.9},
                                   "objectiveValue": 0.9}
    assert condition(status, "Succeeded")["reason"] == "BestTrialFound"
    assert condition(status, "Ready")["status"] == "True"
    assert [e.reason for e in result.events] == ["RunCompleted"]
    assert status["runs"][-1]["bestTrial"] == "exp-r1-t1" and status["runs"][-1]["failed"] == 1
    # Nothing more happens, and no second RunCompleted, once recorded.
    assert plan(apply(exp, status), READY, [done(0, 0.7), done(1, 0.9), done(2, reason="X")], NOW).events == []


def test_all_trials_failed():
    exp = apply(experiment(max_trials=2), plan(experiment(max_trials=2), READY, [], NOW).status_patch)
    status = plan(exp, READY, [done(0, reason="BackoffLimitExceeded"), done(1, reason="MetricsMissing")], NOW).status_patch
    assert status["phase"] == "Failed"
    assert (condition(status, "Succeeded")["status"], condition(status, "Succeeded")["reason"]) == ("False", "AllTrialsFailed")


def finished_run(trigger=True):
    exp = experiment(max_trials=2, trigger=trigger)
    exp = apply(exp, plan(exp, READY, [], NOW).status_patch)
    return apply(exp, plan(exp, READY, [done(0, 0.7), done(1, 0.8)], NOW).status_patch)


def test_new_data_starts_a_new_run_with_the_trigger():
    exp = finished_run()
    newer = DatasetView("data", True, True, "ok", "sha256:bbb")
    result = plan(exp, newer, [done(0, 0.7), done(1, 0.8)], NOW + timedelta(hours=1))
    assert (result.run, result.digest, result.create) == (2, "sha256:bbb", [0, 1])
    assert result.delete == []  # the last run's finished trials stay for reference
    assert [r["run"] for r in result.status_patch["runs"]] == [1, 2]
    assert result.status_patch["runs"][0]["bestValue"] == 0.8
    assert result.events[0].reason == "RunStarted" and "new data" in result.events[0].message


def test_new_data_without_the_trigger_changes_nothing():
    exp = finished_run(trigger=False)
    newer = DatasetView("data", True, True, "ok", "sha256:bbb")
    assert plan(exp, newer, [done(0, 0.7), done(1, 0.8)], NOW).status_patch == {}


def test_new_data_waits_for_the_current_run_to_finish():
    exp = experiment(max_trials=2, trigger=True)
    exp = apply(exp, plan(exp, READY, [], NOW).status_patch)
    newer = DatasetView("data", True, True, "ok", "sha256:bbb")
    assert plan(exp, newer, [done(0, 0.7), running(1)], NOW).run == 1


def test_a_spec_edit_starts_a_new_run_and_cancels_unfinished_trials():
    exp = experiment(max_trials=3)
    exp = apply(exp, plan(exp, READY, [], NOW).status_patch)
    edited = {**exp, "metadata": {"name": "exp", "generation": 2},
              "spec": {**exp["spec"], "objective": {"metric": "auc", "goal": "minimize"}}}
    older = [done(0, 0.5, run=0), done(0, 0.7), running(1)]
    result = plan(edited, READY, older, NOW)
    assert result.run == 2 and result.create == [0, 1]
    assert sorted(result.delete) == ["exp-r0-t0", "exp-r1-t1"]
    assert result.status_patch["specHash"] == spec_hash(edited["spec"])


def test_a_spec_edit_while_the_dataset_is_not_ready_starts_nothing_more():
    exp = experiment(max_trials=4, parallelism=1)
    exp = apply(exp, plan(exp, READY, [], NOW).status_patch)
    edited = {**exp, "spec": {**exp["spec"], "trainer": {"image": "python:3.12"}}}
    result = plan(edited, DatasetView("data", True, False, "validating"), [done(0, 0.5)], NOW)
    assert result.run == 1 and result.create == []


def test_trial_summaries_stay_bounded_for_large_sweeps():
    big = experiment(max_trials=1000, parallelism=40)
    exp = apply(big, plan(big, READY, [], NOW).status_patch)
    trials = ([done(i, i / 1000) for i in range(400)] + [done(i, reason="BackoffLimitExceeded") for i in range(400, 700)]
              + [running(i) for i in range(700, 740)])
    summaries = plan(exp, READY, trials, NOW).status_patch["trialSummaries"]
    assert len(summaries) == MAX_SUCCEEDED_SUMMARIES + MAX_FAILED_SUMMARIES + MAX_RUNNING_SUMMARIES
    succeeded = [s for s in summaries if s["phase"] == "Succeeded"]
    assert {s["index"] for s in succeeded} == set(range(390, 400))
    assert {s["index"] for s in summaries if s["phase"] == "Failed"} == set(range(690, 700))
    assert [s["index"] for s in summaries] == sorted(s["index"] for s in summaries)


def test_dataset_view_of_a_dataset_object():
    assert DatasetView.of("data", None) == DatasetView("data", False)
    ready = {"status": {"digest": "sha256:a", "conditions": [{"type": "Ready", "status": "True", "message": "ok"}]}}
    assert DatasetView.of("data", ready).usable
    validating = {"status": {"conditions": [{"type": "Ready", "status": "Unknown", "message": "running"}]}}
    assert DatasetView.of("data", validating) == DatasetView("data", True, False, "running", None)
