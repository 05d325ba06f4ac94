"""Open Inference Protocol v2 tensors: an infer request's inputs as the model's features, its predictions
as output tensors, and the tensor metadata a server gives. BadRequest's message is the 400's error.

Everything is checked before anything is allocated for it: a shape must describe the data sent (flat, or
nested exactly as the shape), so the body's size bounds every tensor; numbers must be finite and fit their
datatype (JSON has no NaN or Infinity; Python's parser would take them, and models fail on them)."""

import json
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..models import Model, Predictions
from .config import InputColumn, Signature
from .metrics import MISSING, RANGE, TYPE, UNKNOWN

PREDICT, PREDICT_PROBA = "predict", "predict_proba"
MATRIX_INPUT = "input"  # without a signature, the one [N, F] tensor's name in the metadata (any name is taken)
INTEGER_BOUNDS = {**{f"INT{bits}": (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) for bits in (8, 16, 32, 64)},
                  **{f"UINT{bits}": (0, 2**bits - 1) for bits in (8, 16, 32, 64)}}
FLOAT_BOUNDS = {"FP16": float(np.finfo(np.float16).max), "FP32": float(np.finfo(np.float32).max),
                "FP64": sys.float_info.max}  # a value beyond is infinite in the model's array
FLOAT_DATATYPES = tuple(FLOAT_BOUNDS)
MAX_DIMENSIONS = 32  # numpy's least limit; it also keeps a shape's product short enough to print
MAX_SIZE = 2**63 - 1  # the protocol's shapes are int64
NUMERIC_DATATYPES = (*FLOAT_DATATYPES, *INTEGER_BOUNDS)
COLUMN_TYPES = {"FP64": np.float64, "FP32": np.float32, "INT64": np.int64, "BOOL": np.bool_, "BYTES": object}
# A column with nulls becomes what pandas makes of one with blanks: integers floats (NaN), booleans objects.
NULLABLE_COLUMN_TYPES = {**COLUMN_TYPES, "INT64": np.float64, "BOOL": object}


@dataclass(frozen=True)
class Violation:
    """An input that breaks the training data's schema (a metrics.* kind)."""

    input: str
    kind: str


class BadRequest(Exception):
    def __init__(self, message: str, violations: list[Violation] | None = None):
        super().__init__(message)
        self.violations = violations or []


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[int, ...]
    datatype: str
    data: list[Any]  # flat, in row-major order


@dataclass(frozen=True)
class InferRequest:
    id: str | None
    inputs: list[Tensor]
    outputs: list[str] | None  # the outputs asked for; None: all


def parse_request(body: bytes) -> InferRequest:
    try:
        document = json.loads(body, parse_constant=_not_json)
    except ValueError as error:  # UnicodeDecodeError is one
        raise BadRequest(f"the body is not JSON: {error}") from error
    except RecursionError as error:
        raise BadRequest("the body is nested too deeply to read") from error
    if not isinstance(document, dict) or not isinstance(document.get("inputs"), list) or not document["inputs"]:
        raise BadRequest('the body needs "inputs": a list of tensors {"name", "shape", "datatype", "data"}')
    request_id, outputs = document.get("id"), document.get("outputs")
    if request_id is not None and not isinstance(request_id, str):
        raise BadRequest(f'"id" must be a string, not {request_id!r}')
    if outputs is not None and not (isinstance(outputs, list)
                                    and all(isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs)):
        raise BadRequest('"outputs" must be a list of {"name": ...}')
    inputs = [_tensor(position, item) for position, item in enumerate(document["inputs"])]
    repeated = [name for name, times in Counter(tensor.name for tensor in inputs).items() if times > 1]
    if repeated:
        raise BadRequest(f"input {repeated[0]!r} is sent more than once")
    return InferRequest(request_id, inputs, None if outputs is None else [o["name"] for o in outputs])


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON value; a missing value is null")


def _tensor(position: int, item: Any) -> Tensor:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise BadRequest(f'inputs[{position}] needs a "name"')
    name, shape, datatype, data = item["name"], item.get("shape"), item.get("datatype"), item.get("data")
    if not isinstance(shape, list) or not all(type(size) is int and 0 <= size <= MAX_SIZE for size in shape):
        raise BadRequest(f'input {name!r} needs a "shape": a list of sizes such as [3] or [3, 1], not '
                         f'{json.dumps(shape)[:100]}')
    if len(shape) > MAX_DIMENSIONS:
        raise BadRequest(f"input {name!r} has {len(shape)} dimensions; at most {MAX_DIMENSIONS} are taken")
    if not isinstance(datatype, str):
        raise BadRequest(f'input {name!r} needs a "datatype" such as FP64')
    if not isinstance(data, list):
        raise BadRequest(f'input {name!r} needs "data": a list of values (flat in row-major order, or nested)')
    values = _values(name, data, shape)
    if len(values) != math.prod(shape):
        raise BadRequest(f"input {name!r} has shape {shape}, which holds {math.prod(shape)} values; "
                         f"its data has {len(values)}")
    return Tensor(name, tuple(shape), datatype, values)


