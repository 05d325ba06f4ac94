"""The metric catalogue is what the operator and the model servers register, and the expression
check the alert and dashboard tests rely on catches what it is for."""

import pytest
from monitoring.catalogue import CONTROLLER_RUNTIME, DOMAIN, SERVER, problems
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from mlops_operator.controller import inventory
from mlops_operator.controller.metrics import ControllerMetrics
from mlops_operator.runtime.serving.metrics import ServerMetrics


def _registered(owner) -> dict[str, tuple[str, set[str]]]:
    found = {}
    for metric in vars(owner).values():
        if isinstance(metric, MetricWrapperBase):
            name = metric._name + ("_total" if metric._type == "counter" else "")
            found[name] = (metric._type, set(metric._labelnames))
    return found


def test_the_catalogue_is_what_the_operator_and_the_servers_register():
    controllers = _registered(ControllerMetrics(CollectorRegistry()))
    assert {name: controllers.get(name) for name in CONTROLLER_RUNTIME} == CONTROLLER_RUNTIME
    domain = {**{name: ("gauge", set(labels)) for name, (_, labels) in inventory.GAUGES.items()},
              **{name: ("counter", set(labels)) for name, (_, labels) in inventory.COUNTERS.items()}}
    assert domain == DOMAIN
    assert _registered(ServerMetrics("m", "1")) == SERVER


@pytest.mark.parametrize("expr", [
    'sum by (controller, result) (rate(controller_runtime_reconcile_total{job=~".*"}[5m]))',
    'histogram_quantile(0.99, sum by (controller, le) (rate(controller_runtime_reconcile_time_seconds_bucket[5m])))',
    'absent(up{job="x"} == 1)',
    'sum by (namespace, model) (rate(mlops_server_requests_total{outcome="error"}[5m]))'
    ' / on (namespace) group_left sum by (namespace) (up)',
    'max(mlops_model_alias_age_seconds{alias=~"champion|x"}) > 30 * 86400',
    'mlops_deployment_rollbacks_total unless mlops_deployment_rollbacks_total offset 1h',
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
