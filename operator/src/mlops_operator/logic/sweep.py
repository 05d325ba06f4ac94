"""Trial parameter sets of a search."""

import itertools
import math
import random
from typing import Any

from ..api.experiment import Parameter, Search

Parameters = dict[str, Any]


def grid(parameters: dict[str, Parameter], max_trials: int) -> list[Parameters]:
    """The cartesian product of every parameter's values or choices (names in sorted order, the
    last name varying fastest), cut at max_trials."""
    names = sorted(parameters)
    axes = [parameters[name].values or parameters[name].choices or [] for name in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.islice(itertools.product(*axes), max_trials)]


def _sample(parameter: Parameter, rng: random.Random) -> Any:
    discrete = parameter.values or parameter.choices
    if discrete:
        return rng.choice(discrete)
    low, high = float(parameter.min), float(parameter.max)
    if parameter.scale == "log":
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    if parameter.type == "int":
        return int(min(max(round(value), math.ceil(low)), math.floor(high)))
    return value


def random_search(parameters: dict[str, Parameter], max_trials: int, seed: int) -> list[Parameters]:
    """max_trials samples from one generator seeded with seed: the same spec gives the same sweep."""
    rng = random.Random(seed)
    names = sorted(parameters)
    return [{name: _sample(parameters[name], rng) for name in names} for _ in range(max_trials)]


def trial_parameters(search: Search) -> list[Parameters]:
    """Every trial's parameters, in trial order."""
    if search.algorithm == "grid":
        return grid(search.parameters, search.max_trials)
    return random_search(search.parameters, search.max_trials, search.seed)
