"""A Model's decisions, played reconcile by reconcile over the versions of one modelName, as the
API server and the Job controller would apply them."""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from mlops_operator import contract
from mlops_operator.api.model import ModelSpec
from mlops_operator.logic.dataset_view import DatasetView
from mlops_operator.logic.jobs import job_facts
from mlops_operator.logic.model.plan import ModelWorld, Sibling, plan
from mlops_operator.logic.patch import applied
from mlops_operator.logic.plan import WARNING, Event, Plan
from mlops_operator.resources.meta import Meta

from builders import NOW, condition, job, meta, pod
from experiments import DIGEST, NEW_DIGEST, dataset
from kstatus import CURRENT, FAILED, IN_PROGRESS, compute

T0 = NOW - timedelta(days=1)
AUC_AT_LEAST_09 = [{"metric": "auc", "min": 0.9}]
BEATS_CHAMPION = {"alias": "champion", "metric": "auc"}


def spec(name: str, *, aliases: tuple[str, ...] = ("champion",), validation: bool = True, split: str = "test",
         thresholds: list[dict[str, Any]] | None = None, compare: dict[str, Any] | None = BEATS_CHAMPION,
         override: str | None = None) -> dict[str, Any]:
    built: dict[str, Any] = {"modelName": "churn", "version": name.removeprefix("v"),
                             "artifact": {"uri": f"s3://models/churn/{name}/model.joblib"}, "aliases": list(aliases)}
    if validation:
        built["validation"] = {"dataset": {"name": "data", "split": split}}
        if thresholds:
            built["validation"]["thresholds"] = thresholds
        if compare:
            built["validation"]["compareTo"] = compare
    if override:
        built["override"] = {"reason": override}
    return built


@dataclass
class Version:
    """One Model object and the Jobs it controls."""

    name: str
    spec: dict[str, Any]
    created: datetime
    generation: int = 1
    deleting: bool = False
    status: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    pods: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    posted: list[Event] = field(default_factory=list)
    created_jobs: list[dict[str, Any]] = field(default_factory=list)  # manifests, in creation order

    @property
    def meta(self) -> Meta:
        return meta("Model", self.name, f"uid-{self.name}", self.generation, self.created, self.deleting)

    def reasons(self) -> list[str]:
        return [e.reason for e in self.posted]


@dataclass
class Registry:
    """The versions of modelName churn and their Dataset."""

    dataset: DatasetView | None = field(default_factory=dataset)
    versions: dict[str, Version] = field(default_factory=dict)
    now: datetime = NOW

    def add(self, name: str, minute: int, **spec_args: Any) -> Version:
        self.versions[name] = Version(name, spec(name, **spec_args), T0 + timedelta(minutes=minute))
        return self.versions[name]

    def world(self, name: str) -> ModelWorld:
        me = self.versions[name]
        model_spec = ModelSpec.model_validate(me.spec)
        siblings = [Sibling(v.meta, ModelSpec.model_validate(v.spec), v.status)
                    for v in self.versions.values() if v.name != name]
        return ModelWorld(me.meta, model_spec, me.status, siblings,
                          self.dataset if model_spec.validation else None,
                          [job_facts(j) for j in me.jobs.values()], self.now, me.pods)

    def step(self, name: str) -> Plan:
        """One reconcile of version name, applied."""
        me = self.versions[name]
        decided = plan(self.world(name))
        for deletion in decided.delete:
            me.jobs.pop(deletion.name, None)
        for creation in decided.create:
            manifest = creation.manifest
            job_name = manifest["metadata"]["name"]
            if job_name not in me.jobs:
                me.jobs[job_name] = {**job(job_name, f"uid-{name}", labels_=manifest["metadata"].get("labels"),
                                           annotations=manifest["metadata"].get("annotations")),
                                     "spec": manifest["spec"]}
                me.pods[f"uid-{job_name}"] = [pod(f"uid-{job_name}")]
                me.created_jobs.append(manifest)
                if creation.event:
                    me.posted.append(creation.event)
        me.status = applied(me.status, decided.status)
        me.posted += decided.events
        return decided

    def finish(self, name: str, job_name: str, metrics: dict[str, float] | None = None, *, digest: str = DIGEST,
               failed: str = "", message: str | None = None) -> None:
        """The Job finishes: its pod reported metrics on digest, or the Job failed."""
        me = self.versions[name]
        old = me.jobs[job_name]
        text = message if message is not None else json.dumps({"metrics": metrics or {}, "digest": digest})
        me.jobs[job_name] = {**job(job_name, f"uid-{name}", state="failed" if failed else "complete", reason=failed,
                                   labels_=old["metadata"]["labels"], annotations=old["metadata"]["annotations"]),
                             "spec": old["spec"]}
        me.pods[f"uid-{job_name}"] = [pod(f"uid-{job_name}", phase="Failed" if failed else "Succeeded",
                                          terminated={"exitCode": 1 if failed else 0, "message": text})]

    def evaluated(self, name: str, metrics: dict[str, float], *, digest: str = DIGEST) -> Version:
        """Plays version name from its first reconcile until its evaluation is recorded."""
        me = self.versions[name]
        (creation,) = self.step(name).create
        self.finish(name, creation.manifest["metadata"]["name"], metrics, digest=digest)
        self.step(name)
        return me


