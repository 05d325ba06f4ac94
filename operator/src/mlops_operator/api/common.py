"""Building blocks shared by the four kinds: the base model, CEL rules, conditions."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GROUP = "mlops.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
NAME_HINT = "must name an object in this namespace: a DNS subdomain (lowercase letters, digits, '-' and '.'), no '/'"
DURATION_PATTERN = r"^([0-9]+([.][0-9]+)?(ms|s|m|h))+$"
DURATION_HINT = "a duration such as 90s, 30m, 1h or 1h30m"


def cel(rule: str, message: str, **extra: str) -> dict[str, str]:
    """One CEL validation rule (x-kubernetes-validations entry) with a human message."""
    return {"rule": rule, "message": message, **extra}


def rules(*entries: dict[str, str]) -> dict[str, Any]:
    """json_schema_extra carrying CEL rules, for a model's config or a Field."""
    return {"x-kubernetes-validations": list(entries)}


class ApiModel(BaseModel):
    """Base of every API model: camelCase on the wire, attribute docstrings as descriptions."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,
        extra="ignore",
    )


def _object_name(value: str) -> str:
    """The CRD's rule again, at parse time: a spec stored before the rule existed is refused with
    its field named (InvalidSpec), and never becomes a path segment such as ../../other/datasets/x."""
    if not re.match(DNS_SUBDOMAIN_PATTERN, value):
        raise ValueError(NAME_HINT)
    return value


Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        json_schema_extra=rules(cel(f"self.matches('{DNS_SUBDOMAIN_PATTERN}')", NAME_HINT)),
    ),
    AfterValidator(_object_name),
]
"""The name of another object, always in the referring object's own namespace: a reference has no
namespace field, and a name cannot carry one (no '/'), so nothing a user writes makes the operator
read or write outside the namespace where the user wrote it (docs/decisions.md, 70)."""
DnsLabel = Annotated[
    str,
    Field(
        max_length=63,
        json_schema_extra=rules(
            cel(
                f"self.matches('{DNS_LABEL_PATTERN}')",
                "must be a DNS label: lowercase letters, digits and '-', "
                "starting and ending with a letter or digit, at most 63 characters",
            )
        ),
    ),
]
DURATION_RULE = cel(f"self.matches('{DURATION_PATTERN}')", f"must be {DURATION_HINT}")


def duration(*extra_rules: dict[str, str]) -> Any:
    """A Go-style duration field, with more CEL rules if given (they may use CEL's duration())."""
    return Annotated[str, Field(max_length=32, json_schema_extra=rules(DURATION_RULE, *extra_rules))]


Duration = duration()
FreeForm = Annotated[Any, Field(json_schema_extra={"x-kubernetes-preserve-unknown-fields": True})]
"""A JSON value the schema does not constrain (parameter values, lineage parameters)."""

Quantity = Annotated[
    int | str,
    Field(json_schema_extra={"x-kubernetes-int-or-string": True}),
]


class ResourceRequirements(ApiModel):
    """Compute resources of a container, as in a Pod's resources."""

    limits: dict[str, Quantity] | None = None
    """Maximum resources, e.g. {cpu: "2", memory: 4Gi, nvidia.com/gpu: 1}."""
    requests: dict[str, Quantity] | None = None
    """Minimum resources the scheduler reserves."""


ENV_NAME_PATTERN = "^[ -<>-~]+$"  # printable ASCII but '=', as Kubernetes accepts since 1.34
MAX_ARGUMENTS = 128
MAX_ARGUMENT_LENGTH = 8192


def keyed_by(*keys: str) -> dict[str, Any]:
    """json_schema_extra of a list whose items are unique by keys: what server-side apply merges
    them by in a Pod, so a duplicate (two env entries FOO) is refused at apply instead of failing
    the operator's apply of the serving Deployment."""
    return {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)}


