"""API calls on raw dicts through one shared lightkube client with a fixed field manager. Each
call says in its name what it writes: children are created and deleted, status is patched, Events
are posted; nothing here writes a user's spec."""

import json
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import httpx2
from lightkube import AsyncClient
from lightkube.config.client_adapter import AsyncClient as HttpClient
from lightkube.config.client_adapter import ConnectionParams
from lightkube.core.exceptions import ApiError
from lightkube.types import CascadeType, PatchType

from ..api.common import DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN
from ..labels import FIELD_MANAGER
from ..logic.plan import Event
from ..resources.meta import Meta, controller_uid, labels_lost
from .resources import resource

UNMERGEABLE_APPLY = "failed to create typed patch object"
EVENT_MESSAGE_LIMIT = 1024
READYZ_TIMEOUT_SECONDS = 3.0  # under the kubelet's probe timeout (5 s in the chart)


class KubeError(Exception):
    """An API call failed; `refused` when the server judged the request itself (400, 403, 422):
    retrying the same request cannot help."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def refused(self) -> bool:
        # Server-side apply answers a body it cannot merge (two list entries with the same key) with
        # a 500, though the same request fails the same way every time.
        return self.code in (400, 403, 422) or (self.code == 500 and self.message.startswith(UNMERGEABLE_APPLY))


# The API server (or the etcd behind it) could not serve just now: throttled, starting, stopping.
UNAVAILABLE_CODES = frozenset({429, 503, 504})


def unavailable(error: BaseException) -> bool:
    """Whether a call failed because the API server was unreachable or unable to serve, not for
    anything the call asked: the same call succeeds once it is back."""
    if isinstance(error, KubeError):
        return error.code in UNAVAILABLE_CODES
    return isinstance(error, httpx2.TransportError)


class Created(Enum):
    CREATED = "created"  # this call made it
    ADOPTED = "adopted"  # it existed already, controlled by the same owner (a retried create)


@dataclass(frozen=True)
class NameTaken(Exception):
    """The child's name belongs to an object another owner controls (or one being deleted)."""

    name: str
    holder: str | None

    def __str__(self) -> str:
        return f"{self.name} exists and is controlled by {self.holder or 'no owner of ours'}"


# Every name and namespace the adapter puts in a URL path: one path segment each, never '/', '..'
# or '%' (httpx resolves dot segments: GET .../namespaces/a/datasets/../../b/datasets/x would read
# namespace b). The API models refuse such names already; this is the last line, for status and
# anything else that reaches a call.
_NAMESPACE = re.compile(DNS_LABEL_PATTERN)
_NAME = re.compile(DNS_SUBDOMAIN_PATTERN)


class UnsafeName(ValueError):
    """A name or namespace that is not one object's: the call is not made."""


def checked(namespace: str, name: str | None = None) -> None:
    if not (_NAMESPACE.match(namespace) and len(namespace) <= 63):
        raise UnsafeName(f"namespace {namespace!r} is not a namespace name; no call made")
    if name is not None and not (_NAME.match(name) and len(name) <= 253):
        raise UnsafeName(f"{name!r} is not an object name (a DNS subdomain); no call made in namespace {namespace}")


def kube_error(error: ApiError) -> KubeError:
    """An ApiError in the adapter's terms (its code and the server's message)."""
    return KubeError(error.status.code or 0, error.status.message or str(error))


