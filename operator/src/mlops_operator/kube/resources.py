"""Every resource the operator calls, keyed by (apiVersion, kind), with the verbs it uses: the
table the adapter serves and the RBAC the operator needs are the same list."""

from dataclasses import dataclass

from lightkube.core.resource import NamespacedResource
from lightkube.generic_resource import create_namespaced_resource

from ..api.common import API_VERSION, GROUP, VERSION
from ..api.kinds import KINDS

MLOPS_API_VERSION = API_VERSION


@dataclass(frozen=True)
class KubeResource:
    api_version: str
    kind: str
    plural: str
    model: type[NamespacedResource]
    verbs: tuple[str, ...]  # on the resource
    status_verbs: tuple[str, ...] = ()  # on its status subresource
    finalizers_verbs: tuple[str, ...] = ()  # on its finalizers subresource

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]


def _generic(group: str, version: str, kind: str, plural: str) -> type[NamespacedResource]:
    """Objects stay plain dicts both ways: no typed model checks a manifest before the API server
    does (its refusal, in its words, is what status must show), and no conversion costs CPU."""
    return create_namespaced_resource(group, version, kind, plural)


# Beyond reading and watching them: what the operator does to its own kinds. patch: kopf removes the
# finalizer earlier versions added (the operator itself patches status only); create: an
# Experiment's registerModel makes Model versions.
OWN_KIND_WRITES = {"Model": ("patch", "create")}
# A server-side apply: patch, and create for the apply that makes the object.
APPLY = ("patch", "create")
# Every child's owner reference sets blockOwnerDeletion, which the OwnerReferencesPermissionEnforcement
# admission plugin (on in OpenShift and in the local cluster) allows only to who may update the
# owner's finalizers. The operator never writes a finalizer: this verb is only that check's.
OWNER_FINALIZERS = ("update",)


def _ours(kind: str, plural: str) -> KubeResource:
    model = _generic(GROUP, VERSION, kind, plural)
    writes = OWN_KIND_WRITES.get(kind, ("patch",))
    return KubeResource(MLOPS_API_VERSION, kind, plural, model, ("get", "list", "watch", *writes), ("patch",),
                        OWNER_FINALIZERS)


RESOURCES: dict[tuple[str, str], KubeResource] = {
    **{(MLOPS_API_VERSION, k.kind): _ours(k.kind, k.plural) for k in KINDS},
    ("batch/v1", "Job"): KubeResource("batch/v1", "Job", "jobs", _generic("batch", "v1", "Job", "jobs"),
                                      ("get", "list", "watch", "create", "delete")),
    ("v1", "Pod"): KubeResource("v1", "Pod", "pods", _generic("", "v1", "Pod", "pods"), ("list", "watch")),
    # The model servers are server-side applied: a PATCH, which the API server also authorizes as
    # "create" when the object does not exist yet (apiserver's handlers/patch.go), so both verbs.
    ("apps/v1", "Deployment"): KubeResource("apps/v1", "Deployment", "deployments",
                                            _generic("apps", "v1", "Deployment", "deployments"),
                                            ("list", "watch", *APPLY, "delete")),
    ("v1", "Service"): KubeResource("v1", "Service", "services", _generic("", "v1", "Service", "services"),
                                    ("list", "watch", *APPLY, "delete")),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): KubeResource(
        "autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
        _generic("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
        ("list", "watch", *APPLY, "delete")),
    ("v1", "Event"): KubeResource("v1", "Event", "events", _generic("", "v1", "Event", "events"), ("list", "create")),
}

# Leader election's Lease lives in the operator's own namespace, not in the namespaces it watches:
# its permission is a Role there (the chart's `leaderElection`), kept apart from the table above.
# Read, made once, then replaced with a resourceVersion precondition (update, never patch: a patch
# would not fail when another candidate wrote first).
LEADER_ELECTION_LEASE = KubeResource("coordination.k8s.io/v1", "Lease", "leases",
                                     _generic("coordination.k8s.io", "v1", "Lease", "leases"),
                                     ("get", "create", "update"))


class UnknownResource(LookupError):
    pass


def resource(api_version: str, kind: str) -> KubeResource:
    """The resource for (apiVersion, kind). A kind alone is refused: mlops.dev's Deployment and
    apps/v1's Deployment are different resources."""
    if not api_version:
        served = sorted(f"{v}/{k}" for v, k in RESOURCES if k == kind)
        raise UnknownResource(f"kind {kind!r} without an apiVersion is ambiguous; name one of {served or 'the table'}")
    if (api_version, kind) == (LEADER_ELECTION_LEASE.api_version, LEADER_ELECTION_LEASE.kind):
        return LEADER_ELECTION_LEASE
    try:
        return RESOURCES[(api_version, kind)]
    except KeyError:
        raise UnknownResource(f"{api_version} {kind} is not in the operator's resource table") from None
