"""Kill anywhere (docs/reliability.md): the whole pipeline (validation, a sweep, registration,
evaluation, the gate, a first rollout, a second sweep whose better version rolls out as a canary)
runs twice at once, undisturbed in one namespace and in another with its operator SIGKILLed at
seeded random instants and restarted each time. Both must end in the same state, with no child
ever created twice and no Event posted twice.

KILL_SEED replays a run (the seed is printed, and named in every failure); KILL_COUNT sets the
least number of kills per run (30); KILL_ROUNDS runs the pipeline that many times, round r with
seed KILL_SEED + r (`make soak`, SOAK=1: 8 rounds)."""

import os
import random
import threading
from collections import Counter

import pytest

from faults import CreateLog, Killer, end_state, operator_events
from pipeline import apply, condition, dataset, experiment, settled, status, write_csv
from support import OperatorRunner, own_namespace, wait_for

KILL_COUNT = int(os.environ.get("KILL_COUNT", "30"))
SEED = int(os.environ.get("KILL_SEED") or random.SystemRandom().randrange(1_000_000))
ROUNDS = int(os.environ.get("KILL_ROUNDS") or (8 if os.environ.get("SOAK") else 1))
STAGE_SECONDS = 300  # each stage, however many kills land in it

# About 2 s between kills, and the pipeline's own few minutes.
pytestmark = [pytest.mark.cluster, pytest.mark.restricted, pytest.mark.timeout(max(900, 6 * KILL_COUNT))]

GATE = {"dataset": {"name": "cancer", "split": "test"}, "thresholds": [{"metric": "roc_auc", "min": 0.5}],
        "compareTo": {"alias": "champion", "metric": "roc_auc"}}
REGISTER = {"modelName": "cancer", "aliases": ["champion"], "validation": GATE}
OBJECTIVE = {"metric": "roc_auc", "goal": "maximize"}


def forest(max_depth: int) -> dict:
    return {"image": "python:3.11", "command": ["python", "-m", "mlops_operator.runtime.examples.train_forest"],
            "args": ["--n-estimators", "${params.x}", "--max-depth", str(max_depth)]}


SERVING = {"apiVersion": "mlops.dev/v1alpha1", "kind": "Deployment", "metadata": {"name": "cancer"},
           "spec": {"modelRef": {"modelName": "cancer"}, "replicas": 1,
                    "strategy": {"canary": {"steps": [{"weight": 50, "pause": "2s"}],
                                            "progressDeadlineSeconds": 180}}}}


def serving(cluster, namespace, model: str) -> dict | None:
    current = status(cluster, namespace, "mldeploy", "cancer")
    ready = condition(current, "Ready").get("status") == "True"
    return current if ready and current.get("stableModel") == model and not current.get("canary") else None


def finished(cluster, namespace, name: str) -> dict | None:
    current = status(cluster, namespace, "experiment", name)
    return current if current.get("phase") == "Succeeded" and condition(current, "Ready").get("status") == "True" \
        else None


