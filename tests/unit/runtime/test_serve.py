"""The built-in model server on real scikit-learn and ONNX models: the Open Inference Protocol v2's endpoints,
refusals, metrics, readiness and shutdown, in-process and as `python -m mlops_operator.runtime.serve`."""

import asyncio
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import joblib
import numpy as np
import pandas as pd
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from skl2onnx import to_onnx
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from support import free_port, wait_for

import mlops_operator
from mlops_operator.runtime.models import Model, Predictions
from mlops_operator.runtime.serve import main, serve
from mlops_operator.runtime.serving import server as server_module
from mlops_operator.runtime.serving.app import build_app
from mlops_operator.runtime.serving.config import ServerConfig, Signature
from mlops_operator.runtime.serving.metrics import ServerMetrics
from mlops_operator.runtime.serving.server import ModelServer

SOURCE = str(Path(mlops_operator.__file__).resolve().parents[1])
NAME, VERSION = "churn", "3"
PEOPLE = pd.DataFrame({
    "age": [23.0, 35.0, 47.0, 52.0, 61.0, 19.0, 33.0, 70.0],
    "visits": [1, 5, 2, 8, 3, 0, 7, 4],
    "member": [False, True, False, True, True, False, True, False],
    "city": ["Oslo", "Rome", "Oslo", "Rome", "Oslo", "Rome", "Oslo", "Rome"],
    "churned": [0, 1, 0, 1, 1, 0, 1, 0],
})
SIGNATURE = {"inputs": [
    {"name": "age", "datatype": "FP64", "nullable": True, "min": 18.0, "max": 99.0},
    {"name": "visits", "datatype": "INT64", "nullable": False, "min": 0, "max": 10},
    {"name": "member", "datatype": "BOOL", "nullable": False},
    {"name": "city", "datatype": "BYTES", "nullable": False, "allowedValues": ["Oslo", "Rome"]},
], "target": "churned"}
MATRIX = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 1.0], [3.0, 1.0, 2.0], [4.0, 4.0, 4.0], [5.0, 1.0, 1.0],
                   [6.0, 2.0, 2.0]])
MATRIX_LABELS = [0, 0, 1, 1, 0, 1]
MATRIX_REQUEST = {"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [1, 2, 3, 4.5, 4, 4]}]}


def asynchronous(test):
    """Runs an async test on a loop of its own (pytest-asyncio is not installed)."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))
    return run


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """people.joblib: a pipeline on PEOPLE's columns; matrix.*: models of a plain 3-column array."""
    folder = tmp_path_factory.mktemp("models")
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["city"]), (SimpleImputer(), ["age"]),
                                     remainder="passthrough")
    features = PEOPLE.drop(columns=["churned"])
    joblib.dump(make_pipeline(encode, LogisticRegression()).fit(features, PEOPLE["churned"]),
                folder / "people.joblib")
    classifier = LogisticRegression().fit(MATRIX, MATRIX_LABELS)
    joblib.dump(classifier, folder / "matrix.joblib")
    joblib.dump(Ridge().fit(MATRIX, MATRIX[:, 0] * 2), folder / "matrix-regressor.joblib")
    sample = MATRIX[:1].astype(np.float32)
    (folder / "matrix.onnx").write_bytes(to_onnx(classifier, sample).SerializeToString())
    (folder / "matrix-nozipmap.onnx").write_bytes(
        to_onnx(classifier, sample, options={"zipmap": False}).SerializeToString())
    return folder


def config(artifact: Path, model_format: str = "sklearn", signature=None, **settings) -> ServerConfig:
    return ServerConfig(model_uri=f"file://{artifact}", model_format=model_format, model_name=NAME,
                        model_version=VERSION, signature=Signature.model_validate(signature) if signature else None,
                        **settings)


@asynccontextmanager
async def serving(settings: ServerConfig, load: bool = True):
    server = ModelServer(settings)
    if load:
        await server.load()
    async with TestClient(TestServer(build_app(server))) as client:
        yield server, client


def column(name, data, datatype, shape=None):
    return {"name": name, "shape": shape or [len(data)], "datatype": datatype, "data": data}


