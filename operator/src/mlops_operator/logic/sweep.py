"""Trial parameter sets of a search, and how they reach the trainer."""

import itertools
import math
import random
import re
from typing import Any

Parameters = dict[str, Any]


def grid(parameters: dict[str, dict[str, Any]], max_trials: int) -> list[Parameters]:
    """The cartesian product of every parameter's values or choices (names in sorted order, the
    last name varying fastest), cut at max_trials."""
    names = sorted(parameters)
    axes = [parameters[name].get("values") or parameters[name].get("choices") for name in names]
    return [dict(zip(names, combo)) for combo in itertools.islice(itertools.product(*axes), max_trials)]


def _sample(spec: dict[str, Any], rng: random.Random) -> Any:
    discrete = spec.get("values") or spec.get("choices")
    if discrete:
        return rng.choice(discrete)
    low, high = float(spec["min"]), float(spec["max"])
    if spec.get("scale") == "log":
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    if spec.get("type") == "int":
        return int(min(max(round(value), math.ceil(low)), math.floor(high)))
    return value


def random_search(parameters: dict[str, dict[str, Any]], max_trials: int, seed: int) -> list[Parameters]:
    """max_trials samples from one generator seeded with seed: the same spec gives the same sweep."""
    rng = random.Random(seed)
    names = sorted(parameters)
    return [{name: _sample(parameters[name], rng) for name in names} for _ in range(max_trials)]


def trial_parameters(search: dict[str, Any]) -> list[Parameters]:
    """Every trial's parameters, in trial order."""
    max_trials = search.get("maxTrials", 10)
    if search.get("algorithm", "grid") == "grid":
        return grid(search["parameters"], max_trials)
    return random_search(search["parameters"], max_trials, search.get("seed", 0))


def format_value(value: Any) -> str:
    """A parameter as text: integral numbers without a decimal point, booleans in lower case."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


_PLACEHOLDER = re.compile(r"\$\{params\.([A-Za-z0-9_.-]+)\}")


def substitute(text: str, parameters: Parameters) -> str:
    """Replaces ${params.NAME} with the trial's value; unknown names stay as written."""
    return _PLACEHOLDER.sub(lambda m: format_value(parameters[m.group(1)]) if m.group(1) in parameters
                            else m.group(0), text)
