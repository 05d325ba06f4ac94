"""The in-pod runtime: report() and the validator's checks (pandas, no cluster)."""

import json

import numpy as np
import pandas as pd
import pytest

from mlops_operator.api.dataset import Splits
from mlops_operator.runtime import ResultTooLarge, report
from mlops_operator.runtime.data import content_digest, source_files, split_frame
from mlops_operator.runtime.validate import check, result_fields

SPEC = {
    "schema": {"columns": [{"name": "age", "type": "integer", "nullable": False},
                           {"name": "city", "type": "string"}], "target": "age"},
    "validation": {"minRows": 3, "maxNullFraction": 0.5,
                   "rules": [{"name": "adult", "column": "age", "min": 18, "max": 120},
                             {"name": "known-city", "column": "city", "allowedValues": ["Oslo", "Rome"]}]},
}


def messages(frame, spec=SPEC):
    return [(f.name, f.message) for f in check(frame, spec)]


def test_good_data_passes():
    assert messages(pd.DataFrame({"age": [20, 30, 40], "city": ["Oslo", "Rome", None]})) == []


@pytest.mark.parametrize("frame, expected", [
    (pd.DataFrame({"age": [20, 30], "city": ["Oslo", "Rome"]}), ("minRows", "2 rows; at least 3 required")),
    (pd.DataFrame({"age": [20, 30, 12], "city": ["Oslo"] * 3}), ("rule adult", "1 values of 'age' are below 18 (smallest 12)")),
    (pd.DataFrame({"age": [20, 30, 40], "city": ["Oslo", "Paris", "Rome"]}),
     ("rule known-city", "column 'city' has values outside ['Oslo', 'Rome']: ['Paris']")),
    (pd.DataFrame({"age": [20, None, 40], "city": ["Oslo"] * 3}), ("column age", "column 'age' is not nullable but has 1 empty values")),
    (pd.DataFrame({"age": ["x", "y", "z"], "city": ["Oslo"] * 3}), ("column age", "column 'age': values are string, not integer")),
    (pd.DataFrame({"city": ["Oslo"] * 3}), ("column age", "column 'age' is missing")),
    (pd.DataFrame({"age": [20, 30, 40], "city": [None, None, "Oslo"]}),
     ("maxNullFraction", "column 'city' is 66.67% empty; at most 50.00% allowed")),
])
def test_failures_name_the_check_and_the_numbers(frame, expected):
    assert expected in messages(frame)


def test_the_report_fits_a_termination_message_even_with_many_columns():
    frame = pd.DataFrame(np.random.default_rng(0).random((50, 300)), columns=[f"feature_{i}" for i in range(300)])
    fields = result_fields(frame, {"schema": {"columns": [{"name": "feature_299", "type": "float"}]}}, "sha256:x")
    text = report(**fields, path="/dev/null")
    assert len(text.encode()) <= 4096
    assert "feature_299" in fields["stats"], "declared columns come first"
    assert fields["statsOmitted"] == 300 - len(fields["stats"]) > 0
    assert fields["passed"] is True and fields["metrics"] == {"rows": 50}


def test_report_writes_the_result_and_refuses_more_than_4_kib(tmp_path):
    target = tmp_path / "termination-log"
    report({"auc": 0.9, "loss": float("nan")}, artifact_uri="file:///m", digest="sha256:x", path=str(target))
    assert json.loads(target.read_text()) == {"metrics": {"auc": 0.9, "loss": None}, "artifactUri": "file:///m",
                                              "digest": "sha256:x"}
    with pytest.raises(ResultTooLarge, match="4096"):
        report({f"metric_{i}": 0.5 for i in range(400)}, path=str(target))


def test_digest_is_the_content_not_the_name(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n1\n")
    digest = lambda p: content_digest(*source_files(f"file://{p}", "csv"))  # noqa: E731
    assert digest(tmp_path / "a.csv") == digest(tmp_path / "b.csv")
    (tmp_path / "b.csv").write_text("x\n2\n")
    assert digest(tmp_path / "a.csv") != digest(tmp_path / "b.csv")
    assert digest(tmp_path).startswith("sha256:")


def test_splits_are_deterministic_and_disjoint():
    frame = pd.DataFrame({"i": range(100)})
    first = split_frame(frame, Splits(train=0.7, test=0.2, validation=0.1, seed=3).resolved())
    again = split_frame(frame, Splits(train=0.7, test=0.2, validation=0.1, seed=3).resolved())
    assert all(first[k].equals(again[k]) for k in first)
    assert [len(first[k]) for k in ("train", "test", "validation")] == [70, 20, 10]
    assert set(first["train"]["i"]).isdisjoint(first["test"]["i"])
