"""The contract with the pods: parameter names and values, escaping, result documents."""

import pytest

from mlops_operator.contract import escape_expansion, finite_or_none, format_value, parameter_env_name, substitute


@pytest.mark.parametrize("name, env", [("lr", "PARAM_LR"), ("max-depth", "PARAM_MAX_DEPTH"), ("a.b", "PARAM_A_B")])
def test_parameter_env_names(name, env):
    assert parameter_env_name(name) == env


@pytest.mark.parametrize("value, text", [(50.0, "50"), (0.1, "0.1"), (True, "true"), ("gini", "gini"), (1e20, "1e+20")])
def test_values_are_written_as_trainers_expect(value, text):
    assert format_value(value) == text


def test_substitution_escapes_kubelet_expansion_in_values_only():
    assert substitute("--c=${params.c} $(HOME) ${params.unknown}", {"c": "$(SECRET)"}) == \
        "--c=$$(SECRET) $(HOME) ${params.unknown}"
    assert escape_expansion("a $(B) $$(C)") == "a $$(B) $$$(C)"


@pytest.mark.parametrize("value, number", [(1, 1.0), (float("nan"), None), (float("inf"), None), (10**400, None)])
def test_finite_or_none(value, number):
    assert finite_or_none(value) == number