def run_pipeline(cluster, namespace: str, folder, stage=lambda name: None) -> None:
    """Applies what a user would, one stage after another; stage(name) says what comes next."""
    artifacts = f"file://{folder}/artifacts"
    stages = [  # (name, what a user applies as it starts, what ends it)
        ("validation and sweep",
         [dataset("cancer", write_csv(folder / "cancer.csv")),
          experiment("stumps", "cancer", forest(1), values=(1, 2, 4), parallelism=2, artifactRoot=artifacts,
                     registerModel=REGISTER, objective=OBJECTIVE),
          SERVING],
         lambda: finished(cluster, namespace, "stumps")),
        ("registration, evaluation and gate", [], lambda: settled(cluster, namespace, "stumps-v1")),
        ("first rollout", [], lambda: serving(cluster, namespace, "stumps-v1")),
        ("second sweep",
         [experiment("forest", "cancer", forest(4), values=(16,), artifactRoot=artifacts, registerModel=REGISTER,
                     objective=OBJECTIVE)],
         lambda: finished(cluster, namespace, "forest")),
        ("second evaluation and gate", [], lambda: settled(cluster, namespace, "forest-v1")),
        ("canary rollout", [], lambda: serving(cluster, namespace, "forest-v1")),
    ]
    for name, manifests, done in stages:
        stage(name)
        for manifest in manifests:
            apply(cluster, namespace, manifest)
        wait_for(done, STAGE_SECONDS, f"{namespace}: {name}")
    stage("at rest")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_an_operator_killed_anywhere_ends_where_an_undisturbed_one_does(cluster, crds, namespace, tmp_path, round_):
    seed = SEED + round_
    print(f"kill anywhere: KILL_SEED={seed} KILL_COUNT={KILL_COUNT}")
    calm_folder, killed_folder = tmp_path / "calm", tmp_path / "killed"
    calm_folder.mkdir()
    killed_folder.mkdir()
    with own_namespace(crds, f"{namespace}-calm", restricted=True) as calm, \
            OperatorRunner(crds, calm, calm_folder) as calm_operators, \
            OperatorRunner(crds, namespace, killed_folder) as killed_operators:
        calm_creates, killed_creates = CreateLog(crds, calm), CreateLog(crds, namespace)
        try:
            calm_operators.start()
            calm_failure: list[BaseException] = []

            def undisturbed() -> None:
                try:
                    run_pipeline(crds, calm, calm_folder)
                except BaseException as error:  # reported by the main thread
                    calm_failure.append(error)

            calm_run = threading.Thread(target=undisturbed, daemon=True)
            calm_run.start()
            killer = Killer(killed_operators, seed, at_least=KILL_COUNT, at_most=KILL_COUNT * 4).start()

            def stage(name: str) -> None:
                killer.stage = name

            try:
                run_pipeline(crds, namespace, killed_folder, stage)
            finally:
                killer.finish()
                print(f"kill anywhere: KILL_SEED={seed}: {len(killer.kills)} kills by stage {killer.by_stage()}, "
                      f"at {[t for t, _ in killer.kills]} s")
            calm_run.join(STAGE_SECONDS * 6)
            assert not calm_failure, calm_failure
            # The last kill may have come at rest: the last operator has the final word.
            wait_for(lambda: serving(crds, namespace, "forest-v1"), STAGE_SECONDS, "forest-v1 served after the kills")

            folders = {str(calm_folder): "<folder>", str(killed_folder): "<folder>"}
            calm_state = end_state(crds, calm, folders)
            # Statuses may still be settling; what they settle to must be the undisturbed run's.
            try:
                wait_for(lambda: end_state(crds, namespace, folders) == calm_state, 60, "the same end state")
            except AssertionError:
                pass
            killed_state = end_state(crds, namespace, folders)
            assert killed_state == calm_state, f"KILL_SEED={seed}"
            assert killed_state["Deployment/cancer"]["stableModel"] == "forest-v1"
            assert {k: v.get("aliases") for k, v in killed_state.items() if k.startswith("Model/")} == {
                "Model/stumps-v1": None, "Model/forest-v1": ["champion"]}

            assert killed_creates.duplicates() == {}, f"created twice (KILL_SEED={seed})"
            assert killed_creates.names() == calm_creates.names(), f"KILL_SEED={seed}"
            calm_events, killed_events = operator_events(crds, calm), operator_events(crds, namespace)
            # An Event follows the status write it reports, so a kill between the two loses it
            # (status is the record), and none is ever posted twice.
            assert killed_events - calm_events == Counter(), f"more Events than undisturbed (KILL_SEED={seed})"
            print(f"kill anywhere: KILL_SEED={seed}: Events {sum(killed_events.values())} against "
                  f"{sum(calm_events.values())} undisturbed; lost to kills: {dict(calm_events - killed_events)}")
            assert len(killer.kills) >= KILL_COUNT
            logs = [o.output() for o in killed_operators.started]
            assert not [log for log in logs if "Traceback" in log], f"a traceback (KILL_SEED={seed})"
        finally:
            calm_creates.stop()
            killed_creates.stop()
