from datetime import datetime, timedelta, timezone

import pytest

from mlops_operator.logic.conditions import Observation, set_condition, status_changes
from mlops_operator.logic.seen import seen_status_patch

T0 = datetime(2026, 11, 26, 12, 0, 0, tzinfo=timezone.utc)
T1 = T0 + timedelta(minutes=5)
READY_UNKNOWN = Observation("Ready", "Unknown", "Reconciling", "working")


def condition(status, reason="R", message="", generation=1, time="2026-11-26T12:00:00Z", type_="Ready"):
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "observedGeneration": generation, "lastTransitionTime": time}


@pytest.mark.parametrize(
    "before, observation, generation, expected_time",
    [
        pytest.param([], READY_UNKNOWN, 1, "2026-11-26T12:05:00Z", id="new condition gets now"),
        pytest.param([condition("Unknown")], READY_UNKNOWN, 2, "2026-11-26T12:00:00Z",
                     id="same status keeps its transition time"),
        pytest.param([condition("Unknown")], Observation("Ready", "Unknown", "Other", "new message"), 1,
                     "2026-11-26T12:00:00Z", id="new reason alone is no transition"),
        pytest.param([condition("True")], READY_UNKNOWN, 1, "2026-11-26T12:05:00Z",
                     id="status change moves the transition time"),
    ],
)
def test_set_condition_transition_time(before, observation, generation, expected_time):
    [after] = set_condition(before, observation, generation, T1)
    assert after == {"type": "Ready", "status": observation.status, "reason": observation.reason,
                     "message": observation.message, "observedGeneration": generation,
                     "lastTransitionTime": expected_time}


def test_set_condition_keeps_other_types_and_their_order():
    before = [condition("True", type_="Validated"), condition("False", type_="Ready")]
    after = set_condition(before, READY_UNKNOWN, 3, T1)
    assert [c["type"] for c in after] == ["Validated", "Ready"]
    assert after[0] == before[0]
    assert after[1]["observedGeneration"] == 3


def test_set_condition_does_not_mutate_its_input():
    before = [condition("True")]
    set_condition(before, READY_UNKNOWN, 2, T1)
    assert before == [condition("True")]


def test_status_changes_lists_only_differences():
    assert status_changes({"a": 1, "b": [1]}, {"a": 1, "b": [2], "c": 3}) == {"b": [2], "c": 3}
    assert status_changes({"a": 1}, {"a": 1}) == {}


def test_seen_patch_on_a_new_object():
    patch = seen_status_patch({}, 1, T0)
    assert patch == {
        "observedGeneration": 1,
        "conditions": [{"type": "Ready", "status": "Unknown", "reason": "Reconciling",
                        "message": "The operator has seen this object and is reconciling it.",
                        "observedGeneration": 1, "lastTransitionTime": "2026-11-26T12:00:00Z"}],
    }


def test_seen_patch_is_empty_when_nothing_changed():
    status = seen_status_patch({}, 1, T0)
    assert seen_status_patch(status, 1, T1) == {}


def test_seen_patch_on_a_new_generation_keeps_the_transition_time():
    status = seen_status_patch({}, 1, T0)
    patch = seen_status_patch(status, 2, T1)
    assert patch["observedGeneration"] == 2
    assert patch["conditions"][0]["observedGeneration"] == 2
    assert patch["conditions"][0]["lastTransitionTime"] == "2026-11-26T12:00:00Z"