def _values(name: str, data: list[Any], shape: list[int]) -> list[Any]:
    """The data's values in row-major order: data is flat, or nested exactly as the shape says (ragged rows
    or deeper lists are refused, level by level, without recursion)."""
    if not any(isinstance(item, list) for item in data):
        return data
    level = [data]
    for size in shape:
        if not all(isinstance(items, list) and len(items) == size for items in level):
            break
        level = [item for items in level for item in items]
    else:
        if not any(isinstance(item, list) for item in level):
            return level
    raise BadRequest(f"input {name!r} has data nested otherwise than its shape {shape}; send it flat, in "
                     "row-major order, or nested as the shape")


def _fits(value: Any, datatype: str) -> bool:
    if datatype == "BOOL":
        return isinstance(value, bool)
    if datatype == "BYTES":
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if datatype in INTEGER_BOUNDS:
        low, high = INTEGER_BOUNDS[datatype]
        return isinstance(value, int) and low <= value <= high
    return datatype in FLOAT_BOUNDS and abs(value) <= FLOAT_BOUNDS[datatype]  # False for NaN too


def _misfit(tensor: Tensor, nullable: bool) -> str | None:
    """What is wrong with the first value that is not of the tensor's datatype, if one is not."""
    for position, value in enumerate(tensor.data):
        if not (value is None and nullable) and not _fits(value, tensor.datatype):
            finite = "a finite " if tensor.datatype in FLOAT_BOUNDS and type(value) in (int, float) else ""
            return (f"input {tensor.name!r} holds {json.dumps(value)[:40]} at position {position}, which is not "
                    f"{finite}{tensor.datatype}")
    return None


@dataclass
class _Findings:
    refusals: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    def refuse(self, message: str, violation: Violation | None = None) -> None:
        self.refusals.append(message)
        if violation:
            self.violations.append(violation)


def signature_features(request: InferRequest, signature: Signature) -> tuple[pd.DataFrame, list[Violation]]:
    """One column per input, in the signature's order, and the drift (range violations) the inputs show.
    BadRequest names every input that breaks the schema, with all it found, to be counted."""
    findings, columns = _Findings(), {}
    for tensor in request.inputs:
        column = signature.columns.get(tensor.name)
        if column is None:
            findings.refuse(f"input {tensor.name!r} is not one of the model's inputs ({', '.join(signature.columns)})",
                            Violation(tensor.name, UNKNOWN))
        elif _column_fits(tensor, column, findings):
            columns[tensor.name] = _series(tensor.data, column.datatype)
    sent = {tensor.name for tensor in request.inputs}
    for name in signature.columns:
        if name not in sent:
            findings.refuse(f"input {name!r} is missing; the model takes {', '.join(signature.columns)}",
                            Violation(name, MISSING))
    rows = {len(series) for series in columns.values()}
    if len(rows) > 1:
        findings.refuse("inputs have different lengths (" + ", ".join(f"{name} {len(series)}" for name, series
                                                                        in columns.items()) + "); each is one column "
                        "of the same N rows")
    elif rows == {0}:
        findings.refuse("the inputs hold no rows")
    if findings.refusals:
        raise BadRequest("; ".join(findings.refusals), findings.violations)
    return pd.DataFrame({name: columns[name] for name in signature.columns}), findings.violations


def _column_fits(tensor: Tensor, column: InputColumn, findings: _Findings) -> bool:
    name, datatype = tensor.name, column.datatype
    if tensor.datatype != datatype:
        findings.refuse(f"input {name!r} has datatype {tensor.datatype}; the model takes {datatype}",
                        Violation(name, TYPE))
        return False
    if len(tensor.shape) not in (1, 2) or tensor.shape[1:] not in ((), (1,)):
        findings.refuse(f"input {name!r} has shape {list(tensor.shape)}; each input is one column: [N] or [N, 1]")
        return False
    misfit = _misfit(tensor, nullable=True)  # nulls are the nullability's business, below
    if misfit:
        findings.refuse(misfit, Violation(name, TYPE))
        return False
    nulls = sum(value is None for value in tensor.data)
    if nulls and not column.nullable:
        findings.refuse(f"input {name!r} holds {nulls} nulls; it is not nullable", Violation(name, MISSING))
        return False
    if _drifts(tensor.data, column):
        findings.violations.append(Violation(name, RANGE))
    return True


