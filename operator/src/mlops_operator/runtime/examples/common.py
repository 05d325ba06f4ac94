"""What the example trainers share: data, scoring, saving the model, reporting."""

import os

import fsspec
import joblib
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

from ... import contract
from ...api.dataset import Splits
from ..data import load_dataset_from_env, split_frame
from ..report import report

TARGET = "target"


def breast_cancer_frame() -> pd.DataFrame:
    """scikit-learn's bundled breast-cancer data with snake_case column names."""
    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.copy()
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    return frame


def training_data() -> tuple[dict[str, pd.DataFrame], str, str | None]:
    """The Dataset the operator handed over (MLOPS_DATASET_*), or the bundled data when run alone."""
    if contract.DATASET_URI in os.environ:
        splits, target, digest = load_dataset_from_env()
        return splits, target or TARGET, digest
    return split_frame(breast_cancer_frame(), Splits().resolved()), TARGET, None


def features_and_labels(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, pd.Series]:
    return frame.drop(columns=[target]), frame[target]


def scores(model, features: pd.DataFrame, labels: pd.Series) -> dict[str, float]:
    probabilities = model.predict_proba(features)
    positive = probabilities[:, 1]
    return {
        "roc_auc": float(roc_auc_score(labels, positive)),
        "accuracy": float(accuracy_score(labels, np.argmax(probabilities, axis=1))),
        "log_loss": float(log_loss(labels, probabilities, labels=[0, 1])),
    }


def save_and_report(model, metrics: dict[str, float], digest: str | None) -> None:
    artifact_uri = os.environ.get(contract.ARTIFACT_URI)
    if artifact_uri:
        with fsspec.open(artifact_uri, "wb", auto_mkdir=True) as f:
            joblib.dump(model, f)
    print(f"metrics: {metrics}" + (f"; model saved to {artifact_uri}" if artifact_uri else ""))
    report(metrics, artifact_uri=artifact_uri, digest=digest)


def train_and_report(model) -> None:
    splits, target, digest = training_data()
    features, labels = features_and_labels(splits["train"], target)
    model.fit(features, labels)
    save_and_report(model, scores(model, *features_and_labels(splits["test"], target)), digest)
