"""Dataset: where a data set lives, its schema and quality rules, and what validation found."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .common import DURATION_PATTERN, ApiModel, Container, ObjectRef, PodSettings, StatusBase, cel, duration, rules
from .vocabulary import DatasetPhase

SUPPORTED_SCHEMES = ("file", "https", "s3", "gs", "lakefs")
FORMATS = ("csv", "parquet", "jsonl")
COLUMN_TYPES = ("integer", "float", "string", "boolean", "datetime")


class DataSource(ApiModel):
    """Where the data is read from."""

    uri: Annotated[
        str,
        Field(
            min_length=1,
            max_length=2048,
            json_schema_extra=rules(
                cel(
                    "self.matches('^(" + "|".join(SUPPORTED_SCHEMES) + ")://')",
                    "must use one of the schemes " + ", ".join(f"{s}://" for s in SUPPORTED_SCHEMES),
                )
            ),
        ),
    ]
    """URI of a file or a folder of files: file://, https://, s3://, gs:// or lakefs://. To pin a
    version, put it in the URI (lakefs://repo/<commit>/path); status.digest identifies the content."""
    secret_ref: ObjectRef | None = None
    """A Secret whose keys become environment variables of the validation and trial pods, e.g.
    AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for s3://; the operator never reads it."""


class Column(ApiModel):
    """One declared column."""

    name: Annotated[str, Field(min_length=1, max_length=256)]
    """Column name as in the file's header."""
    type: Literal[COLUMN_TYPES]
    """Expected type of the values."""
    nullable: bool = True
    """Whether empty values are allowed."""


class DataSchema(ApiModel):
    """The columns the data must have."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel(
                "!has(self.target) || self.columns.exists(c, c.name == self.target)",
                "schema.target must name one of schema.columns",
                fieldPath=".target",
            )
        )
    )

    columns: Annotated[
        list[Column],
        Field(
            min_length=1,
            max_length=512,
            json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
        ),
    ]
    """Declared columns; extra columns in the data are allowed, missing ones are an error."""
    target: Annotated[str, Field(max_length=256)] | None = None
    """The label column trainers predict."""


class Rule(ApiModel):
    """A named quality rule on one column."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel(
                "has(self.min) || has(self.max) || has(self.allowedValues) || has(self.maxNullFraction)",
                "a rule needs at least one of min, max, allowedValues or maxNullFraction",
            ),
            cel(
                "!has(self.min) || !has(self.max) || self.min <= self.max",
                "rule min must not be greater than max",
            ),
        )
    )

    name: Annotated[str, Field(min_length=1, max_length=63)]
    """Shown in status when the rule fails."""
    column: Annotated[str, Field(min_length=1, max_length=256)]
    """The column the rule checks."""
    min: float | None = None
    """Smallest allowed value."""
    max: float | None = None
    """Largest allowed value."""
    allowed_values: Annotated[list[str], Field(max_length=256)] | None = None
    """The only values allowed (compared as strings)."""
    max_null_fraction: Annotated[float, Field(ge=0, le=1)] | None = None
    """Largest allowed fraction of empty values in this column."""


class ValidationRules(ApiModel):
    """The checks on the data."""

    min_rows: Annotated[int, Field(ge=0)] | None = None
    """Fewest rows the data must have."""
    max_null_fraction: Annotated[float, Field(ge=0, le=1)] | None = None
    """Largest allowed fraction of empty values in any column."""
    rules: Annotated[
        list[Rule],
        Field(
            max_length=64,
            json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
        ),
    ] | None = None
    """Column rules."""


class Validation(ValidationRules):
    """How the data is checked, and the limits of each validation round's Job."""

    validator: Container | None = None
    """A custom validator container instead of the built-in one; it reports with the runtime's report()."""
    active_deadline_seconds: Annotated[int, Field(ge=1, le=604800)] = 1800
    """Wall-clock limit of one validation round."""
    backoff_limit: Annotated[int, Field(ge=0, le=10)] = 2
    """Retries of a failed validation pod before the round fails."""


Fraction = Annotated[float, Field(gt=0, lt=1)]
DEFAULT_TRAIN_SHARE = 0.8
"""When neither train nor test is given, train takes this share of what validation leaves."""
SPLIT_SUM_SLACK = 0.000001


class ResolvedSplits(ApiModel):
    """Splits with every fraction worked out: what the pods receive."""

    train: float
    """Fraction of rows for training."""
    test: float
    """Fraction of rows held back for evaluation."""
    validation: float | None = None
    """Fraction of rows for validation during training."""
    seed: int
    """Seed of the row shuffle."""


