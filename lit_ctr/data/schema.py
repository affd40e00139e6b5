"""Typed description of a CTR file: the label column and every feature field.

Written in YAML under the datamodule's ``init_args.schema``::

    schema:
      label: label
      label_mapping: {"-1": 0, "1": 1}      # optional, e.g. libFM labels
      fields:
        - {name: user}                        # categorical by default
        - {name: I1, kind: numeric, transform: bucketize}
        - {name: price, kind: numeric, transform: log1p, fill_value: 0.0}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from lit_ctr.data.errors import SchemaError

FieldKind = Literal["categorical", "numeric"]
NumericTransform = Literal["none", "log1p", "bucketize"]
FileKind = Literal["auto", "csv", "tsv", "parquet", "libfm"]


@dataclass
class Field:
    """One feature column.

    Args:
        name: column name in the file (or the position's name for headerless files).
        kind: ``categorical`` (string or integer values, one embedding row each) or
            ``numeric`` (a float).
        min_count: categorical values seen fewer times than this in the training split
            share the field's out-of-vocabulary id.
        transform: for numeric fields: ``none``; ``log1p``, the signed
            ``sign(x)·ln(1 + |x|)`` (defined for negative counts too); or ``bucketize``,
            which makes the value categorical with the Criteo log² rule
            ``floor(ln(x)^2)`` for x > 2 and ``int(x)`` otherwise.
        fill_value: what the model sees for a missing numeric cell (bucketized fields
            get the field's missing id instead).
    """

    name: str
    kind: FieldKind = "categorical"
    min_count: int = 1
    transform: NumericTransform = "none"
    fill_value: float = 0.0

    @property
    def is_categorical(self) -> bool:
        """Whether the field ends up as ids in the shared embedding table."""
        return self.kind == "categorical" or self.transform == "bucketize"


@dataclass
class Schema:
    """The label and the ordered feature fields of a data set.

    Args:
        fields: the feature fields, in the order the model sees them.
        label: name of the label column.
        label_mapping: raw label value → 0/1 (keys as written in the file, e.g.
            ``{"-1": 0, "1": 1}``). Without it the label must already be 0 or 1.
    """

    fields: list[Field]
    label: str = "label"
    label_mapping: dict[str, float] | None = None

    def __post_init__(self) -> None:
        self.fields = [f if isinstance(f, Field) else Field(**f) for f in self.fields]
        if not self.fields:
            raise SchemaError("schema.fields: expected at least one feature field")
        seen: dict[str, int] = {}
        for i, f in enumerate(self.fields):
            where = f"schema.fields[{i}] ({f.name!r})"
            if not f.name:
                raise SchemaError(f"schema.fields[{i}]: expected a non-empty name")
            if f.name in seen:
                raise SchemaError(f"{where}: name collides with schema.fields[{seen[f.name]}]")
            if f.name == self.label:
                raise SchemaError(f"{where}: name collides with the label column")
            seen[f.name] = i
            if f.kind not in ("categorical", "numeric"):
                raise SchemaError(f"{where}: kind must be 'categorical' or 'numeric', got {f.kind!r}")
            if f.transform not in ("none", "log1p", "bucketize"):
                raise SchemaError(
                    f"{where}: transform must be 'none', 'log1p' or 'bucketize', got {f.transform!r}"
                )
            if f.kind == "categorical" and f.transform != "none":
                raise SchemaError(f"{where}: transform applies to numeric fields only")
            if not isinstance(f.min_count, int) or f.min_count < 1:
                raise SchemaError(f"{where}: min_count must be an integer >= 1, got {f.min_count!r}")
        if self.label_mapping is not None:
            if not self.label_mapping:
                raise SchemaError("schema.label_mapping: expected at least one entry")
            self.label_mapping = {str(k): float(v) for k, v in self.label_mapping.items()}
            bad = {k: v for k, v in self.label_mapping.items() if v not in (0.0, 1.0)}
            if bad:
                raise SchemaError(f"schema.label_mapping: targets must be 0 or 1, got {bad}")

    @property
    def categorical(self) -> list[Field]:
        """Fields that become ids, in schema order (bucketized numerics included)."""
        return [f for f in self.fields if f.is_categorical]

    @property
    def numeric(self) -> list[Field]:
        """Fields that stay floats, in schema order."""
        return [f for f in self.fields if not f.is_categorical]

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (for hashing, JSON and checkpoints)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        return cls(
            fields=[Field(**f) for f in data["fields"]],
            label=data["label"],
            label_mapping=data.get("label_mapping"),
        )


@dataclass
class FileFormat:
    """How the raw files are laid out.

    Args:
        kind: ``csv``, ``tsv``, ``parquet`` or ``libfm``; ``auto`` picks by extension
            (``.csv``, ``.tsv``/``.txt``, ``.parquet``, ``.libfm``/``.libsvm``).
        has_header: whether CSV/TSV files start with a header line. Default: yes for
            CSV, no for TSV (the Criteo layout).
        separator: field separator; default ``,`` for CSV and a tab for TSV.
        columns: the file's column names in order, for files without a header.
            Default: the label, then the schema's fields.
        null_values: extra strings that mean "missing" (the empty string always does).
        field_starts: libFM only: the first global index of each schema field, in
            schema order (field i owns ``[field_starts[i], field_starts[i+1])``).
            Without it the i-th ``idx:val`` token of a line belongs to field i.
        num_features: libFM only: indices must be below this (the size of the global
            index space), when known.
    """

    kind: FileKind = "auto"
    has_header: bool | None = None
    separator: str | None = None
    columns: list[str] | None = None
    null_values: list[str] = field(default_factory=list)
    field_starts: list[int] | None = None
    num_features: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
