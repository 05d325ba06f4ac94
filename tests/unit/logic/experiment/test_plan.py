"""An Experiment's decisions, played step by step as the cluster would."""

from datetime import timedelta

import pytest

from mlops_operator.logic.experiment.plan import plan

from builders import NOW, condition, pod
from experiments import DIGEST, NEW_DIGEST, Sweep, dataset, spec
from kstatus import CURRENT, FAILED, IN_PROGRESS, compute


def kstatus(sweep: Sweep):
    return compute({"metadata": {"generation": sweep.generation}, "status": sweep.status})


def names(plan):
    return [c.manifest["metadata"]["name"] for c in plan.create]


def test_waits_for_a_missing_dataset_naming_it():
    sweep = Sweep(dataset=dataset(found=False))
    result = sweep.step()
    assert result.create == []
    ready = condition(sweep.status, "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False", "WaitingForDataset", "first run: run 1 waits: Dataset 'data' not found in this namespace")
    assert sweep.status["phase"] == "Waiting" and kstatus(sweep) == (IN_PROGRESS, "R3")


@pytest.mark.parametrize("view, words", [
    (dataset(ready=False), "is not Ready: minRows: 40 rows"),
    (dataset(current=False), "is being validated for its latest change"),
    (dataset(digest=None), "is not Ready"),
])
def test_no_run_starts_on_a_dataset_that_is_not_usable(view, words):
    sweep = Sweep(dataset=view)
    assert sweep.step().create == [] and words in condition(sweep.status, "Ready")["message"]


def test_a_sweep_runs_parallelism_trials_at_a_time_and_finds_the_best():
    sweep = Sweep()
    first = sweep.step()
    assert names(first) == ["exp-r1-t0", "exp-r1-t1"]
    assert sweep.status["run"] == 1 and sweep.status["dataset"]["digest"] == DIGEST
    assert sweep.status["progress"] == "0/4" and sweep.status["trials"]["running"] == 2
    assert sweep.reasons() == ["RunStarted"]  # one Event for the run, none per trial
    assert sweep.step().create == [] and sweep.step().status == {}  # nothing changed: nothing written

    sweep.finish("exp-r1-t0", {"auc": 0.8})
    assert names(sweep.step()) == ["exp-r1-t2"]
    assert sweep.status["trialResults"] == {"0": {"phase": "Succeeded", "value": 0.8}}
    for name, auc in (("exp-r1-t1", 0.9), ("exp-r1-t2", 0.85)):
        sweep.finish(name, {"auc": auc})
    sweep.settle()
    sweep.finish("exp-r1-t3", failed="BackoffLimitExceeded", message="boom")
    sweep.settle()
    status = sweep.status
    assert status["phase"] == "Succeeded" and status["progress"] == "4/4"
    assert status["trials"] == {"total": 4, "pending": 0, "running": 0, "succeeded": 3, "failed": 1}
    assert status["bestTrial"] == {"name": "exp-r1-t1", "index": 1, "parameters": {"x": 1.0}, "metrics": {"auc": 0.9},
                                   "objectiveValue": 0.9}
    assert condition(status, "Succeeded")["status"] == "True" and kstatus(sweep) == (CURRENT, "R5")
    assert sweep.reasons().count("RunCompleted") == 1 and sweep.reasons().count("TrialFailed") == 1
    assert status["runs"][-1]["phase"] == "Succeeded" and status["completedAt"]


def play(sweep: Sweep):
    """A sweep of 4 trials, 2 at a time, yielding after every reconcile."""
    sweep.step()
    yield
    for index, auc in enumerate((0.8, 0.9, 0.7, 0.85)):
        sweep.finish(f"exp-r1-t{index}", {"auc": auc})
        sweep.step()
        yield


def test_replaying_a_reconcile_after_it_was_applied_changes_nothing():
    sweep = Sweep()
    for _ in play(sweep):
        replay = plan(sweep.world())
        assert replay.status == {} and replay.events == []
        assert {c.manifest["metadata"]["name"] for c in replay.create} <= set(sweep.jobs)


