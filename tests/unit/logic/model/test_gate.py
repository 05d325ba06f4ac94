"""The promotion gate as a table: thresholds, the comparison with the holder, the override."""

from dataclasses import dataclass, field

import pytest

from mlops_operator.api.model import CompareTo, Threshold
from mlops_operator.logic.model.gate import GateVerdict, Opponent, judge

AT_LEAST = Threshold(metric="auc", min=0.9)
AT_MOST = Threshold(metric="logloss", max=0.3)
BETWEEN = Threshold(metric="auc", min=0.8, max=0.95)
LOW_BAR = Threshold(metric="auc", min=0.5)
BEATS = CompareTo(alias="champion", metric="auc")
BEATS_BY = CompareTo(alias="champion", metric="auc", min_improvement=0.01)
LOWER = CompareTo(alias="champion", metric="logloss", goal="minimize")
LOWER_BY = CompareTo(alias="champion", metric="logloss", goal="minimize", min_improvement=0.05)
REASON = "INC-123: the champion's data drifted"


def holder(**metrics: float) -> Opponent:
    return Opponent("v1", metrics, rescored=False)


@dataclass(frozen=True)
class Case:
    id: str
    metrics: dict[str, float]
    thresholds: tuple[Threshold, ...] = ()
    compare: CompareTo | None = None
    opponent: Opponent | None = None
    override: str | None = None
    passed: bool = True
    checks: tuple[str, ...] = ()  # every check's name, in order
    failed: tuple[str, ...] = ()  # the names of the checks that failed
    overridden: str | None = None
    says: dict[str, tuple[str, ...]] = field(default_factory=dict)  # check name -> words its message has