def people(**changes):
    """A two-row request to the people model, with inputs replaced or (None) left out."""
    inputs = {"age": column("age", [30.0, 64.0], "FP64"), "visits": column("visits", [2, 6], "INT64"),
              "member": column("member", [False, True], "BOOL"), "city": column("city", ["Oslo", "Rome"], "BYTES")}
    inputs.update(changes)
    return {"inputs": [tensor for tensor in inputs.values() if tensor is not None]}


async def answer(client, method, path, **request):
    response = await client.request(method, path, **request)
    return response.status, await response.json()


async def metrics(client) -> dict[str, dict[tuple[str, ...], float]]:
    """Each metric's samples by their labels other than model and version (which must be this server's)."""
    response = await client.get("/metrics")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
    found: dict[str, dict[tuple[str, ...], float]] = defaultdict(dict)  # a metric with no samples has no lines
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            labels = dict(sample.labels)
            assert (labels.pop("model"), labels.pop("version")) == (NAME, VERSION)
            found[sample.name][tuple(labels.values())] = sample.value
    return found


# --- protocol conformance -------------------------------------------------------------------------------------


@asynchronous
async def test_server_metadata_and_liveness(artifacts):
    async with serving(config(artifacts / "matrix.joblib")) as (_, client):
        status, document = await answer(client, "GET", "/v2")
        assert status == 200 and document == {"name": "mlops-operator", "version": document["version"],
                                              "extensions": []}
        assert isinstance(document["version"], str) and document["version"]
        assert await answer(client, "GET", "/v2/health/live") == (200, {"live": True})
        assert await answer(client, "GET", "/v2/health/ready") == (200, {"ready": True})


@asynchronous
async def test_model_metadata_lists_the_signature_inputs(artifacts):
    async with serving(config(artifacts / "people.joblib", signature=SIGNATURE)) as (_, client):
        expected = {"name": NAME, "versions": [VERSION], "platform": "sklearn",
                    "inputs": [{"name": "age", "datatype": "FP64", "shape": [-1]},
                               {"name": "visits", "datatype": "INT64", "shape": [-1]},
                               {"name": "member", "datatype": "BOOL", "shape": [-1]},
                               {"name": "city", "datatype": "BYTES", "shape": [-1]}],
                    "outputs": [{"name": "predict", "datatype": "INT64", "shape": [-1]},
                                {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]}]}
        assert await answer(client, "GET", f"/v2/models/{NAME}") == (200, expected)
        assert await answer(client, "GET", f"/v2/models/{NAME}/versions/{VERSION}") == (200, expected)
        assert await answer(client, "GET", f"/v2/models/{NAME}/ready") == (200, {"name": NAME, "ready": True})
        assert await answer(client, "GET", f"/v2/models/{NAME}/versions/{VERSION}/ready") == (
            200, {"name": NAME, "ready": True})


@pytest.mark.parametrize("artifact, model_format, input_datatype, outputs", [
    ("matrix.joblib", "sklearn", "FP64", [{"name": "predict", "datatype": "INT64", "shape": [-1]},
                                          {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]}]),
    ("matrix-regressor.joblib", "sklearn", "FP64", [{"name": "predict", "datatype": "FP64", "shape": [-1]}]),
    ("matrix-nozipmap.onnx", "onnx", "FP32", [{"name": "predict", "datatype": "INT64", "shape": [-1]},
                                              {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]}]),
    # A ZipMap's maps do not say how many classes there are.
    ("matrix.onnx", "onnx", "FP32", [{"name": "predict", "datatype": "INT64", "shape": [-1]},
                                     {"name": "predict_proba", "datatype": "FP64", "shape": [-1, -1]}]),
])
@asynchronous
async def test_model_metadata_without_a_signature_is_one_matrix(artifacts, artifact, model_format, input_datatype,
                                                                outputs):
    async with serving(config(artifacts / artifact, model_format)) as (_, client):
        assert await answer(client, "GET", f"/v2/models/{NAME}") == (200, {
            "name": NAME, "versions": [VERSION], "platform": model_format,
            "inputs": [{"name": "input", "datatype": input_datatype, "shape": [-1, 3]}], "outputs": outputs})


