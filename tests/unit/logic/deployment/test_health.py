"""The canary's checks: the counters read from a real model server's /metrics, the PromQL answer,
and which check fails first, with its numbers."""

import pytest

from mlops_operator.api.deployment import Analysis
from mlops_operator.logic.deployment.health import (CanaryHealth, Requests, failed_check, inconclusive,
                                                    prometheus_number, requests_in)
from mlops_operator.runtime.serving.metrics import BAD_REQUEST, ERROR, SUCCESS, ServerMetrics


def test_the_counters_are_read_from_what_the_model_server_exports():
    metrics = ServerMetrics("churn", "3")
    for outcome in [SUCCESS] * 5 + [ERROR] * 2 + [BAD_REQUEST]:
        metrics.request(outcome, 0.01)
    text, _ = metrics.exposition("text/plain")
    assert requests_in(text.decode()) == Requests(total=8, errors=2)  # a refused request is not an error
    assert requests_in("") == Requests()


@pytest.mark.parametrize("answer, expected", [
    ({"status": "success", "data": {"result": [{"value": [1.0, "0.02"]}]}}, (0.02, None)),
    ({"status": "success", "data": {"result": []}}, (None, "expected one series, got 0")),
    ({"status": "error", "error": "parse error"}, (None, "expected one series, got parse error")),
    ({"status": "success", "data": {"result": [{"value": [1.0]}]}}, (None, "unreadable value: list index out of range")),
])
def test_prometheus_number(answer, expected):
    assert prometheus_number(answer) == expected


QUERY = {"address": "http://prometheus:9090", "query": "sum(rate(x[1m]))", "max": 0.1}


@pytest.mark.parametrize("analysis, health, failure", [
    (Analysis(), CanaryHealth(1, 0, Requests(100, 5)), None),  # 5% is not above 5%
    (Analysis(), CanaryHealth(1, 0, Requests(100, 6)), "error rate 0.06 (6 of 100 requests)"),
    (Analysis(max_restarts=2), CanaryHealth(1, 2), None),
    (Analysis(max_restarts=2), CanaryHealth(1, 3), "restarted 3 times"),
    (Analysis(prometheus=QUERY), CanaryHealth(1, 0, prometheus=0.2), "query gave 0.2, above its max 0.1"),
    (Analysis(prometheus=QUERY), CanaryHealth(1, 0, prometheus=0.1), None),
])
def test_failed_check(analysis, health, failure):
    found = failed_check(analysis, health)
    assert (found is None) if failure is None else (failure in found)


def test_a_step_is_not_judged_while_counters_or_the_query_have_no_answer():
    assert "unread on p-1: ConnectionRefused" in inconclusive(Analysis(), CanaryHealth(1, 0, unread=("p-1: ConnectionRefused",)))
    assert "no answer: timeout" in inconclusive(Analysis(prometheus=QUERY), CanaryHealth(1, 0, prometheus_error="timeout"))
    assert inconclusive(Analysis(), CanaryHealth(1, 0)) is None
