"""The one vocabulary of status: condition types, phases and reasons, each with its meaning.

Logic writes these, docs/api.md lists them (generated), and metric labels and Argo CD health
checks will read them. A value is a plain string on the wire (StrEnum); `description` says what it
means to a user reading `kubectl describe`.
"""

from enum import StrEnum


class Term(StrEnum):
    """A word of the vocabulary: its wire value and what it means."""

    description: str

    def __new__(cls, value: str, description: str) -> "Term":
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member


class ConditionType(Term):
    """Condition types (metav1.Condition `type`). Ready, Reconciling and Stalled follow kstatus:
    Reconciling=True while work is under way, Stalled=True (with Ready=False) on a terminal failure;
    both are left out of status while False."""

    READY = "Ready", "The object is done and usable (True), not yet or not any more (False, Unknown)."
    RECONCILING = "Reconciling", "The operator is working towards the spec; absent when it is not."
    STALLED = "Stalled", "A terminal failure that needs a change from a user; absent when there is none."
    VALIDATED = "Validated", "Dataset: the data passed validation (True) or failed it (False)."
    SUCCEEDED = "Succeeded", "Experiment: the current run found a best trial (True) or every trial failed (False)."
    EVALUATED = "Evaluated", "Model: the evaluation reported metrics (True) or failed (False)."
    PROMOTED = "Promoted", "Model: the version holds an alias (True) or holds none, and why (False)."
    AVAILABLE = "Available", "Deployment: the stable version's servers are ready (True) or none are (False)."
    PROGRESSING = "Progressing", "Deployment: a rollout is under way (True) or none is, and how the last one ended."
    DEGRADED = "Degraded", "Deployment: the target is not served because its rollout was given up (True)."


class CommonReason(Term):
    """Reasons every kind may show."""

    RECONCILE_ERROR = "ReconcileError", "An unexpected error; the operator retries with back-off and says what failed."
    CHILD_REFUSED = "ChildRefused", (
        "The API server refused a child object the operator built from the spec; the message names the spec "
        "fields it was built from, then has the server's words."
    )
    CHILD_CONFLICT = "ChildConflict", "A child's name is taken by an object another owner controls; retrying."
    INVALID_SPEC = "InvalidSpec", "The stored spec does not parse as this API version; the message names the field."


class DatasetPhase(Term):
    VALIDATING = "Validating", "A validation Job for the current generation is running or about to start."
    READY = "Ready", "The current generation's data passed validation; status.digest identifies it."
    INVALID = "Invalid", "The data was read but fails the schema or the rules."
    ERROR = "Error", "The validator could not read or judge the data."


class DatasetReason(Term):
    VALIDATING = "Validating", "A validation round is running."
    VALIDATION_PASSED = "ValidationPassed", "Every schema check and rule passed."
    VALIDATION_FAILED = "ValidationFailed", "Some checks failed; the message names them with their numbers."
    VALIDATOR_FAILED = "ValidatorFailed", (
        "The validator exited with an error or reported a result the operator cannot use; the message says why."
    )
    POD_NOT_STARTING = "PodNotStarting", (
        "The validation pod cannot start (image, scheduling, admission, quota); the message has Kubernetes' reason."
    )


class DatasetEvent(Term):
    """Events a Dataset posts besides its condition reasons."""

    NEW_DATA = "NewData", "A validation found a new content digest."


class ExperimentPhase(Term):
    WAITING = "Waiting", (
        "No trial can start: the Dataset is missing, not Ready or changed; the Ready message says which."
    )
    RUNNING = "Running", "Trials of the current run are running or about to start."
    SUCCEEDED = "Succeeded", "Every trial of the current run finished and at least one succeeded."
    FAILED = "Failed", "Every trial of the current run finished and all of them failed."


class ExperimentReason(Term):
    WAITING_FOR_DATASET = "WaitingForDataset", (
        "The Dataset is missing, not Ready, or its status describes an older generation."
    )
    DATASET_CHANGED = "DatasetChanged", (
        "The Dataset's data changed while a run was unfinished; restore it, or start a new run."
    )
    EDITS_SETTLING = "EditsSettling", (
        "The spec changed moments ago: the new run starts once it stays unchanged for a few seconds, so "
        "a burst of edits starts one run."
    )
    TRIALS_RUNNING = "TrialsRunning", "The current run is under way."
    TRIALS_NOT_STARTING = "TrialsNotStarting", (
        "Some trial pods cannot start (image, scheduling, admission, quota); the message has Kubernetes' reason."
    )
    BEST_TRIAL_FOUND = "BestTrialFound", "The run finished; status.bestTrial is its best trial."
    ALL_TRIALS_FAILED = "AllTrialsFailed", "The run finished and every trial failed."


