"""Reading what a finished pod reported (its termination message) into a verdict. Every shape a
program can leave there, malformed included, becomes a named outcome: it never stops a reconcile
and never puts NaN, infinity or unbounded text into status."""

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..api.dataset import ColumnStats
from ..api.vocabulary import DatasetReason, TrialPhase, TrialReason
from ..contract import TrialResultDocument, ValidationResultDocument, finite_or_none, short_text
from .jobs import JobFacts, Termination

M = TypeVar("M", bound=BaseModel)
MESSAGE_LIMIT = 512
MAX_FAILURES_IN_MESSAGE = 3
_KNOWN_JOB_REASONS = {TrialReason.BACKOFF_LIMIT_EXCEEDED, TrialReason.DEADLINE_EXCEEDED}


class Malformed(ValueError):
    """The termination message is JSON but not the document the contract describes."""


def _errors(error: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg'].removeprefix('Value error, ')}"
             for e in error.errors()[:3]]
    return "; ".join(parts)


def read_document(text: str | None, model: type[M]) -> M | None:
    """The document in a termination message; None when there is none (empty or plain text, e.g. a
    traceback); Malformed when it is JSON of the wrong shape."""
    try:
        value = json.loads(text or "")
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        raise Malformed(f"the result is JSON but not an object: {short_text(value, 80)}")
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise Malformed(_errors(error)) from None


def _error_of(text: str | None) -> str:
    """What the program said: the document's error, or the raw text when it is not a document."""
    try:
        value = json.loads(text or "")
    except (ValueError, RecursionError):
        return (text or "").strip()
    if isinstance(value, dict) and value.get("error") is not None:
        return short_text(value["error"])
    return ""


def _short(text: str) -> str:
    return short_text(text, MESSAGE_LIMIT)


@dataclass(frozen=True)
class Outcome:
    """How a finished trial ended."""

    phase: TrialPhase
    reason: str
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    objective: float | None = None
    artifact_uri: str | None = None


def _failed_job(job: JobFacts, termination: Termination | None) -> Outcome:
    if termination and termination.reason == TrialReason.OOM_KILLED:
        reason = TrialReason.OOM_KILLED
    elif job.reason in _KNOWN_JOB_REASONS:
        reason = TrialReason(job.reason)
    else:
        reason = TrialReason.JOB_FAILED
    exit_code = f"exit code {termination.exit_code}" if termination and termination.exit_code is not None else ""
    detail = [job.message, exit_code, _error_of(termination.message if termination else None)]
    if reason == TrialReason.JOB_FAILED and job.reason:
        detail.insert(0, job.reason)
    return Outcome(TrialPhase.FAILED, reason, _short("; ".join(part for part in detail if part)))


def judge_trial(job: JobFacts, termination: Termination | None, objective_metric: str,
                pinned_digest: str | None) -> Outcome:
    """The outcome of a finished trial Job. A Job that succeeded is still a failed trial when it
    reported no metrics, a malformed result, other data, or no finite objective."""
    if not job.succeeded:
        return _failed_job(job, termination)
    try:
        document = read_document(termination.message if termination else None, TrialResultDocument)
    except Malformed as error:
        return Outcome(TrialPhase.FAILED, TrialReason.MALFORMED_RESULT, _short(str(error)))
    if document is None or not document.metrics:
        return Outcome(TrialPhase.FAILED, TrialReason.METRICS_MISSING,
                       "the trial succeeded but reported no metrics; write them with "
                       "mlops_operator.runtime.report() to the termination message")
    metrics = {name: value for name, value in document.metrics.items() if value is not None}
    artifact = document.artifact_uri
    if pinned_digest and document.digest and document.digest != pinned_digest:
        return Outcome(TrialPhase.FAILED, TrialReason.DATASET_CHANGED,
                       f"trained on {document.digest}, the run pinned {pinned_digest}", metrics, None, artifact)
    if objective_metric not in document.metrics:
        return Outcome(TrialPhase.FAILED, TrialReason.OBJECTIVE_MISSING,
                       _short(f"reported {sorted(document.metrics)} but not the objective metric {objective_metric!r}"),
                       metrics, None, artifact)
    value = document.metrics[objective_metric]
    if value is None:
        return Outcome(TrialPhase.FAILED, TrialReason.OBJECTIVE_NOT_FINITE,
                       f"{objective_metric} is not a finite number", metrics, None, artifact)
    return Outcome(TrialPhase.SUCCEEDED, TrialReason.SUCCEEDED, f"{objective_metric}={value:.6g}", metrics, value,
                   artifact)


@dataclass(frozen=True)
class ValidationVerdict:
    """What a finished validation round means for the Dataset."""

    reason: DatasetReason  # ValidationPassed, ValidationFailed or ValidatorFailed
    message: str
    digest: str | None = None
    rows: int | None = None
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.reason == DatasetReason.VALIDATION_PASSED


