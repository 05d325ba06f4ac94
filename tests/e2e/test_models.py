"""Model versions end to end: registered by an Experiment, evaluated by real Jobs on the local node,
gated, and handed the champion alias (and handed it back) as their scores say."""

from pathlib import Path

import fsspec
import joblib
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops_operator.runtime.examples.common import TARGET, breast_cancer_frame

from pipeline import apply, condition, dataset, events, events_once_posted, experiment, holders, jobs_of, settled, status, write_csv
from support import get_json, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.restricted]

GATE = {"dataset": {"name": "cancer", "split": "test"}, "thresholds": [{"metric": "roc_auc", "min": 0.5}],
        "compareTo": {"alias": "champion", "metric": "roc_auc"}}
STUMP_TRAINER = {"image": "python:3.11", "command": ["python", "-m", "mlops_operator.runtime.examples.train_forest"],
                 "args": ["--n-estimators", "${params.x}", "--max-depth", "1"]}


def saved_model(folder: Path, name: str, estimator) -> str:
    """An artifact trained here on the same columns the trainers use."""
    frame = breast_cancer_frame()
    estimator.fit(frame.drop(columns=[TARGET]), frame[TARGET])
    uri = f"file://{folder / name / 'model.joblib'}"
    with fsspec.open(uri, "wb", auto_mkdir=True) as f:
        joblib.dump(estimator, f)
    return uri


def version(name: str, model_name: str, number: str, uri: str, **spec) -> dict:
    return {"apiVersion": "mlops.dev/v1alpha1", "kind": "Model", "metadata": {"name": name},
            "spec": {"modelName": model_name, "version": number, "artifact": {"uri": uri}, "aliases": ["champion"],
                     "validation": GATE, **spec}}


def reasons(cluster, namespace, name) -> list[str]:
    return [reason for reason, _ in events(cluster, namespace, name)]


def test_registered_version_takes_champion_a_worse_one_is_refused_a_better_one_takes_over_and_gives_back(
        crds, namespace, operator, tmp_path):
    operator.start()
    apply(crds, namespace, dataset("cancer", write_csv(tmp_path / "cancer.csv")))
    register = {"modelName": "cancer", "aliases": ["champion"], "validation": GATE}
    apply(crds, namespace, experiment("stumps", "cancer", STUMP_TRAINER, values=(1,),
                                      artifactRoot=f"file://{tmp_path}/artifacts", registerModel=register,
                                      objective={"metric": "roc_auc", "goal": "maximize"}))

    v1 = wait_for(lambda: settled(crds, namespace, "stumps-v1"), 240, "the registered version's gate")
    assert v1["phase"] == "Promoted" and v1["aliases"] == ["champion"], v1
    assert set(v1["promotedAt"]) == {"champion"}
    assert {c["name"]: c["passed"] for c in v1["validation"]["checks"]} == {
        "roc_auc >= 0.5": True, "roc_auc beats champion": True}
    assert "no version holds champion" in v1["validation"]["checks"][1]["message"]
    assert condition(v1, "Evaluated")["status"] == "True" and condition(v1, "Ready")["status"] == "True"
    registered = get_json(crds, namespace, "model", "stumps-v1")
    assert registered["metadata"]["ownerReferences"][0]["name"] == "stumps"
    assert registered["spec"]["lineage"]["trial"] == "stumps-r1-t0"
    assert status(crds, namespace, "experiment", "stumps")["runs"][-1]["model"] == "stumps-v1"
    v1_score = v1["validation"]["metrics"]["roc_auc"]

    apply(crds, namespace, version("cancer-2", "cancer", "2", saved_model(tmp_path, "v2", DummyClassifier())))
    v2 = wait_for(lambda: settled(crds, namespace, "cancer-2"), 120, "the worse version's gate")
    promoted = condition(v2, "Promoted")
    assert (promoted["status"], promoted["reason"], v2["phase"]) == ("False", "GateFailed", "Rejected")
    assert "roc_auc beats champion" in promoted["message"] and f"{v1_score:.6g}" in promoted["message"]
    assert "0.5 vs" in promoted["message"]
    assert condition(v2, "Stalled")["status"] == "True" and condition(v2, "Ready")["status"] == "False"
    events_once_posted(crds, namespace, "cancer-2", "GateFailed")
    assert holders(crds, namespace, "cancer") == {"champion": "stumps-v1"}

    better = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    apply(crds, namespace, version("cancer-3", "cancer", "3", saved_model(tmp_path, "v3", better)))
    v3 = wait_for(lambda: settled(crds, namespace, "cancer-3"), 120, "the better version's gate")
    assert v3["aliases"] == ["champion"] and condition(v3, "Promoted")["reason"] == "GatePassed"
    assert v3["history"][-1] | {"at": None} == {"alias": "champion", "change": "Took", "at": None,
                                                "replaced": "stumps-v1", "reason": "GatePassed"}
    superseded = wait_for(lambda: next((r for r in status(crds, namespace, "model", "stumps-v1").get("history") or []
                                        if r["change"] == "Lost"), None), 60, "v1 recording that it was superseded")
    assert superseded | {"at": None} == {"alias": "champion", "change": "Lost", "at": None,
                                         "supersededBy": "cancer-3", "reason": "Superseded"}
    assert condition(status(crds, namespace, "model", "stumps-v1"), "Promoted")["reason"] == "Superseded"
    events_once_posted(crds, namespace, "cancer-3", "AliasTaken")
    events_once_posted(crds, namespace, "stumps-v1", "AliasLost")
    assert holders(crds, namespace, "cancer") == {"champion": "cancer-3"}

    crds.kubectl("delete", "model", "cancer-3", namespace=namespace)
    wait_for(lambda: holders(crds, namespace, "cancer") == {"champion": "stumps-v1"}, 60, "champion given back to v1")
    taken = [r for r, _ in events_once_posted(crds, namespace, "stumps-v1", "AliasTaken", "AliasTaken")]
    assert taken.count("AliasTaken") == 2, taken
    # Rolled back without a new evaluation: v1's one Job, v2's one Job.
    assert len(jobs_of(crds, namespace, "model", "stumps-v1")) == 1
    assert len(jobs_of(crds, namespace, "model", "cancer-2")) == 1


