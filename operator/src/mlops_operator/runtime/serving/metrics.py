"""The model server's Prometheus metrics. The operator reads REQUESTS by outcome from each server pod's
/metrics to judge a canary (contract names what it reads), so these names are a contract too."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from ... import contract

REQUESTS = contract.SERVER_REQUESTS_METRIC + "_total"  # {model, version, outcome}: infer requests answered
REQUEST_DURATION = "mlops_server_request_duration_seconds"  # {model, version}: their latency
SCHEMA_VIOLATIONS = "mlops_server_schema_violations_total"  # {model, version, input, kind}
MODEL_READY = "mlops_server_model_ready"  # {model, version}: 1 while it takes traffic

# Outcomes: 200; 400, and the bodies refused unread (408, 413, 415); 500.
SUCCESS, BAD_REQUEST, ERROR = "success", "bad_request", contract.OUTCOME_ERROR
OUTCOMES = (SUCCESS, BAD_REQUEST, ERROR)
# Kinds of schema violation: a wrong datatype, a value outside the training data's range or allowed values,
# a null in a column that had none (or no column at all), an input the training data did not have.
TYPE, RANGE, MISSING, UNKNOWN = "type", "range", "missing", "unknown"
# Clients choose the names of unknown inputs: past this many, one label value stands for the rest.
MAX_UNKNOWN_INPUTS, OTHER_UNKNOWN_INPUTS, MAX_INPUT_LABEL_LENGTH = 20, "(other)", 128


class ServerMetrics:
    """The metrics of one served model, in a registry of their own (not the process-wide one)."""

    def __init__(self, model: str, version: str):
        self.registry = CollectorRegistry()
        self.labels = {"model": model, "version": version}
        self._requests = Counter(REQUESTS, "Inference requests, by outcome", [*self.labels, "outcome"],
                                 registry=self.registry)
        self._duration = Histogram(REQUEST_DURATION, "Inference request latency", list(self.labels),
                                   registry=self.registry)
        self._violations = Counter(SCHEMA_VIOLATIONS, "Inputs of inference requests that break the training "
                                   "data's schema, by input and kind", [*self.labels, "input", "kind"],
                                   registry=self.registry)
        self._ready = Gauge(MODEL_READY, "1 when the model is loaded and the server is not draining",
                            list(self.labels), registry=self.registry)
        for outcome in OUTCOMES:  # every series from the start: a rate over a missing series is no rate
            self._requests.labels(**self.labels, outcome=outcome)
        self._ready.labels(**self.labels).set(0)
        self._unknown_inputs: set[str] = set()

    def request(self, outcome: str, seconds: float) -> None:
        self._requests.labels(**self.labels, outcome=outcome).inc()
        self._duration.labels(**self.labels).observe(seconds)

    def refused(self) -> None:
        """A body refused before it was parsed: a bad request, whose (the client's) time is not the server's."""
        self._requests.labels(**self.labels, outcome=BAD_REQUEST).inc()

    def violation(self, input_name: str, kind: str) -> None:
        label = self._unknown_input_label(input_name) if kind == UNKNOWN else input_name
        self._violations.labels(**self.labels, input=label, kind=kind).inc()

    def _unknown_input_label(self, input_name: str) -> str:
        label = input_name[:MAX_INPUT_LABEL_LENGTH]
        if label in self._unknown_inputs or len(self._unknown_inputs) < MAX_UNKNOWN_INPUTS:
            self._unknown_inputs.add(label)
            return label
        return OTHER_UNKNOWN_INPUTS

    def ready(self, ready: bool) -> None:
        self._ready.labels(**self.labels).set(1 if ready else 0)

    def exposition(self, accept: str) -> tuple[bytes, str]:
        """The metrics in the format the scraper asked for, and its content type."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type
