"""Loading model artifacts, for the built-in evaluator and model server.

load_model(uri, format) reads the artifact at an fsspec URI: format sklearn is a joblib file of a fitted
scikit-learn estimator or pipeline, onnx a model with one float tensor input of the feature columns in the
data's order. It gives a Model: a function from a DataFrame of features to Predictions, and what those
predictions hold, known before the first one is made (a server's metadata says it).
"""

from collections.abc import Callable
from dataclasses import dataclass

import fsspec
import joblib
import numpy as np
import onnxruntime
import pandas as pd
from sklearn.base import is_classifier, is_regressor

ONNX_TENSOR_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
                     "tensor(int32)": np.int32, "tensor(bool)": np.bool_, "tensor(string)": np.object_}
ONNX_INPUT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64}


class CannotLoad(Exception):
    pass


@dataclass(frozen=True)
class Predictions:
    values: np.ndarray  # labels of a classifier, numbers of a regressor
    classifier: bool | None  # what the model says it is; None when it does not say
    probabilities: np.ndarray | None = None  # one column per class
    classes: np.ndarray | None = None  # the columns' classes, when the model names them


Predict = Callable[[pd.DataFrame], Predictions]


@dataclass(frozen=True)
class Model:
    predict: Predict
    input_type: np.dtype  # what the feature columns become inside the model
    features: int | None  # how many columns it takes, when it says
    feature_names: tuple[str, ...] | None  # the columns it was fitted on, when it says
    label_type: np.dtype  # of Predictions.values
    probabilities: bool  # whether Predictions.probabilities are given
    classes: int | None  # how many columns the probabilities have, when it says


def load_model(uri: str, model_format: str) -> Model:
    """The model in the artifact at uri; CannotLoad says why not."""
    if model_format not in LOADERS:
        raise CannotLoad(f"{uri} has format {model_format!r}; the built-in runtime loads {' and '.join(LOADERS)}")
    try:
        with fsspec.open(uri, "rb") as f:
            return LOADERS[model_format](f)
    except Exception as error:  # anything that stops loading: the message is the diagnosis
        raise CannotLoad(f"cannot load {uri} as {model_format}: {type(error).__name__}: {error}") from error


def _load_sklearn(f) -> Model:
    model = joblib.load(f)
    if not hasattr(model, "predict"):
        raise TypeError(f"it holds a {type(model).__name__}, not a fitted scikit-learn estimator")
    # A classifier, or anything with probabilities, says so; a regressor too; anything else leaves it to the data.
    gives_probabilities = hasattr(model, "predict_proba")
    says = True if is_classifier(model) or gives_probabilities else (False if is_regressor(model) else None)
    classes = getattr(model, "classes_", None)

    def predict(features: pd.DataFrame) -> Predictions:
        probabilities = model.predict_proba(features) if gives_probabilities else None
        return Predictions(np.asarray(model.predict(features)), says, probabilities, classes)

    names = getattr(model, "feature_names_in_", None)
    return Model(predict, input_type=np.dtype(np.float64), features=getattr(model, "n_features_in_", None),
                 feature_names=tuple(str(name) for name in names) if names is not None else None,
                 label_type=np.asarray(classes).dtype if classes is not None else np.dtype(np.float64),
                 probabilities=gives_probabilities,
                 classes=len(classes) if classes is not None and gives_probabilities else None)


def _load_onnx(f) -> Model:
    session = onnxruntime.InferenceSession(f.read(), providers=["CPUExecutionProvider"])
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or inputs[0].type not in ONNX_INPUT_TYPES:
        raise ValueError(f"it takes {', '.join(f'{i.name} {i.type}' for i in inputs)}; the built-in runtime feeds "
                         "one float tensor of the feature columns (convert with a single FloatTensorType input)")
    input_type = ONNX_INPUT_TYPES[inputs[0].type]

    def predict(features: pd.DataFrame) -> Predictions:
        results = session.run(None, {inputs[0].name: features.to_numpy(dtype=input_type)})
        values = np.asarray(results[0]).ravel()
        if len(results) < 2:  # converted classifiers output labels, then probabilities; regressors one tensor
            return Predictions(values, None)
        if isinstance(results[1], list):  # ZipMap: one {class: probability} per row
            table = pd.DataFrame(results[1])
            return Predictions(values, True, table.to_numpy(), table.columns.to_numpy())
        return Predictions(values, True, np.asarray(results[1]))

    width = inputs[0].shape[-1] if len(inputs[0].shape) == 2 else None
    # A ZipMap's sequence of maps does not say how many classes; a plain probability tensor's shape does.
    classes = outputs[1].shape[-1] if len(outputs) > 1 and len(outputs[1].shape or ()) == 2 else None
    return Model(predict, input_type=np.dtype(input_type), features=width if isinstance(width, int) else None,
                 feature_names=None, label_type=np.dtype(ONNX_TENSOR_TYPES.get(outputs[0].type, np.float32)),
                 probabilities=len(outputs) > 1, classes=classes if isinstance(classes, int) else None)


LOADERS = {"sklearn": _load_sklearn, "onnx": _load_onnx}