def created_names(decided: Plan) -> list[str]:
    return [c.manifest["metadata"]["name"] for c in decided.create]


def env_of(manifest: dict[str, Any]) -> dict[str, str]:
    (main,) = manifest["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value") for e in main.get("env") or []}


def state(version: Version, kind: str) -> tuple[str, str]:
    found = condition(version.status, kind)
    return found.get("status"), found.get("reason")


def kstatus(version: Version) -> str:
    return compute({"metadata": {"generation": version.generation}, "status": version.status})[0]


def warnings(version: Version) -> list[Event]:
    return [e for e in version.posted if e.type == WARNING]


def test_the_first_reconcile_creates_one_evaluation_job_named_by_its_inputs():
    registry = Registry()
    v1 = registry.add("v1", 1)
    first = plan(registry.world("v1"))
    assert len(first.create) == 1 and first.delete == []
    (name,) = created_names(first)
    assert created_names(plan(registry.world("v1"))) == [name]  # the same world names the same Job
    registry.now = NOW + timedelta(hours=3)
    assert created_names(plan(registry.world("v1"))) == [name]  # whenever it is decided
    assert first.create[0].event.reason == "EvaluationStarted" and DIGEST in first.create[0].event.message
    env = env_of(first.create[0].manifest)
    assert env[contract.MODEL_URI] == "s3://models/churn/v1/model.joblib"

    registry.step("v1")
    assert v1.status["phase"] == "Evaluating" and state(v1, "Ready") == ("Unknown", "Evaluating")
    assert state(v1, "Reconciling")[0] == "True" and kstatus(v1) == IN_PROGRESS
    again = registry.step("v1")  # the Job runs: nothing more to create
    assert again.create == [] and again.events == [] and again.requeue_after is not None


