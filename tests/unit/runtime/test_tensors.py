"""Open Inference Protocol tensors as parsed from a request body, without a server: what is refused and why."""

import json

import pytest

from mlops_operator.runtime.serving.tensors import BadRequest, parse_request


def body(**changes) -> bytes:
    tensor = {"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [1, 2, 3, 4.5, 4, 4], **changes}
    return json.dumps({"inputs": [tensor]}).encode()


@pytest.mark.parametrize("data, values", [
    ([1, 2, 3, 4.5, 4, 4], [1, 2, 3, 4.5, 4, 4]),
    ([[1, 2, 3], [4.5, 4, 4]], [1, 2, 3, 4.5, 4, 4]),
])
def test_data_is_flat_or_nested_as_its_shape(data, values):
    (tensor,) = parse_request(body(data=data)).inputs
    assert (tensor.shape, tensor.data) == ((2, 3), values)


NESTED_OTHERWISE = ("input 'x' has data nested otherwise than its shape [2, 3]; send it flat, in row-major order, "
                    "or nested as the shape")


@pytest.mark.parametrize("request_body, message", [
    (b'{"inputs": [', "the body is not JSON: Expecting value: line 1 column 13 (char 12)"),
    (b"\xff", "the body is not JSON: 'utf-8' codec can't decode byte 0xff"),
    (b"[" * 100_000, "the body is nested too deeply to read"),
    (body().replace(b"4.5", b"NaN"), "the body is not JSON: NaN is not a JSON value; a missing value is null"),
    (body().replace(b"4.5", b"-Infinity"), "the body is not JSON: -Infinity is not a JSON value"),
    (body(data=[[1, 2, 3, 4], [5, 6]]), NESTED_OTHERWISE),
    (body(data=[[1, 2, 3], 4, 5, 6]), NESTED_OTHERWISE),
    (body(data=[[[1, 2, 3]], [[4, 5, 6]]]), NESTED_OTHERWISE),
    (body(shape=[1], data=json.loads("[" * 500 + "1" + "]" * 500)),
     "input 'x' has data nested otherwise than its shape [1]"),
    (body(data=[1, 2, 3]), "input 'x' has shape [2, 3], which holds 6 values; its data has 3"),
    (body(shape=[10**12, 3]), "input 'x' has shape [1000000000000, 3], which holds 3000000000000 values; its data "
                              "has 6"),
    (body(shape=[2**63, 1]), 'input \'x\' needs a "shape": a list of sizes such as [3] or [3, 1], not '
                             '[9223372036854775808, 1]'),
    (body(shape=[-2, -3]), 'input \'x\' needs a "shape"'),
    (body(shape=[2, True]), 'input \'x\' needs a "shape"'),
    (body(shape=[1] * 33, data=[1]), "input 'x' has 33 dimensions; at most 32 are taken"),
])
def test_a_body_that_is_not_a_request_or_whose_tensors_do_not_add_up_is_refused(request_body, message):
    with pytest.raises(BadRequest) as refusal:
        parse_request(request_body)
    assert str(refusal.value).startswith(message)
