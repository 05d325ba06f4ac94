"""Each kind's phases read as kstatus (Flux, kpt, Argo CD) expects; each row names the rule it
checks (tests/unit/kstatus.py). Statuses come from the controllers' own plans."""

import json

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


def test_the_kstatus_port_is_json_clean():
    json.dumps(experiment("succeeded").status, allow_nan=False)
