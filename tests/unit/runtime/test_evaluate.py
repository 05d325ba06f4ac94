"""The built-in evaluator, run in-process on real scikit-learn and ONNX models of small bundled data sets."""

import json

import joblib
import numpy as np
import pytest
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlops_operator.api.dataset import Column, DataSchema, DataSource, DataSpec, Splits
from mlops_operator.runtime import evaluate
from mlops_operator.runtime.data import content_digest, source_files, split_frame
from mlops_operator.runtime.examples.common import breast_cancer_frame

SPLITS = Splits().resolved()
CLASSIFIER = ("accuracy", "f1", "precision", "recall", "roc_auc", "log_loss", "rows")
REGRESSOR = ("mae", "r2", "rmse", "rows")


def iris_frame():
    frame = load_iris(as_frame=True).frame
    frame.columns = [c.replace(" (cm)", "").replace(" ", "_") for c in frame.columns]
    return frame


def named_cancer_frame():
    return breast_cancer_frame().assign(target=lambda f: f["target"].map({0: "malignant", 1: "benign"}))


# name: (data, target, estimator); each is fitted on the data's train split
MODELS = {
    "cancer": (breast_cancer_frame, "target", lambda: make_pipeline(StandardScaler(), LogisticRegression())),
    "named": (named_cancer_frame, "target", lambda: make_pipeline(StandardScaler(), LogisticRegression())),
    "radius": (breast_cancer_frame, "mean_radius", lambda: make_pipeline(StandardScaler(), Ridge())),
    "iris": (iris_frame, "target", lambda: LogisticRegression(max_iter=1000)),
}


def write_artifacts(folder, name):
    """The data as CSV, the fitted model as joblib and as ONNX with and without ZipMap."""
    data, target, estimator = MODELS[name]
    frame = data()
    frame.to_csv(folder / f"{name}.csv", index=False)
    train = split_frame(frame, SPLITS)["train"]
    features = train.drop(columns=[target])
    model = estimator().fit(features, train[target])
    joblib.dump(model, folder / f"{name}.joblib")
    sample = features.to_numpy(dtype=np.float32)[:1]
    (folder / f"{name}.onnx").write_bytes(to_onnx(model, sample).SerializeToString())
    if name != "radius":
        no_zipmap = to_onnx(model, sample, options={"zipmap": False})
        (folder / f"{name}-nozipmap.onnx").write_bytes(no_zipmap.SerializeToString())


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("artifacts")
    for name in MODELS:
        write_artifacts(folder, name)
    return folder


def run(monkeypatch, tmp_path, data, model, model_format="sklearn", *, target="target", split="test", digest=""):
    """main() with the pod's environment; returns its exit code and the reported document."""
    spec = DataSpec(source=DataSource(uri=f"file://{data}"), format="csv", splits=SPLITS,
                    schema=DataSchema(columns=[Column(name=target, type="integer")], target=target))
    result = tmp_path / "termination-log"
    monkeypatch.setenv("MLOPS_RESULT_PATH", str(result))
    monkeypatch.setenv("MLOPS_DATASET_SPEC", spec.model_dump_json(by_alias=True))
    monkeypatch.setenv("MLOPS_DATASET_URI", f"file://{data}")
    monkeypatch.setenv("MLOPS_DATASET_FORMAT", "csv")
    monkeypatch.setenv("MLOPS_DATASET_DIGEST", digest)
    monkeypatch.setenv("MLOPS_MODEL_URI", model if isinstance(model, str) else f"file://{model}")
    monkeypatch.setenv("MLOPS_MODEL_FORMAT", model_format)
    monkeypatch.setenv("MLOPS_EVALUATION_SPLIT", split)
    code = evaluate.main()
    return code, json.loads(result.read_text())


def digest_of(path):
    return content_digest(*source_files(f"file://{path}", "csv"))


@pytest.mark.parametrize("name, artifact, model_format, target, names, bounds", [
    ("cancer", "cancer.joblib", "sklearn", "target", CLASSIFIER, {"roc_auc": 0.95, "accuracy": 0.9, "f1": 0.9}),
    ("cancer", "cancer.onnx", "onnx", "target", CLASSIFIER, {"roc_auc": 0.95, "accuracy": 0.9}),
    ("named", "named.joblib", "sklearn", "target", CLASSIFIER, {"roc_auc": 0.95, "accuracy": 0.9, "f1": 0.9}),
    ("named", "named.onnx", "onnx", "target", CLASSIFIER, {"roc_auc": 0.95, "accuracy": 0.9, "f1": 0.9}),
    ("iris", "iris.joblib", "sklearn", "target", CLASSIFIER, {"roc_auc": 0.95, "f1": 0.85}),
    ("iris", "iris-nozipmap.onnx", "onnx", "target", CLASSIFIER, {"roc_auc": 0.95, "f1": 0.85}),
    ("radius", "radius.joblib", "sklearn", "mean_radius", REGRESSOR, {"r2": 0.95}),
    ("radius", "radius.onnx", "onnx", "mean_radius", REGRESSOR, {"r2": 0.95}),
])
def test_scores_the_split_and_reports_the_digest(monkeypatch, tmp_path, capsys, artifacts, name, artifact,
                                                 model_format, target, names, bounds):
    data = artifacts / f"{name}.csv"
    code, document = run(monkeypatch, tmp_path, data, artifacts / artifact, model_format, target=target,
                         digest=digest_of(data))
    assert code == 0 and document["digest"] == digest_of(data)
    metrics = document["metrics"]
    assert sorted(metrics) == sorted(names)
    assert metrics["rows"] == len(split_frame(MODELS[name][0](), SPLITS)["test"])
    assert all(metrics[metric] > bound for metric, bound in bounds.items()), metrics
    assert "error" not in document
    line = capsys.readouterr().out
    assert f"{metrics['rows']:.0f} rows of the test split:" in line and all(f" {n}=" in line for n in names[:-1])