Argument = Annotated[str, Field(max_length=MAX_ARGUMENT_LENGTH)]
Arguments = Annotated[list[Argument], Field(max_length=MAX_ARGUMENTS)]
StringMap = Annotated[dict[str, Annotated[str, Field(max_length=4096)]], Field(max_length=64)]
FreeObject = Annotated[
    dict[str, Any],
    Field(json_schema_extra={"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""A Kubernetes object passed through as written (affinity, securityContext): the API server checks
it when the operator creates the pod's Job, and a refusal shows in status with the server's words."""


class KeyRef(ApiModel):
    """One key of a Secret or ConfigMap in the same namespace."""

    name: Name
    """Name of the Secret or ConfigMap."""
    key: Annotated[str, Field(min_length=1, max_length=253)]
    """The key whose value is used."""
    optional: bool | None = None
    """Whether the pod may start without it."""


class EnvVarSource(ApiModel):
    """Where a variable's value comes from."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel("has(self.secretKeyRef) != has(self.configMapKeyRef)",
                "valueFrom needs exactly one of secretKeyRef or configMapKeyRef")
        )
    )

    secret_key_ref: KeyRef | None = None
    """A key of a Secret: the operator never reads it, the kubelet does."""
    config_map_key_ref: KeyRef | None = None
    """A key of a ConfigMap."""


class EnvVar(ApiModel):
    """An environment variable: a literal value, or one read from a Secret or ConfigMap."""

    model_config = ConfigDict(
        json_schema_extra=rules(cel("!has(self.valueFrom) || size(self.value) == 0",
                                    "env value and valueFrom are mutually exclusive"))
    )

    name: Annotated[str, Field(min_length=1, max_length=256, pattern=ENV_NAME_PATTERN)]
    """Variable name: printable ASCII without '='."""
    value: Annotated[str, Field(max_length=32768)] = ""
    """Literal value; $(VAR) refers to another variable of the container, as in a Pod."""
    value_from: EnvVarSource | None = None
    """Read the value from a Secret or ConfigMap key instead."""


class ObjectRef(ApiModel):
    """An object in the same namespace, by name."""

    name: Name
    """Its name."""
    optional: bool | None = None
    """Whether the pod may start without it."""


class EnvFromSource(ApiModel):
    """Every key of a Secret or ConfigMap as environment variables."""

    model_config = ConfigDict(
        json_schema_extra=rules(cel("has(self.secretRef) != has(self.configMapRef)",
                                    "envFrom needs exactly one of secretRef or configMapRef"))
    )

    prefix: Annotated[str, Field(max_length=128)] | None = None
    """Prepended to every key."""
    secret_ref: ObjectRef | None = None
    """A Secret."""
    config_map_ref: ObjectRef | None = None
    """A ConfigMap."""


class VolumeMount(ApiModel):
    """Where a volume of spec.pod.volumes appears in the container."""

    name: Annotated[str, Field(min_length=1, max_length=63)]
    """Name of the volume in spec.pod.volumes."""
    mount_path: Annotated[str, Field(min_length=1, max_length=1024)]
    """Path in the container."""
    sub_path: Annotated[str, Field(max_length=1024)] | None = None
    """A path inside the volume to mount instead of its root."""
    read_only: bool | None = None
    """Mount read-only."""


class Container(ApiModel):
    """What runs in a pod the operator creates for this object."""

    image: Annotated[str, Field(min_length=1, max_length=512)]
    """Container image."""
    command: Arguments | None = None
    """Entrypoint; the image's own when empty."""
    args: Arguments | None = None
    """Arguments; ${params.NAME} is replaced with a trial's parameter value where it applies."""
    env: Annotated[list[EnvVar], Field(max_length=64, json_schema_extra=keyed_by("name"))] | None = None
    """Extra environment variables; the operator's own MLOPS_* and PARAM_* variables take precedence."""
    env_from: Annotated[list[EnvFromSource], Field(max_length=16)] | None = None
    """Secrets and ConfigMaps whose keys become environment variables."""
    volume_mounts: Annotated[
        list[VolumeMount], Field(max_length=32, json_schema_extra=keyed_by("mountPath"))
    ] | None = None
    """Volumes of spec.pod.volumes to mount."""
    resources: ResourceRequirements | None = None
    """Compute resources."""
    security_context: FreeObject | None = None
    """Container securityContext; merged over the operator's restricted default (no privilege
    escalation, all capabilities dropped), key by key."""


