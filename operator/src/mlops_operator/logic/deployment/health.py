"""The canary's checks, judged on what the gather read: pods (readiness, restarts), the servers'
own request counters, and an optional PromQL number."""

from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from ... import contract
from ...api.deployment import Analysis


@dataclass(frozen=True)
class Requests:
    """Inference requests the canary's servers answered, summed over its pods (their counters)."""

    total: float = 0.0
    errors: float = 0.0  # answered 5xx; refused bad requests are the client's fault, not counted


def requests_in(metrics: str) -> Requests:
    """A server's inference request counters, from its /metrics text."""
    total = errors = 0.0
    for family in text_string_to_metric_families(metrics):
        if family.name != contract.SERVER_REQUESTS_METRIC:
            continue
        for sample in family.samples:
            if sample.name == f"{contract.SERVER_REQUESTS_METRIC}_total":
                total += sample.value
                errors += sample.value if sample.labels.get("outcome") == contract.OUTCOME_ERROR else 0.0
    return Requests(total, errors)


@dataclass(frozen=True)
class CanaryHealth:
    ready: int  # ready pods
    restarts: int  # container restarts, all pods
    requests: Requests = field(default_factory=Requests)
    unread: tuple[str, ...] = ()  # pods whose /metrics could not be read, with why
    prometheus: float | None = None
    prometheus_error: str | None = None


def failed_check(analysis: Analysis, health: CanaryHealth) -> str | None:
    """The first check the canary fails, in words with both numbers; None when none fails."""
    if health.restarts > analysis.max_restarts:
        return (f"canary containers restarted {health.restarts} times (analysis.maxRestarts "
                f"{analysis.max_restarts}): the server cannot start or keeps crashing")
    requests = health.requests
    if requests.total >= analysis.min_requests:
        rate = requests.errors / requests.total
        if rate > analysis.max_error_rate:
            return (f"canary error rate {rate:.3g} ({requests.errors:g} of {requests.total:g} requests) is above "
                    f"analysis.maxErrorRate {analysis.max_error_rate:g}")
    query = analysis.prometheus
    if query and health.prometheus is not None and health.prometheus > query.max:
        return f"analysis.prometheus query gave {health.prometheus:g}, above its max {query.max:g}"
    return None


def prometheus_number(answer: dict[str, Any]) -> tuple[float | None, str | None]:
    """The single number of a Prometheus /api/v1/query answer, or why there is none."""
    results = (answer.get("data") or {}).get("result") or []
    if answer.get("status") != "success" or len(results) != 1:
        return None, f"expected one series, got {answer.get('error') or len(results)}"
    try:
        return float(results[0]["value"][1]), None
    except (KeyError, IndexError, TypeError, ValueError) as error:
        return None, f"unreadable value: {error}"


def inconclusive(analysis: Analysis, health: CanaryHealth) -> str | None:
    """Why the checks cannot be judged yet (a step does not advance on them), or None."""
    if health.unread:
        return f"the error rate cannot be judged: /metrics unread on {'; '.join(health.unread)}"
    if analysis.prometheus and health.prometheus is None:
        return f"analysis.prometheus query has no answer: {health.prometheus_error or 'no value'}"
    return None