def test_a_finished_evaluation_records_its_metrics_and_checks():
    registry = Registry()
    v1 = registry.add("v1", 1, thresholds=AUC_AT_LEAST_09)
    (name,) = created_names(registry.step("v1"))
    registry.finish("v1", name, {"auc": 0.93, "f1": 0.8})
    decided = registry.step("v1")
    validation = v1.status["validation"]
    assert {k: validation[k] for k in ("job", "dataset", "split", "datasetDigest", "metrics", "passed")} == {
        "job": name, "dataset": "data", "split": "test", "datasetDigest": DIGEST,
        "metrics": {"auc": 0.93, "f1": 0.8}, "passed": True}
    assert [c["name"] for c in validation["checks"]] == ["auc >= 0.9", "auc beats champion"]
    assert all(c["passed"] for c in validation["checks"])
    assert [e.reason for e in decided.events] == ["EvaluationSucceeded", "AliasTaken"]
    assert v1.status["aliases"] == ["champion"] and set(v1.status["promotedAt"]) == {"champion"}
    assert v1.status["phase"] == "Promoted" and state(v1, "Promoted") == ("True", "GatePassed")
    assert state(v1, "Evaluated") == ("True", "EvaluationSucceeded") and kstatus(v1) == CURRENT
    assert v1.status["observedGeneration"] == 1
    assert v1.status["history"] == [{"alias": "champion", "change": "Took", "at": validation["evaluatedAt"],
                                     "reason": "GatePassed"}]


def test_a_recorded_evaluation_is_never_run_again_on_a_resync():
    registry = Registry()
    registry.add("v1", 1)
    v1 = registry.evaluated("v1", {"auc": 0.93})
    posted = len(v1.posted)
    for hours in (1, 5, 48):
        registry.now = NOW + timedelta(hours=hours)
        decided = registry.step("v1")
        assert decided.create == [] and decided.delete == []
        assert decided.status == {} and decided.events == [] and decided.requeue_after is None
    assert len(v1.posted) == posted and len(v1.created_jobs) == 1


def test_new_data_evaluates_again_while_the_old_scores_keep_the_aliases():
    registry = Registry()
    v1 = registry.add("v1", 1)
    registry.evaluated("v1", {"auc": 0.93})
    old_job = v1.status["validation"]["job"]
    registry.dataset = dataset(digest=NEW_DIGEST)
    decided = registry.step("v1")
    (new_job,) = created_names(decided)
    assert new_job != old_job and NEW_DIGEST in decided.create[0].event.message
    assert v1.status["aliases"] == ["champion"] and v1.status["validation"]["metrics"] == {"auc": 0.93}
    assert v1.status["phase"] == "Promoted" and state(v1, "Reconciling")[0] == "True"
    assert "AliasLost" not in v1.reasons()

    registry.finish("v1", new_job, {"auc": 0.91}, digest=NEW_DIGEST)
    decided = registry.step("v1")
    assert v1.status["validation"]["job"] == new_job and v1.status["validation"]["datasetDigest"] == NEW_DIGEST
    assert v1.status["validation"]["metrics"] == {"auc": 0.91} and v1.status["aliases"] == ["champion"]
    assert [d.name for d in decided.delete] == [old_job]  # nothing points to the old evaluation any more
    assert registry.step("v1").status == {}


@pytest.mark.parametrize("first", ["v1", "v3"], ids=["older version re-evaluated first", "holder re-evaluated first"])
def test_new_data_never_hands_the_alias_back_to_an_older_version(first):
    """v3 beat v1 on the old data; on new data each is scored again (and v1 rescored on v3's data
    when needed): v3 holds champion all along, and nobody announces a hand-over."""
    registry = Registry()
    v1, v3 = registry.add("v1", 1), registry.add("v3", 3)
    registry.evaluated("v1", {"auc": 0.80})
    registry.evaluated("v3", {"auc": 0.90})
    registry.step("v1")
    assert v3.status["aliases"] == ["champion"] and "aliases" not in v1.status
    v1.posted.clear()
    v3.posted.clear()
    registry.dataset = dataset(digest=NEW_DIGEST)
    scores = {"v1": {"auc": 0.81}, "v3": {"auc": 0.91}}
    order = [first, "v3" if first == "v1" else "v1"]

    def reconcile(name: str) -> Plan:
        decided = registry.step(name)
        assert v3.status.get("aliases") == ["champion"], f"after {name}'s reconcile: {v3.status.get('history')}"
        assert not v1.status.get("aliases"), f"after {name}'s reconcile: {v1.status.get('history')}"
        return decided

    for name in order:
        for job_name in created_names(reconcile(name)):
            registry.finish(name, job_name, scores[name], digest=NEW_DIGEST)
        for job_name in created_names(reconcile(name)):  # a rescore of v1 on v3's new data
            assert "rescore" in job_name
            registry.finish(name, job_name, {"auc": 0.79}, digest=NEW_DIGEST)
        reconcile(name)
        reconcile(order[0])
    assert v1.status["validation"]["datasetDigest"] == v3.status["validation"]["datasetDigest"] == NEW_DIGEST
    assert "AliasLost" not in v3.reasons() and "AliasTaken" not in v1.reasons()
    assert [r["change"] for r in v3.status["history"]] == ["Took"]


