"""The work queues' metrics are controller-runtime's: its names, labels, help, buckets and result
classification, read back from the Prometheus text a scrape returns."""

import asyncio

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mlops_operator.controller.metrics import RECONCILE_TIME_BUCKETS, WORKQUEUE_BUCKETS, ControllerMetrics
from mlops_operator.controller.queue import TerminalError, WorkQueue

from .test_queue import run, until


def scrape(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by (name, sorted labels)."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(generate_latest(registry).decode())
            for s in family.samples}


def sample(samples, metric: str, **labels: str) -> float:
    return samples[(metric, tuple(sorted(labels.items())))]


def test_a_new_controller_exposes_every_result_at_zero_and_its_worker_count():
    registry = CollectorRegistry()
    ControllerMetrics(registry).observer("dataset", workers=4)
    samples = scrape(registry)
    for result in ("success", "error", "requeue", "requeue_after"):
        assert sample(samples, "controller_runtime_reconcile_total", controller="dataset", result=result) == 0
    assert sample(samples, "controller_runtime_reconcile_errors_total", controller="dataset") == 0
    assert sample(samples, "controller_runtime_terminal_reconcile_errors_total", controller="dataset") == 0
    assert sample(samples, "controller_runtime_max_concurrent_reconciles", controller="dataset") == 4
    assert sample(samples, "controller_runtime_active_workers", controller="dataset") == 0
    assert sample(samples, "workqueue_depth", name="dataset", controller="dataset", priority="") == 0


def test_reconciles_are_counted_by_result_and_the_queue_by_adds_and_delays():
    async def scenario():
        registry = CollectorRegistry()
        outcomes = {"ok": None, "later": 30.0}

        async def reconcile(key):
            if key == "bad-spec":
                raise TerminalError("spec.x: not an int")
            if key == "flaky":
                raise RuntimeError("API server unavailable")
            return outcomes[key]

        queue = WorkQueue("model", reconcile, workers=2, observer=ControllerMetrics(registry).observer("model", 2))
        queue.start()
        for key in ("ok", "later", "bad-spec", "flaky"):
            queue.add(key)
        await until(lambda: sample(scrape(registry), "workqueue_work_duration_seconds_count",
                                   name="model", controller="model") == 4)
        await queue.stop()
        return scrape(registry)

    samples = run(scenario())

    def total(result):
        return sample(samples, "controller_runtime_reconcile_total", controller="model", result=result)

    assert (total("success"), total("requeue_after"), total("error"), total("requeue")) == (1, 1, 2, 0)
    assert sample(samples, "controller_runtime_reconcile_errors_total", controller="model") == 2
    assert sample(samples, "controller_runtime_terminal_reconcile_errors_total", controller="model") == 1
    assert sample(samples, "controller_runtime_reconcile_time_seconds_count", controller="model") == 4
    queue = {"name": "model", "controller": "model"}
    assert sample(samples, "workqueue_adds_total", **queue) == 4
    # Delayed adds: "later" asks for 30 s, "flaky" is retried with back-off; "bad-spec" is not retried.
    assert sample(samples, "workqueue_retries_total", **queue) == 2
    assert sample(samples, "workqueue_queue_duration_seconds_count", **queue) == 4
    assert sample(samples, "controller_runtime_active_workers", controller="model") == 0
    assert sample(samples, "workqueue_depth", priority="", **queue) == 0


def test_work_in_progress_shows_in_the_unfinished_and_longest_running_gauges():
    async def scenario():
        registry = CollectorRegistry()
        hold = asyncio.Event()

        async def reconcile(key):
            await hold.wait()

        queue = WorkQueue("experiment", reconcile, workers=2,
                          observer=ControllerMetrics(registry).observer("experiment", 2))
        queue.start()
        queue.add("a")
        queue.add("b")
        labels = {"name": "experiment", "controller": "experiment"}
        await until(lambda: sample(scrape(registry), "controller_runtime_active_workers", controller="experiment") == 2)
        await asyncio.sleep(0.05)
        during = scrape(registry)
        hold.set()
        await until(queue.idle)
        after = scrape(registry)
        await queue.stop()
        return [sample(s, metric, **labels) for s in (during, after)
                for metric in ("workqueue_unfinished_work_seconds", "workqueue_longest_running_processor_seconds")]

    unfinished, longest, unfinished_after, longest_after = run(scenario())
    assert longest >= 0.05 and unfinished >= 2 * 0.05 * 0.9
    assert (unfinished_after, longest_after) == (0, 0)


def test_buckets_are_controller_runtimes_to_the_last_bit():
    assert RECONCILE_TIME_BUCKETS[:3] == (0.005, 0.01, 0.025) and RECONCILE_TIME_BUCKETS[-1] == 60
    assert len(RECONCILE_TIME_BUCKETS) == 40
    # Go's ExponentialBuckets(10e-9, 10, 12) as float64s, which Go operators' `le` labels carry.
    assert WORKQUEUE_BUCKETS == (1e-08, 1e-07, 1e-06, 9.999999999999999e-06, 9.999999999999999e-05, 0.001,
                                 0.01, 0.1, 1, 10, 100, 1000)


def test_only_controller_and_result_label_the_series():
    registry = CollectorRegistry()
    ControllerMetrics(registry).observer("deployment", 4)
    labels = {name for (_, pairs) in scrape(registry) for name, _ in pairs}
    assert labels <= {"controller", "result", "name", "priority", "le"}
