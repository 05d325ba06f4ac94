"""The built-in model evaluator: `python -m mlops_operator.runtime.evaluate`.

Loads the artifact MLOPS_MODEL_URI (MLOPS_MODEL_FORMAT sklearn: a joblib file of a fitted estimator or
pipeline; onnx: a model with one float tensor input of the feature columns in the data's order), reads
the Dataset the operator pinned (MLOPS_DATASET_SPEC, MLOPS_DATASET_DIGEST), scores the split
MLOPS_EVALUATION_SPLIT against schema.target and reports:

    {"digest": "sha256:...", "metrics": {"rows": 114.0, "accuracy": 0.96, "f1": 0.97, "precision": 0.96,
     "recall": 0.99, "roc_auc": 0.99, "log_loss": 0.09}}

A classifier (the model says so, or it predicts a categorical target) gets accuracy, f1, precision and
recall (two classes: of the positive, larger class; more: macro averages) and, when it gives
probabilities, roc_auc (more classes: one-vs-rest macro) and log_loss. A regressor gets rmse, mae and
r2. A metric the split does not allow (roc_auc of a single class) is left out.

It exits 0 when it scored, 1 when it could not load or run the model (or its format is custom) and 2
when the data is not what the operator pinned or has no such split or target; the error is reported.
"""

import math
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as sk
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils.multiclass import type_of_target

from .. import contract
from ..api.dataset import DataSpec
from . import models
from .data import read_source, split_frame
from .models import LOADERS, CannotLoad, Predict, Predictions
from .report import report

MODEL_FAILED, DATA_REFUSED = 1, 2
MAX_CLASSES = 20  # more distinct integer targets than this reads as a quantity, not a class


class CannotEvaluate(Exception):
    def __init__(self, message: str, exit_code: int, **fields: Any):
        super().__init__(message[:1000])
        self.exit_code, self.fields = exit_code, fields


def load_model(uri: str, model_format: str) -> Predict:
    """A function from features to predictions, for the artifact at uri."""
    if model_format not in LOADERS:
        raise CannotEvaluate(f"{uri} has format {model_format!r}, which the built-in evaluator cannot load (it loads "
                             "sklearn and onnx): a custom evaluator container is needed", MODEL_FAILED)
    try:
        return models.load_model(uri, model_format).predict
    except CannotLoad as error:
        raise CannotEvaluate(str(error), MODEL_FAILED) from error


def evaluation_data(spec: DataSpec, split: str, pinned: str) -> tuple[pd.DataFrame, str, str]:
    """The split's rows, the target column and the data's digest, recomputed from what was read."""
    try:
        frame, digest = read_source(spec.source.uri, spec.format)
    except Exception as error:  # anything that stops reading: the message is the diagnosis
        raise CannotEvaluate(f"cannot read {spec.source.uri} as {spec.format}: {error}", DATA_REFUSED) from error
    if pinned and digest != pinned:
        raise CannotEvaluate(f"the data's digest is {digest}, the operator pinned {pinned}", DATA_REFUSED,
                             digest=digest)
    target = spec.schema_.target if spec.schema_ else None
    if not target or target not in frame.columns:
        raise CannotEvaluate(f"spec.schema.target is {target!r}, not a column of {spec.source.uri}", DATA_REFUSED)
    parts = split_frame(frame, spec.splits)
    rows = parts[split].dropna(subset=[target]) if split in parts else frame.iloc[:0]  # unlabelled rows say nothing
    if rows.empty:
        raise CannotEvaluate(f"the data has no labelled rows in a {split!r} split ({spec.splits})", DATA_REFUSED)
    return rows, target, digest


def _categorical(values: np.ndarray) -> bool:
    kind = type_of_target(values)
    return kind == "binary" or (kind == "multiclass" and len(np.unique(values)) <= MAX_CLASSES)