def _column_stats(stats: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Column statistics that fit the status schema; non-finite numbers are left out."""
    kept = {}
    for name, values in list(stats.items())[:512]:
        numbers = {k: finite_or_none(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                   for k, v in values.items()}
        try:
            parsed = ColumnStats.model_validate(numbers)
        except ValidationError:
            continue
        kept[name] = parsed.model_dump(by_alias=True, exclude_none=True)
    return kept


# The spec field behind a Job's reason for stopping: the validator's (Dataset) and the evaluator's
# (Model) Job limits are both in spec.validation.
_LIMIT_FIELDS = {
    TrialReason.DEADLINE_EXCEEDED: "longer than spec.validation.activeDeadlineSeconds",
    TrialReason.BACKOFF_LIMIT_EXCEEDED: "after spec.validation.backoffLimit retries",
}


def _program_failed(program: str, job: JobFacts, termination: Termination | None, problem: str) -> str:
    """Why a validator's or evaluator's Job gave no usable result, with its Job reason (and the spec
    field that set the limit it hit) and exit code."""
    exit_code = termination.exit_code if termination else None
    reason = job.reason or ("JobFailed" if not job.succeeded else "Completed")
    limit = f" {_LIMIT_FIELDS[reason]}" if reason in _LIMIT_FIELDS else ""
    return _short(f"the {program} failed ({reason}{limit}, exit code {exit_code}): {problem}")


def _validator_failed(job: JobFacts, termination: Termination | None, problem: str) -> ValidationVerdict:
    return ValidationVerdict(DatasetReason.VALIDATOR_FAILED, _program_failed("validator", job, termination, problem))


# The built-in validator's checks (runtime/validate.py) by the name it reports them under.
_COLUMN_CHECK = "column "
_DATASET_LIMITS = ("minRows", "maxNullFraction")


def failure_field(check: str, rule_names: Collection[str]) -> str:
    """The spec field a failed check's name points at, so status names what to change (or what the
    data must satisfy); a custom validator's own check names stay as reported."""
    if check.startswith(_COLUMN_CHECK):
        return f"spec.schema.columns[name={check.removeprefix(_COLUMN_CHECK)}]"
    if check in _DATASET_LIMITS:
        return f"spec.validation.{check}"
    if check in rule_names:
        return f"spec.validation.rules[name={check}]"
    return check


def judge_validation(job: JobFacts, termination: Termination | None,
                     rule_names: Collection[str] = ()) -> ValidationVerdict:
    message = termination.message if termination else None
    if not job.succeeded:
        return _validator_failed(job, termination, _error_of(message) or "no result reported")
    try:
        document = read_document(message, ValidationResultDocument)
    except Malformed as error:
        return _validator_failed(job, termination, f"its result is malformed: {error}")
    if document is None:
        return _validator_failed(job, termination, "it reported no result")
    columns = _column_stats(document.stats)
    if document.passed:
        return ValidationVerdict(DatasetReason.VALIDATION_PASSED,
                                 f"{document.rows} rows passed validation; digest {document.digest}",
                                 document.digest, document.rows, columns)
    failures = document.failed
    shown = "; ".join(f"{failure_field(f.name, rule_names)}: {f.message}" for f in failures[:MAX_FAILURES_IN_MESSAGE])
    more = len(failures) - MAX_FAILURES_IN_MESSAGE
    text = (shown + (f"; and {more} more" if more > 0 else "")) or (
        "the validator reported failure without naming a check")
    return ValidationVerdict(DatasetReason.VALIDATION_FAILED, _short(text), document.digest, document.rows, columns)


@dataclass(frozen=True)
class EvaluationOutcome:
    """What a finished evaluation Job reported: metrics, or why there are none."""

    metrics: dict[str, float] | None
    message: str

    @property
    def succeeded(self) -> bool:
        return self.metrics is not None


def _evaluator_failed(job: JobFacts, termination: Termination | None, problem: str) -> EvaluationOutcome:
    return EvaluationOutcome(None, _program_failed("evaluator", job, termination, problem))


def judge_evaluation(job: JobFacts, termination: Termination | None, pinned_digest: str) -> EvaluationOutcome:
    """Finite metrics scored on the pinned data, or a failure naming why. A metric reported as null
    or not finite is left out (a threshold on it then says it is missing)."""
    message = termination.message if termination else None
    if not job.succeeded:
        return _evaluator_failed(job, termination, _error_of(message) or "no result reported")
    try:
        document = read_document(message, TrialResultDocument)
    except Malformed as error:
        return _evaluator_failed(job, termination, f"its result is malformed: {error}")
    if document is None or not document.metrics:
        return _evaluator_failed(job, termination, "it reported no metrics")
    if document.digest and document.digest != pinned_digest:
        return _evaluator_failed(job, termination, f"it scored data {document.digest}, not the pinned {pinned_digest}")
    metrics = {name: value for name, value in document.metrics.items() if value is not None}
    shown = ", ".join(f"{name}={value:.6g}" for name, value in sorted(metrics.items())[:8])
    return EvaluationOutcome(metrics, shown)
