"""Each kind's phases read as kstatus (Flux, kpt, Argo CD) expects; each row names the rule it
checks (tests/unit/kstatus.py). Statuses come from the controllers' own plans."""


import pytest

from mlops_operator.api.crdgen import crd_for
from mlops_operator.api.kinds import KINDS

from experiments import Sweep, dataset, spec
from kstatus import CURRENT, FAILED, IN_PROGRESS, TERMINATING, compute


def experiment(scenario: str) -> Sweep:
    sweep = Sweep(spec=spec(max_trials=1), dataset=dataset(found=scenario != "waiting"))
    sweep.step()
    if scenario in ("succeeded", "failed", "edited"):
        sweep.finish("exp-r1-t0", {"auc": 0.5} if scenario != "failed" else None,
                     failed="" if scenario != "failed" else "BackoffLimitExceeded")
        sweep.step()
    if scenario == "edited":
        sweep.generation, sweep.dataset = 2, dataset(ready=False)
        sweep.spec = spec(max_trials=2)
        sweep.step()
    return sweep


@pytest.mark.parametrize("scenario, expected", [
    ("waiting", (IN_PROGRESS, "R3")),  # Reconciling=True while it waits for its Dataset
    ("running", (IN_PROGRESS, "R3")),
    ("succeeded", (CURRENT, "R5")),  # Ready=True, nothing in progress
    ("failed", (FAILED, "R4")),  # Stalled=True: a terminal failure
    ("edited", (IN_PROGRESS, "R2")),  # the new generation is not reflected yet
])
def test_experiment_phases(scenario, expected):
    sweep = experiment(scenario)
    assert compute({"metadata": {"generation": sweep.generation}, "status": sweep.status}) == expected


def test_a_new_object_reads_in_progress_until_the_operator_has_seen_it():
    """The CRDs default status to {observedGeneration: 0} (R2), instead of a status-less object
    that kstatus takes for Current (R6)."""
    for kind in KINDS:
        default = crd_for(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]["default"]
        assert compute({"metadata": {"generation": 1}, "status": default}) == (IN_PROGRESS, "R2")
    assert compute({"metadata": {"generation": 1}}) == (CURRENT, "R6")


def test_deletion_reads_terminating():
    assert compute({"metadata": {"deletionTimestamp": "2026-11-26T12:00:00Z"}, "status": {}}) == (TERMINATING, "R1")


def dataset_status(verdict: str | None, generation: int = 1):
    import json as json_

    from mlops_operator import labels
    from mlops_operator.api.dataset import DatasetSpec
    from mlops_operator.logic.dataset.plan import DatasetWorld, plan
    from mlops_operator.logic.patch import applied

    from builders import NOW, facts, job, meta, pod

    documents = {"passed": {"passed": True, "digest": "sha256:aa", "metrics": {"rows": 3}},
                 "failed": {"passed": False, "digest": "sha256:aa", "failed": [{"name": "minRows", "message": "3"}]},
                 "broken": {"error": "cannot read"}}
    jobs, pods = [], {}
    if verdict:
        jobs = [job("d-validate-g1-0", "uid-d", state="failed" if verdict == "broken" else "complete",
                    labels_={labels.GENERATION: "1", labels.ROUND: "0"})]
        pods = {"uid-d-validate-g1-0": [pod("uid-d-validate-g1-0", phase="Succeeded", terminated={
            "exitCode": 0, "message": json_.dumps(documents[verdict])})]}
    spec = DatasetSpec.model_validate({"source": {"uri": "file:///d.csv"}, "format": "csv"})
    status = applied({"observedGeneration": 0}, plan(DatasetWorld(meta("Dataset", "d", "uid-d", 1), spec,
                                                                  {"observedGeneration": 0}, facts(*jobs), NOW,
                                                                  pods)).status)
    if generation > 1:  # an edit: the new generation validates
        status = applied(status, plan(DatasetWorld(meta("Dataset", "d", "uid-d", generation), spec, status,
                                                   facts(*jobs), NOW, pods)).status)
    return {"metadata": {"generation": generation}, "status": status}


@pytest.mark.parametrize("verdict, generation, expected", [
    (None, 1, (IN_PROGRESS, "R2")),  # Validating: a new object, not yet reflected
    ("passed", 1, (CURRENT, "R5")),  # Ready
    ("failed", 1, (FAILED, "R4")),  # Invalid: Stalled
    ("broken", 1, (FAILED, "R4")),  # Error: Stalled
    ("passed", 2, (IN_PROGRESS, "R2")),  # an edit being validated
])
def test_dataset_phases(verdict, generation, expected):
    assert compute(dataset_status(verdict, generation)) == expected
