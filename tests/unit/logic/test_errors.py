"""A reconcile that fails says so in status (once) and in an Event (once)."""

from datetime import timedelta

import pytest

from mlops_operator.api.vocabulary import CommonReason
from mlops_operator.logic.errors import child_refusal_message, failure_report, spec_fields_of_child_refusal
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


# Messages as the API server writes them for a Job or a Deployment built from the owner's spec.
CHILD_REFUSALS = [
    ("Dataset", 'Job.batch "d-validate-g1-0" is invalid: [spec.template.spec.tolerations[1].key: Invalid value: "a b": '
                'name part must consist of ..., spec.template.spec.tolerations[1].operator: Invalid value: "k/OX"]',
     ["spec.pod.tolerations[1].key", "spec.pod.tolerations[1].operator"]),
    ("Experiment", 'Job.batch "e-r1-t0" is invalid: [spec.template.spec.containers[0].volumeMounts[0].name: Not found: '
                   '"v", spec.template.spec.containers[0].volumeMounts[1].name: Not found: "w"]',
     ["spec.trainer.volumeMounts[0].name", "spec.trainer.volumeMounts[1].name"]),
    # The operator's own variables come first: the child's index is not the spec's.
    ("Model", 'Job.batch "m-eval" is invalid: spec.template.spec.containers[0].env[7].name: Invalid value: "A B"',
     ["spec.validation.evaluator.env.name"]),
    ("Deployment", 'Deployment.apps "s" is invalid: spec.template.metadata.labels: Invalid value: "a/b/c"',
     ["spec.pod.labels"]),
    # A Job's template labels are reported without "metadata".
    ("Model", 'Job.batch "m-eval-1" is invalid: spec.template.labels: Invalid value: "-PdY": a valid label must be',
     ["spec.pod.labels"]),
    ("Deployment", 'Deployment.apps "s" is invalid: spec.template.spec.containers[0].resources.limits[cpu]: Invalid',
     ["spec.server.resources.limits[cpu]"]),
    ("Dataset", 'Job.batch "d" is invalid: spec.template.spec.securityContext.runAsUser: Invalid value: -1',
     ["spec.pod.securityContext.runAsUser"]),
    ("Experiment", 'admission webhook "x" denied the request: no', []),
]


@pytest.mark.parametrize("kind,message,fields", CHILD_REFUSALS)
def test_a_refused_child_is_traced_to_the_spec_fields_it_was_built_from(kind, message, fields):
    assert spec_fields_of_child_refusal(kind, message) == fields
    said = child_refusal_message(kind, message)
    assert said.endswith(message)  # the server's own words stay
    assert all(f in said for f in fields)
