"""What the operator and the pods it starts agree on (DESIGN.md section 3): environment variable
names, how parameter values are written, and the result documents a pod leaves in its termination
message. Both sides import this module; it needs nothing but pydantic."""

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

RESULT_LIMIT_BYTES = 4096  # the kubelet's cap on a termination message
DEFAULT_RESULT_PATH = "/dev/termination-log"

# Set on every trial, validation and evaluation pod.
DATASET_URI = "MLOPS_DATASET_URI"
DATASET_FORMAT = "MLOPS_DATASET_FORMAT"
DATASET_DIGEST = "MLOPS_DATASET_DIGEST"  # the digest the operator pinned; empty for validation
DATASET_SPEC = "MLOPS_DATASET_SPEC"  # api.dataset.DataSpec as JSON (ValidatorInput for the validator)
# Set on trial pods.
EXPERIMENT = "MLOPS_EXPERIMENT"
TRIAL = "MLOPS_TRIAL"
ARTIFACT_URI = "MLOPS_ARTIFACT_URI"  # where the trainer should save its model, when the Experiment says
PARAMETERS = "MLOPS_PARAMETERS"  # all parameters as JSON; each also as PARAM_<NAME>
# Set on evaluation pods (with MLOPS_DATASET_*: the Dataset pinned by its digest).
MODEL_URI = "MLOPS_MODEL_URI"  # the artifact to score
MODEL_FORMAT = "MLOPS_MODEL_FORMAT"  # sklearn (joblib), onnx or custom
EVALUATION_SPLIT = "MLOPS_EVALUATION_SPLIT"  # train, test or validation
# Set on model server pods (with MLOPS_MODEL_URI and MLOPS_MODEL_FORMAT).
MODEL_NAME = "MLOPS_MODEL_NAME"  # the name in /v2/models/{name}: the Model's modelName
MODEL_VERSION = "MLOPS_MODEL_VERSION"  # the Model's spec.version
SERVING_SIGNATURE = "MLOPS_SERVING_SIGNATURE"  # the training data's columns as JSON (runtime.serve); optional
SERVER_ADDRESS = "MLOPS_SERVER_ADDRESS"  # the pod's IP: the server listens there, never on 0.0.0.0
SERVER_PORT = "MLOPS_SERVER_PORT"
DRAIN_SECONDS = "MLOPS_DRAIN_SECONDS"  # how long a server keeps answering after SIGTERM
# Not set by the operator; a Model's server.env may set them (runtime.serve documents the defaults).
MAX_REQUEST_BYTES = "MLOPS_MAX_REQUEST_BYTES"  # the largest request body a server reads
READ_SECONDS = "MLOPS_READ_SECONDS"  # how long a client may take to send a request's headers, and its body
# What a model server exports on /metrics that the operator reads to judge a canary.
SERVER_REQUESTS_METRIC = "mlops_server_requests"  # counter (…_total on the wire), label outcome:
OUTCOME_ERROR = "error"  # answered 5xx; the others are success and bad_request

_PLACEHOLDER = re.compile(r"\$\{params\.([A-Za-z0-9_.-]+)\}")


def parameter_env_name(name: str) -> str:
    """PARAM_ + the name upper-cased, with anything but letters, digits and _ as _ (the CRD refuses
    names that would collide this way)."""
    return "PARAM_" + re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


def format_value(value: Any) -> str:
    """A parameter as text: integral numbers without a decimal point, booleans in lower case."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def escape_expansion(text: str) -> str:
    """The kubelet expands $(VAR) in a container's command, args and env values; $$( keeps a value
    the operator writes exactly as the user wrote it."""
    return text.replace("$(", "$$(")


def substitute(text: str, parameters: dict[str, Any]) -> str:
    """Replaces ${params.NAME} with the trial's value (escaped for the kubelet); unknown names stay
    as written."""
    return _PLACEHOLDER.sub(lambda m: escape_expansion(format_value(parameters[m.group(1)]))
                            if m.group(1) in parameters else m.group(0), text)


# --- result documents ---------------------------------------------------------------------------

MAX_METRICS = 64
MAX_NAME_LENGTH = 128
MAX_URI_LENGTH = 2048
MAX_TEXT_LENGTH = 1024


def short_text(value: Any, limit: int = MAX_TEXT_LENGTH) -> str:
    """Any value as one bounded line of text: strings as they are, anything else as its repr."""
    text = " ".join((value if isinstance(value, str) else repr(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def finite_or_none(value: Any) -> float | None:
    """A JSON number as a finite float; None for null, NaN, infinities and numbers too large for a
    float. JSON has no NaN: status could not hold one."""
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _number_or_null(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"metric {name!r} must be a number, got {short_text(value, 60)}")
    return finite_or_none(value)


class _Document(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    error: Any = None
    """What went wrong, as the program said it (any JSON value)."""


class TrialResultDocument(_Document):
    """{"metrics": {...}, "artifactUri": "...", "digest": "sha256:..."} from a trainer or evaluator.
    A metric that is null, NaN or infinite is kept as None: "reported, but not a finite number"."""

    metrics: dict[Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)], Any] | None = None
    artifact_uri: Annotated[str, Field(max_length=MAX_URI_LENGTH)] | None = Field(default=None, alias="artifactUri")
    digest: Annotated[str, Field(max_length=MAX_NAME_LENGTH)] | None = None

    @field_validator("metrics")
    @classmethod
    def _numbers(cls, metrics: dict[str, Any] | None) -> dict[str, float | None] | None:
        if metrics is None:
            return None
        if len(metrics) > MAX_METRICS:
            raise ValueError(f"at most {MAX_METRICS} metrics, got {len(metrics)}")
        return {name: _number_or_null(name, value) for name, value in metrics.items()}


class Failure(BaseModel):
    """One failed check of a validation."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, Field(max_length=MAX_NAME_LENGTH)]
    message: str

    @field_validator("message")
    @classmethod
    def _bounded(cls, message: str) -> str:
        return short_text(message, 512)


class ValidationResultDocument(_Document):
    """The validator's report: {"passed": bool, "digest": "sha256:...", "metrics": {"rows": n},
    "failed": [{name, message}], "stats": {column: {...}}}."""

    passed: StrictBool
    digest: Annotated[str, Field(min_length=8, max_length=MAX_NAME_LENGTH, pattern=r"^[a-z0-9]+:[0-9a-f]+$")]
    metrics: dict[str, Any] = Field(default_factory=dict)
    failed: Annotated[list[Failure], Field(max_length=64)] = Field(default_factory=list)
    stats: dict[Annotated[str, Field(max_length=256)], dict[str, Any]] = Field(default_factory=dict)

    @property
    def rows(self) -> int | None:
        rows = finite_or_none(self.metrics.get("rows")) if self.metrics.get("rows") is not None else None
        return int(rows) if rows is not None and 0 <= rows < 2**53 else None
