"""Trial generation: grid bounds and order, seeded random search, parameter substitution."""


import pytest

from mlops_operator.logic.names import MAX_NAME, trial_name, validation_name
from mlops_operator.logic.sweep import format_value, grid, random_search, substitute, trial_parameters

PARAMETERS = {"n_estimators": {"values": [50, 100, 200]}, "criterion": {"choices": ["gini", "entropy"]}}


def test_grid_is_the_cartesian_product_in_sorted_name_order():
    assert grid(PARAMETERS, 100) == [
        {"criterion": "gini", "n_estimators": 50}, {"criterion": "gini", "n_estimators": 100},
        {"criterion": "gini", "n_estimators": 200}, {"criterion": "entropy", "n_estimators": 50},
        {"criterion": "entropy", "n_estimators": 100}, {"criterion": "entropy", "n_estimators": 200},
    ]


@pytest.mark.parametrize("max_trials, expected", [(1, 1), (4, 4), (6, 6), (1000, 6)])
def test_grid_is_cut_at_max_trials(max_trials, expected):
    assert len(grid(PARAMETERS, max_trials)) == expected
    assert grid(PARAMETERS, max_trials) == grid(PARAMETERS, 1000)[:expected]


RANGES = {
    "C": {"min": 0.001, "max": 100, "scale": "log"},
    "depth": {"min": 2, "max": 9, "type": "int"},
    "rate": {"min": 0.1, "max": 0.2},
    "kernel": {"choices": ["rbf", "linear"]},
}


def test_random_search_is_reproducible_for_a_seed_and_differs_across_seeds():
    first = random_search(RANGES, 20, seed=7)
    assert first == random_search(RANGES, 20, seed=7)
    assert first != random_search(RANGES, 20, seed=8)
    assert random_search(RANGES, 5, seed=7) == first[:5]


def test_random_samples_respect_bounds_scale_and_type():
    samples = random_search(RANGES, 500, seed=1)
    assert all(0.001 <= s["C"] <= 100 for s in samples)
    assert sum(s["C"] < 1 for s in samples) > 150, "log scale puts about 60% below 1"
    assert all(isinstance(s["depth"], int) and 2 <= s["depth"] <= 9 for s in samples)
    assert {s["depth"] for s in samples} == set(range(2, 10))
    assert all(0.1 <= s["rate"] <= 0.2 for s in samples)
    assert {s["kernel"] for s in samples} == {"rbf", "linear"}


def test_trial_parameters_follows_the_algorithm():
    assert trial_parameters({"algorithm": "grid", "parameters": PARAMETERS, "maxTrials": 2}) == grid(PARAMETERS, 2)
    assert trial_parameters({"algorithm": "random", "parameters": RANGES, "maxTrials": 3, "seed": 4}) == \
        random_search(RANGES, 3, 4)


@pytest.mark.parametrize("value, text", [(50, "50"), (50.0, "50"), (0.1, "0.1"), (True, "true"), ("gini", "gini"),
                                         (1e-05, "1e-05")])
def test_format_value(value, text):
    assert format_value(value) == text


def test_substitute_replaces_known_parameters_only():
    assert substitute("--n=${params.n} --c=${params.C} ${params.unknown}", {"n": 50.0, "C": 0.5}) == \
        "--n=50 --c=0.5 ${params.unknown}"


def test_child_names_are_deterministic_and_fit_63_characters():
    assert trial_name("churn", 2, 11) == "churn-r2-t11"
    long = "x" * 200
    assert trial_name(long, 1, 999) == trial_name(long, 1, 999)
    assert len(trial_name(long, 1, 999)) <= MAX_NAME
    assert trial_name(long, 1, 999) != trial_name(long + "y", 1, 999)
    assert len(validation_name(long, 12, 3456)) <= MAX_NAME
