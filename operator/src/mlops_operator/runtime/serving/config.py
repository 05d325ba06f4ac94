"""The model server's settings, from the environment the operator gives its pod."""

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ... import contract
from ..models import LOADERS, Model

DEFAULT_ADDRESS, DEFAULT_PORT, DEFAULT_DRAIN_SECONDS = "127.0.0.1", 8080, 5.0
# Limits on what clients send (decisions.md 68): a body of 4 MiB is some 500,000 numbers, and takes about
# five times its size in memory once parsed; 10 s is ample for a request inside a cluster.
DEFAULT_MAX_REQUEST_BYTES, DEFAULT_READ_SECONDS = 4 * 1024 * 1024, 10.0
DATATYPES = ("FP64", "FP32", "INT64", "BOOL", "BYTES")  # the Open Inference Protocol's names


class InputColumn(BaseModel):
    """One feature column as the training data had it; min, max and allowedValues mark drift, not errors."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    name: Annotated[str, Field(min_length=1)]
    datatype: Literal[DATATYPES]
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    allowed_values: list[str] | None = Field(default=None, alias="allowedValues")  # compared as strings


class Signature(BaseModel):
    """{"inputs": [InputColumn, ...], ...}: the columns the model takes, in its order. Other keys (the
    Dataset's target) are ignored: the server does not take the label."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    inputs: Annotated[list[InputColumn], Field(min_length=1)]

    @model_validator(mode="after")
    def _distinct_names(self) -> "Signature":
        repeated = sorted(name for name, times in Counter(column.name for column in self.inputs).items() if times > 1)
        if repeated:
            raise ValueError(f"inputs name {', '.join(repeated)} more than once")
        return self

    @cached_property
    def columns(self) -> dict[str, InputColumn]:
        return {column.name: column for column in self.inputs}


def fitted_signature(declared: Signature | None, model: Model) -> Signature | None:
    """The inputs the server takes: the columns the model was fitted on, in its order, each checked
    as the training data's schema declares it (a schema may declare only some columns; the others
    are taken as numbers, unchecked). A model that does not name its columns takes the declared
    ones when their number fits, else one [N, F] tensor (None)."""
    if model.feature_names:
        known = declared.columns if declared else {}
        return Signature(inputs=[known.get(name) or InputColumn(name=name, datatype="FP64")
                                 for name in model.feature_names])
    if declared and model.features in (None, len(declared.inputs)):
        return declared
    return None


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class ServerConfig:
    model_uri: str
    model_format: str
    model_name: str
    model_version: str
    signature: Signature | None = None
    address: str = DEFAULT_ADDRESS
    port: int = DEFAULT_PORT
    drain_seconds: float = DEFAULT_DRAIN_SECONDS
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    read_seconds: float = DEFAULT_READ_SECONDS


def config_from_environment(environ: Mapping[str, str]) -> ServerConfig:
    """The settings (contract names the variables); ConfigError names the variable that is missing or wrong.
    MLOPS_SERVER_ADDRESS defaults to loopback: the operator always sets the pod's IP, never 0.0.0.0."""
    required = (contract.MODEL_URI, contract.MODEL_FORMAT, contract.MODEL_NAME, contract.MODEL_VERSION)
    missing = [name for name in required if not environ.get(name)]
    if missing:
        raise ConfigError(f"{', '.join(missing)} must be set")
    model_format = environ[contract.MODEL_FORMAT]
    if model_format not in LOADERS:
        raise ConfigError(f"{contract.MODEL_FORMAT} is {model_format!r}; the built-in server serves "
                          f"{' and '.join(LOADERS)}: a custom server image is needed")
    return ServerConfig(
        model_uri=environ[contract.MODEL_URI], model_format=model_format, model_name=environ[contract.MODEL_NAME],
        model_version=environ[contract.MODEL_VERSION],
        signature=_signature(environ.get(contract.SERVING_SIGNATURE, "")),
        address=environ.get(contract.SERVER_ADDRESS) or DEFAULT_ADDRESS,
        port=_number(environ, contract.SERVER_PORT, int, DEFAULT_PORT, 1, 65535),
        drain_seconds=_number(environ, contract.DRAIN_SECONDS, float, DEFAULT_DRAIN_SECONDS, 0, 3600),
        max_request_bytes=_number(environ, contract.MAX_REQUEST_BYTES, int, DEFAULT_MAX_REQUEST_BYTES, 1024, 2**30),
        read_seconds=_number(environ, contract.READ_SECONDS, float, DEFAULT_READ_SECONDS, 0.1, 3600),
    )


def _signature(text: str) -> Signature | None:
    if not text.strip():
        return None
    try:
        return Signature.model_validate(json.loads(text))
    except ValueError as error:  # not JSON, or JSON that is not a signature (pydantic's ValidationError)
        raise ConfigError(f"{contract.SERVING_SIGNATURE} is not a signature: {error}") from error


def _number(environ: Mapping[str, str], name: str, kind: type, default: float, low: float, high: float):
    noun = "an integer" if kind is int else "a number"
    text = environ.get(name, "")
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ConfigError(f"{name} is {text!r}; expected {noun} from {low} to {high}")
    return value
