"""The bounded view of a run: counts, best trial, summaries, history."""

import pytest

from mlops_operator.api.experiment import TrialResult
from mlops_operator.logic.experiment.summary import best_index, best_trial, counts, run_record, summaries, with_record
from mlops_operator.logic.results import Outcome


def ok(value):
    return TrialResult(phase="Succeeded", value=value)


def bad(reason="MetricsMissing"):
    return TrialResult(phase="Failed", reason=reason)


@pytest.mark.parametrize("total, results, running, expected", [
    (4, {0: ok(1), 1: bad()}, 2, {"total": 4, "pending": 0, "running": 2, "succeeded": 1, "failed": 1}),
    (2, {0: ok(1), 1: ok(2)}, 3, {"total": 2, "pending": 0, "running": 0, "succeeded": 2, "failed": 0}),
    (2, {0: ok(1), 1: ok(2), 2: ok(3)}, 0, {"total": 2, "pending": 0, "running": 0, "succeeded": 3, "failed": 0}),
])
def test_counts_are_never_negative(total, results, running, expected):
    assert counts(total, results, running) == expected


@pytest.mark.parametrize("goal, results, best", [
    ("maximize", {0: ok(0.8), 1: ok(0.9), 2: ok(0.85)}, 1),
    ("minimize", {0: ok(0.8), 1: ok(0.9), 2: ok(0.85)}, 0),
    ("maximize", {3: ok(0.9), 1: ok(0.9), 2: ok(0.7)}, 1),  # a tie goes to the lowest index
    ("maximize", {0: bad(), 1: ok(0.5)}, 1),
    ("maximize", {0: bad()}, None),
    ("minimize", {}, None),
])
def test_best_trial(goal, results, best):
    assert best_index(results, goal) == best


def test_the_best_trials_metrics_come_from_its_outcome_or_stay_as_recorded():
    outcome = Outcome("Succeeded", "Succeeded", "auc=0.9", {"auc": 0.9, "acc": 0.8}, 0.9, "file:///m")
    fresh = best_trial(2, None, {2: outcome}, "exp-r1-t2", {"x": 3})
    assert fresh == {"name": "exp-r1-t2", "index": 2, "parameters": {"x": 3}, "metrics": {"auc": 0.9, "acc": 0.8},
                     "objectiveValue": 0.9, "artifactUri": "file:///m"}
    assert best_trial(2, fresh, {}, "exp-r1-t2", {"x": 3}) is fresh


def test_summaries_are_bounded_whatever_the_sweep():
    results = {i: (ok(i / 100) if i % 2 else bad()) for i in range(200)}
    entries = summaries(results, list(range(200, 250)), {}, {}, [], "maximize", lambda i: f"t{i}", lambda i: {"x": i})
    assert len(entries) == 30
    assert [e["index"] for e in entries if e["phase"] == "Succeeded"] == list(range(181, 200, 2))
    assert [e["index"] for e in entries if e["phase"] == "Failed"] == list(range(180, 200, 2))
    assert [e["index"] for e in entries if e["phase"] == "Running"] == list(range(200, 210))
    assert entries[0]["parameters"] == {"x": "180"}


def test_history_keeps_the_last_ten_runs():
    history = []
    for run in range(1, 13):
        history = with_record(history, run_record(run, "Succeeded", "sha256:a", None, None, None,
                                                  {"succeeded": 1, "failed": 0}))
    assert [r["run"] for r in history] == list(range(3, 13))
