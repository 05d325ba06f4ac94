"""A reconcile that fails says so in status (once) and in an Event (once)."""

from datetime import timedelta

from mlops_operator.api.vocabulary import CommonReason
from mlops_operator.logic.errors import failure_report
from mlops_operator.logic.patch import applied

from builders import NOW, condition


def test_a_failure_reaches_ready_with_reconciling_or_stalled():
    patch, events = failure_report({}, 3, CommonReason.RECONCILE_ERROR, "OSError: connection reset", False, NOW)
    ready = condition(patch, "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == ("False", "ReconcileError", "OSError: connection reset")
    assert condition(patch, "Reconciling")["status"] == "True" and not condition(patch, "Stalled")
    assert [(e.type, e.reason) for e in events] == [("Warning", "ReconcileError")]

    patch, _ = failure_report({}, 3, CommonReason.INVALID_SPEC, "spec.x: bad", True, NOW)
    assert condition(patch, "Stalled")["status"] == "True" and not condition(patch, "Reconciling")


def test_the_same_failure_again_writes_and_posts_nothing():
    patch, _ = failure_report({}, 1, CommonReason.CHILD_REFUSED, "refused", True, NOW)
    status = applied({}, patch)
    assert failure_report(status, 1, CommonReason.CHILD_REFUSED, "refused", True, NOW + timedelta(seconds=30)) == ({}, [])
    other, events = failure_report(status, 1, CommonReason.CHILD_REFUSED, "refused again", True, NOW)
    assert condition(other, "Ready")["message"] == "refused again" and len(events) == 1


def test_a_long_failure_again_writes_nothing_either():
    long = "x" * 5000
    patch, _ = failure_report({}, 1, CommonReason.RECONCILE_ERROR, long, False, NOW)
    assert failure_report(applied({}, patch), 1, CommonReason.RECONCILE_ERROR, long, False, NOW) == ({}, [])