class Splits(ApiModel):
    """Deterministic train/test(/validation) split of the rows. Give any of the fractions: a missing
    train or test takes what the others leave (both missing: 80% and 20% of it), a missing
    validation is none."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel(
                "(has(self.train) ? self.train : 0.0) + (has(self.test) ? self.test : 0.0)"
                " + (has(self.validation) ? self.validation : 0.0) <= 1.000001",
                "splits train + test + validation must not sum to more than 1",
            ),
            cel(
                "(has(self.train) && has(self.test)) || (has(self.train) ? self.train : 0.0)"
                " + (has(self.test) ? self.test : 0.0) + (has(self.validation) ? self.validation : 0.0) < 1.0",
                "splits must leave a share for train and test: give both, "
                "or let the given fractions sum to less than 1",
            ),
        )
    )

    train: Fraction | None = None
    """Fraction of rows for training, in (0, 1)."""
    test: Fraction | None = None
    """Fraction of rows held back for evaluation, in (0, 1)."""
    validation: Fraction | None = None
    """Optional fraction for validation during training, in (0, 1)."""
    seed: int = 42
    """Seed of the row shuffle, so every consumer sees the same split."""

    def resolved(self) -> ResolvedSplits:
        left = 1.0 - (self.validation or 0.0)
        train, test = self.train, self.test
        if train is None and test is None:
            train, test = left * DEFAULT_TRAIN_SHARE, left * (1 - DEFAULT_TRAIN_SHARE)
        elif train is None:
            train = left - test
        elif test is None:
            test = left - train
        return ResolvedSplits(train=round(train, 9), test=round(test, 9), validation=self.validation, seed=self.seed)


MIN_REFRESH_INTERVAL = "1m"


class Refresh(ApiModel):
    """Re-validation on a schedule."""

    interval: duration(cel(f"!self.matches('{DURATION_PATTERN}') || "
                           f"duration(self) >= duration('{MIN_REFRESH_INTERVAL}')",
                           f"refresh.interval must be at least {MIN_REFRESH_INTERVAL}"))
    """How often the source is checked again (at least 1m); a new digest means new data."""


class DataSpec(ApiModel):
    """What a pod needs to read the data (no validation settings, no pod settings): trials receive
    it as MLOPS_DATASET_SPEC, and a run pins it so every trial of the run reads the same data."""

    source: DataSource
    format: Literal[FORMATS]
    """File format: csv, parquet or jsonl."""
    schema_: DataSchema | None = Field(default=None, alias="schema")
    """Declared columns."""
    splits: ResolvedSplits
    """The split with every fraction worked out."""


class ValidatorInput(DataSpec):
    """What the validator receives as MLOPS_DATASET_SPEC: the data and the checks."""

    validation: ValidationRules = Field(default_factory=ValidationRules)
    """The checks to run."""


class DatasetSpec(ApiModel):
    """A data set the operator validates and versions by content digest."""

    source: DataSource
    format: Literal[FORMATS]
    """File format: csv, parquet or jsonl."""
    schema_: DataSchema | None = Field(default=None, alias="schema")
    """Declared columns; validation fails when one is missing or has the wrong type."""
    validation: Validation = Field(default_factory=Validation)
    splits: Splits = Field(default_factory=Splits)
    refresh: Refresh | None = None
    pod: PodSettings | None = None
    """Settings of the validation pods: service account, scheduling, security context, volumes."""

    def data_spec(self) -> DataSpec:
        return DataSpec(source=self.source, format=self.format, schema=self.schema_, splits=self.splits.resolved())

    def validator_input(self) -> ValidatorInput:
        checks = set(ValidationRules.model_fields)
        rules_only = ValidationRules.model_validate(self.validation.model_dump(include=checks))
        return ValidatorInput(**self.data_spec().model_dump(by_alias=False), validation=rules_only)


class ColumnStats(ApiModel):
    """Statistics of one column."""

    type: str | None = None
    """Type found in the data."""
    nulls: int | None = None
    """Count of empty values."""
    distinct: int | None = None
    """Count of distinct values."""
    min: float | None = None
    """Smallest value (numeric columns)."""
    max: float | None = None
    """Largest value (numeric columns)."""
    mean: float | None = None
    """Mean value (numeric columns)."""


class DatasetStats(ApiModel):
    """What the last validation measured."""

    rows: int | None = None
    """Rows in the data."""
    columns: Annotated[dict[str, ColumnStats], Field(max_length=512)] | None = None
    """Statistics by column name."""


class DatasetStatus(StatusBase):
    """What the operator found."""

    phase: DatasetPhase | None = None
    """A one-word summary for printer columns; read conditions for decisions."""
    digest: str | None = None
    """Content digest (sha256:...) of the last validated data; Experiments pin it."""
    digest_changed_at: datetime | None = None
    """When the current digest was first seen."""
    last_validated_at: datetime | None = None
    """When validation last ran to completion."""
    last_validation_job: str | None = None
    """The validation Job whose result this status shows."""
    validated_generation: int | None = None
    """metadata.generation the last validation result is for."""
    stats: DatasetStats | None = None