def _drifts(values: list[Any], column: InputColumn) -> bool:
    """Whether a value is outside the training data's [min, max] or allowed values (compared as the
    Dataset's rules compare them: as text, a float column's values as floats)."""
    present = [value for value in values if value is not None]
    if column.allowed_values is not None:
        as_text = (lambda value: str(float(value))) if column.datatype in FLOAT_DATATYPES else str
        if not {as_text(value) for value in present} <= set(column.allowed_values):
            return True
    if column.datatype not in NUMERIC_DATATYPES:
        return False
    return any((column.min is not None and value < column.min) or (column.max is not None and value > column.max)
               for value in present)


def _series(values: list[Any], datatype: str) -> pd.Series:
    types = NULLABLE_COLUMN_TYPES if any(value is None for value in values) else COLUMN_TYPES
    return pd.Series(values, dtype=types[datatype])


def matrix_features(request: InferRequest, model: Model) -> pd.DataFrame:
    """Without a signature the model takes one [N, F] tensor of numbers: its feature columns in order."""
    width = model.features or "F"
    if len(request.inputs) != 1:
        raise BadRequest(f"the model takes one input, a [N, {width}] tensor; the request has {len(request.inputs)}")
    tensor = request.inputs[0]
    if tensor.datatype not in NUMERIC_DATATYPES:
        raise BadRequest(f"input {tensor.name!r} has datatype {tensor.datatype}; the model takes numbers "
                         f"({', '.join(NUMERIC_DATATYPES)})")
    if len(tensor.shape) != 2:
        raise BadRequest(f"input {tensor.name!r} has shape {list(tensor.shape)}; the model takes [N, {width}]")
    misfit = _misfit(tensor, nullable=False)
    if misfit:
        raise BadRequest(misfit)
    if tensor.shape[0] == 0:
        raise BadRequest("the inputs hold no rows")
    if tensor.shape[1] == 0:  # rows of nothing: no model takes them, however many
        raise BadRequest(f"input {tensor.name!r} has shape {list(tensor.shape)}; the model takes [N, {width}]")
    # A width the model does not take is left to the model (a 500): a new version that does not fit the
    # traffic the old one served is the version's failure, which a canary analysis must see.
    names = model.feature_names if model.feature_names and len(model.feature_names) == tensor.shape[1] else None
    features = np.asarray(tensor.data, dtype=np.float64).reshape(tensor.shape)
    return pd.DataFrame(features, columns=list(names) if names else None)


def output_names(model: Model) -> tuple[str, ...]:
    return (PREDICT, PREDICT_PROBA) if model.probabilities else (PREDICT,)


def requested_outputs(request: InferRequest, model: Model) -> tuple[str, ...]:
    given = output_names(model)
    unknown = [name for name in request.outputs or () if name not in given]
    if unknown:
        raise BadRequest(f"output {unknown[0]!r} is not one the model gives ({', '.join(given)})")
    return tuple(request.outputs) if request.outputs else given


def response_outputs(predictions: Predictions, names: tuple[str, ...]) -> list[dict[str, Any]]:
    arrays = {PREDICT: np.asarray(predictions.values)}
    if predictions.probabilities is not None:  # float64 whatever the model computed in: one datatype to declare
        arrays[PREDICT_PROBA] = np.asarray(predictions.probabilities, dtype=np.float64)
    return [{"name": name, "shape": list(arrays[name].shape), "datatype": datatype_of(arrays[name].dtype),
             "data": arrays[name].ravel().tolist()} for name in names]


def datatype_of(dtype: np.dtype) -> str:
    if dtype.kind == "b":
        return "BOOL"
    if dtype.kind in "iu":
        return f"{'U' if dtype.kind == 'u' else ''}INT{dtype.itemsize * 8}"
    if dtype.kind == "f":
        return f"FP{dtype.itemsize * 8}"
    return "BYTES"


def input_metadata(signature: Signature | None, model: Model) -> list[dict[str, Any]]:
    if signature:
        return [{"name": column.name, "datatype": column.datatype, "shape": [-1]} for column in signature.inputs]
    return [{"name": MATRIX_INPUT, "datatype": datatype_of(model.input_type), "shape": [-1, model.features or -1]}]


def output_metadata(model: Model) -> list[dict[str, Any]]:
    outputs = [{"name": PREDICT, "datatype": datatype_of(model.label_type), "shape": [-1]}]
    if model.probabilities:
        outputs.append({"name": PREDICT_PROBA, "datatype": "FP64", "shape": [-1, model.classes or -1]})
    return outputs