def test_the_same_versions_applied_in_opposite_orders_give_the_same_holders(crds, namespace, operator, tmp_path):
    operator.start()
    apply(crds, namespace, dataset("cancer", write_csv(tmp_path / "cancer.csv")))
    artifacts = {"1": saved_model(tmp_path, "stump", DummyClassifier(strategy="stratified", random_state=0)),
                 "2": saved_model(tmp_path, "prior", DummyClassifier()),
                 "3": saved_model(tmp_path, "logreg", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)))}
    for number in ("1", "2", "3"):  # one at a time, each settled before the next: "forward" is created in order
        apply(crds, namespace, version(f"forward-{number}", "forward", number, artifacts[number]))
        wait_for(lambda: settled(crds, namespace, f"forward-{number}"), 120, f"forward-{number}")
    for number in ("3", "2", "1"):  # "backward" gets the same versions newest first, without waiting
        apply(crds, namespace, version(f"backward-{number}", "backward", number, artifacts[number]))
    for number in ("1", "2", "3"):
        wait_for(lambda: settled(crds, namespace, f"backward-{number}"), 120, f"backward-{number}")
    assert holders(crds, namespace, "forward") == {"champion": "forward-3"}
    assert holders(crds, namespace, "backward") == {"champion": "backward-3"}


def test_a_killed_operator_makes_no_second_evaluation_and_no_second_version(crds, namespace, operator, tmp_path):
    first = operator.start()
    apply(crds, namespace, dataset("cancer", write_csv(tmp_path / "cancer.csv")))
    register = {"modelName": "cancer", "aliases": ["champion"], "validation": GATE}
    apply(crds, namespace, experiment("stumps", "cancer", STUMP_TRAINER, values=(1,),
                                      artifactRoot=f"file://{tmp_path}/artifacts", registerModel=register,
                                      objective={"metric": "roc_auc", "goal": "maximize"}))
    wait_for(lambda: get_json(crds, namespace, "models")["items"], 240, "the registered version")
    first.kill()  # as soon as the version exists: the Experiment's own record of it may not be written yet
    second = operator.start()
    wait_for(lambda: jobs_of(crds, namespace, "model", "stumps-v1"), 60, "the evaluation Job")
    second.kill()  # during the evaluation
    operator.start()
    wait_for(lambda: settled(crds, namespace, "stumps-v1"), 120, "the version's gate after two kills")
    assert [m["metadata"]["name"] for m in get_json(crds, namespace, "models")["items"]] == ["stumps-v1"]
    assert len(jobs_of(crds, namespace, "model", "stumps-v1")) == 1
    # At most once (decision 74): the first kill can land between the Job's create and its Event.
    assert reasons(crds, namespace, "stumps-v1").count("EvaluationStarted") <= 1
    assert reasons(crds, namespace, "stumps").count("ModelRegistered") <= 1
    assert status(crds, namespace, "experiment", "stumps")["runs"][-1]["model"] == "stumps-v1"
