"""Dataset: where a data set lives, its schema and quality rules, and what validation found."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .common import ApiModel, Container, Duration, StatusBase, cel, rules

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
    """URI of a file or a folder of files: file://, https://, s3://, gs:// or lakefs://."""
    revision: Annotated[str, Field(max_length=256)] | None = None
    """Optional pin of the content: a lakeFS commit, an object version."""


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


class Validation(ApiModel):
    """How the data is checked."""

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
    validator: Container | None = None
    """A custom validator container instead of the built-in one; it reports with the runtime's report()."""


Fraction = Annotated[float, Field(gt=0, lt=1)]


class Splits(ApiModel):
    """Deterministic train/test(/validation) split of the rows."""

    model_config = ConfigDict(
        json_schema_extra=rules(
            cel(
                "self.train + self.test + (has(self.validation) ? self.validation : 0.0) <= 1.000001",
                "splits train + test + validation must not sum to more than 1",
            )
        )
    )

    train: Fraction = 0.8
    """Fraction of rows for training, in (0, 1)."""
    test: Fraction = 0.2
    """Fraction of rows held back for evaluation, in (0, 1)."""
    validation: Fraction | None = None
    """Optional fraction for validation during training, in (0, 1)."""
    seed: int = 42
    """Seed of the row shuffle, so every consumer sees the same split."""


class Refresh(ApiModel):
    """Re-validation on a schedule."""

    interval: Duration
    """How often the source is checked again; a new digest means new data."""


class DatasetSpec(ApiModel):
    """A data set the operator validates and versions by content digest."""

    source: DataSource
    format: Literal[FORMATS]
    """File format: csv, parquet or jsonl."""
    schema_: DataSchema | None = Field(default=None, alias="schema")
    """Declared columns; validation fails when one is missing or has the wrong type."""
    validation: Validation | None = None
    splits: Splits | None = None
    refresh: Refresh | None = None


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