@pytest.mark.parametrize("gone", ["deleting", "removed"])
def test_deleting_the_holder_gives_the_alias_back(gone):
    registry = Registry()
    v1, v3 = registry.add("v1", 1), registry.add("v3", 3)
    registry.evaluated("v1", {"auc": 0.80})
    registry.evaluated("v3", {"auc": 0.90})
    registry.step("v1")
    if gone == "deleting":
        v3.deleting = True
    else:
        del registry.versions["v3"]
    decided = registry.step("v1")
    assert v1.status["aliases"] == ["champion"] and v1.status["phase"] == "Promoted"
    took = v1.status["history"][-1]
    assert (took["alias"], took["change"]) == ("champion", "Took")
    assert [e.reason for e in decided.events] == ["AliasTaken"]
    if gone == "deleting":
        assert took["replaced"] == "v3" and "v3" in decided.events[0].message


def test_editing_the_gate_judges_the_recorded_scores_again_without_a_new_evaluation():
    registry = Registry()
    v1 = registry.add("v1", 1)
    registry.evaluated("v1", {"auc": 0.85})
    v1.spec = spec("v1", thresholds=AUC_AT_LEAST_09)
    v1.generation = 2
    decided = registry.step("v1")
    assert decided.create == [] and v1.status["phase"] == "Rejected"
    assert state(v1, "Promoted") == ("False", "GateFailed") and v1.status["observedGeneration"] == 2


def test_a_failed_threshold_rejects_the_version_once_and_for_good():
    registry = Registry()
    v1 = registry.add("v1", 1, thresholds=AUC_AT_LEAST_09)
    registry.evaluated("v1", {"auc": 0.85})
    assert v1.status["phase"] == "Rejected"
    assert state(v1, "Promoted") == ("False", "GateFailed") and state(v1, "Ready") == ("False", "GateFailed")
    assert state(v1, "Stalled") == ("True", "GateFailed") and condition(v1.status, "Reconciling") == {}
    assert kstatus(v1) == FAILED and "aliases" not in v1.status and v1.status["validation"]["passed"] is False
    message = condition(v1.status, "Promoted")["message"]
    assert "auc >= 0.9" in message and "0.85" in message and "0.9" in message
    (warning,) = warnings(v1)
    assert warning.reason == "GateFailed" and warning.message == message
    for _ in range(3):
        decided = registry.step("v1")
        assert decided.events == [] and decided.status == {} and decided.create == []
    assert len(warnings(v1)) == 1


def test_a_long_gate_failure_is_announced_once():
    """An evaluator reporting many metrics makes a long message (status keeps it shortened): the
    failure is still announced once, not on every reconcile."""
    registry = Registry()
    v1 = registry.add("v1", 1, thresholds=[*AUC_AT_LEAST_09, {"metric": "logloss", "max": 0.3}])
    registry.evaluated("v1", {f"recall_of_class_label_{i:02d}": 0.9 for i in range(60)})  # no auc, no logloss
    assert v1.status["phase"] == "Rejected" and "no auc" in condition(v1.status, "Promoted")["message"]
    assert len(warnings(v1)) == 1
    for _ in range(3):
        decided = registry.step("v1")
        assert decided.status == {} and decided.events == []
    assert len(warnings(v1)) == 1


