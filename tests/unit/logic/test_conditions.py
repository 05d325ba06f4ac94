"""Conditions keep Kubernetes' transition semantics and the kstatus standing."""

from datetime import timedelta

import pytest

from mlops_operator.logic.conditions import FALSE, TRUE, UNKNOWN, Observation, Progress, set_condition, standing

from builders import NOW

READY = Observation("Ready", TRUE, "Done", "all good")


def test_a_new_condition_gets_its_transition_time_and_generation():
    (ready,) = set_condition([], READY, 3, NOW)
    assert ready == {"type": "Ready", "status": "True", "reason": "Done", "message": "all good",
                     "observedGeneration": 3, "lastTransitionTime": "2026-11-26T12:00:00Z"}


@pytest.mark.parametrize("status, moves", [(TRUE, False), (FALSE, True), (UNKNOWN, True)])
def test_transition_time_moves_only_when_the_status_changes(status, moves):
    first = set_condition([], READY, 1, NOW)
    later = NOW + timedelta(minutes=5)
    (second,) = set_condition(first, Observation("Ready", status, "Other", "changed"), 2, later)
    assert second["lastTransitionTime"] == ("2026-11-26T12:05:00Z" if moves else "2026-11-26T12:00:00Z")
    assert (second["reason"], second["observedGeneration"]) == ("Other", 2)


def test_messages_are_bounded():
    (ready,) = set_condition([], Observation("Ready", TRUE, "R", "x" * 5000), 1, NOW)
    assert len(ready["message"]) == 2048


def types(conditions):
    return {c["type"]: c["status"] for c in conditions}


@pytest.mark.parametrize("progress, expected", [
    (Progress.WORKING, {"Ready": "False", "Reconciling": "True"}),
    (Progress.DONE, {"Ready": "False"}),
    (Progress.STALLED, {"Ready": "False", "Stalled": "True"}),
])
def test_standing_sets_reconciling_or_stalled_and_removes_the_other(progress, expected):
    before = set_condition(set_condition([], Observation("Reconciling", TRUE, "Was", "x"), 1, NOW),
                           Observation("Stalled", TRUE, "Was", "x"), 1, NOW)
    after = standing(before, Observation("Ready", FALSE, "Now", "y"), progress, 1, NOW)
    assert types(after) == expected
    assert {c["reason"] for c in after} == {"Now"}


def test_standing_keeps_the_kinds_own_conditions():
    after = standing([], READY, Progress.DONE, 1, NOW, Observation("Validated", TRUE, "Passed"))
    assert types(after) == {"Ready": "True", "Validated": "True"}
