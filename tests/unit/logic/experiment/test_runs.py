"""Runs: what identifies one, and when a new one is due."""

import pytest

from mlops_operator.api.experiment import ExperimentSpec, PinnedDataset
from mlops_operator.logic.experiment.runs import RunState, spec_hash, wanted_run

from experiments import DIGEST, NEW_DIGEST, dataset, spec


def parsed(**changes):
    return ExperimentSpec.model_validate({**spec(), **changes})


@pytest.mark.parametrize("change, new_run", [
    ({"trainer": {"image": "python:3.12"}}, True),
    ({"objective": {"metric": "loss", "goal": "minimize"}}, True),
    ({"trialPolicy": {"backoffLimit": 3}}, False),
    ({"pod": {"nodeSelector": {"gpu": "a100"}}}, False),
    ({"registerModel": {"modelName": "churn"}}, False),
    ({"trigger": {"onDatasetChange": True}}, False),
])
def test_only_what_a_run_trains_identifies_it(change, new_run):
    assert (spec_hash(parsed(**change)) != spec_hash(parsed())) is new_run


def state(digest=DIGEST, run=1, hash_=None):
    return RunState(run, hash_ or spec_hash(parsed()), PinnedDataset(name="data", digest=digest), {}, 4)


@pytest.mark.parametrize("current, spec_, view, because", [
    (RunState(), parsed(), dataset(), "first run"),
    (state(hash_="old"), parsed(), dataset(), "the spec changed"),
    (state(), parsed(), dataset(digest=NEW_DIGEST), None),
    (state(), parsed(trigger={"onDatasetChange": True}), dataset(digest=NEW_DIGEST), "Dataset data has new data"),
    (state(), parsed(trigger={"onDatasetChange": True}), dataset(digest=NEW_DIGEST, ready=False), None),
    (state(), parsed(), dataset(), None),
])
def test_when_a_new_run_is_due(current, spec_, view, because):
    assert wanted_run(current, spec_hash(spec_), spec_, view) == because


def test_run_state_survives_odd_status():
    odd = RunState.of({"run": 2, "trialResults": {"0": {"phase": "Succeeded", "value": 1}, "x": {}, "1": {"phase": "?"}},
                       "dataset": {"bad": True}, "trials": {"total": 3}})
    assert (odd.number, list(odd.results), odd.pinned, odd.total) == (2, [0], None, 3)