class Toleration(ApiModel):
    """A taint the pods tolerate, as in a Pod."""

    key: Annotated[str, Field(max_length=317)] | None = None
    """Taint key; empty with operator Exists matches every taint."""
    operator: Literal["Exists", "Equal"] | None = None
    """Exists or Equal (default)."""
    value: Annotated[str, Field(max_length=63)] | None = None
    """Taint value for Equal."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    """Effect to match; all effects when empty."""
    toleration_seconds: int | None = None
    """For NoExecute: how long the pod stays bound after the taint appears."""


class LocalObjectReference(ApiModel):
    """An object in the same namespace."""

    name: Name
    """Its name."""


class Volume(ApiModel):
    """A pod volume, as in a Pod (configMap, secret, emptyDir, persistentVolumeClaim, projected, csi, ...)."""

    # The volume source fields pass through as written; the API server checks them on the Job.
    model_config = ConfigDict(extra="allow", json_schema_extra={"x-kubernetes-preserve-unknown-fields": True})

    name: Annotated[str, Field(min_length=1, max_length=63)]
    """Volume name, referred to by volumeMounts."""


class PodSettings(ApiModel):
    """What real clusters need on the pods the operator runs for this object."""

    labels: StringMap | None = None
    """Extra pod labels (e.g. a Kueue queue name); the operator's own labels take precedence."""
    annotations: StringMap | None = None
    """Extra pod annotations."""
    service_account_name: Name | None = None
    """ServiceAccount of the pods; its token is mounted only when this is set."""
    image_pull_secrets: Annotated[
        list[LocalObjectReference], Field(max_length=16, json_schema_extra=keyed_by("name"))
    ] | None = None
    """Secrets for pulling private images."""
    node_selector: StringMap | None = None
    """Node labels the pods must be scheduled on."""
    tolerations: Annotated[list[Toleration], Field(max_length=32)] | None = None
    """Taints the pods tolerate."""
    affinity: FreeObject | None = None
    """Pod affinity, as in a Pod."""
    priority_class_name: Name | None = None
    """PriorityClass of the pods."""
    security_context: FreeObject | None = None
    """Pod securityContext; merged over the operator's restricted default (runAsNonRoot, runAsUser
    65532, seccompProfile RuntimeDefault), key by key."""
    volumes: Annotated[list[Volume], Field(max_length=32, json_schema_extra=keyed_by("name"))] | None = None
    """Pod volumes the container mounts with volumeMounts."""


ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(ApiModel):
    """One observation of the object's state, in the metav1.Condition shape."""

    type: Annotated[str, Field(min_length=1, max_length=316)]
    """Kind of condition: Ready on every kind, plus kind specific ones."""
    status: ConditionStatus
    """True, False or Unknown."""
    reason: Annotated[str, Field(max_length=1024)]
    """CamelCase word saying why the condition has this status."""
    message: Annotated[str, Field(max_length=32768)] = ""
    """Human explanation."""
    observed_generation: int | None = None
    """metadata.generation the condition was computed for."""
    last_transition_time: datetime
    """When status last changed."""


Conditions = Annotated[
    list[Condition],
    Field(
        max_length=16,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    ),
]


class StatusBase(ApiModel):
    """Status fields every kind has."""

    observed_generation: int | None = None
    """metadata.generation that status reflects; a newer generation is still being worked on."""
    conditions: Conditions | None = None
    """Current conditions (Ready on every kind)."""