@pytest.mark.parametrize("name, onnx", [("cancer", "cancer.onnx"), ("cancer", "cancer-nozipmap.onnx"),
                                        ("named", "named.onnx"), ("named", "named-nozipmap.onnx"),
                                        ("iris", "iris.onnx"), ("iris", "iris-nozipmap.onnx")])
def test_onnx_scores_like_the_joblib_model(monkeypatch, tmp_path, artifacts, name, onnx):
    data = artifacts / f"{name}.csv"
    _, joblib_document = run(monkeypatch, tmp_path, data, artifacts / f"{name}.joblib")
    _, onnx_document = run(monkeypatch, tmp_path, data, artifacts / onnx, "onnx")
    assert sorted(onnx_document["metrics"]) == sorted(joblib_document["metrics"])
    for metric in ("roc_auc", "log_loss", "accuracy"):
        assert onnx_document["metrics"][metric] == pytest.approx(joblib_document["metrics"][metric], abs=1e-4)


def test_a_plain_path_names_an_artifact_too(monkeypatch, tmp_path, artifacts):
    code, document = run(monkeypatch, tmp_path, artifacts / "cancer.csv", str(artifacts / "cancer.joblib"))
    assert code == 0 and document["metrics"]["roc_auc"] > 0.95


def test_a_split_of_one_class_leaves_roc_auc_out(monkeypatch, tmp_path, artifacts):
    positives = breast_cancer_frame().query("target == 1")
    positives.to_csv(tmp_path / "positives.csv", index=False)
    code, document = run(monkeypatch, tmp_path, tmp_path / "positives.csv", artifacts / "cancer.joblib")
    assert code == 0
    assert sorted(document["metrics"]) == sorted(set(CLASSIFIER) - {"roc_auc"})
    assert document["metrics"]["recall"] > 0.9


@pytest.mark.parametrize("artifact, model_format, split, code, message", [
    ("missing.joblib", "sklearn", "test", 1, "cannot load file://{artifacts}/missing.joblib as sklearn: FileNotFoundError"),
    ("cancer.onnx", "sklearn", "test", 1, "cannot load file://{artifacts}/cancer.onnx as sklearn: "),
    ("cancer.joblib", "onnx", "test", 1, "cannot load file://{artifacts}/cancer.joblib as onnx"),
    ("cancer.joblib", "custom", "test", 1, "has format 'custom', which the built-in evaluator cannot load "
                                           "(it loads sklearn and onnx): a custom evaluator container is needed"),
    ("radius.joblib", "sklearn", "test", 1, "cannot score file://{artifacts}/radius.joblib: ValueError"),
    ("cancer.joblib", "sklearn", "validation", 2, "the data has no labelled rows in a 'validation' split"),
])
def test_what_it_cannot_evaluate_is_reported_as_an_error(monkeypatch, tmp_path, artifacts, artifact, model_format,
                                                         split, code, message):
    exit_code, document = run(monkeypatch, tmp_path, artifacts / "cancer.csv", artifacts / artifact, model_format,
                              split=split)
    assert (exit_code, list(document)) == (code, ["error"])
    assert message.format(artifacts=artifacts) in document["error"]


def test_data_that_is_not_what_the_operator_pinned_is_not_scored(monkeypatch, tmp_path, artifacts):
    data = artifacts / "cancer.csv"
    code, document = run(monkeypatch, tmp_path, data, artifacts / "cancer.joblib", digest="sha256:0123")
    assert code == 2
    assert document == {"error": f"the data's digest is {digest_of(data)}, the operator pinned sha256:0123",
                        "digest": digest_of(data)}


def test_a_target_that_is_not_a_column_is_named(monkeypatch, tmp_path, artifacts):
    code, document = run(monkeypatch, tmp_path, artifacts / "cancer.csv", artifacts / "cancer.joblib", target="label")
    assert (code, document) == (2, {"error": f"spec.schema.target is 'label', not a column of file://{artifacts}/cancer.csv"})
