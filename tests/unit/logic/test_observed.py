"""The domain metrics' facts, gauges and transitions, from bodies as the watches deliver them."""

from datetime import UTC, datetime

import pytest

from mlops_operator.logic import observed
from mlops_operator.logic.observed import facts_of, samples, transitions

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def body(kind: str, name: str = "x", spec: dict | None = None, status: dict | None = None) -> dict:
    return {"kind": kind, "metadata": {"namespace": "team", "name": name}, "spec": spec or {},
            **({"status": status} if status is not None else {})}


def experiment(run=1, pending=0, running=0, succeeded=0, failed=0, best=None) -> dict:
    status = {"phase": "Running", "run": run,
              "trials": {"total": 9, "pending": pending, "running": running, "succeeded": succeeded, "failed": failed}}
    if best is not None:
        status["bestTrial"] = {"name": "exp-1-7", "objectiveValue": best}
    return body("Experiment", "exp", {"objective": {"metric": "roc_auc", "goal": "maximize"}}, status)


def model(validation: dict | None = None, aliases=(), promoted_at=None) -> dict:
    status = {"phase": "Promoted", "aliases": list(aliases), "promotedAt": promoted_at or {}}
    if validation is not None:
        status["validation"] = validation
    return body("Model", "churn-v2", {"modelName": "churn", "version": "2"}, status)


def deployment(canary=None, rolled_back=None) -> dict:
    status = {"phase": "RollingOut" if canary else "Serving"}
    if canary:
        status["canary"] = canary
    if rolled_back:
        status["rolledBack"] = rolled_back
    return body("Deployment", "churn", {}, status)


def gauges(*bodies: dict) -> dict[tuple[str, tuple], float]:
    return {(s.metric, s.labels): s.value for s in samples([facts_of(b["kind"], b) for b in bodies], NOW)}


def counted(before: dict | None, after: dict) -> list[tuple[str, tuple, float]]:
    kind = after["kind"]
    return [(s.metric, s.labels, s.value)
            for s in transitions(facts_of(kind, before) if before else None, facts_of(kind, after))]


def test_objects_are_counted_by_kind_namespace_and_phase_and_no_status_is_unknown():
    found = gauges(body("Dataset", "a", status={"phase": "Ready"}), body("Dataset", "b", status={"phase": "Ready"}),
                   body("Dataset", "c"))
    assert found[(observed.OBJECTS, (("kind", "Dataset"), ("namespace", "team"), ("phase", "Ready")))] == 2
    assert found[(observed.OBJECTS, (("kind", "Dataset"), ("namespace", "team"), ("phase", "Unknown")))] == 1


def test_an_experiment_gives_its_trials_by_state_and_its_best_objective():
    found = gauges(experiment(pending=1, running=2, succeeded=5, failed=1, best=0.93))
    exp = (("namespace", "team"), ("experiment", "exp"))
    assert [found[(observed.TRIALS, (*exp, ("state", s)))] for s in observed.TRIAL_STATES] == [1, 2, 5, 1]
    assert found[(observed.BEST_OBJECTIVE, (*exp, ("metric", "roc_auc"), ("goal", "maximize")))] == 0.93


def test_an_experiment_without_a_best_trial_has_no_objective_series():
    assert not [k for k in gauges(experiment(running=2)) if k[0] == observed.BEST_OBJECTIVE]


def test_series_do_not_grow_with_the_number_of_trials():
    few, many = gauges(experiment(succeeded=3, best=0.8)), gauges(experiment(succeeded=100, failed=20, best=0.9))
    assert few.keys() == many.keys()


