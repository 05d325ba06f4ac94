"""The expression check the alert and dashboard tests rely on: it must catch what it is for."""

import pytest
from monitoring.catalogue import problems


@pytest.mark.parametrize("expr", [
    'sum by (controller, result) (rate(controller_runtime_reconcile_total{job=~".*"}[5m]))',
    'histogram_quantile(0.99, sum by (controller, le) (rate(controller_runtime_reconcile_time_seconds_bucket[5m])))',
    'absent(up{job="x"} == 1)',
    'sum by (namespace, model) (rate(mlops_server_requests_total{outcome="error"}[5m]))'
    ' / on (namespace) group_left sum by (namespace) (up)',
    'max(mlops_model_alias_age_seconds{alias=~"champion|x"}) > 30 * 86400',
])
def test_catalogued_expressions_pass(expr):
    assert problems(expr) == []


@pytest.mark.parametrize("expr, problem", [
    ('rate(mlops_server_request_total[5m])', "mlops_server_request_total is not in the catalogue"),
    ('sum(mlops_server_requests_total{result="error"})', "mlops_server_requests_total has no label result"),
    ('sum by (experiment) (mlops_model_gate_decisions_total)', "no metric of the expression has experiment"),
    ('rate(controller_runtime_reconcile_time_seconds[5m])', "is a histogram"),
    ('rate(controller_runtime_reconcile_time_seconds_bucket{le="1"}[5m]) + mlops_model_ready',
     "mlops_model_ready is not in the catalogue"),
])
def test_unknown_metrics_and_labels_are_named(expr, problem):
    found = problems(expr)
    assert any(problem in p for p in found), found