class ExperimentEvent(Term):
    """Events an Experiment posts besides its condition reasons."""

    RUN_STARTED = "RunStarted", "A run started: the first one, after an edit, or on new data."
    RUN_COMPLETED = "RunCompleted", "Every trial of a run finished."
    TRIAL_FAILED = "TrialFailed", "A trial failed; the message has the reason."
    TRIAL_NOT_STARTING = "TrialNotStarting", "A trial's pod cannot start; the message has Kubernetes' reason."
    TRIAL_RECREATED = "TrialRecreated", (
        "A trial whose pod could not start was made again after an edit of spec.pod or spec.trialPolicy."
    )
    TRIAL_JOB_DELETED = "TrialJobDeleted", (
        "A running trial's Job was deleted by someone else: the trial starts again from the beginning "
        "(a trial whose result status records is never run again)."
    )
    MODEL_REGISTERED = "ModelRegistered", "registerModel made a Model version of the run's best trial."
    MODEL_NOT_REGISTERED = "ModelNotRegistered", (
        "registerModel could not make a Model version: the best trial reported no artifactUri (set artifactRoot)."
    )


class RunPhase(Term):
    RUNNING = "Running", "The run is under way."
    SUCCEEDED = "Succeeded", "Every trial finished and at least one succeeded."
    FAILED = "Failed", "Every trial finished and all of them failed."
    SUPERSEDED = "Superseded", "A newer run started before this one finished (a spec edit or new data)."


class TrialPhase(Term):
    PENDING = "Pending", "Its Job exists but no pod runs yet."
    RUNNING = "Running", "Its pod runs."
    SUCCEEDED = "Succeeded", "It finished and reported a finite objective."
    FAILED = "Failed", "It failed; reason and message say why."


class TrialReason(Term):
    SUCCEEDED = "Succeeded", "The trial reported a finite objective."
    METRICS_MISSING = "MetricsMissing", "The trainer exited 0 without reporting metrics."
    OBJECTIVE_MISSING = "ObjectiveMissing", "The trainer reported metrics but not the objective metric."
    OBJECTIVE_NOT_FINITE = "ObjectiveNotFinite", "The objective was NaN, infinite or not a number."
    DATASET_CHANGED = "DatasetChanged", "The trainer read data with another digest than the run pinned."
    MALFORMED_RESULT = "MalformedResult", (
        "The termination message is not a result document; the message says what is wrong."
    )
    OOM_KILLED = "OOMKilled", "The trainer was killed for exceeding its memory limit."
    BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded", (
        "The trainer failed more often than trialPolicy.backoffLimit allows."
    )
    DEADLINE_EXCEEDED = "DeadlineExceeded", "The trial ran longer than trialPolicy.activeDeadlineSeconds."
    JOB_FAILED = "JobFailed", "The trial's Job failed for another reason; the message has Kubernetes' words."


class ModelPhase(Term):
    WAITING = "Waiting", "No evaluation can start: the Dataset is missing or not Ready; the message says which."
    EVALUATING = "Evaluating", "The version, or the holder it is compared with, is being scored."
    PROMOTED = "Promoted", "The gate passed and the version holds at least one alias (status.aliases)."
    PASSED = "Passed", (
        "The gate passed but the version holds no alias: it asks for none, or a newer version holds them."
    )
    REJECTED = "Rejected", "The gate failed for this generation: a threshold or the comparison; the checks say which."
    FAILED = "Failed", "The evaluation could not score the version; the message says why."