def test_a_model_version_gives_its_evaluation_metrics_and_the_age_of_each_alias_it_holds():
    found = gauges(model({"metrics": {"roc_auc": 0.91, "accuracy": 0.88}}, aliases=["champion"],
                         promoted_at={"champion": "2026-11-28T11:00:00Z", "stale": "2026-01-01T00:00:00Z"}))
    version = (("namespace", "team"), ("model", "churn"), ("version", "2"))
    assert found[(observed.EVALUATION_METRIC, (*version, ("metric", "roc_auc")))] == 0.91
    assert found[(observed.EVALUATION_METRIC, (*version, ("metric", "accuracy")))] == 0.88
    ages = {k: v for k, v in found.items() if k[0] == observed.ALIAS_AGE}
    assert ages == {(observed.ALIAS_AGE, (("namespace", "team"), ("model", "churn"), ("alias", "champion"),
                                          ("version", "2"))): 3600.0}


def test_evaluation_metrics_are_capped_per_version():
    found = gauges(model({"metrics": {f"m{i:03}": i for i in range(100)}}))
    assert len([k for k in found if k[0] == observed.EVALUATION_METRIC]) == observed.MAX_EVALUATION_METRICS


def test_a_deployment_gives_its_canary_weight_as_a_ratio_and_its_step_and_zero_without_a_canary():
    canary = gauges(deployment({"model": "churn-v2", "step": 2, "weight": 25, "stepStartedAt": "x"}))
    deploy = (("namespace", "team"), ("deployment", "churn"))
    assert canary[(observed.CANARY_WEIGHT, deploy)] == 0.25
    assert canary[(observed.CANARY_STEP, deploy)] == 2
    idle = gauges(deployment())
    assert idle[(observed.CANARY_WEIGHT, deploy)] == 0 and idle[(observed.CANARY_STEP, deploy)] == 0


def test_the_first_sighting_counts_nothing():
    assert counted(None, experiment(succeeded=5, failed=2)) == []
    assert counted(None, model({"key": "k", "passed": False})) == []


@pytest.mark.parametrize(("before", "after", "expected"), [
    (experiment(succeeded=1), experiment(succeeded=3, failed=1), {"succeeded": 2, "failed": 1}),
    (experiment(succeeded=3), experiment(succeeded=3), {}),
    (experiment(run=1, succeeded=5), experiment(run=2, succeeded=1), {"succeeded": 1}),  # a new run counts anew
    (experiment(succeeded=5), experiment(succeeded=4), {}),  # a count that drops is not a finish
])
def test_finished_trials_are_the_growth_of_the_runs_counts(before, after, expected):
    found = {dict(labels)["result"]: value for _, labels, value in counted(before, after)}
    assert found == expected


@pytest.mark.parametrize(("before", "after", "expected"), [
    ({"key": "k1"}, {"key": "k1", "passed": True}, ["passed"]),
    ({"key": "k1"}, {"key": "k1", "passed": False}, ["failed"]),
    ({"key": "k1", "passed": False}, {"key": "k1", "passed": False, "overridden": "accepted by risk"}, ["overridden"]),
    ({"key": "k1", "passed": True}, {"key": "k1", "passed": True}, []),  # the same decision seen again
    ({"key": "k1", "passed": True}, {"key": "k2", "passed": True}, ["passed"]),  # a new evaluation decided again
])
def test_a_gate_decision_is_counted_once_when_it_is_made(before, after, expected):
    found = counted(model(before), model(after))
    assert [dict(labels)["result"] for _, labels, _ in found] == expected
    assert all(dict(labels)["model"] == "churn" for _, labels, _ in found)


def test_a_rollback_is_counted_once_and_an_abort_is_not_a_rollback():
    given_up = {"model": "churn-v3", "reason": "RolledBack", "message": "error rate 0.5 over 0.05",
                "at": "2026-11-28T11:00:00Z"}
    assert [m for m, _, _ in counted(deployment(), deployment(rolled_back=given_up))] == [observed.ROLLBACKS]
    assert counted(deployment(rolled_back=given_up), deployment(rolled_back=given_up)) == []
    aborted = {**given_up, "reason": "Aborted", "message": "spec.abort"}
    assert counted(deployment(), deployment(rolled_back=aborted)) == []