def test_a_crash_before_the_status_patch_creates_nothing_twice():
    sweep = Sweep()
    for _ in play(sweep):
        sweep.step(patch_status=False)  # the operator died after creating Jobs, before patching status
        jobs = set(sweep.jobs)
        again = plan(sweep.world())
        assert {c.manifest["metadata"]["name"] for c in again.create} <= jobs  # only 409s, which adopt
        assert sum(1 for j in sweep.jobs.values() if "active" in j["status"]) <= 2


def test_all_trials_failing_is_a_terminal_failure():
    sweep = Sweep(spec=spec(max_trials=2))
    sweep.step()
    sweep.finish("exp-r1-t0", failed="BackoffLimitExceeded")
    sweep.finish("exp-r1-t1", message="no metrics here")
    sweep.settle()
    assert sweep.status["phase"] == "Failed" and kstatus(sweep) == (FAILED, "R4")
    assert {s["reason"] for s in sweep.status["trialSummaries"]} == {"BackoffLimitExceeded", "MetricsMissing"}


def test_a_finished_trials_job_deleted_is_neither_rerun_nor_lost():
    sweep = Sweep(spec=spec(max_trials=2))
    sweep.step()
    sweep.finish("exp-r1-t0", {"auc": 0.7})
    sweep.finish("exp-r1-t1", {"auc": 0.6})
    sweep.settle()
    done = dict(sweep.status)
    sweep.jobs.clear()  # a TTL or a user removed the finished Jobs
    result = sweep.step()
    assert result.create == [] and result.status == {} and sweep.status == done
    assert done["phase"] == "Succeeded"


def test_a_running_trials_job_deleted_by_hand_is_started_again():
    sweep = Sweep(spec=spec(max_trials=2))
    sweep.step()
    del sweep.jobs["exp-r1-t1"]
    again = sweep.step()
    assert names(again) == ["exp-r1-t1"]
    # Said by the create (a 409, when the Job was only hidden by an edit of its labels, says nothing).
    assert [c.event.reason for c in again.create] == ["TrialJobDeleted"] and again.events == []
    assert [c.event for c in sweep.step().create] == []


def test_a_burst_of_edits_starts_one_run_once_the_spec_stays_unchanged():
    sweep = Sweep(spec=spec(max_trials=2), spec_written_at=NOW)
    assert names(sweep.step()) == ["exp-r1-t0", "exp-r1-t1"]  # a new Experiment starts at once
    sweep.finish("exp-r1-t0", {"auc": 0.7})
    sweep.finish("exp-r1-t1", {"auc": 0.6})
    sweep.settle()
    for generation, edited in ((2, spec(max_trials=3)), (3, spec(max_trials=3, parallelism=1))):
        sweep.spec, sweep.generation = edited, generation
        sweep.spec_written_at, sweep.now = sweep.now, sweep.now + timedelta(seconds=1)  # edited a second ago
        result = sweep.step()
        assert result.create == [] and result.requeue_after == pytest.approx(2.0)
        ready = condition(sweep.status, "Ready")
        assert (ready["reason"], ready["observedGeneration"]) == ("EditsSettling", generation)
        assert ready["message"] == "the spec changed: run 2 starts once the spec has stayed unchanged for 3s"
        assert kstatus(sweep) == (IN_PROGRESS, "R2")
    sweep.now += timedelta(seconds=2)
    assert names(sweep.step()) == ["exp-r2-t0"]  # one run, of the last spec
    assert [r["run"] for r in sweep.status["runs"]] == [1, 2] and sweep.status["progress"] == "0/3"


