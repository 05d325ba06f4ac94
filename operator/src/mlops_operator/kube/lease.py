"""The leader-election Lease through the shared client: read it, and write it only if nobody else
wrote it since it was read (the resourceVersion precondition: optimistic concurrency, so two
candidates can never both succeed in writing themselves as holder)."""

from lightkube.core.exceptions import ApiError

from ..logic.leader import LeaseRecord
from .client import Kube, kube_error
from .resources import LEADER_ELECTION_LEASE


class LeaseStore:
    def __init__(self, kube: Kube, namespace: str, name: str):
        self._kube, self.namespace, self.name = kube, namespace, name

    async def read(self) -> tuple[LeaseRecord | None, str | None]:
        """The Lease's record and resourceVersion; (None, None) when there is no Lease."""
        try:
            found = await self._kube.client.get(LEADER_ELECTION_LEASE.model, self.name, namespace=self.namespace)
        except ApiError as error:
            if error.status.code == 404:
                return None, None
            raise kube_error(error) from None
        lease = found.to_dict()
        return LeaseRecord.from_spec(lease.get("spec") or {}), lease["metadata"]["resourceVersion"]

    async def write(self, record: LeaseRecord, resource_version: str | None) -> str | None:
        """Creates the Lease (resource_version None) or replaces the one of that resourceVersion.
        Returns the new resourceVersion, or None when another writer came first (409: it exists
        already, or changed since it was read)."""
        metadata = {"name": self.name, "namespace": self.namespace}
        if resource_version is not None:
            metadata["resourceVersion"] = resource_version
        manifest = {"apiVersion": LEADER_ELECTION_LEASE.api_version, "kind": LEADER_ELECTION_LEASE.kind,
                    "metadata": metadata, "spec": record.to_spec()}
        lease = LEADER_ELECTION_LEASE.model.from_dict(manifest)
        try:
            if resource_version is None:
                written = await self._kube.client.create(lease, namespace=self.namespace)
            else:
                written = await self._kube.client.replace(lease, namespace=self.namespace)
        except ApiError as error:
            if error.status.code == 409:
                return None
            raise kube_error(error) from None
        return written.to_dict()["metadata"]["resourceVersion"]
