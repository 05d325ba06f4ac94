"""Building blocks shared by the four kinds: the base model, CEL rules, conditions."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GROUP = "mlops.dev"
VERSION = "v1alpha1"

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
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


Name = Annotated[str, Field(min_length=1, max_length=253)]
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
Duration = Annotated[
    str,
    Field(
        max_length=32,
        json_schema_extra=rules(cel(f"self.matches('{DURATION_PATTERN}')", f"must be {DURATION_HINT}")),
    ),
]
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


class EnvVar(ApiModel):
    """A literal environment variable."""

    name: Annotated[str, Field(min_length=1, max_length=256)]
    """Variable name."""
    value: str = ""
    """Variable value."""


class Container(ApiModel):
    """What runs in a pod the operator creates for this object."""

    image: Annotated[str, Field(min_length=1, max_length=512)]
    """Container image."""
    command: list[str] | None = None
    """Entrypoint; the image's own when empty."""
    args: list[str] | None = None
    """Arguments; ${params.NAME} is replaced with a trial's parameter value where it applies."""
    env: Annotated[list[EnvVar], Field(max_length=64)] | None = None
    """Extra environment variables."""
    resources: ResourceRequirements | None = None
    """Compute resources."""


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
    """metadata.generation the operator last acted on."""
    phase: str | None = None
    """A one-word summary for printer columns; read conditions for decisions."""
    conditions: Conditions | None = None
    """Current conditions (Ready on every kind)."""