class ModelReason(Term):
    WAITING_FOR_DATASET = "WaitingForDataset", "The validation Dataset is missing or not Ready."
    EVALUATING = "Evaluating", "The evaluation Job is running."
    COMPARING = "Comparing", (
        "The holder of the compared alias was scored on other data; it is being scored on the candidate's."
    )
    POD_NOT_STARTING = "PodNotStarting", (
        "The evaluation pod cannot start (image, scheduling, admission, quota); the message has Kubernetes' reason."
    )
    EVALUATION_SUCCEEDED = "EvaluationSucceeded", "The evaluation reported metrics; status.validation has them."
    EVALUATOR_FAILED = "EvaluatorFailed", (
        "The evaluator exited with an error or reported a result the operator cannot use; the message says why."
    )
    NO_VALIDATION = "NoValidation", "No validation policy: nothing to evaluate, the version takes what it asks for."
    GATE_PASSED = "GatePassed", "Every check passed; the version holds the aliases it asks for that no newer one holds."
    GATE_FAILED = "GateFailed", "A check failed; the message names it with both numbers. Final for this generation."
    OVERRIDDEN = "Overridden", (
        "The comparison was lost, and spec.override took the aliases anyway; the message has its reason."
    )
    SUPERSEDED = "Superseded", "The gate passed, but a newer passing version holds every alias this one asks for."
    NOT_ASKED = "NotAsked", "The gate passed; the version asks for no alias."


class ModelEvent(Term):
    """Events a Model posts besides its condition reasons."""

    EVALUATION_STARTED = "EvaluationStarted", "An evaluation Job was created."
    RESCORE_STARTED = "RescoreStarted", "A Job scoring the compared holder on the candidate's data was created."
    ALIAS_TAKEN = "AliasTaken", "The version took an alias; the message names the version it replaced."
    ALIAS_LOST = "AliasLost", "The version lost an alias; the message names the new holder or why none."


class AliasChange(Term):
    TOOK = "Took", "The version took the alias."
    LOST = "Lost", "The version lost the alias."


class DeploymentPhase(Term):
    WAITING = "Waiting", "No Model to serve yet: the pinned one is missing or no version holds the alias."
    STARTING = "Starting", "The first version's servers are starting."
    SERVING = "Serving", "The target version serves all the traffic."
    ROLLING_OUT = "RollingOut", "A canary of the new target serves part of the traffic (status.canary)."
    PAUSED = "Paused", "A rollout waits: spec.paused, or a step without a pause waits for spec.promote."
    DEGRADED = "Degraded", "The stable version serves; the target's rollout was rolled back or aborted."


class DeploymentReason(Term):
    MODEL_NOT_FOUND = "ModelNotFound", "modelRef.name names no Model in the namespace."
    NO_ALIAS_HOLDER = "NoAliasHolder", "No version of modelRef.modelName holds modelRef.alias."
    NO_ARTIFACT = "NoArtifact", "The target Model cannot be served: its artifact format has no built-in server."
    STARTING = "Starting", "The servers of the first version are not all ready yet."
    SERVING = "Serving", "The servers are ready and serve the target version."
    NO_SERVER_READY = "NoServerReady", "No server of the stable version is ready."
    SCALED_TO_ZERO = "ScaledToZero", "spec.replicas is 0: nothing serves, on purpose."
    CANARY_STEP = "CanaryStep", "A canary step runs; the message says which, with its weight and what it waits for."
    CANARY_NOT_READY = "CanaryNotReady", "The canary's pods for this step are not ready yet."
    PAUSED = "Paused", "spec.paused holds the rollout."
    WAITING_FOR_PROMOTE = "WaitingForPromote", "A step without a pause waits for spec.promote."
    PROMOTING = "Promoting", "The canary runs all the servers; the old version goes once they are ready."
    ROLLOUT_COMPLETE = "RolloutComplete", "The last rollout finished: its version is the stable one."
    ROLLED_BACK = "RolledBack", "A canary check failed and the rollout was given up; the message names the check."
    ABORTED = "Aborted", "spec.abort gave up the rollout."
    TARGET_CHANGED = "TargetChanged", "The target changed during a rollout: its canary was removed."
    PROMETHEUS_NOT_ALLOWED = "PrometheusNotAllowed", ("analysis.prometheus names a Prometheus the operator may "
                                                      "not query; nothing changes until it does (decision 70).")


class DeploymentEvent(Term):
    """Events a Deployment posts besides its condition reasons."""

    ROLLOUT_STARTED = "RolloutStarted", "A canary of a new target started."
    STEP_ADVANCED = "StepAdvanced", "The canary passed a step and moved to the next weight."
    PROMOTED = "Promoted", "The canary became the stable version; the old one is removed."
