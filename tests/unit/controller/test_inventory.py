"""The domain metrics as a scrape shows them: gauges follow the watch events, counters count the
transitions, deleted objects leave no series, and the names and help pass promtool's lint."""

import subprocess

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest

from mlops_operator.controller.inventory import COUNTERS, GAUGES, Inventory

from .test_metrics import sample, scrape

prometheus_client.disable_created_metrics()  # as the operator's endpoint does


def experiment(name: str, succeeded: int, failed: int = 0, phase: str = "Running") -> dict:
    return {"metadata": {"namespace": "team", "name": name}, "spec": {"objective": {"metric": "f1", "goal": "maximize"}},
            "status": {"phase": phase, "run": 1, "trials": {"succeeded": succeeded, "failed": failed},
                       "bestTrial": {"objectiveValue": 0.5 + succeeded / 1000}}}


def test_gauges_follow_the_events_and_a_deleted_object_leaves_none():
    registry = CollectorRegistry()
    inventory = Inventory(registry)
    inventory.observe("Experiment", "ADDED", experiment("a", 1))
    inventory.observe("Experiment", "MODIFIED", experiment("a", 4, phase="Succeeded"))
    samples = scrape(registry)
    assert sample(samples, "mlops_objects", kind="Experiment", namespace="team", phase="Succeeded") == 1
    assert sample(samples, "mlops_experiment_trials", namespace="team", experiment="a", state="succeeded") == 4
    best = (("experiment", "a"), ("goal", "maximize"), ("metric", "f1"), ("namespace", "team"))
    assert samples[("mlops_experiment_best_objective", best)] == 0.504
    assert sample(samples, "mlops_experiment_trials_finished_total", namespace="team", experiment="a",
                  result="succeeded") == 3
    inventory.observe("Experiment", "DELETED", experiment("a", 4))
    assert not [key for key in scrape(registry) if key[0] in GAUGES or key[0] in COUNTERS]


def test_counters_are_exposed_at_zero_from_the_first_sighting_and_go_with_their_last_object():
    registry = CollectorRegistry()
    inventory = Inventory(registry)

    def version(name: str) -> dict:
        return {"metadata": {"namespace": "team", "name": name}, "spec": {"modelName": "churn", "version": name}}

    inventory.observe("Model", "ADDED", version("v1"))
    inventory.observe("Model", "ADDED", version("v2"))
    inventory.observe("Deployment", "ADDED", {"metadata": {"namespace": "team", "name": "d"}})
    for result in ("passed", "failed", "overridden"):
        assert sample(scrape(registry), "mlops_model_gate_decisions_total", namespace="team", model="churn",
                      result=result) == 0
    assert sample(scrape(registry), "mlops_deployment_rollbacks_total", namespace="team", deployment="d") == 0
    inventory.observe("Model", "DELETED", version("v1"))  # v2 still holds the model's series
    assert sample(scrape(registry), "mlops_model_gate_decisions_total", namespace="team", model="churn",
                  result="passed") == 0
    inventory.observe("Model", "DELETED", version("v2"))
    inventory.observe("Deployment", "DELETED", {"metadata": {"namespace": "team", "name": "d"}})
    assert not [key for key in scrape(registry) if key[0] in COUNTERS]


def test_a_hundred_trials_add_no_series():
    registry = CollectorRegistry()
    inventory = Inventory(registry)
    inventory.observe("Experiment", "ADDED", experiment("a", 0))
    inventory.observe("Experiment", "MODIFIED", experiment("a", 1))
    before = set(scrape(registry))
    for finished in range(2, 101):
        inventory.observe("Experiment", "MODIFIED", experiment("a", finished, failed=finished % 7))
    after = scrape(registry)
    assert set(after) == before
    assert sample(after, "mlops_experiment_trials_finished_total", namespace="team", experiment="a",
                  result="succeeded") == 100


def test_every_domain_metric_passes_promtools_lint(promtool):
    registry = CollectorRegistry()
    inventory = Inventory(registry)
    inventory.observe("Experiment", "ADDED", experiment("a", 0))
    inventory.observe("Experiment", "MODIFIED", experiment("a", 2, failed=1))
    inventory.observe("Model", "ADDED", {"metadata": {"namespace": "team", "name": "m"},
                                          "spec": {"modelName": "churn", "version": "1"},
                                          "status": {"aliases": ["champion"], "promotedAt": {"champion": "2026-01-01T00:00:00Z"},
                                                     "validation": {"metrics": {"f1": 0.7}}}})
    inventory.observe("Deployment", "ADDED", {"metadata": {"namespace": "team", "name": "d"}, "status": {}})
    exposition = generate_latest(registry)
    names = {line.split()[2] for line in exposition.decode().splitlines() if line.startswith("# TYPE")}
    assert names == {*GAUGES, *COUNTERS}
    result = subprocess.run([str(promtool), "check", "metrics"], input=exposition, capture_output=True)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_a_stand_by_keeps_the_facts_but_reports_nothing_until_it_leads():
    """Summed over two replicas, each object and each finished trial must count once: only the
    leader reports. Taking over, it reports at once from the facts it kept, and counts from then."""
    registry = CollectorRegistry()
    inventory = Inventory(registry, reporting=False)
    inventory.observe("Experiment", "ADDED", experiment("a", 1))
    inventory.observe("Experiment", "MODIFIED", experiment("a", 2))
    samples = scrape(registry)
    assert not [key for key in samples if key[0] in GAUGES]
    assert sample(samples, "mlops_experiment_trials_finished_total", namespace="team", experiment="a",
                  result="succeeded") == 0
    inventory.reporting = True
    samples = scrape(registry)
    assert sample(samples, "mlops_objects", kind="Experiment", namespace="team", phase="Running") == 1
    inventory.observe("Experiment", "MODIFIED", experiment("a", 3))
    assert sample(scrape(registry), "mlops_experiment_trials_finished_total", namespace="team", experiment="a",
                  result="succeeded") == 1