@asynchronous
async def test_infer_with_a_signature_predicts_like_the_model(artifacts):
    model = joblib.load(artifacts / "people.joblib")
    rows = pd.DataFrame({"age": [30.0, 64.0], "visits": [2, 6], "member": [False, True], "city": ["Oslo", "Rome"]})
    async with serving(config(artifacts / "people.joblib", signature=SIGNATURE)) as (_, client):
        request = people(visits=column("visits", [[2], [6]], "INT64", [2, 1]))  # [N, 1], nested, is one column too
        status, document = await answer(client, "POST", f"/v2/models/{NAME}/infer", json={"id": "42", **request})
    assert status == 200
    assert document == {"model_name": NAME, "model_version": VERSION, "id": "42", "outputs": [
        {"name": "predict", "shape": [2], "datatype": "INT64", "data": model.predict(rows).tolist()},
        {"name": "predict_proba", "shape": [2, 2], "datatype": "FP64",
         "data": model.predict_proba(rows).ravel().tolist()}]}


@asynchronous
async def test_infer_gives_the_outputs_asked_for_and_an_id_when_none_was_sent(artifacts):
    async with serving(config(artifacts / "people.joblib", signature=SIGNATURE)) as (_, client):
        path = f"/v2/models/{NAME}/versions/{VERSION}/infer"
        status, document = await answer(client, "POST", path, json={**people(), "outputs": [{"name": "predict_proba"}]})
    assert status == 200 and [output["name"] for output in document["outputs"]] == ["predict_proba"]
    assert isinstance(document["id"], str) and len(document["id"]) == 36


@asynchronous
async def test_a_null_in_a_nullable_column_reaches_the_model(artifacts):
    async with serving(config(artifacts / "people.joblib", signature=SIGNATURE)) as (_, client):
        status, document = await answer(client, "POST", f"/v2/models/{NAME}/infer",
                                         json=people(age=column("age", [None, 64.0], "FP64")))
        assert status == 200 and document["outputs"][0]["shape"] == [2]
        assert (await metrics(client))["mlops_server_schema_violations_total"] == {}


@pytest.mark.parametrize("artifact, model_format", [("matrix.joblib", "sklearn"), ("matrix.onnx", "onnx"),
                                                    ("matrix-nozipmap.onnx", "onnx")])
@asynchronous
async def test_infer_without_a_signature_takes_one_matrix_flat_or_nested(artifacts, artifact, model_format):
    model = joblib.load(artifacts / "matrix.joblib")
    rows = np.array([[1, 2, 3], [4.5, 4, 4]])
    nested = {"inputs": [{**MATRIX_REQUEST["inputs"][0], "data": rows.tolist()}]}
    async with serving(config(artifacts / artifact, model_format)) as (_, client):
        for request in (MATRIX_REQUEST, nested):
            status, document = await answer(client, "POST", f"/v2/models/{NAME}/infer", json=request)
            assert status == 200
            predict, probabilities = document["outputs"]
            assert predict == {"name": "predict", "shape": [2], "datatype": "INT64",
                               "data": model.predict(rows).tolist()}
            assert (probabilities["name"], probabilities["shape"], probabilities["datatype"]) == (
                "predict_proba", [2, 2], "FP64")
            assert probabilities["data"] == pytest.approx(model.predict_proba(rows).ravel().tolist(), abs=1e-6)


# --- refusals -------------------------------------------------------------------------------------------------

INPUTS = "(age, visits, member, city)"


