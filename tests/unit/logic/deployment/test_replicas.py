"""The canary's share of the server pods: closest to the weight, both sides running during a step."""

import pytest

from mlops_operator.logic.deployment.replicas import share, split


@pytest.mark.parametrize("replicas, weight, expected", [
    (10, 10, (1, 9)),  # exact
    (10, 50, (5, 5)),
    (4, 25, (1, 3)),
    (4, 10, (1, 4)),  # one surge pod comes closer (20%) than 1 of 4 (25%)
    (2, 10, (1, 2)),  # never 0 on either side for 1-99
    (2, 90, (2, 1)),
    (1, 10, (1, 1)),  # one replica: a surge pod, so both versions really run
    (1, 99, (1, 1)),
    (3, 100, (3, 0)),
    (3, 0, (0, 3)),
    (0, 50, (0, 0)),
])
def test_split(replicas, weight, expected):
    assert split(replicas, weight) == expected


@pytest.mark.parametrize("replicas", range(1, 30))
@pytest.mark.parametrize("weight", [1, 5, 10, 20, 25, 33, 50, 75, 90, 99])
def test_split_is_within_the_documented_precision_and_surge(replicas, weight):
    canary, stable = split(replicas, weight)
    assert canary >= 1 and stable >= 1
    assert replicas <= canary + stable <= max(replicas + 1, 2)
    assert abs(share(canary, stable) - weight) <= 50 if replicas == 1 else abs(share(canary, stable) - weight) <= 100 / replicas
