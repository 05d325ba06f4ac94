"""Results and runs hold: results survive their Jobs, an owner never takes a predecessor's children,
a run stops and goes on with its Dataset, and status tells the truth about its generation."""

import pytest

from pipeline import (
    SLEEP,
    apply,
    condition,
    dataset,
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


def test_results_survive_their_jobs(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset("data", write_csv(tmp_path / "cancer.csv")))
    apply(crds, namespace, experiment("exp", "data", values=(1, 2, 3), parallelism=3))
    operator.start()
    done = wait_for(lambda: experiment_finished(crds, namespace, "exp"), 180, "the sweep")
    assert done["phase"] == "Succeeded" and sorted(done["trialResults"]) == ["0", "1", "2"]

    crds.kubectl("delete", "jobs", "-l", "mlops.dev/experiment=exp", "--wait=true", namespace=namespace)
    # A later edit that does not change what runs proves a reconcile happened after the deletion.
    crds.kubectl("patch", "experiment", "exp", "--type=merge", "-p", '{"spec":{"trigger":{"onDatasetChange":false}}}',
                 namespace=namespace)
    after = wait_for(lambda: (s := status(crds, namespace, "experiment", "exp")).get("observedGeneration") == 2 and s,
                     60, "the edit observed")
    assert jobs_of(crds, namespace, "experiment", "exp") == []  # nothing re-run
    assert after["phase"] == "Succeeded" and after["trialResults"] == done["trialResults"]
    assert after["bestTrial"] == done["bestTrial"] and after["run"] == 1


def test_a_recreated_experiment_never_takes_its_predecessors_jobs(crds, namespace, operator, tmp_path):
    apply(crds, namespace, dataset("data", write_csv(tmp_path / "cancer.csv")))
    apply(crds, namespace, experiment("exp", "data", script_trainer(SLEEP), values=(1,)))
    operator.start()
    wait_for(lambda: jobs_of(crds, namespace, "experiment", "exp"), 120, "the first trial's Job")
    old_uid = get_json(crds, namespace, "experiment", "exp")["metadata"]["uid"]
    # Orphaned: the Job stays, without an owner, under the name the new Experiment will want.
    crds.kubectl("delete", "experiment", "exp", "--cascade=orphan", namespace=namespace)
    apply(crds, namespace, experiment("exp", "data", values=(1,)))
    message = wait_for(lambda: condition(status(crds, namespace, "experiment", "exp"), "Ready").get("reason")
                       == "ChildConflict" and condition(status(crds, namespace, "experiment", "exp"), "Ready")["message"],
                       60, "the conflict in status")
    assert "exp-r1-t0" in message
    orphan = get_json(crds, namespace, "job", "exp-r1-t0")
    assert not orphan["metadata"].get("ownerReferences") and orphan["metadata"]["labels"]["mlops.dev/owner-uid"] == old_uid
    crds.kubectl("delete", "job", "exp-r1-t0", "--wait=true", namespace=namespace)
    final = wait_for(lambda: experiment_finished(crds, namespace, "exp"), 120, "the new Experiment's own sweep")
    assert final["phase"] == "Succeeded" and final["run"] == 1
    (job,) = jobs_of(crds, namespace, "experiment", "exp")
    assert job["metadata"]["ownerReferences"][0]["uid"] != old_uid


def test_a_dataset_deleted_mid_run_stops_the_run_until_it_is_back(crds, namespace, operator, tmp_path):
    uri = write_csv(tmp_path / "cancer.csv")
    apply(crds, namespace, dataset("data", uri))
    sleepy_then_report = script_trainer(
        "import os, time, pathlib\n"
        "gate = pathlib.Path(os.environ['GATE'])\n"
        "while not gate.exists(): time.sleep(0.2)\n"
        "from mlops_operator.runtime import report; report({'score': float(os.environ['PARAM_X'])})")
    sleepy_then_report["env"] = [{"name": "GATE", "value": str(tmp_path / "gate")}]
    apply(crds, namespace, experiment("exp", "data", sleepy_then_report, values=(1, 2, 3)))
    operator.start()
    wait_for(lambda: phase_is(crds, namespace, "experiment", "exp", "Running"), 120, "the run")
    crds.kubectl("delete", "dataset", "data", namespace=namespace)
    waiting = wait_for(lambda: phase_is(crds, namespace, "experiment", "exp", "Waiting"), 60, "the run to stop")
    assert condition(waiting, "Ready")["message"] == "Dataset 'data' not found in this namespace"
    (tmp_path / "gate").touch()  # the running trial finishes while the Dataset is gone: its result counts
    wait_for(lambda: status(crds, namespace, "experiment", "exp").get("trialResults", {}).get("0"), 60,
             "the running trial's result")
    assert len(jobs_of(crds, namespace, "experiment", "exp")) == 1  # no new trial without the Dataset
    apply(crds, namespace, dataset("data", uri))
    final = wait_for(lambda: experiment_finished(crds, namespace, "exp"), 180, "the run to go on and finish")
    assert final["phase"] == "Succeeded" and final["run"] == 1 and final["progress"] == "3/3"


def test_a_new_object_reads_in_progress_before_the_operator_sees_it(crds, namespace):
    apply(crds, namespace, experiment("exp", "data"))
    assert status(crds, namespace, "experiment", "exp") == {"observedGeneration": 0}