@pytest.mark.parametrize("body, message, violations", [
    (b"{not json", "the body is not JSON: Expecting property name", {}),
    ({"id": "1"}, 'the body needs "inputs": a list of tensors {"name", "shape", "datatype", "data"}', {}),
    ({"inputs": [{"shape": [1], "datatype": "FP64", "data": [1]}]}, 'inputs[0] needs a "name"', {}),
    ({"inputs": [{"name": "age", "shape": "2", "datatype": "FP64", "data": [1, 2]}]},
     "input 'age' needs a \"shape\": a list of sizes such as [3] or [3, 1], not \"2\"", {}),
    ({"id": 7, **people()}, '"id" must be a string, not 7', {}),
    ({**people(), "outputs": [{"name": "explain"}]}, "output 'explain' is not one the model gives "
                                                      "(predict, predict_proba)", {}),
    (people(age=column("age", [30.0, 64.0], "FP64", [3])),
     "input 'age' has shape [3], which holds 3 values; its data has 2", {}),
    ({"inputs": people()["inputs"] + [column("age", [1.0, 2.0], "FP64")]}, "input 'age' is sent more than once", {}),
    (people(colour=column("colour", ["red", "blue"], "BYTES")),
     f"input 'colour' is not one of the model's inputs {INPUTS}", {("colour", "unknown"): 1}),
    (people(city=None), f"input 'city' is missing; the model takes {INPUTS[1:-1]}", {("city", "missing"): 1}),
    (people(visits=column("visits", [2, None], "INT64")), "input 'visits' holds 1 nulls; it is not nullable",
     {("visits", "missing"): 1}),
    (people(age=column("age", [30.0, 64.0], "FP32")), "input 'age' has datatype FP32; the model takes FP64",
     {("age", "type"): 1}),
    (people(age=column("age", [30.0, "old"], "FP64")),
     "input 'age' holds \"old\" at position 1, which is not FP64", {("age", "type"): 1}),
    (people(visits=column("visits", [2, 6.5], "INT64")), "input 'visits' holds 6.5 at position 1, which is not INT64",
     {("visits", "type"): 1}),
    (people(visits=column("visits", [2, 2**63], "INT64")),
     f"input 'visits' holds {2**63} at position 1, which is not INT64", {("visits", "type"): 1}),
    (people(member=column("member", [0, 1], "BOOL")), "input 'member' holds 0 at position 0, which is not BOOL",
     {("member", "type"): 1}),
    (people(age=column("age", [30.0, 64.0, 12.0], "FP64")),
     "inputs have different lengths (age 3, visits 2, member 2, city 2); each is one column of the same N rows",
     {("age", "range"): 1}),  # 12 is below the training data's minimum: drift, counted even in a refused request
    (people(age=column("age", [30.0, 64.0], "FP64", [1, 2])),
     "input 'age' has shape [1, 2]; each input is one column: [N] or [N, 1]", {}),
    ({"inputs": [column(name, [], datatype) for name, datatype in
                 (("age", "FP64"), ("visits", "INT64"), ("member", "BOOL"), ("city", "BYTES"))]},
     "the inputs hold no rows", {}),
    (people(colour=column("colour", ["red"], "BYTES"), city=None, age=column("age", [1.0, 2.0], "FP32")),
     "input 'age' has datatype FP32; the model takes FP64; input 'colour' is not one of the model's inputs "
     f"{INPUTS}; input 'city' is missing", {("age", "type"): 1, ("colour", "unknown"): 1, ("city", "missing"): 1}),
])
@asynchronous
async def test_a_request_that_breaks_the_protocol_or_the_schema_is_refused_and_counted(artifacts, body, message,
                                                                                        violations):
    async with serving(config(artifacts / "people.joblib", signature=SIGNATURE)) as (_, client):
        request = {"data": body, "headers": {"Content-Type": "application/json"}} if isinstance(body, bytes) else {
            "json": body}
        status, document = await answer(client, "POST", f"/v2/models/{NAME}/infer", **request)
        assert (status, list(document)) == (400, ["error"])
        assert message in document["error"]
        found = await metrics(client)
    assert found["mlops_server_requests_total"] == {("success",): 0, ("bad_request",): 1, ("error",): 0}
    assert found["mlops_server_schema_violations_total"] == {key: float(n) for key, n in violations.items()}


