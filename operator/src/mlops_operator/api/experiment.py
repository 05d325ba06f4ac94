"""Experiment: a hyperparameter search over a training container, on one Dataset."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .common import ApiModel, Container, DnsLabel, FreeForm, Name, PodSettings, StatusBase, cel, rules
from .dataset import DataSpec
from .model import MAX_ALIASES, AliasName, ModelValidation
from .vocabulary import ExperimentPhase, RunPhase, TrialPhase

ALGORITHMS = ("grid", "random")
GOALS = ("maximize", "minimize")
MAX_TRIALS_LIMIT = 1000
RANGE_LIMIT = 1e15
PARAMETER_NAME_PATTERN = "^[A-Za-z_][A-Za-z0-9_.-]*$"
DEFAULT_TRIAL_DEADLINE_SECONDS = 86400
# The env var a parameter becomes (contract.parameter_env_name), written in CEL: PARAM_ + upper case,
# '.' and '-' as '_'.
_ENV_FORM = "{0}.upperAscii().replace('.', '_').replace('-', '_')"
# floor(self.max) in CEL, which has no math library in Kubernetes: int() truncates towards zero.
_FLOOR_MAX = "(int(self.max) - (self.max < double(int(self.max)) ? 1 : 0))"


class DatasetRef(ApiModel):
    """A Dataset in the same namespace."""

    name: Name
    """Name of the Dataset."""


class Parameter(ApiModel):
    """One hyperparameter: numeric values, categorical choices, or a numeric range (random search only)."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel(
                "[has(self.values), has(self.choices), has(self.min) || has(self.max)].filter(x, x).size() == 1",
                "a parameter needs exactly one of values, choices or a min/max range",
            ),
            cel("has(self.min) == has(self.max)", "a range needs both min and max"),
            cel("!has(self.min) || self.min < self.max", "range min must be less than max"),
            cel(
                "!has(self.scale) || self.scale != 'log' || (has(self.min) && self.min > 0.0)",
                "log scale needs a range with min > 0",
            ),
            cel(
                "!(has(self.scale) || has(self.type)) || has(self.min)",
                "scale and type apply to a min/max range only",
            ),
            cel(
                f"!has(self.type) || self.type != 'int' || double({_FLOOR_MAX}) >= self.min",
                "an int range needs an integer between min and max",
            ),
        )
    )

    values: Annotated[list[float], Field(min_length=1, max_length=100)] | None = None
    """Numeric values to try, e.g. [50, 100, 200]."""
    choices: Annotated[list[Annotated[str, Field(max_length=256)]], Field(min_length=1, max_length=100)] | None = None
    """Categorical values to try, e.g. [gini, entropy]."""
    min: Annotated[float, Field(ge=-RANGE_LIMIT, le=RANGE_LIMIT)] | None = None
    """Lower bound of a range."""
    max: Annotated[float, Field(ge=-RANGE_LIMIT, le=RANGE_LIMIT)] | None = None
    """Upper bound of a range."""
    scale: Literal["linear", "log"] | None = None
    """How a range is sampled: linear (default) or log (min must be > 0)."""
    type: Literal["float", "int"] | None = None
    """Whether a range yields floats (default) or integers."""