def test_a_version_without_validation_takes_its_aliases():
    registry = Registry(dataset=None)
    v1 = registry.add("v1", 1, validation=False, aliases=("champion", "stable"))
    decided = registry.step("v1")
    assert decided.create == [] and v1.status["aliases"] == ["champion", "stable"]
    assert state(v1, "Evaluated") == ("True", "NoValidation") and v1.status["phase"] == "Promoted"
    assert condition(v1.status, "Promoted")["message"] == "no gate (no validation policy); holds champion, stable"
    assert state(v1, "Ready")[0] == "True" and kstatus(v1) == CURRENT and "validation" not in v1.status
    assert v1.reasons() == ["AliasTaken", "AliasTaken"]
    assert registry.step("v1").status == {}


def test_a_better_version_takes_the_alias_and_the_holder_hands_it_over():
    registry = Registry()
    v1 = registry.add("v1", 1)
    registry.evaluated("v1", {"auc": 0.80})
    assert v1.status["aliases"] == ["champion"]
    v3 = registry.add("v3", 3)
    registry.evaluated("v3", {"auc": 0.90})

    assert v3.status["aliases"] == ["champion"] and v3.status["phase"] == "Promoted"
    assert [{k: r[k] for k in ("alias", "change", "replaced")} for r in v3.status["history"]] == [
        {"alias": "champion", "change": "Took", "replaced": "v1"}]
    (taken,) = [e for e in v3.posted if e.reason == "AliasTaken"]
    assert "champion" in taken.message and "v1" in taken.message
    baseline = v3.status["validation"]["baseline"]
    assert baseline["model"] == "v1" and baseline["rescored"] is False and baseline["metrics"] == {"auc": 0.80}
    comparison = v3.status["validation"]["checks"][-1]
    assert comparison["passed"] and "0.9" in comparison["message"] and "0.8" in comparison["message"]

    decided = registry.step("v1")  # v1 sees v3 among its siblings
    assert "aliases" not in v1.status and "promotedAt" not in v1.status
    lost = v1.status["history"][-1]
    assert {k: lost[k] for k in ("alias", "change", "supersededBy", "reason")} == {
        "alias": "champion", "change": "Lost", "supersededBy": "v3", "reason": "Superseded"}
    assert [e.reason for e in decided.events] == ["AliasLost"] and "v3" in decided.events[0].message
    assert v1.status["phase"] == "Passed" and state(v1, "Promoted") == ("False", "Superseded")
    assert state(v1, "Ready")[0] == "True"
    assert registry.step("v1").status == {} and registry.step("v3").status == {}


def test_a_worse_version_is_rejected_and_the_holder_keeps_the_alias():
    registry = Registry()
    v1 = registry.add("v1", 1)
    registry.evaluated("v1", {"auc": 0.80})
    v2 = registry.add("v2", 2)
    registry.evaluated("v2", {"auc": 0.75})
    assert v2.status["phase"] == "Rejected" and "aliases" not in v2.status
    assert state(v2, "Promoted") == ("False", "GateFailed")
    assert "0.75" in condition(v2.status, "Promoted")["message"] and "0.8" in condition(v2.status, "Promoted")["message"]
    assert registry.step("v1").status == {} and v1.status["aliases"] == ["champion"]


def test_an_override_takes_the_alias_despite_a_lost_comparison_and_says_so():
    registry = Registry()
    registry.add("v1", 1)
    registry.evaluated("v1", {"auc": 0.80})
    v2 = registry.add("v2", 2, override="INC-123: drift")
    registry.evaluated("v2", {"auc": 0.75})
    assert v2.status["aliases"] == ["champion"] and v2.status["validation"]["overridden"] == "INC-123: drift"
    assert state(v2, "Promoted") == ("True", "Overridden") and v2.status["history"][-1]["reason"] == "Overridden"
    (event,) = [e for e in v2.posted if e.reason == "Overridden"]
    assert "INC-123: drift" in event.message and "v1" in event.message


