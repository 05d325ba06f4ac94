"""Any name the API accepts gives valid child names and label values."""

import re

import pytest

from mlops_operator.resources.names import child_name, label_value, trial_name, validation_name

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LONG = {
    63: "a" * 63,
    64: "b" * 64,
    253: ".".join(["c" * 63, "d" * 63, "e" * 63, "f" * 61]),
    "dots": "churn.team-a.v2",
}


@pytest.mark.parametrize("length", list(LONG), ids=str)
def test_child_names_are_dns_labels_and_deterministic(length):
    parent = LONG[length]
    for name in (trial_name(parent, 12, 999), validation_name(parent, 40, 1234)):
        assert DNS_LABEL.match(name) and len(name) <= 63
    assert trial_name(parent, 1, 0) == trial_name(parent, 1, 0)
    assert trial_name(parent, 1, 0) != trial_name(parent, 1, 1)


def test_short_names_stay_readable_and_names_differing_late_stay_apart():
    assert trial_name("forest", 1, 3) == "forest-r1-t3"
    assert child_name("a.b", "x") != child_name("a-b", "x")  # a dot is not a dash
    assert child_name("p" * 60 + "1", "x") != child_name("p" * 60 + "2", "x")


@pytest.mark.parametrize("length", list(LONG), ids=str)
def test_label_values_fit(length):
    value = label_value(LONG[length])
    assert LABEL_VALUE.match(value) and len(value) <= 63
    assert value == LONG[length] or len(LONG[length]) > 63
