"""The model server's settings: the environment the operator gives its pod, exactly as it is read."""

import json

import pytest

from mlops_operator.runtime.serving.config import ConfigError, ServerConfig, Signature, config_from_environment

ENV = {"MLOPS_MODEL_URI": "s3://models/churn/3/model.joblib", "MLOPS_MODEL_FORMAT": "sklearn",
       "MLOPS_MODEL_NAME": "churn", "MLOPS_MODEL_VERSION": "3"}
SIGNATURE = {"inputs": [{"name": "age", "datatype": "FP64", "nullable": True, "min": 0.0, "max": 99.0},
                        {"name": "city", "datatype": "BYTES", "allowedValues": ["Oslo", "Rome"]}],
             "target": "churned"}


def test_every_setting_comes_from_the_environment():
    config = config_from_environment({**ENV, "MLOPS_SERVING_SIGNATURE": json.dumps(SIGNATURE),
                                      "MLOPS_SERVER_ADDRESS": "10.1.2.3", "MLOPS_SERVER_PORT": "9000",
                                      "MLOPS_DRAIN_SECONDS": "2.5", "MLOPS_MAX_REQUEST_BYTES": "65536",
                                      "MLOPS_READ_SECONDS": "30"})
    assert config == ServerConfig(model_uri="s3://models/churn/3/model.joblib", model_format="sklearn",
                                  model_name="churn", model_version="3", signature=Signature.model_validate(SIGNATURE),
                                  address="10.1.2.3", port=9000, drain_seconds=2.5, max_request_bytes=65536,
                                  read_seconds=30.0)
    assert [(c.name, c.datatype, c.nullable, c.min, c.max, c.allowed_values) for c in config.signature.inputs] == [
        ("age", "FP64", True, 0.0, 99.0, None), ("city", "BYTES", True, None, None, ["Oslo", "Rome"])]


def test_defaults_listen_on_loopback_port_8080_drain_for_5_seconds_and_read_4_mib_in_10_seconds():
    assert config_from_environment({**ENV, "MLOPS_SERVING_SIGNATURE": " "}) == ServerConfig(
        model_uri="s3://models/churn/3/model.joblib", model_format="sklearn", model_name="churn", model_version="3",
        signature=None, address="127.0.0.1", port=8080, drain_seconds=5.0, max_request_bytes=4 * 1024 * 1024,
        read_seconds=10.0)


@pytest.mark.parametrize("changes, message", [
    ({"MLOPS_MODEL_NAME": "", "MLOPS_MODEL_VERSION": ""}, "MLOPS_MODEL_NAME, MLOPS_MODEL_VERSION must be set"),
    ({"MLOPS_MODEL_FORMAT": "custom"}, "MLOPS_MODEL_FORMAT is 'custom'; the built-in server serves sklearn and onnx: "
                                       "a custom server image is needed"),
    ({"MLOPS_SERVER_PORT": "http"}, "MLOPS_SERVER_PORT is 'http'; expected an integer from 1 to 65535"),
    ({"MLOPS_SERVER_PORT": "70000"}, "MLOPS_SERVER_PORT is '70000'; expected an integer from 1 to 65535"),
    ({"MLOPS_DRAIN_SECONDS": "-1"}, "MLOPS_DRAIN_SECONDS is '-1'; expected a number from 0 to 3600"),
    ({"MLOPS_DRAIN_SECONDS": "nan"}, "MLOPS_DRAIN_SECONDS is 'nan'; expected a number from 0 to 3600"),
    ({"MLOPS_MAX_REQUEST_BYTES": "4M"}, "MLOPS_MAX_REQUEST_BYTES is '4M'; expected an integer from 1024 to "
                                        "1073741824"),
    ({"MLOPS_READ_SECONDS": "0"}, "MLOPS_READ_SECONDS is '0'; expected a number from 0.1 to 3600"),
    ({"MLOPS_SERVING_SIGNATURE": "{"}, "MLOPS_SERVING_SIGNATURE is not a signature: Expecting property name"),
    ({"MLOPS_SERVING_SIGNATURE": '{"inputs": []}'}, "MLOPS_SERVING_SIGNATURE is not a signature: 1 validation error"),
    ({"MLOPS_SERVING_SIGNATURE": '{"inputs": [{"name": "age", "datatype": "FLOAT"}]}'},
     "Input should be 'FP64', 'FP32', 'INT64', 'BOOL' or 'BYTES'"),
    ({"MLOPS_SERVING_SIGNATURE": '{"inputs": [{"name": "age", "datatype": "FP64"}, {"name": "age", "datatype": "FP32"}]}'},
     "inputs name age more than once"),
])
def test_a_wrong_setting_is_named(changes, message):
    with pytest.raises(ConfigError) as refusal:
        config_from_environment({**ENV, **changes})
    assert message in str(refusal.value)


def _model(features: int | None, names: tuple[str, ...] | None):
    import numpy as np

    from mlops_operator.runtime.models import Model

    return Model(predict=lambda frame: None, input_type=np.dtype(np.float64), features=features, feature_names=names,
                 label_type=np.dtype(np.int64), probabilities=False, classes=None)


DECLARED = Signature.model_validate({"inputs": [
    {"name": "radius", "datatype": "FP64", "nullable": False, "min": 0.0},
    {"name": "texture", "datatype": "FP64"},
]})


def test_a_model_that_names_its_columns_takes_them_in_its_order_checked_where_the_schema_declares_them():
    from mlops_operator.runtime.serving.config import fitted_signature

    fitted = fitted_signature(DECLARED, _model(3, ("area", "texture", "radius")))
    assert [c.name for c in fitted.inputs] == ["area", "texture", "radius"]
    assert fitted.columns["radius"] == DECLARED.columns["radius"]  # nullable False, min 0: still checked
    assert fitted.columns["area"].datatype == "FP64" and fitted.columns["area"].min is None
    assert [c.name for c in fitted_signature(None, _model(2, ("b", "a"))).inputs] == ["b", "a"]


@pytest.mark.parametrize("features, fitted", [(2, True), (None, True), (30, False)])
def test_a_model_without_column_names_takes_the_declared_columns_only_when_their_number_fits(features, fitted):
    from mlops_operator.runtime.serving.config import fitted_signature

    assert fitted_signature(DECLARED, _model(features, None)) == (DECLARED if fitted else None)
    assert fitted_signature(None, _model(features, None)) is None
