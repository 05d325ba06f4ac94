"""The smallest merge patch from status as it is to status as it should be."""

import pytest

from mlops_operator.logic.patch import applied, merge_patch


@pytest.mark.parametrize("current, desired, patch", [
    ({"a": 1}, {"a": 1}, {}),
    ({"a": 1}, {"a": 2}, {"a": 2}),
    ({"a": 1, "b": 2}, {"a": 1}, {"b": None}),
    ({}, {"a": None}, {}),
    ({"m": {"0": {"x": 1}}}, {"m": {"0": {"x": 1}, "1": {"x": 2}}}, {"m": {"1": {"x": 2}}}),
    ({"m": {"0": 1, "1": 2}}, {"m": {}}, {"m": {"0": None, "1": None}}),
    ({"l": [1, 2]}, {"l": [1]}, {"l": [1]}),
    ({"a": {"b": 1}}, {"a": 5}, {"a": 5}),
])
def test_merge_patch_writes_only_what_changes(current, desired, patch):
    assert merge_patch(current, desired) == patch
    assert applied(current, patch) == {k: v for k, v in desired.items() if v is not None}

