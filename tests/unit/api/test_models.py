"""Defaults are declared once, in the models; partial splits are completed there."""

import pytest
from pydantic import ValidationError

from mlops_operator.api.dataset import DatasetSpec, Splits
from mlops_operator.api.experiment import DEFAULT_TRIAL_DEADLINE_SECONDS, ExperimentSpec

EXPERIMENT = {"datasetRef": {"name": "d"}, "trainer": {"image": "x"}, "search": {"parameters": {"a": {"values": [1]}}},
              "objective": {"metric": "m", "goal": "maximize"}}


@pytest.mark.parametrize("given, train, test, validation", [
    ({}, 0.8, 0.2, None),
    ({"train": 0.9}, 0.9, 0.1, None),
    ({"test": 0.3}, 0.7, 0.3, None),
    ({"validation": 0.1}, 0.72, 0.18, 0.1),
    ({"train": 0.6, "validation": 0.1}, 0.6, 0.3, 0.1),
    ({"train": 0.5, "test": 0.25, "validation": 0.25}, 0.5, 0.25, 0.25),
])
def test_partial_splits_are_completed(given, train, test, validation):
    resolved = Splits.model_validate(given).resolved()
    assert (resolved.train, resolved.test) == pytest.approx((train, test))
    assert (resolved.validation, resolved.seed) == (validation, 42)


def test_omitted_sections_get_the_models_defaults():
    spec = ExperimentSpec.model_validate(EXPERIMENT)
    assert spec.search.parallelism == 1 and spec.search.max_trials == 10
    assert spec.trial_policy.active_deadline_seconds == DEFAULT_TRIAL_DEADLINE_SECONDS
    assert spec.trial_policy.backoff_limit == 0 and spec.trigger.on_dataset_change is False
    data = DatasetSpec.model_validate({"source": {"uri": "file:///x"}, "format": "csv"})
    assert data.validation.active_deadline_seconds == 1800 and data.splits.resolved().train == 0.8


def test_the_data_spec_pods_receive_holds_no_validator_settings():
    data = DatasetSpec.model_validate({"source": {"uri": "file:///x", "secretRef": {"name": "creds"}}, "format": "csv",
                                       "validation": {"minRows": 5, "validator": {"image": "v", "env": [
                                           {"name": "TOKEN", "value": "secret"}]}}, "pod": {"serviceAccountName": "sa"}})
    assert data.data_spec().model_dump(by_alias=True, exclude_none=True) == {
        "source": {"uri": "file:///x", "secretRef": {"name": "creds"}}, "format": "csv",
        "splits": {"train": 0.8, "test": 0.2, "seed": 42}}
    assert "TOKEN" not in data.validator_input().model_dump_json()


def test_pod_volumes_pass_their_sources_through():
    spec = ExperimentSpec.model_validate({**EXPERIMENT, "pod": {"volumes": [
        {"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}]}})
    assert spec.pod.volumes[0].model_dump(by_alias=True) == {"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}


def test_an_unknown_algorithm_is_refused_by_the_model_too():
    with pytest.raises(ValidationError):
        ExperimentSpec.model_validate({**EXPERIMENT, "search": {**EXPERIMENT["search"], "algorithm": "bayes"}})