CASES = [
    # thresholds
    Case("min passes", {"auc": 0.93}, (AT_LEAST,), checks=("auc >= 0.9",), says={"auc >= 0.9": ("auc=0.93", "0.9")}),
    Case("min passes on the bound", {"auc": 0.9}, (AT_LEAST,), checks=("auc >= 0.9",)),
    Case("min fails", {"auc": 0.85}, (AT_LEAST,), passed=False, checks=("auc >= 0.9",), failed=("auc >= 0.9",),
         says={"auc >= 0.9": ("auc=0.85", "below the minimum 0.9")}),
    Case("max passes", {"logloss": 0.2}, (AT_MOST,), checks=("logloss <= 0.3",),
         says={"logloss <= 0.3": ("logloss=0.2", "0.3")}),
    Case("max fails", {"logloss": 0.35}, (AT_MOST,), passed=False, checks=("logloss <= 0.3",),
         failed=("logloss <= 0.3",), says={"logloss <= 0.3": ("logloss=0.35", "above the maximum 0.3")}),
    Case("both bounds pass", {"auc": 0.9}, (BETWEEN,), checks=("0.8 <= auc <= 0.95",),
         says={"0.8 <= auc <= 0.95": ("auc=0.9", "0.8", "0.95")}),
    Case("both bounds, below", {"auc": 0.7}, (BETWEEN,), passed=False, checks=("0.8 <= auc <= 0.95",),
         failed=("0.8 <= auc <= 0.95",), says={"0.8 <= auc <= 0.95": ("auc=0.7", "below the minimum 0.8")}),
    Case("both bounds, above", {"auc": 0.99}, (BETWEEN,), passed=False, checks=("0.8 <= auc <= 0.95",),
         failed=("0.8 <= auc <= 0.95",), says={"0.8 <= auc <= 0.95": ("auc=0.99", "above the maximum 0.95")}),
    Case("several thresholds, one fails", {"auc": 0.93, "logloss": 0.4}, (AT_LEAST, AT_MOST), passed=False,
         checks=("auc >= 0.9", "logloss <= 0.3"), failed=("logloss <= 0.3",)),
    Case("missing metric", {"f1": 0.7, "accuracy": 0.8}, (AT_LEAST,), passed=False, checks=("auc >= 0.9",),
         failed=("auc >= 0.9",), says={"auc >= 0.9": ("no auc", "reported: accuracy, f1")}),
    Case("missing metric, nothing reported", {}, (AT_LEAST,), passed=False, checks=("auc >= 0.9",),
         failed=("auc >= 0.9",), says={"auc >= 0.9": ("no auc", "reported: none")}),
    Case("no threshold, no comparison", {"auc": 0.1}),
    # the comparison
    Case("no holder", {"auc": 0.7}, compare=BEATS, checks=("auc beats champion",),
         says={"auc beats champion": ("no version holds champion",)}),
    Case("better", {"auc": 0.92}, compare=BEATS, opponent=holder(auc=0.9), checks=("auc beats champion",),
         says={"auc beats champion": ("auc=0.92", "0.9", "v1", "maximize")}),
    Case("worse", {"auc": 0.88}, compare=BEATS, opponent=holder(auc=0.9), passed=False,
         checks=("auc beats champion",), failed=("auc beats champion",),
         says={"auc beats champion": ("auc=0.88", "0.9", "v1", "improvement -0.02")}),
    Case("equal, minImprovement 0", {"auc": 0.9}, compare=BEATS, opponent=holder(auc=0.9),
         checks=("auc beats champion",), says={"auc beats champion": ("auc=0.9 vs 0.9",)}),
    Case("equal, minImprovement > 0", {"auc": 0.9}, compare=BEATS_BY, opponent=holder(auc=0.9), passed=False,
         checks=("auc beats champion",), failed=("auc beats champion",),
         says={"auc beats champion": ("auc=0.9 vs 0.9", "0.01")}),
    Case("better by exactly minImprovement, within float noise", {"auc": 0.3},  # 0.3 - 0.2 < 0.1 in floats
         compare=CompareTo(alias="champion", metric="auc", min_improvement=0.1), opponent=holder(auc=0.2),
         checks=("auc beats champion",)),
    Case("better, but by less than minImprovement", {"auc": 0.905}, compare=BEATS_BY, opponent=holder(auc=0.9),
         passed=False, checks=("auc beats champion",), failed=("auc beats champion",),
         says={"auc beats champion": ("auc=0.905", "0.9", "0.01")}),
    Case("minimize, lower wins", {"logloss": 0.2}, compare=LOWER, opponent=holder(logloss=0.25),
         checks=("logloss beats champion",), says={"logloss beats champion": ("logloss=0.2", "0.25", "minimize")}),
    Case("minimize, higher loses", {"logloss": 0.3}, compare=LOWER, opponent=holder(logloss=0.25), passed=False,
         checks=("logloss beats champion",), failed=("logloss beats champion",),
         says={"logloss beats champion": ("logloss=0.3", "0.25", "minimize")}),
    Case("minimize, lower but not by minImprovement", {"logloss": 0.22}, compare=LOWER_BY,
         opponent=holder(logloss=0.25), passed=False, checks=("logloss beats champion",),
         failed=("logloss beats champion",), says={"logloss beats champion": ("logloss=0.22", "0.25", "0.05")}),
    Case("minimize, equal with minImprovement 0", {"logloss": 0.25}, compare=LOWER, opponent=holder(logloss=0.25),
         checks=("logloss beats champion",)),
    Case("holder missing the metric", {"auc": 0.92}, compare=BEATS, opponent=holder(f1=0.7), passed=False,
         checks=("auc beats champion",), failed=("auc beats champion",),
         says={"auc beats champion": ("champion holder v1", "no auc", "reported: f1")}),
    Case("candidate missing the compared metric", {"f1": 0.92}, compare=BEATS, opponent=holder(auc=0.9),
         passed=False, checks=("auc beats champion",), failed=("auc beats champion",),
         says={"auc beats champion": ("no auc", "reported: f1")}),
    Case("rescored opponent", {"auc": 0.92}, compare=BEATS, opponent=Opponent("v1", {"auc": 0.87}, rescored=True),
         checks=("auc beats champion",), says={"auc beats champion": ("auc=0.92", "0.87", "rescored")}),
    Case("opponent's rescore failed", {"auc": 0.92}, compare=BEATS,
         opponent=Opponent("v1", {}, rescored=True, error="the evaluator failed: boom"), passed=False,
         checks=("auc beats champion",), failed=("auc beats champion",),
         says={"auc beats champion": ("v1", "failed", "boom")}),
    Case("thresholds, then the comparison", {"auc": 0.93}, (AT_LEAST,), BEATS, holder(auc=0.9),
         checks=("auc >= 0.9", "auc beats champion")),
    # the override
    Case("override, lost comparison", {"auc": 0.88}, (LOW_BAR,), BEATS,
         holder(auc=0.9), REASON, checks=("auc >= 0.5", "auc beats champion"), failed=("auc beats champion",),
         overridden=REASON, says={"auc beats champion": ("auc=0.88", "0.9")}),
    Case("override, comparison won: not overridden", {"auc": 0.95}, (), BEATS, holder(auc=0.9), REASON,
         checks=("auc beats champion",)),
    Case("override, failed threshold", {"auc": 0.85}, (AT_LEAST,), BEATS, holder(auc=0.9), REASON, passed=False,
         checks=("auc >= 0.9", "auc beats champion"), failed=("auc >= 0.9", "auc beats champion")),
    Case("override, failed threshold though the comparison is won", {"auc": 0.85, "logloss": 0.5}, (AT_MOST,),
         BEATS, holder(auc=0.8), REASON, passed=False, checks=("logloss <= 0.3", "auc beats champion"),
         failed=("logloss <= 0.3",)),
    Case("override, candidate lacks the compared metric", {"f1": 0.9}, (), BEATS, holder(auc=0.9), REASON,
         passed=False, checks=("auc beats champion",), failed=("auc beats champion",)),
    Case("override, candidate lacks a threshold's metric", {"auc": 0.5}, (AT_MOST,), BEATS, holder(auc=0.9), REASON,
         passed=False, checks=("logloss <= 0.3", "auc beats champion"),
         failed=("logloss <= 0.3", "auc beats champion")),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gate(case: Case):
    verdict = judge(case.metrics, list(case.thresholds), case.compare, case.opponent, case.override)
    assert isinstance(verdict, GateVerdict)
    assert verdict.passed is case.passed
    assert [c.name for c in verdict.checks] == list(case.checks)
    assert [c.name for c in verdict.failed_checks] == list(case.failed)
    assert verdict.overridden == case.overridden
    messages = {c.name: c.message for c in verdict.checks}
    for name, words in case.says.items():
        for word in words:
            assert word in messages[name], f"{name}: {word!r} not in {messages[name]!r}"


def test_every_check_on_numbers_names_both_of_them():
    """Whatever a comparison concludes, its message shows the candidate's and the holder's value."""
    for mine, theirs in ((0.91, 0.83), (0.83, 0.91), (0.5, 0.5)):
        verdict = judge({"auc": mine}, [], BEATS, holder(auc=theirs), None)
        (check,) = verdict.checks
        assert f"auc={mine:g}" in check.message and f"vs {theirs:g}" in check.message


def test_a_check_goes_on_the_wire_with_its_name_verdict_and_message():
    (check,) = judge({"auc": 0.85}, [AT_LEAST], None, None, None).checks
    assert check.wire() == {"name": "auc >= 0.9", "passed": False, "message": check.message}