def test_an_edit_that_cannot_start_yet_says_so_and_keeps_observed_generation():
    sweep = Sweep(spec=spec(max_trials=2))
    sweep.step()
    sweep.finish("exp-r1-t0", {"auc": 0.7})
    sweep.finish("exp-r1-t1", {"auc": 0.6})
    sweep.settle()
    sweep.spec, sweep.generation, sweep.dataset = spec(max_trials=3), 2, dataset(ready=False)
    result = sweep.step()
    assert result.create == [] and result.delete == []
    status = sweep.status
    assert status["observedGeneration"] == 1 and status["progress"] == "2/2"  # still run 1's, never 2/3
    ready = condition(status, "Ready")
    assert (ready["reason"], ready["observedGeneration"]) == ("WaitingForDataset", 2)
    assert ready["message"].startswith("the spec changed: run 2 waits:")
    assert condition(status, "Succeeded")["status"] == "True"  # run 1's result stands
    assert kstatus(sweep) == (IN_PROGRESS, "R2")

    sweep.dataset = dataset()
    assert names(sweep.step()) == ["exp-r2-t0", "exp-r2-t1"]
    assert sweep.status["observedGeneration"] == 2 and sweep.status["progress"] == "0/3"
    assert [r["run"] for r in sweep.status["runs"]] == [1, 2]


def test_an_edit_mid_run_starts_a_new_run_and_cancels_the_old_ones_unfinished_trials():
    sweep = Sweep(spec=spec(max_trials=4))
    sweep.step()
    sweep.finish("exp-r1-t0", {"auc": 0.7})
    sweep.step()
    sweep.spec, sweep.generation = spec(max_trials=4, parallelism=1), 2
    sweep.spec["trainer"]["image"] = "python:3.12"
    result = sweep.step()
    assert [d.name for d in result.delete] == ["exp-r1-t1", "exp-r1-t2"]  # unfinished; t0 stays for reference
    assert names(result) == ["exp-r2-t0"] and result.create[0].event is None  # the old run's trials are not "deleted"
    assert sweep.status["runs"][0] == {**sweep.status["runs"][0], "run": 1, "phase": "Superseded"}
    assert sweep.status["trialResults"] == {} and "bestTrial" not in sweep.status


def test_an_edit_of_pod_settings_applies_to_later_trials_without_a_new_run():
    sweep = Sweep(spec=spec(max_trials=4, parallelism=1))
    sweep.step()
    sweep.spec, sweep.generation = spec(max_trials=4, parallelism=1, pod={"nodeSelector": {"gpu": "yes"}}), 2
    sweep.finish("exp-r1-t0", {"auc": 0.7})
    result = sweep.step()
    assert names(result) == ["exp-r1-t1"] and sweep.status["run"] == 1 and sweep.status["observedGeneration"] == 2
    assert result.create[0].manifest["spec"]["template"]["spec"]["nodeSelector"] == {"gpu": "yes"}


@pytest.mark.parametrize("trigger", [False, True])
def test_new_data_mid_run(trigger):
    sweep = Sweep(spec=spec(max_trials=4, trigger=trigger))
    sweep.step()
    sweep.dataset = dataset(digest=NEW_DIGEST)
    sweep.finish("exp-r1-t0", {"auc": 0.7})
    result = sweep.step()
    if trigger:  # the run's data is gone: a new run on the new data starts at once
        assert sweep.status["run"] == 2 and sweep.status["dataset"]["digest"] == NEW_DIGEST
        assert [d.name for d in result.delete] == ["exp-r1-t1"]  # cancelled; finished t0 stays for reference
        assert names(result) == ["exp-r2-t0", "exp-r2-t1"]
    else:  # no new trial on data the run did not pin
        assert result.create == [] and sweep.status["phase"] == "Waiting"
        ready = condition(sweep.status, "Ready")
        assert ready["reason"] == "DatasetChanged" and NEW_DIGEST in ready["message"]
        assert sweep.status["trialResults"] == {"0": {"phase": "Succeeded", "value": 0.7}}  # still recorded


def test_new_data_after_a_finished_run_starts_a_new_one_only_with_the_trigger():
    for trigger, runs in ((False, 1), (True, 2)):
        sweep = Sweep(spec=spec(max_trials=1, trigger=trigger))
        sweep.step()
        sweep.finish("exp-r1-t0", {"auc": 0.7})
        sweep.settle()
        sweep.dataset = dataset(digest=NEW_DIGEST)
        sweep.settle()
        assert sweep.status["run"] == runs
        assert sweep.status["phase"] == ("Succeeded" if runs == 1 else "Running")