def _finite(metrics: dict[str, Callable[[], float]]) -> dict[str, float]:
    """The metrics the split allows: one that raises or is not finite (no positive predictions, a
    single class for roc_auc) is left out rather than reported as a NaN."""
    found = {}
    for name, compute in metrics.items():
        with warnings.catch_warnings():  # newer scikit-learn warns and returns NaN where older raised
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            try:
                value = float(compute())
            except ValueError:
                continue
        if math.isfinite(value):
            found[name] = value
    return found


def classification_metrics(labels: np.ndarray, predicted: Predictions) -> dict[str, float]:
    classes = predicted.classes
    if classes is None:
        classes = np.unique(np.concatenate([labels, predicted.values]))
    probabilities = predicted.probabilities
    if probabilities is not None:
        # An ONNX model's float32 rows miss 1 by more than scikit-learn's checks allow.
        probabilities = probabilities.astype(np.float64)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        # Unnamed columns are in sorted class order (scikit-learn's classes_, which skl2onnx keeps):
        # they are named only when the split and the predictions show every class.
        probabilities = probabilities if probabilities.shape[1] == len(classes) else None
    binary = len(classes) == 2
    averaging = {"average": "binary", "pos_label": classes[1]} if binary else {"average": "macro"}
    values = predicted.values
    metrics = {
        "accuracy": lambda: sk.accuracy_score(labels, values),
        "f1": lambda: sk.f1_score(labels, values, zero_division=np.nan, **averaging),
        "precision": lambda: sk.precision_score(labels, values, zero_division=np.nan, **averaging),
        "recall": lambda: sk.recall_score(labels, values, zero_division=np.nan, **averaging),
    }
    if probabilities is not None:
        metrics["roc_auc"] = (lambda: sk.roc_auc_score(labels == classes[1], probabilities[:, 1])) if binary else (
            lambda: sk.roc_auc_score(labels, probabilities, multi_class="ovr", average="macro", labels=classes))
        metrics["log_loss"] = lambda: sk.log_loss(labels, probabilities, labels=classes)
    return _finite(metrics)


def regression_metrics(labels: np.ndarray, predicted: Predictions) -> dict[str, float]:
    values = predicted.values
    return _finite({
        "rmse": lambda: math.sqrt(sk.mean_squared_error(labels, values)),
        "mae": lambda: sk.mean_absolute_error(labels, values),
        "r2": lambda: sk.r2_score(labels, values),
    })


def score(predict: Predict, rows: pd.DataFrame, target: str, uri: str) -> dict[str, float]:
    labels = rows[target].to_numpy()
    try:
        predicted = predict(rows.drop(columns=[target]))
        classifier = predicted.classifier
        if classifier is None:
            classifier = _categorical(labels) and _categorical(predicted.values)
        found = (classification_metrics if classifier else regression_metrics)(labels, predicted)
    except Exception as error:  # features the model does not take, labels unlike its own: its message says why
        raise CannotEvaluate(f"cannot score {uri}: {type(error).__name__}: {error}", MODEL_FAILED) from error
    return {"rows": float(len(rows)), **found}


def main() -> int:
    spec = DataSpec.model_validate_json(os.environ[contract.DATASET_SPEC])
    uri, split = os.environ[contract.MODEL_URI], os.environ[contract.EVALUATION_SPLIT]
    try:
        predict = load_model(uri, os.environ[contract.MODEL_FORMAT])
        rows, target, digest = evaluation_data(spec, split, os.environ.get(contract.DATASET_DIGEST, ""))
        metrics = score(predict, rows, target, uri)
    except CannotEvaluate as refusal:
        print(refusal, file=sys.stderr)
        report(error=str(refusal), **refusal.fields)
        return refusal.exit_code
    report(metrics, digest=digest)
    print(f"{uri} on {len(rows)} rows of the {split} split: "
          + " ".join(f"{name}={value:.4f}" for name, value in metrics.items() if name != "rows"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