@pytest.mark.parametrize("body, message", [
    ({"inputs": [MATRIX_REQUEST["inputs"][0], {**MATRIX_REQUEST["inputs"][0], "name": "y"}]},
     "the model takes one input, a [N, 3] tensor; the request has 2"),
    ({"inputs": [{**MATRIX_REQUEST["inputs"][0], "datatype": "BYTES"}]}, "input 'x' has datatype BYTES; the model "
                                                                         "takes numbers (FP16, FP32, FP64, INT8"),
    ({"inputs": [{**MATRIX_REQUEST["inputs"][0], "shape": [6]}]}, "input 'x' has shape [6]; the model takes [N, 3]"),
    ({"inputs": [{**MATRIX_REQUEST["inputs"][0], "data": [1, 2, 3, None, 4, 4]}]},
     "input 'x' holds null at position 3, which is not FP64"),
])
@asynchronous
async def test_without_a_signature_anything_but_one_matrix_of_numbers_is_refused(artifacts, body, message):
    async with serving(config(artifacts / "matrix.joblib")) as (_, client):
        status, document = await answer(client, "POST", f"/v2/models/{NAME}/infer", json=body)
    assert (status, list(document)) == (400, ["error"]) and message in document["error"]


NO_MODEL = f"no model 'other' here; this server serves '{NAME}'"
NO_VERSION = f"model '{NAME}' has no version '2' here; this server serves version '{VERSION}'"


@pytest.mark.parametrize("method, path, message", [
    ("GET", "/v2/models/other", NO_MODEL), ("GET", "/v2/models/other/ready", NO_MODEL),
    ("POST", "/v2/models/other/infer", NO_MODEL),
    ("GET", f"/v2/models/{NAME}/versions/2", NO_VERSION), ("GET", f"/v2/models/{NAME}/versions/2/ready", NO_VERSION),
    ("POST", f"/v2/models/{NAME}/versions/2/infer", NO_VERSION),
    ("GET", "/v2/nothing", "404: Not Found"),
])
@asynchronous
async def test_an_unknown_model_version_or_path_is_404_with_an_error(artifacts, method, path, message):
    async with serving(config(artifacts / "matrix.joblib")) as (_, client):
        assert await answer(client, method, path, json=MATRIX_REQUEST) == (404, {"error": message})
        assert sum((await metrics(client))["mlops_server_requests_total"].values()) == 0  # not an answer of the model


FOUR_COLUMNS = {"inputs": [{"name": name, "datatype": "FP64"} for name in ("a", "b", "c", "d")]}


@asynchronous
async def test_a_model_that_fails_on_the_columns_it_gets_is_a_500_with_its_message(artifacts):
    request_body = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]}
    async with serving(config(artifacts / "matrix.joblib")) as (_, client):
        status, document = await answer(client, "POST", f"/v2/models/{NAME}/infer", json=request_body)
        assert (status, list(document)) == (500, ["error"])
        assert document["error"].startswith("the model failed: ValueError: ") and "4 features" in document["error"]
        assert (await metrics(client))["mlops_server_requests_total"] == {
            ("success",): 0, ("bad_request",): 0, ("error",): 1}


# --- metrics --------------------------------------------------------------------------------------------------


@asynchronous
async def test_metrics_count_outcomes_latency_and_drift_by_input(artifacts, promtool):
    async with serving(config(artifacts / "people.joblib", signature=SIGNATURE)) as (_, client):
        drifted = people(age=column("age", [30.0, 120.0], "FP64"), visits=column("visits", [-1, 2], "INT64"),
                         city=column("city", ["Oslo", "Paris"], "BYTES"))
        for request in (people(), drifted, drifted, people(member=column("member", ["yes", "no"], "BYTES"))):
            await client.post(f"/v2/models/{NAME}/infer", json=request)
        found = await metrics(client)
        exposition = await (await client.get("/metrics")).read()
    lint = subprocess.run([str(promtool), "check", "metrics"], input=exposition, capture_output=True)
    assert lint.returncode == 0, lint.stdout.decode() + lint.stderr.decode()
    assert found["mlops_server_requests_total"] == {("success",): 3, ("bad_request",): 1, ("error",): 0}
    assert found["mlops_server_request_duration_seconds_count"] == {(): 4}
    assert found["mlops_server_request_duration_seconds_sum"][()] > 0
    # Out of range is drift: counted, and the request is still answered.
    assert found["mlops_server_schema_violations_total"] == {
        ("age", "range"): 2, ("visits", "range"): 2, ("city", "range"): 2, ("member", "type"): 1}
    assert found["mlops_server_model_ready"] == {(): 1}


