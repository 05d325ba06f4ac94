"""The metric catalogue of issue 11 (the contract between the operator, the model servers, the
alerts and the dashboard): each metric's name, type and labels. The alert and dashboard tests
check every expression against it, so a renamed metric or label fails here, not on a live Grafana."""

import re

CONTROLLER_RUNTIME = {
    "controller_runtime_reconcile_total": ("counter", {"controller", "result"}),
    "controller_runtime_reconcile_errors_total": ("counter", {"controller"}),
    "controller_runtime_terminal_reconcile_errors_total": ("counter", {"controller"}),
    "controller_runtime_reconcile_time_seconds": ("histogram", {"controller"}),
    "controller_runtime_max_concurrent_reconciles": ("gauge", {"controller"}),
    "controller_runtime_active_workers": ("gauge", {"controller"}),
    "workqueue_depth": ("gauge", {"name", "controller", "priority"}),
    "workqueue_adds_total": ("counter", {"name", "controller"}),
    "workqueue_retries_total": ("counter", {"name", "controller"}),
    "workqueue_queue_duration_seconds": ("histogram", {"name", "controller"}),
    "workqueue_work_duration_seconds": ("histogram", {"name", "controller"}),
    "workqueue_unfinished_work_seconds": ("gauge", {"name", "controller"}),
    "workqueue_longest_running_processor_seconds": ("gauge", {"name", "controller"}),
}

DOMAIN = {
    "mlops_objects": ("gauge", {"kind", "namespace", "phase"}),
    "mlops_experiment_trials": ("gauge", {"namespace", "experiment", "state"}),
    "mlops_experiment_best_objective": ("gauge", {"namespace", "experiment", "metric", "goal"}),
    "mlops_experiment_trials_finished_total": ("counter", {"namespace", "experiment", "result"}),
    "mlops_model_evaluation_metric": ("gauge", {"namespace", "model", "version", "metric"}),
    "mlops_model_gate_decisions_total": ("counter", {"namespace", "model", "result"}),
    "mlops_model_alias_age_seconds": ("gauge", {"namespace", "model", "alias", "version"}),
    "mlops_deployment_canary_weight_ratio": ("gauge", {"namespace", "deployment"}),
    "mlops_deployment_canary_step": ("gauge", {"namespace", "deployment"}),
    "mlops_deployment_rollbacks_total": ("counter", {"namespace", "deployment"}),
}

# Served by each model server pod; `namespace` and `pod` come from the scrape (the PodMonitor).
SERVER = {
    "mlops_server_requests_total": ("counter", {"model", "version", "outcome"}),
    "mlops_server_request_duration_seconds": ("histogram", {"model", "version"}),
    "mlops_server_schema_violations_total": ("counter", {"model", "version", "input", "kind"}),
    "mlops_server_model_ready": ("gauge", {"model", "version"}),
}

# What Prometheus itself adds: `up` for every target, and the target labels of prometheus-operator's
# ServiceMonitor and PodMonitor.
PROMETHEUS = {"up": ("gauge", set())}
TARGET_LABELS = {"job", "instance", "namespace", "pod", "container", "endpoint", "service"}

METRICS = {**CONTROLLER_RUNTIME, **DOMAIN, **SERVER, **PROMETHEUS}


def series(name: str) -> tuple[str, set[str]]:
    """The catalogued metric a series name belongs to (a histogram's _bucket, _sum, _count) and the
    labels it may carry. KeyError: not in the catalogue; ValueError: a histogram's own name."""
    for suffix, extra in (("_bucket", {"le"}), ("_sum", set()), ("_count", set())):
        base = name.removesuffix(suffix)
        if base != name and METRICS.get(base, ("",))[0] == "histogram":
            return base, METRICS[base][1] | extra | TARGET_LABELS
    kind, labels = METRICS[name]
    if kind == "histogram":
        raise ValueError(f"{name} is a histogram: use its _bucket, _sum or _count")
    return name, labels | TARGET_LABELS


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SELECTOR = re.compile(r"([A-Za-z_:][\w:]*)\s*(?:\{([^}]*)\})?")
_MATCHER = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_RANGE = re.compile(r"\[[^\]]*\]|\boffset\s+-?\w+")  # a range, or an offset's duration
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b")
# PromQL's words: what is neither a metric nor a label.
_WORDS = {
    "sum", "max", "min", "avg", "count", "topk", "bottomk", "quantile", "rate", "increase", "irate", "delta",
    "histogram_quantile", "absent", "clamp_min", "clamp_max", "max_over_time", "min_over_time", "time", "vector",
    "and", "or", "unless", "bool", "group_left", "group_right",
}


def problems(expr: str) -> list[str]:
    """What in a PromQL expression the catalogue does not know: metric names, and label names in its
    matchers and groupings."""
    found, labels = [], set()
    # Strings, groupings, ranges and numbers out of the way, every other word is a metric or PromQL's.
    rest = _NUMBER.sub(" ", _RANGE.sub(" ", _GROUPING.sub(" ", _STRING.sub('""', expr))))
    for name, matchers in _SELECTOR.findall(rest):
        if name in _WORDS:
            continue
        try:
            _, allowed = series(name)
        except KeyError:
            found.append(f"{name} is not in the catalogue (nor a PromQL word the check knows)")
            continue
        except ValueError as error:
            found.append(str(error))
            continue
        labels |= allowed
        found += [f"{name} has no label {label}" for label in _MATCHER.findall(matchers) if label not in allowed]
    for clause in _GROUPING.findall(expr):
        found += [f"no metric of the expression has {label}" for label in re.findall(r"\w+", clause)
                  if label not in labels]
    return found