def test_a_dataset_deleted_mid_run_stops_it_and_the_run_goes_on_when_it_is_back():
    sweep = Sweep(spec=spec(max_trials=4, parallelism=2))
    sweep.step()
    sweep.dataset = dataset(found=False)
    sweep.finish("exp-r1-t0", {"auc": 0.7})
    assert sweep.step().create == []
    assert condition(sweep.status, "Ready")["message"] == "Dataset 'data' not found in this namespace"
    assert sweep.status["phase"] == "Waiting" and sweep.status["trialResults"]["0"]["value"] == 0.7
    sweep.dataset = dataset()
    assert names(sweep.step()) == ["exp-r1-t2"]


def test_trials_of_a_run_get_the_data_spec_it_pinned():
    sweep = Sweep(spec=spec(max_trials=3, parallelism=1))
    sweep.step()
    sweep.dataset = dataset(data={**{"source": {"uri": "file:///data/v2.csv"}, "format": "csv"}})  # same digest
    sweep.finish("exp-r1-t0", {"auc": 0.7})
    (created,) = sweep.step().create
    env = {e["name"]: e["value"] for e in created.manifest["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["MLOPS_DATASET_URI"] == "file:///data/cancer.csv" and "cancer.csv" in env["MLOPS_DATASET_SPEC"]


def test_a_trial_that_cannot_start_is_reported_once():
    sweep = Sweep(spec=spec(max_trials=2))
    sweep.step()
    sweep.pods["uid-exp-r1-t1"] = [pod("uid-exp-r1-t1", phase="Pending",
                                       waiting=("ImagePullBackOff", 'Back-off pulling image "python:3.11"'))]
    result = sweep.step()
    ready = condition(sweep.status, "Ready")
    assert ready["reason"] == "TrialsNotStarting" and "exp-r1-t1: ImagePullBackOff" in ready["message"]
    pending = next(s for s in sweep.status["trialSummaries"] if s["index"] == 1)
    assert (pending["phase"], pending["reason"]) == ("Pending", "ImagePullBackOff")
    assert [e.reason for e in result.events] == ["TrialNotStarting"]
    assert sweep.step().events == []


def test_a_trial_that_cannot_start_is_made_again_after_its_pod_settings_are_edited():
    sweep = Sweep(spec=spec(max_trials=2))
    sweep.step()
    sweep.pods["uid-exp-r1-t1"] = [pod("uid-exp-r1-t1", phase="Pending", unschedulable="0/1 nodes match the selector")]
    sweep.step()
    assert sweep.step().delete == []  # nothing edited: the stuck trial waits, as Kubernetes says why
    sweep.spec, sweep.generation = spec(max_trials=2, pod={"nodeSelector": {"pool": "gpu"}}), 2
    result = sweep.step()
    assert [d.name for d in result.delete] == ["exp-r1-t1"]  # the running t0 stays
    assert [e.reason for e in result.events] == ["TrialRecreated"]
    again = sweep.step()
    assert names(again) == ["exp-r1-t1"] and sweep.status["run"] == 1
    assert again.create[0].manifest["spec"]["template"]["spec"]["nodeSelector"] == {"pool": "gpu"}


def test_parameters_reach_the_trainer_as_written():
    sweep = Sweep(spec=spec(max_trials=1) | {"search": {"parameters": {"cmd": {"choices": ["$(HOME)"]}},
                                                      "maxTrials": 1}})
    (created,) = sweep.step().create
    container = created.manifest["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["PARAM_CMD"] == "$$(HOME)"  # the kubelet turns $$( back into $(
    assert env["MLOPS_PARAMETERS"] == '{"cmd":"$$(HOME)"}'


def test_status_stays_bounded_for_a_large_sweep():
    sweep = Sweep(spec=spec(max_trials=100, parallelism=100))
    sweep.step()
    for index in range(100):
        if index % 3:
            sweep.finish(f"exp-r1-t{index}", {"auc": index / 100})
        else:
            sweep.finish(f"exp-r1-t{index}", failed="BackoffLimitExceeded")
    sweep.step()
    assert len(sweep.status["trialSummaries"]) == 20 and len(sweep.status["trialResults"]) == 100
    assert sweep.status["trials"]["pending"] == 0 and sweep.status["bestTrial"]["index"] == 98
