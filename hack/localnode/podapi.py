"""The API calls pod workers make, on the agent's client (the PodApi of context.py)."""

from __future__ import annotations

from typing import Any

from lightkube import AsyncClient
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import ConfigMap, Pod, Secret, ServiceAccount
from lightkube.types import PatchType

from . import podspec

TOKEN_SECONDS = 3600


class KubePodApi:
    def __init__(self, client: AsyncClient):
        self.client = client

    async def patch_pod_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        await self.client.patch(Pod.Status, name, {"status": status}, namespace=namespace,
                                patch_type=PatchType.STRATEGIC)

    async def referenced_objects(self, pod: dict[str, Any]) -> podspec.ReferencedObjects:
        namespace = pod["metadata"]["namespace"]
        config_map_names, secret_names = podspec.referenced_names(pod)
        config_maps = await self._existing(ConfigMap, namespace, config_map_names, podspec.config_map_data)
        secrets = await self._existing(Secret, namespace, secret_names, podspec.secret_data)
        token = ""
        projection = podspec.needs_service_account_token(pod)
        if projection is not None:
            token = await self._token(pod, projection)
        return podspec.ReferencedObjects(config_maps, secrets, token)

    async def _existing(self, resource, namespace: str, names: set[str], decode) -> dict[str, dict[str, bytes]]:
        """The decoded data of those of the named objects that exist (a missing one is the pod's
        problem, reported when a container needs it)."""
        found = {}
        for name in names:
            try:
                found[name] = decode((await self.client.get(resource, name, namespace=namespace)).to_dict())
            except ApiError as error:
                if error.status.code != 404:
                    raise
        return found

    async def _token(self, pod: dict[str, Any], projection: dict[str, Any]) -> str:
        meta = pod["metadata"]
        request = {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "metadata": {"name": pod["spec"].get("serviceAccountName", "default"), "namespace": meta["namespace"]},
            "spec": {
                "audiences": [projection["audience"]] if projection.get("audience") else [],
                "expirationSeconds": projection.get("expirationSeconds", TOKEN_SECONDS),
                "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]},
            },
        }
        response = await self.client.create(ServiceAccount.Token.from_dict(request),
                                            pod["spec"].get("serviceAccountName", "default"),
                                            namespace=meta["namespace"])
        return response.status.token
