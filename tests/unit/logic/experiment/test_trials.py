"""Trial Jobs: which run they belong to, which go, which start, what blocks them."""

import pytest

from mlops_operator import labels
from mlops_operator.logic.experiment.trials import (
    blockers,
    free_slots,
    new_outcomes,
    of_run,
    superseded,
    to_start,
    trial_jobs,
    unrecorded_finished,
    vanished,
)

from builders import facts, job, pod


def trial(run, index, state="running", params='{"x": 1}'):
    return job(f"exp-r{run}-t{index}", "uid-exp", state=state, labels_={labels.RUN: str(run), labels.TRIAL: str(index)},
               annotations={labels.PARAMETERS_ANNOTATION: params})


def test_jobs_without_run_and_trial_labels_are_not_trials():
    found = trial_jobs(facts(trial(1, 0), job("stray", "uid-exp"), trial(1, 1, params="not json")))
    assert [(t.run, t.index, t.parameters) for t in found] == [(1, 0, {"x": 1}), (1, 1, None)]


def test_older_runs_keep_finished_jobs_one_run_for_reference():
    jobs = trial_jobs(facts(trial(1, 0, "complete"), trial(2, 0, "complete"), trial(2, 1), trial(3, 0)))
    assert superseded(jobs, 3) == ["exp-r1-t0", "exp-r2-t1"]


def test_slots_count_jobs_that_may_still_have_pods():
    jobs = trial_jobs(facts(trial(1, 0), trial(1, 1, "terminating"), trial(1, 2, "complete")))
    assert free_slots(jobs, set(), 3) == 1
    assert free_slots(jobs, {"exp-r1-t0"}, 3) == 2
    assert to_start(5, {0, 1, 2}, 2) == [3, 4] and to_start(5, set(), -1) == []


def test_finished_trials_are_judged_once():
    jobs = trial_jobs(facts(trial(1, 0, "complete"), trial(1, 1, "complete"), trial(1, 2)))
    pods = {"uid-exp-r1-t0": [pod("uid-exp-r1-t0", phase="Succeeded",
                                  terminated={"exitCode": 0, "message": '{"metrics": {"auc": 0.5}}'})]}
    outcomes = new_outcomes(of_run(jobs, 1), {1}, pods, "auc", None)
    assert list(outcomes) == [0] and outcomes[0].objective == 0.5
    assert [j.name for j in unrecorded_finished(facts(trial(1, 0, "complete"), trial(1, 1, "complete")), 1, {1})] == [
        "exp-r1-t0"]


def test_blockers_by_trial():
    jobs = of_run(trial_jobs(facts(trial(1, 0), trial(1, 1))), 1)
    pods = {"uid-exp-r1-t1": [pod("uid-exp-r1-t1", phase="Pending", unschedulable="0/1 nodes available")]}
    assert {i: b.reason for i, b in blockers(jobs, set(), pods, {}).items()} == {1: "Unschedulable"}


SHOWN = [{"index": 0, "phase": "Running"}, {"index": 1, "phase": "Running"}, {"index": 2, "phase": "Pending"},
         {"index": 3, "phase": "Succeeded"}]


@pytest.mark.parametrize("jobs, recorded, expected", [
    ([trial(1, 0), trial(1, 1)], set(), []),  # every running trial has its Job
    ([trial(1, 1)], set(), [0]),  # trial 0's Job deleted while it ran
    ([trial(1, 1)], {0}, []),  # its result was recorded first: it stands, nothing is lost or redone
    ([trial(1, 0), trial(1, 1)], {3}, []),  # a finished trial's Job deleted afterwards: nothing to say
    ([], set(), [0, 1]),  # a Pending one's Job goes when the operator makes it again after an edit
])
def test_running_trials_whose_job_is_gone_without_a_result(jobs, recorded, expected):
    assert vanished(of_run(trial_jobs(facts(*jobs)), 1), recorded, SHOWN) == expected
