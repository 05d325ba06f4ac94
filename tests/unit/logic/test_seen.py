"""Kinds without a controller yet record that they were seen, once per generation."""

from mlops_operator.logic.patch import applied
from mlops_operator.logic.seen import plan

from builders import NOW, condition


def test_seen_writes_once_per_generation():
    first = plan({"observedGeneration": 0}, 1, "Pending", NOW)
    status = applied({"observedGeneration": 0}, first.status)
    assert status["observedGeneration"] == 1 and status["phase"] == "Pending"
    assert condition(status, "Ready")["status"] == "Unknown" and condition(status, "Reconciling")["status"] == "True"
    assert plan(status, 1, "Pending", NOW).status == {}
    assert plan(status, 2, "Pending", NOW).status["observedGeneration"] == 2