class Search(ApiModel):
    """The hyperparameter search."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel(
                "self.parallelism <= self.maxTrials",
                "search.parallelism must not exceed search.maxTrials",
                fieldPath=".parallelism",
            ),
            cel(
                "self.algorithm != 'grid' || self.parameters.all(p, !has(self.parameters[p].min))",
                "grid search needs values or choices for every parameter; "
                "a continuous min/max range needs algorithm random",
                fieldPath=".parameters",
            ),
        )
    )

    algorithm: Literal[ALGORITHMS] = "grid"
    """grid: the cartesian product of values and choices, in order; random: seeded samples."""
    parameters: Annotated[
        dict[str, Parameter],
        Field(
            min_length=1,
            max_length=32,
            json_schema_extra=rules(
                cel(
                    f"self.all(name, size(name) <= 63 && name.matches('{PARAMETER_NAME_PATTERN}'))",
                    "parameter names must start with a letter or '_' and hold only letters, digits, '_', '.' "
                    "and '-' (at most 63 characters)",
                ),
                cel(
                    "self.all(name, self.filter(other, "
                    + _ENV_FORM.format("other") + " == " + _ENV_FORM.format("name") + ").size() == 1)",
                    "parameter names must stay distinct as environment variables PARAM_<NAME> "
                    "(upper-cased, '.' and '-' as '_'): e.g. lr and LR collide",
                ),
            ),
        ),
    ]
    """Parameters by name; each reaches the trainer as env PARAM_<NAME> (upper-cased, '.' and '-' as
    '_') and as ${params.<name>} in args."""
    max_trials: Annotated[int, Field(ge=1, le=MAX_TRIALS_LIMIT)] = 10
    """Most trials to run (1 to 1000); a grid larger than this is cut."""
    parallelism: Annotated[int, Field(ge=1, le=MAX_TRIALS_LIMIT)] = 1
    """Most trials running at once (1 to maxTrials)."""
    seed: int = 0
    """Seed of random search, so a sweep is reproducible."""


class Objective(ApiModel):
    """What makes one trial better than another."""

    metric: Annotated[str, Field(min_length=1, max_length=128)]
    """Name of a metric the trainer reports."""
    goal: Literal[GOALS]
    """maximize or minimize."""


class TrialPolicy(ApiModel):
    """Limits of each trial's Job."""

    backoff_limit: Annotated[int, Field(ge=0, le=10)] = 0
    """Retries of a failed trial pod before the trial fails; evicted or preempted pods are retried
    without counting."""
    active_deadline_seconds: Annotated[int, Field(ge=1, le=2592000)] = DEFAULT_TRIAL_DEADLINE_SECONDS
    """Wall-clock limit of a trial, from its Job's start (default one day)."""


class RegisterModel(ApiModel):
    """Turn the best trial of each finished run into a Model version, owned by the Experiment and
    named <experiment>-v<run>; it needs artifactRoot (or a trainer that reports artifactUri)."""

    model_name: DnsLabel
    """modelName of the new Model; its version is the run number."""
    aliases: Annotated[
        list[AliasName],
        Field(max_length=MAX_ALIASES, json_schema_extra={"x-kubernetes-list-type": "set"}),
    ] | None = None
    """Aliases the new version asks for, e.g. [champion]."""
    validation: ModelValidation | None = None
    """The new version's gate (Model spec.validation)."""


class Trigger(ApiModel):
    """When the Experiment runs again."""

    on_dataset_change: bool = False
    """Start a new run when the Dataset's digest changes."""


class ExperimentSpec(ApiModel):
    """A hyperparameter sweep: one Kubernetes Job per trial."""

    dataset_ref: DatasetRef
    trainer: Container
    artifact_root: Annotated[str, Field(max_length=1024)] | None = None
    """Where trials save their models: each trial gets
    MLOPS_ARTIFACT_URI=<artifactRoot>/<experiment>/r<run>-t<trial>/model.joblib."""
    search: Search
    objective: Objective
    trial_policy: TrialPolicy = Field(default_factory=TrialPolicy)
    register_model: RegisterModel | None = None
    trigger: Trigger = Field(default_factory=Trigger)
    pod: PodSettings | None = None
    """Settings of the trial pods: service account, scheduling, security context, volumes."""


class TrialCounts(ApiModel):
    """Trials of the current run by state."""

    total: int = 0
    """Trials planned."""
    pending: int = 0
    """Trials not started yet."""
    running: int = 0
    """Trials whose Job exists and has not finished (their pods may still be starting)."""
    succeeded: int = 0
    """Trials that finished and reported metrics."""
    failed: int = 0
    """Trials that failed (their reason is in the trial summary)."""


