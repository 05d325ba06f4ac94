"""The domain metrics: the watched objects' facts (logic/observed.py), kept as the watch events
deliver them and turned into gauges when Prometheus scrapes, plus counters of the transitions seen
between two events. No reads of its own: the numbers are as fresh as the watches.

Scrapes run on the metrics server's thread, events on the event loop: a lock keeps the map whole.

With leader election, every replica watches, but only the leader reports: a stand-by keeps the
facts (so it reports at once when it takes over) but exposes no gauge and counts no transition,
so that summing over the operator's pods counts each object and each decision once.
"""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ..logic import observed
from ..logic.observed import Facts

Key = tuple[str, str, str]  # (kind, namespace, name)

GAUGES = {  # name: (help, labels)
    observed.OBJECTS: ("Objects of a kind by namespace and status.phase (Unknown before the first status)",
                       ("kind", "namespace", "phase")),
    observed.TRIALS: ("Trials of an Experiment's current run by state", ("namespace", "experiment", "state")),
    observed.BEST_OBJECTIVE: ("The objective value of the current run's best trial",
                              ("namespace", "experiment", "metric", "goal")),
    observed.EVALUATION_METRIC: ("A Model version's evaluation metric (status.validation.metrics)",
                                 ("namespace", "model", "version", "metric")),
    observed.ALIAS_AGE: ("Seconds since the version took the alias (status.promotedAt)",
                         ("namespace", "model", "alias", "version")),
    observed.CANARY_WEIGHT: ("Share of traffic the canary serves, 0 to 1 (0 when no canary runs)",
                             ("namespace", "deployment")),
    observed.CANARY_STEP: ("The canary's step, from 1 (0 when no canary runs)", ("namespace", "deployment")),
}
COUNTERS = {
    observed.TRIALS_FINISHED: ("Trials that finished, by result", ("namespace", "experiment", "result")),
    observed.GATE_DECISIONS: ("Gate decisions on Model versions, by result", ("namespace", "model", "result")),
    observed.ROLLBACKS: ("Rollouts given up because a canary check failed", ("namespace", "deployment")),
}


class Inventory(Collector):
    def __init__(self, registry: CollectorRegistry, reporting: bool = True):
        self.reporting = reporting  # False while a replica stands by (see above)
        self._facts: dict[Key, Facts] = {}
        self._lock = threading.Lock()
        self._counters = {name: Counter(name, help_, labels, registry=registry)
                          for name, (help_, labels) in COUNTERS.items()}
        # How many live objects hold each counter series (a Model's are shared by its versions):
        # a series goes when its last object does, so deleted objects leave no series behind.
        self._holders: dict[tuple[str, observed.Labels], int] = {}
        registry.register(self)

    def observe(self, kind: str, event_type: str | None, body: dict) -> None:
        """One watch event of one of the four kinds."""
        after = observed.facts_of(kind, body)
        key = (kind, after.namespace, after.name)
        with self._lock:
            before = self._facts.pop(key, None)
            if event_type != "DELETED":
                self._facts[key] = after
        self._hold(observed.counter_series(before) if before else [],
                   observed.counter_series(after) if event_type != "DELETED" else [])
        if event_type != "DELETED" and self.reporting:
            for step in observed.transitions(before, after):
                self._counters[step.metric].labels(**dict(step.labels)).inc(step.value)

    def _hold(self, released: list, held: list) -> None:
        for metric, labels in held:
            count = self._holders.get((metric, labels), 0)
            if count == 0:
                self._counters[metric].labels(**dict(labels))  # exposed at 0 from now on
            self._holders[metric, labels] = count + 1
        for metric, labels in released:
            count = self._holders.pop((metric, labels)) - 1
            if count:
                self._holders[metric, labels] = count
            else:
                values = dict(labels)
                self._counters[metric].remove(*(values[name] for name in COUNTERS[metric][1]))

    def describe(self) -> Iterator[GaugeMetricFamily]:
        for name, (help_, labels) in GAUGES.items():
            yield GaugeMetricFamily(name, help_, labels=labels)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            objects = list(self._facts.values())
        families = {name: GaugeMetricFamily(name, help_, labels=labels) for name, (help_, labels) in GAUGES.items()}
        for sample in observed.samples(objects if self.reporting else [], datetime.now(UTC)):
            values = dict(sample.labels)
            family = families[sample.metric]
            family.add_metric([values[label] for label in GAUGES[sample.metric][1]], sample.value)
        yield from families.values()
