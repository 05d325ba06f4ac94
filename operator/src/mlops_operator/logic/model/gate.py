"""The promotion gate: a chain of small named checks over recorded scores, and their verdict.

Every check says what it compared with both numbers. Thresholds are absolute; the comparison is
against the holder of an alias, on the same data. An override lets a lost comparison pass (never a
threshold, never a missing score) and the verdict says so.
"""

from dataclasses import dataclass

from ...api.model import CompareTo, Threshold

EPSILON = 1e-12
"""Float noise below which two scores are equal: equal values with minImprovement 0 pass."""


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    message: str

    def wire(self) -> dict:
        return {"name": self.name, "passed": self.passed, "message": self.message}


@dataclass(frozen=True)
class Opponent:
    """The version holding the compared alias, with its score on the candidate's data."""

    name: str
    metrics: dict[str, float]
    rescored: bool  # it was scored on other data and the operator scored it again on the candidate's
    error: str | None = None  # why scoring it again failed


@dataclass(frozen=True)
class GateVerdict:
    checks: tuple[Check, ...]
    overridden: str | None = None  # the override's reason, when only it let the gate pass

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks) or self.overridden is not None

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


def _number(value: float) -> str:
    return f"{value:.6g}"


def _missing(metric: str, metrics: dict[str, float], whose: str = "the evaluation") -> str:
    reported = ", ".join(sorted(metrics)) or "none"
    return f"{whose} reported no {metric} (reported: {reported})"


def threshold_name(threshold: Threshold) -> str:
    if threshold.min is not None and threshold.max is not None:
        return f"{_number(threshold.min)} <= {threshold.metric} <= {_number(threshold.max)}"
    if threshold.min is not None:
        return f"{threshold.metric} >= {_number(threshold.min)}"
    return f"{threshold.metric} <= {_number(threshold.max)}"


def threshold_check(threshold: Threshold, metrics: dict[str, float]) -> Check:
    name, metric = threshold_name(threshold), threshold.metric
    if metric not in metrics:
        return Check(name, False, _missing(metric, metrics))
    value = metrics[metric]
    if threshold.min is not None and value < threshold.min:
        return Check(name, False, f"{metric}={_number(value)}, below the minimum {_number(threshold.min)}")
    if threshold.max is not None and value > threshold.max:
        return Check(name, False, f"{metric}={_number(value)}, above the maximum {_number(threshold.max)}")
    return Check(name, True, f"{metric}={_number(value)}, within {name}")


def improvement(compare: CompareTo, candidate: float, holder: float) -> float:
    """How much better the candidate is (negative: worse), whichever way the metric points."""
    return candidate - holder if compare.goal == "maximize" else holder - candidate


def comparison_check(compare: CompareTo, metrics: dict[str, float], opponent: Opponent | None) -> Check:
    metric, alias = compare.metric, compare.alias
    name = f"{metric} beats {alias}"
    if metric not in metrics:
        return Check(name, False, _missing(metric, metrics))
    if opponent is None:
        return Check(name, True, f"no version holds {alias}: nothing to beat")
    if opponent.error:
        return Check(name, False, f"scoring {alias} holder {opponent.name} on this version's data failed: "
                                  f"{opponent.error}")
    if metric not in opponent.metrics:
        return Check(name, False, _missing(metric, opponent.metrics, f"{alias} holder {opponent.name}"))
    mine, theirs = metrics[metric], opponent.metrics[metric]
    gain = improvement(compare, mine, theirs)
    passed = gain >= compare.min_improvement - EPSILON
    rescored = " (rescored on this version's data: it was scored on other data)" if opponent.rescored else ""
    verb = "at least" if passed else "below the required"
    return Check(name, passed, f"{metric}={_number(mine)} vs {_number(theirs)} of {alias} holder {opponent.name}"
                               f"{rescored}, {compare.goal}: improvement {_number(gain)}, {verb} "
                               f"{_number(compare.min_improvement)}")


def judge(metrics: dict[str, float], thresholds: list[Threshold], compare: CompareTo | None,
          opponent: Opponent | None, override: str | None) -> GateVerdict:
    """The gate over a version's recorded scores: every threshold, then the comparison."""
    checks = [threshold_check(t, metrics) for t in thresholds]
    comparison = comparison_check(compare, metrics, opponent) if compare else None
    if comparison is None:
        return GateVerdict(tuple(checks))
    lost_comparison_only = (not comparison.passed and all(c.passed for c in checks)
                            and compare.metric in metrics)
    overridden = override if override and lost_comparison_only else None
    return GateVerdict((*checks, comparison), overridden)