class TrialResult(ApiModel):
    """How a finished trial of the current run ended. This map is the run's durable record: a
    trial Job deleted after it finished (by hand, a TTL or a cleanup policy) is neither lost nor re-run."""

    phase: Literal[TrialPhase.SUCCEEDED, TrialPhase.FAILED]
    """Succeeded or Failed."""
    value: float | None = None
    """The objective metric's value (succeeded trials)."""
    reason: str | None = None
    """Why it failed (failed trials)."""


class TrialSummary(ApiModel):
    """One trial of the current run."""

    name: str
    """Name of the trial's Job."""
    index: int
    """Position in the sweep, from 0."""
    phase: TrialPhase
    """Pending, Running, Succeeded or Failed."""
    parameters: dict[str, str] | None = None
    """Parameter values as passed to the trainer."""
    objective_value: float | None = None
    """The objective metric's value."""
    reason: str | None = None
    """Why it failed or cannot start, e.g. MetricsMissing, BackoffLimitExceeded, OOMKilled, ImagePullBackOff."""
    message: str | None = None
    """Details of the failure."""


class RunRecord(ApiModel):
    """One run of the sweep (a new run starts on new data with the trigger, or on a spec edit)."""

    run: int
    """Run number, from 1."""
    phase: RunPhase | None = None
    """Running, Succeeded, Failed, or Superseded (a newer run started before it finished)."""
    dataset_digest: str | None = None
    """Digest of the data the run trained on."""
    started_at: datetime | None = None
    """When the run started."""
    completed_at: datetime | None = None
    """When its last trial finished."""
    best_trial: str | None = None
    """Name of its best trial."""
    best_value: float | None = None
    """Objective value of its best trial."""
    succeeded: int = 0
    """Trials that succeeded."""
    failed: int = 0
    """Trials that failed."""
    model: str | None = None
    """The Model version registered from its best trial (registerModel)."""


class BestTrial(ApiModel):
    """The best trial so far by the objective."""

    name: str
    """Name of the trial's Job."""
    index: int | None = None
    """Position in the sweep."""
    parameters: dict[str, FreeForm] | None = None
    """Parameter values of the trial."""
    metrics: dict[str, float] | None = None
    """Metrics the trial reported."""
    objective_value: float | None = None
    """The objective metric's value, for the printer column."""
    artifact_uri: str | None = None
    """Where the trial saved its model, as it reported."""


class PinnedDataset(ApiModel):
    """The data the current run trains on, fixed when the run started."""

    name: str
    """Name of the Dataset."""
    uid: str | None = None
    """UID of the Dataset object the run started from."""
    digest: str | None = None
    """Content digest the run pinned; a trial that reads other data fails with DatasetChanged."""
    spec: DataSpec | None = None
    """The Dataset's data spec (source, format, schema, resolved splits) every trial of the run receives."""


class ExperimentStatus(StatusBase):
    """What the sweep has done so far."""

    phase: ExperimentPhase | None = None
    """A one-word summary for printer columns; read conditions for decisions."""
    run: int | None = None
    """Number of the current run."""
    spec_hash: str | None = None
    """Hash of the spec parts the current run trains with; an edit starts a new run."""
    dataset: PinnedDataset | None = None
    progress: str | None = None
    """Finished trials out of the planned total, e.g. 4/12."""
    trials: TrialCounts | None = None
    best_trial: BestTrial | None = None
    started_at: datetime | None = None
    """When the current run started."""
    completed_at: datetime | None = None
    """When the current run finished."""
    trial_results: Annotated[dict[str, TrialResult], Field(max_length=MAX_TRIALS_LIMIT)] | None = None
    """Finished trials of the current run by index: the run's durable record."""
    trial_summaries: Annotated[list[TrialSummary], Field(max_length=30)] | None = None
    """Bounded view of the current run: its 10 best succeeded, 10 latest failed and 10 first
    pending or running trials."""
    runs: Annotated[list[RunRecord], Field(max_length=10)] | None = None
    """The last 10 runs, newest last."""
