"""The adapter puts a namespace and a name in each URL path as one segment each, or makes no call:
httpx resolves dot segments, so .../namespaces/a/datasets/../../b/datasets/x would read namespace b."""

import asyncio

import pytest

from mlops_operator.kube.client import Kube, UnsafeName, checked


@pytest.mark.parametrize("namespace, name", [("team-a", "churn"), ("a", "churn.v2-7"), ("a", None), ("a", "a" * 253)])
def test_names_of_objects_pass(namespace, name):
    checked(namespace, name)


@pytest.mark.parametrize("namespace, name", [
    ("team-a", "../../team-b/datasets/churn"), ("team-a", "team-b/churn"), ("team-a", ".."), ("team-a", "."),
    ("team-a", "churn%2F.."), ("team-a", "Churn"), ("team-a", ""), ("team-a", "a" * 254),
    ("team-a/../team-b", "churn"), ("..", None), ("", None), ("Team-A", None), ("a.b", None), ("a" * 64, None),
])
def test_anything_else_is_refused_before_a_call(namespace, name):
    with pytest.raises(UnsafeName):
        checked(namespace, name)


def test_a_read_with_a_path_in_its_name_makes_no_call():
    class NoClient:
        def __getattr__(self, name):
            raise AssertionError(f"the client was called: {name}")

    with pytest.raises(UnsafeName, match="no call made"):
        asyncio.run(Kube(NoClient()).get("mlops.dev/v1alpha1", "Dataset", "team-a", "../../team-b/datasets/churn"))
