"""The operator's own API calls, on raw dicts: one shared lightkube client and fixed field manager."""

from typing import Any

from lightkube import AsyncClient
from lightkube.core.exceptions import ApiError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod
from lightkube.types import CascadeType, PatchType

from ..api.common import GROUP, VERSION
from ..api.kinds import DATASET, EXPERIMENT

FIELD_MANAGER = "mlops-operator"
Dataset = create_namespaced_resource(GROUP, VERSION, DATASET.kind, DATASET.plural)
Experiment = create_namespaced_resource(GROUP, VERSION, EXPERIMENT.kind, EXPERIMENT.plural)
RESOURCES = {"Job": Job, "Pod": Pod, "Dataset": Dataset, "Experiment": Experiment}

_client: AsyncClient | None = None


def client() -> AsyncClient:
    """Created on first use, inside the operator's event loop (KUBECONFIG or in-cluster)."""
    global _client
    if _client is None:
        _client = AsyncClient(field_manager=FIELD_MANAGER)
    return _client


async def close() -> None:
    global _client
    if _client is not None:
        await _client.close()
        _client = None


async def get(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        return (await client().get(RESOURCES[kind], name, namespace=namespace)).to_dict()
    except ApiError as error:
        if error.status.code == 404:
            return None
        raise


async def list_labelled(kind: str, namespace: str, selector: dict[str, str]) -> list[dict[str, Any]]:
    return [item.to_dict() async for item in client().list(RESOURCES[kind], namespace=namespace, labels=selector)]


async def create(obj: dict[str, Any]) -> bool:
    """Creates a child with a deterministic name; False when it exists already (409 is success)."""
    try:
        await client().create(RESOURCES[obj["kind"]].from_dict(obj), namespace=obj["metadata"]["namespace"])
        return True
    except ApiError as error:
        if error.status.code == 409:
            return False
        raise


async def delete(kind: str, namespace: str, name: str) -> None:
    try:
        await client().delete(RESOURCES[kind], name, namespace=namespace, cascade=CascadeType.BACKGROUND)
    except ApiError as error:
        if error.status.code != 404:
            raise


async def patch_status(kind: str, namespace: str, name: str, status: dict[str, Any]) -> None:
    await client().patch(RESOURCES[kind].Status, name, {"status": status}, namespace=namespace,
                         patch_type=PatchType.MERGE)


async def annotate(kind: str, namespace: str, name: str, annotations: dict[str, str]) -> None:
    await client().patch(RESOURCES[kind], name, {"metadata": {"annotations": annotations}}, namespace=namespace,
                         patch_type=PatchType.MERGE)
