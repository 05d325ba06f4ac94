"""Trial parameter sets: grid and seeded random search, from the typed Search model."""

from mlops_operator.api.experiment import Search
from mlops_operator.logic.sweep import trial_parameters


def search(**fields):
    return Search.model_validate(fields)


def test_grid_is_the_cartesian_product_in_name_order_cut_at_max_trials():
    sweep = trial_parameters(search(parameters={"b": {"values": [1, 2]}, "a": {"choices": ["x", "y"]}}, maxTrials=3))
    assert sweep == [{"a": "x", "b": 1}, {"a": "x", "b": 2}, {"a": "y", "b": 1}]


def test_defaults_come_from_the_model():
    assert len(trial_parameters(search(parameters={"a": {"values": list(range(20))}}))) == Search.model_fields[
        "max_trials"].default == 10


def test_random_search_is_reproducible_and_respects_ranges_scales_and_types():
    spec = search(algorithm="random", seed=7, maxTrials=50,
                  parameters={"lr": {"min": 0.001, "max": 0.1, "scale": "log"}, "depth": {"min": 2, "max": 9, "type": "int"},
                              "crit": {"choices": ["gini", "entropy"]}})
    first, again = trial_parameters(spec), trial_parameters(spec)
    assert first == again and len(first) == 50
    assert all(0.001 <= p["lr"] <= 0.1 and isinstance(p["depth"], int) and 2 <= p["depth"] <= 9 for p in first)
    assert {p["crit"] for p in first} == {"gini", "entropy"}
    assert trial_parameters(search(**{**spec.model_dump(by_alias=True), "seed": 8})) != first


def test_an_int_range_yields_only_integers_inside_it():
    sweep = trial_parameters(search(algorithm="random", maxTrials=30, parameters={"n": {"min": 2.5, "max": 3.5, "type": "int"}}))
    assert {p["n"] for p in sweep} == {3}