class Kube:
    def __init__(self, client: AsyncClient | None = None):
        self._client = client
        self._readyz_client: httpx2.AsyncClient | None = None

    @property
    def client(self) -> AsyncClient:
        """Created on first use, inside the operator's event loop (KUBECONFIG or in-cluster)."""
        if self._client is None:
            self._client = AsyncClient(field_manager=FIELD_MANAGER)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._readyz_client is not None:
            await self._readyz_client.aclose()
            self._readyz_client = None

    async def api_problem(self) -> str | None:
        """None when the API server answers GET /readyz with 200 (it serves, its etcd included);
        else what went wrong. lightkube reads resources only, so the path goes through an HTTP
        client of lightkube's own making, with the same server, credentials and CA, and a short
        timeout. /readyz is readable by anyone authenticated (system:public-info-viewer)."""
        if self._readyz_client is None:
            self._readyz_client = HttpClient(self.client.config,
                                             ConnectionParams(timeout=httpx2.Timeout(READYZ_TIMEOUT_SECONDS)))
        try:
            response = await self._readyz_client.get("/readyz")
        except httpx2.HTTPError as error:
            return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if response.status_code == 200:
            return None
        failed = [line for line in response.text.splitlines() if line.startswith("[-]")]
        return f"/readyz answered {response.status_code}" + (f": {', '.join(failed)}" if failed else "")

    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        checked(namespace, name)
        try:
            found = await self.client.get(resource(api_version, kind).model, name, namespace=namespace)
        except ApiError as error:
            if error.status.code == 404:
                return None
            raise kube_error(error) from None
        return _with_type(found.to_dict(), api_version, kind)

    async def list(self, api_version: str, kind: str, namespace: str, labels: dict[str, Any],
                   fields: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        checked(namespace)
        try:
            return [_with_type(item.to_dict(), api_version, kind) async for item in self.client.list(
                resource(api_version, kind).model, namespace=namespace, labels=labels, fields=fields)]
        except ApiError as error:
            raise kube_error(error) from None

    async def create_child(self, manifest: dict[str, Any]) -> Created:
        """Creates a child with a deterministic name. A 409 is success only when the existing object
        is controlled by the same owner UID (a create retried after a restart, or of a child whose
        labels were edited by hand, which hid it from its owner's list: they are applied back);
        else NameTaken."""
        target = resource(manifest["apiVersion"], manifest["kind"])
        meta = manifest["metadata"]
        checked(meta["namespace"], meta["name"])
        try:
            await self.client.create(target.model.from_dict(manifest), namespace=meta["namespace"])
            return Created.CREATED
        except ApiError as error:
            if error.status.code != 409:
                raise kube_error(error) from None
        existing = await self.get(manifest["apiVersion"], manifest["kind"], meta["namespace"], meta["name"])
        if existing and controller_uid(existing) == controller_uid(manifest) and not Meta.of(existing).deleting:
            if labels_lost(existing, manifest):
                await self.apply_child({"apiVersion": manifest["apiVersion"], "kind": manifest["kind"],
                                        "metadata": {k: meta[k] for k in ("name", "namespace", "labels")}})
            return Created.ADOPTED
        raise NameTaken(meta["name"], controller_uid(existing) if existing else None)

    async def apply_child(self, manifest: dict[str, Any]) -> None:
        """Server-side apply with the operator's field manager; forced, since the fields it sets are
        its own (an autoscaler's replicas are left out of the manifest, not fought over)."""
        target = resource(manifest["apiVersion"], manifest["kind"])
        checked(manifest["metadata"]["namespace"], manifest["metadata"]["name"])
        try:
            await self.client.apply(target.model.from_dict(manifest), field_manager=FIELD_MANAGER, force=True)
        except ApiError as error:
            raise kube_error(error) from None

    async def delete_child(self, api_version: str, kind: str, namespace: str, name: str) -> None:
        checked(namespace, name)
        try:
            await self.client.delete(resource(api_version, kind).model, name, namespace=namespace,
                                     cascade=CascadeType.BACKGROUND)
        except ApiError as error:
            if error.status.code != 404:
                raise kube_error(error) from None

    async def patch_status(self, owner: Meta, patch: dict[str, Any]) -> None:
        """A JSON merge patch of status through the status subresource."""
        checked(owner.namespace, owner.name)
        body = json.loads(json.dumps({"status": patch}, allow_nan=False))  # NaN cannot reach the server
        try:
            await self.client.patch(resource(owner.api_version, owner.kind).model.Status, owner.name, body,
                                    namespace=owner.namespace, patch_type=PatchType.MERGE)
        except ApiError as error:
            raise kube_error(error) from None

    async def post_event(self, regarding: Meta, event: Event) -> None:
        checked(regarding.namespace, regarding.name)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = event.message
        if len(message) > EVENT_MESSAGE_LIMIT:
            message = message[:EVENT_MESSAGE_LIMIT - 1] + "…"
        manifest = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": f"{regarding.name[:60].rstrip('.-')}.", "namespace": regarding.namespace},
            "involvedObject": {"apiVersion": regarding.api_version, "kind": regarding.kind, "name": regarding.name,
                               "namespace": regarding.namespace, "uid": regarding.uid},
            "type": event.type, "reason": event.reason, "message": message,
            "source": {"component": FIELD_MANAGER}, "reportingComponent": FIELD_MANAGER,
            "reportingInstance": socket.gethostname()[:128], "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        }
        try:
            await self.client.create(resource("v1", "Event").model.from_dict(manifest), namespace=regarding.namespace)
        except ApiError as error:
            raise kube_error(error) from None


def _with_type(obj: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    """Lists leave apiVersion and kind out of their items; the decisions read them."""
    obj.setdefault("apiVersion", api_version)
    obj.setdefault("kind", kind)
    return obj