def test_an_evaluator_failure_stalls_the_version():
    registry = Registry()
    v1 = registry.add("v1", 1)
    (name,) = created_names(registry.step("v1"))
    registry.finish("v1", name, failed="BackoffLimitExceeded", message="Traceback: boom")
    decided = registry.step("v1")
    assert v1.status["phase"] == "Failed" and state(v1, "Evaluated") == ("False", "EvaluatorFailed")
    assert state(v1, "Promoted") == ("False", "EvaluatorFailed") and state(v1, "Stalled") == ("True", "EvaluatorFailed")
    assert state(v1, "Ready") == ("False", "EvaluatorFailed") and kstatus(v1) == FAILED
    assert "error" in v1.status["validation"] and "aliases" not in v1.status
    assert [(e.type, e.reason) for e in decided.events] == [(WARNING, "EvaluatorFailed")]
    again = registry.step("v1")  # a recorded failure is not retried for the same inputs
    assert again.create == [] and again.events == [] and again.status == {}


def test_a_missing_dataset_waits_and_says_which():
    registry = Registry(dataset=DatasetView("data"))
    v1 = registry.add("v1", 1)
    decided = registry.step("v1")
    assert decided.create == [] and v1.status["phase"] == "Waiting"
    assert state(v1, "Ready") == ("Unknown", "WaitingForDataset") and state(v1, "Reconciling")[0] == "True"
    assert "Dataset 'data' not found in this namespace" in condition(v1.status, "Ready")["message"] and kstatus(v1) == IN_PROGRESS


def test_a_holder_scored_on_other_data_is_scored_again_on_the_candidates():
    registry = Registry()
    v1 = registry.add("v1", 1)
    registry.evaluated("v1", {"auc": 0.80})
    registry.dataset = dataset(digest=NEW_DIGEST)
    v3 = registry.add("v3", 3)
    (evaluation,) = created_names(registry.step("v3"))
    registry.finish("v3", evaluation, {"auc": 0.90}, digest=NEW_DIGEST)
    decided = registry.step("v3")

    (rescore,) = created_names(decided)
    assert rescore != evaluation
    manifest = decided.create[0].manifest
    assert env_of(manifest)[contract.MODEL_URI] == "s3://models/churn/v1/model.joblib"
    assert env_of(manifest)[contract.MODEL_FORMAT] == "sklearn"
    assert decided.create[0].event.reason == "RescoreStarted" and "v1" in decided.create[0].event.message
    assert v3.status["phase"] == "Evaluating" and state(v3, "Promoted") == ("Unknown", "Comparing")
    assert "aliases" not in v3.status and v1.status["aliases"] == ["champion"]
    assert created_names(plan(registry.world("v3"))) == []  # the rescore Job exists: not made twice

    registry.finish("v3", rescore, {"auc": 0.85}, digest=NEW_DIGEST)
    registry.step("v3")
    baseline = v3.status["validation"]["baseline"]
    assert baseline["model"] == "v1" and baseline["rescored"] is True and baseline["metrics"] == {"auc": 0.85}
    assert v3.status["aliases"] == ["champion"] and v3.status["history"][-1]["replaced"] == "v1"
    comparison = v3.status["validation"]["checks"][-1]
    assert comparison["passed"] and "rescored" in comparison["message"]
    assert "0.9" in comparison["message"] and "0.85" in comparison["message"]
    assert registry.step("v3").status == {}

    registry.step("v1")  # v1 reads v3's rescore of it, and hands champion over
    assert "aliases" not in v1.status and v1.status["history"][-1]["supersededBy"] == "v3"


def test_a_deleting_model_plans_nothing():
    registry = Registry()
    v1 = registry.add("v1", 1)
    v1.deleting = True
    assert plan(registry.world("v1")) == Plan()
