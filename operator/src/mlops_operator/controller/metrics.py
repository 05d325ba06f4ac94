"""controller-runtime's metrics, with its names, labels, help texts and buckets, so that dashboards
and alerts written for Go operators work on this one unchanged (sigs.k8s.io/controller-runtime
v0.24: pkg/internal/controller/metrics and pkg/metrics/workqueue.go). One work queue per kind is one
controller, named by the lowercase kind, as controller-runtime's builder names them.

Every series is labelled by controller (and result) only: no object names, so cardinality is
bounded by the four kinds.
"""

from collections.abc import Callable
from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Result(StrEnum):
    """controller_runtime_reconcile_total's result label."""

    SUCCESS = "success"
    ERROR = "error"
    REQUEUE = "requeue"
    REQUEUE_AFTER = "requeue_after"


# controller-runtime's DefaultReconcileTimeBuckets... spelled out in metrics.go.
RECONCILE_TIME_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
    1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
)


def _exponential_buckets(start: float, factor: float, count: int) -> tuple[float, ...]:
    # By repeated multiplication, as Go's prometheus.ExponentialBuckets: the same float64s, so the
    # `le` values match Go operators' (1e-8 * 10**3 would give 1e-05, Go gives 9.999999999999999e-06).
    buckets, value = [], start
    for _ in range(count):
        buckets.append(value)
        value *= factor
    return tuple(buckets)


WORKQUEUE_BUCKETS = _exponential_buckets(10e-9, 10, 12)


class ControllerMetrics:
    """The metric families, in a registry of their own (the process and platform collectors are
    added where the registry is served)."""

    def __init__(self, registry: CollectorRegistry):
        def counter(name: str, help_: str, labels: tuple[str, ...]) -> Counter:
            return Counter(name, help_, labels, registry=registry)

        def gauge(name: str, help_: str, labels: tuple[str, ...]) -> Gauge:
            return Gauge(name, help_, labels, registry=registry)

        self.reconcile_total = counter("controller_runtime_reconcile_total",
                                       "Total number of reconciliations per controller", ("controller", "result"))
        self.reconcile_errors = counter("controller_runtime_reconcile_errors_total",
                                        "Total number of reconciliation errors per controller", ("controller",))
        self.terminal_errors = counter("controller_runtime_terminal_reconcile_errors_total",
                                       "Total number of terminal reconciliation errors per controller",
                                       ("controller",))
        self.reconcile_time = Histogram("controller_runtime_reconcile_time_seconds",
                                        "Length of time per reconciliation per controller", ("controller",),
                                        buckets=RECONCILE_TIME_BUCKETS, registry=registry)
        self.max_concurrent = gauge("controller_runtime_max_concurrent_reconciles",
                                    "Maximum number of concurrent reconciles per controller", ("controller",))
        self.active_workers = gauge("controller_runtime_active_workers",
                                    "Number of currently used workers per controller", ("controller",))
        queue = ("name", "controller")
        self.depth = gauge("workqueue_depth", "Current depth of workqueue by workqueue and priority",
                           (*queue, "priority"))
        self.adds = counter("workqueue_adds_total", "Total number of adds handled by workqueue", queue)
        self.retries = counter("workqueue_retries_total",
                               "Total number of items added to the workqueue with a non-zero delay "
                               "(rate-limited requeues, explicit RequeueAfter or AddAfter calls)", queue)
        self.queue_duration = Histogram("workqueue_queue_duration_seconds",
                                        "How long in seconds an item stays in workqueue before being requested",
                                        queue, buckets=WORKQUEUE_BUCKETS, registry=registry)
        self.work_duration = Histogram("workqueue_work_duration_seconds",
                                       "How long in seconds processing an item from workqueue takes.",
                                       queue, buckets=WORKQUEUE_BUCKETS, registry=registry)
        self.unfinished_work = gauge(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and hasn't been observed by "
            "work_duration. Large values indicate stuck threads. One can deduce the number of stuck "
            "threads by observing the rate at which this increases.", queue)
        self.longest_running = gauge("workqueue_longest_running_processor_seconds",
                                     "How many seconds has the longest running processor for workqueue been running.",
                                     queue)

        # client-go's leader-election metrics as controller-runtime registers them
        # (pkg/metrics/leaderelection.go), labelled by the Lease's name; no series without --leader-elect.
        self.leader_status = gauge(
            "leader_election_master_status",
            "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates "
            "master. 'name' is the string used to identify the lease. Please make sure to group by name.", ("name",))
        self.leader_slow_path = counter(
            "leader_election_slowpath_total",
            "Total number of slow path exercised in renewing leader leases. 'name' is the string used to identify "
            "the lease. Please make sure to group by name.", ("name",))

    def observer(self, controller: str, workers: int) -> "QueueObserver":
        return QueueObserver(self, controller, workers)

    def leader_election(self, lease_name: str) -> "LeaderElectionObserver":
        return LeaderElectionObserver(self, lease_name)


class LeaderElectionObserver:
    """What the leader elector reports (controller/leader.py's LeaderStatus)."""

    def __init__(self, metrics: ControllerMetrics, lease_name: str):
        self._status = metrics.leader_status.labels(lease_name)
        self._slow_path = metrics.leader_slow_path.labels(lease_name)

    def leading(self, on: bool) -> None:
        self._status.set(1 if on else 0)

    def slow_path(self) -> None:
        self._slow_path.inc()


class QueueObserver:
    """What one work queue reports, as controller-runtime's controller and workqueue do."""

    def __init__(self, metrics: ControllerMetrics, controller: str, workers: int):
        queue = (controller, controller)
        # Asking for a labelled series creates it at 0: every result and error count is exposed from
        # the start, as controller-runtime does, so rate() and increase() have a first sample.
        self._total = {result: metrics.reconcile_total.labels(controller, result) for result in Result}
        self._errors = metrics.reconcile_errors.labels(controller)
        self._terminal = metrics.terminal_errors.labels(controller)
        self._time = metrics.reconcile_time.labels(controller)
        metrics.max_concurrent.labels(controller).set(workers)
        self._active = metrics.active_workers.labels(controller)
        self._active.set(0)
        # The classic client-go queue's label: no priorities.
        self._depth = metrics.depth.labels(*queue, "")
        self._adds = metrics.adds.labels(*queue)
        self._retries = metrics.retries.labels(*queue)
        self._queue_duration = metrics.queue_duration.labels(*queue)
        self._work_duration = metrics.work_duration.labels(*queue)
        self._unfinished = metrics.unfinished_work.labels(*queue)
        self._longest = metrics.longest_running.labels(*queue)

    def watch_processing(self, unfinished: Callable[[], float], longest: Callable[[], float]) -> None:
        """The in-progress gauges are read from the queue when scraped (client-go polls them every 500 ms)."""
        self._unfinished.set_function(unfinished)
        self._longest.set_function(longest)

    def added(self, depth: int) -> None:
        self._adds.inc()
        self._depth.set(depth)

    def delayed(self) -> None:
        self._retries.inc()

    def started(self, waited: float, depth: int) -> None:
        self._depth.set(depth)
        self._queue_duration.observe(waited)
        self._active.inc()

    def finished(self, result: Result, seconds: float, terminal: bool = False) -> None:
        self._active.dec()
        self._work_duration.observe(seconds)
        self._time.observe(seconds)
        self._total[result].inc()
        if result is Result.ERROR:
            self._errors.inc()
            if terminal:
                self._terminal.inc()
