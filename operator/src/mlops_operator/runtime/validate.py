"""The built-in dataset validator: `python -m mlops_operator.runtime.validate`.

Reads the Dataset's source (MLOPS_DATASET_URI, MLOPS_DATASET_FORMAT) and spec (MLOPS_DATASET_SPEC),
checks the schema and the rules, computes the digest and per-column statistics, and reports:

    {"digest": "sha256:...", "metrics": {"rows": 569}, "passed": false,
     "failed": [{"name": "minRows", "message": "569 rows; at least 1000 required"}],
     "stats": {"age": {"type": "integer", "nulls": 0, ...}}, "statsOmitted": 3}

It exits 0 whenever it could judge the data (passed or not) and non-zero only when it could not
read it, so the operator tells a bad data set from a broken validation.
"""

import os
import sys
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import contract
from ..api.dataset import ValidatorInput
from .data import read_source
from .report import ResultTooLarge, report, result_document

MAX_FAILED_REPORTED = 8


@dataclass(frozen=True)
class Failure:
    name: str
    message: str


def _type_failure(series: pd.Series, wanted: str) -> str | None:
    values = series.dropna()
    if values.empty:
        return None
    api = pd.api.types
    if wanted == "integer":
        ok = api.is_integer_dtype(values) or (api.is_float_dtype(values) and (values == values.round()).all())
    elif wanted == "float":
        ok = api.is_numeric_dtype(values) and not api.is_bool_dtype(values)
    elif wanted == "boolean":
        ok = api.is_bool_dtype(values) or set(values.astype(str).str.lower()) <= {"true", "false", "0", "1"}
    elif wanted == "datetime":
        ok = pd.to_datetime(values, errors="coerce", utc=True).notna().all()
    else:  # string: anything is representable
        ok = True
    return None if ok else f"values are {api.infer_dtype(values, skipna=True)}, not {wanted}"


def _fraction(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def check(frame: pd.DataFrame, spec: dict[str, Any]) -> list[Failure]:
    """Every failed check, in a stable order: schema, then row count and nulls, then rules."""
    failures: list[Failure] = []
    rows = len(frame)
    for column in (spec.get("schema") or {}).get("columns", []):
        name = column["name"]
        if name not in frame.columns:
            failures.append(Failure(f"column {name}", f"column {name!r} is missing"))
            continue
        problem = _type_failure(frame[name], column["type"])
        if problem:
            failures.append(Failure(f"column {name}", f"column {name!r}: {problem}"))
        nulls = int(frame[name].isna().sum())
        if not column.get("nullable", True) and nulls:
            failures.append(Failure(f"column {name}", f"column {name!r} is not nullable but has {nulls} empty values"))
    validation = spec.get("validation") or {}
    if validation.get("minRows") is not None and rows < validation["minRows"]:
        failures.append(Failure("minRows", f"{rows} rows; at least {validation['minRows']} required"))
    if validation.get("maxNullFraction") is not None:
        for name in frame.columns:
            fraction = _fraction(int(frame[name].isna().sum()), rows)
            if fraction > validation["maxNullFraction"]:
                failures.append(Failure("maxNullFraction", f"column {name!r} is {fraction:.2%} empty; "
                                                           f"at most {validation['maxNullFraction']:.2%} allowed"))
    for rule in validation.get("rules") or []:
        failures.extend(_rule_failures(frame, rule))
    return failures


def _rule_failures(frame: pd.DataFrame, rule: dict[str, Any]) -> list[Failure]:
    name, column = f"rule {rule['name']}", rule["column"]
    if column not in frame.columns:
        return [Failure(name, f"column {column!r} is missing")]
    values = frame[column].dropna()
    failures = []
    if rule.get("min") is not None or rule.get("max") is not None:
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.isna().any():
            failures.append(Failure(name, f"column {column!r} has non-numeric values"))
        if rule.get("min") is not None and (numbers < rule["min"]).any():
            failures.append(Failure(name, f"{int((numbers < rule['min']).sum())} values of {column!r} are below "
                                          f"{rule['min']} (smallest {numbers.min()})"))
        if rule.get("max") is not None and (numbers > rule["max"]).any():
            failures.append(Failure(name, f"{int((numbers > rule['max']).sum())} values of {column!r} are above "
                                          f"{rule['max']} (largest {numbers.max()})"))
    if rule.get("allowedValues") is not None:
        unexpected = sorted(set(values.astype(str)) - set(rule["allowedValues"]))
        if unexpected:
            failures.append(Failure(name, f"column {column!r} has values outside {rule['allowedValues']}: "
                                          f"{unexpected[:5]}"))
    if rule.get("maxNullFraction") is not None:
        fraction = _fraction(int(frame[column].isna().sum()), len(frame))
        if fraction > rule["maxNullFraction"]:
            failures.append(Failure(name, f"column {column!r} is {fraction:.2%} empty; "
                                          f"at most {rule['maxNullFraction']:.2%} allowed"))
    return failures


def column_stats(series: pd.Series) -> dict[str, Any]:
    stats: dict[str, Any] = {"type": str(series.dtype), "nulls": int(series.isna().sum()),
                             "distinct": int(series.nunique(dropna=True))}
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series) and series.notna().any():
        stats.update(min=float(series.min()), max=float(series.max()), mean=round(float(series.mean()), 6))
    return stats


def result_fields(frame: pd.DataFrame, spec: dict[str, Any], digest: str) -> dict[str, Any]:
    """The report, within the termination message's 4 KiB: declared columns' statistics first,
    then others while they fit; the count of columns left out is reported."""
    failures = check(frame, spec)
    declared = [c["name"] for c in (spec.get("schema") or {}).get("columns", []) if c["name"] in frame.columns]
    order = declared + [c for c in frame.columns if c not in declared]
    base = {
        "digest": digest,
        "metrics": {"rows": len(frame)},
        "passed": not failures,
        "failed": [{"name": f.name, "message": f.message} for f in failures[:MAX_FAILED_REPORTED]],
    }
    stats: dict[str, Any] = {}
    for name in order:
        candidate = {**stats, str(name): column_stats(frame[name])}
        try:
            result_document(**base, stats=candidate, statsOmitted=len(order) - len(candidate))
        except ResultTooLarge:
            break
        stats = candidate
    return {**base, "stats": stats, "statsOmitted": len(order) - len(stats)}


def main() -> int:
    checks = ValidatorInput.model_validate_json(os.environ[contract.DATASET_SPEC])
    spec = checks.model_dump(by_alias=True, exclude_none=True)
    uri, data_format = checks.source.uri, checks.format
    try:
        frame, digest = read_source(uri, data_format)
    except Exception as error:  # anything that stops reading: the message is the diagnosis
        message = f"cannot read {uri} as {data_format}: {error}"[:1000]
        print(message, file=sys.stderr)
        report(error=message)
        return 2
    print(report(**result_fields(frame, spec, digest)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