def test_unknown_input_names_are_bounded_as_labels():
    server_metrics = ServerMetrics(NAME, VERSION)
    for number in range(25):
        server_metrics.violation(f"made-up-{number}", "unknown")
    server_metrics.violation("x" * 500, "type")
    labels = [dict(sample.labels) for family in text_string_to_metric_families(
        server_metrics.exposition("")[0].decode()) for sample in family.samples
        if sample.name == "mlops_server_schema_violations_total"]
    unknown = {label["input"]: label for label in labels if label["kind"] == "unknown"}
    assert len(unknown) == 21 and "(other)" in unknown and "made-up-19" in unknown and "made-up-20" not in unknown
    assert [label["input"] for label in labels if label["kind"] == "type"] == ["x" * 500]


# --- readiness and shutdown -----------------------------------------------------------------------------------


@asynchronous
async def test_ready_only_once_loaded_and_until_draining_while_requests_are_still_answered(artifacts):
    async with serving(config(artifacts / "matrix.joblib"), load=False) as (server, client):
        infer = f"/v2/models/{NAME}/infer"
        assert await answer(client, "GET", "/v2/health/ready") == (503, {"ready": False})
        assert await answer(client, "GET", f"/v2/models/{NAME}/ready") == (503, {"name": NAME, "ready": False})
        assert await answer(client, "POST", infer, json=MATRIX_REQUEST) == (503, {"error": "the model is still loading"})
        assert await answer(client, "GET", f"/v2/models/{NAME}") == (503, {"error": "the model is still loading"})
        assert await answer(client, "GET", "/v2/health/live") == (200, {"live": True})
        assert (await metrics(client))["mlops_server_model_ready"] == {(): 0}

        await server.load()
        assert await answer(client, "GET", "/v2/health/ready") == (200, {"ready": True})
        assert (await metrics(client))["mlops_server_model_ready"] == {(): 1}

        server.begin_drain()  # what SIGTERM does
        assert await answer(client, "GET", "/v2/health/ready") == (503, {"ready": False})
        assert await answer(client, "GET", f"/v2/models/{NAME}/ready") == (503, {"name": NAME, "ready": False})
        status, _ = await answer(client, "POST", infer, json=MATRIX_REQUEST)
        assert status == 200
        found = await metrics(client)
        assert found["mlops_server_model_ready"] == {(): 0}
        assert found["mlops_server_requests_total"][("success",)] == 1  # the 503s while loading are not counted


def blocking_model(entered: threading.Event, release: threading.Event) -> Model:
    def predict(features):
        entered.set()
        release.wait(30)
        return Predictions(np.zeros(len(features), dtype=np.int64), True)
    return Model(predict, input_type=np.dtype(np.float64), features=3, feature_names=None,
                 label_type=np.dtype(np.int64), probabilities=False, classes=None)


async def status_of(session: aiohttp.ClientSession, url: str) -> int | None:
    """The response's status; None when nothing listens."""
    try:
        async with session.get(url) as response:
            return response.status
    except aiohttp.ClientConnectionError:
        return None


async def poll(probe, wanted, what: str, timeout: float = 30) -> None:
    """Polls until probe() gives wanted: a server started by serve() signals nothing to await."""
    deadline = time.monotonic() + timeout
    while await probe() != wanted:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


@asynchronous
async def test_shutdown_stops_listening_and_finishes_the_requests_under_way(monkeypatch, tmp_path):
    entered, release = threading.Event(), threading.Event()
    monkeypatch.setattr(server_module, "load_model", lambda uri, model_format: blocking_model(entered, release))
    port = free_port()
    server = ModelServer(config(tmp_path / "model.joblib", address="127.0.0.1", port=port, drain_seconds=0))
    running = asyncio.create_task(serve(server))
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as under_way, aiohttp.ClientSession() as probes:
        await poll(lambda: status_of(probes, f"{base}/v2/health/ready"), 200, "readiness")
        request = asyncio.create_task(under_way.post(f"{base}/v2/models/{NAME}/infer", json=MATRIX_REQUEST))
        await asyncio.to_thread(entered.wait, 30)

        server.begin_drain()
        await poll(lambda: status_of(probes, f"{base}/v2/health/live"), None, "the server to stop listening")
        assert not running.done()  # it waits for the request under way

        release.set()
        response = await request
        assert response.status == 200 and (await response.json())["outputs"][0]["data"] == [0, 0]
        assert await running == 0


@asynchronous
async def test_an_address_it_cannot_listen_on_is_reported(monkeypatch, tmp_path, artifacts):
    monkeypatch.setenv("MLOPS_RESULT_PATH", str(tmp_path / "termination-log"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = await serve(ModelServer(config(artifacts / "matrix.joblib", port=port)))
    assert code == 1
    error = json.loads((tmp_path / "termination-log").read_text())["error"]
    assert error.startswith(f"cannot listen on 127.0.0.1:{port}: ")


def test_settings_it_cannot_use_are_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("MLOPS_RESULT_PATH", str(tmp_path / "termination-log"))
    monkeypatch.setenv("MLOPS_MODEL_URI", "file:///models/churn.joblib")
    monkeypatch.setenv("MLOPS_MODEL_FORMAT", "sklearn")
    monkeypatch.delenv("MLOPS_MODEL_NAME", raising=False)
    monkeypatch.delenv("MLOPS_MODEL_VERSION", raising=False)
    assert main() == 1
    assert json.loads((tmp_path / "termination-log").read_text()) == {
        "error": "cannot serve: MLOPS_MODEL_NAME, MLOPS_MODEL_VERSION must be set"}


# --- as the pod runs it ---------------------------------------------------------------------------------------


def start(tmp_path: Path, artifact: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SOURCE, "MLOPS_RESULT_PATH": str(tmp_path / "termination-log"),
           "MLOPS_MODEL_URI": f"file://{artifact}", "MLOPS_MODEL_FORMAT": "sklearn", "MLOPS_MODEL_NAME": NAME,
           "MLOPS_MODEL_VERSION": VERSION, "MLOPS_SERVING_SIGNATURE": json.dumps(SIGNATURE),
           "MLOPS_SERVER_ADDRESS": "127.0.0.1", "MLOPS_SERVER_PORT": str(port), "MLOPS_DRAIN_SECONDS": "0.2"}
    with open(tmp_path / "server.log", "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "mlops_operator.runtime.serve"], env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def ready(process: subprocess.Popen, base: str) -> bool:
    assert process.poll() is None, f"the server exited with {process.returncode}"
    try:
        with urllib.request.urlopen(f"{base}/v2/health/ready", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError):  # not listening yet, or 503
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_server_process_serves_until_a_signal_then_exits_0(tmp_path, artifacts, signum):
    port = free_port()
    process = start(tmp_path, artifacts / "people.joblib", port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: ready(process, base), 60, "the server to be ready")
        infer = urllib.request.Request(f"{base}/v2/models/{NAME}/infer", data=json.dumps(people()).encode(),
                                       headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(infer, timeout=10) as response:
            assert response.status == 200 and json.load(response)["outputs"][0]["shape"] == [2]
        process.send_signal(signum)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = (tmp_path / "server.log").read_text()
    assert f"serving {NAME} version {VERSION} on http://127.0.0.1:{port}" in log and "draining" in log


def test_the_server_process_exits_1_with_the_error_when_the_model_does_not_load(tmp_path):
    missing = tmp_path / "missing.joblib"
    process = start(tmp_path, missing, free_port())
    try:
        assert process.wait(60) == 1
    finally:
        if process.poll() is None:
            process.kill()
    error = json.loads((tmp_path / "termination-log").read_text())["error"]
    assert error.startswith(f"cannot serve: cannot load file://{missing} as sklearn: FileNotFoundError")
    assert error in (tmp_path / "server.log").read_text()
