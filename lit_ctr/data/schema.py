"""Typed description of a CTR file: the label column and every feature field.

Written in YAML under the datamodule's ``init_args.schema``::

    schema:
      label: label
      label_mapping: {"-1": 0, "1": 1}      # optional, e.g. libFM labels
      fields:
        - {name: user}                        # categorical by default
        - {name: I1, kind: numeric, transform: bucketize}
        - {name: price, kind: numeric, transform: log1p, fill_value: 0.0}
        - {name: age, kind: numeric, transform: standard, clip: [-3.0, 3.0]}
        - {name: rating, kind: numeric, transform: minmax}
        - {name: genres, kind: multi, separator: "|", max_len: 20, pooling: mean}
        - {name: tags, kind: multi, max_len: 10, pooling: mean, value_weights: true}  # "sports:0.5|news:2"
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from lit_ctr.data.errors import SchemaError

FieldKind = Literal["categorical", "numeric", "multi"]
Pooling = Literal["sum", "mean", "max"]
Keep = Literal["first", "last"]
NumericTransform = Literal["none", "log1p", "bucketize", "standard", "minmax"]
SCALED_TRANSFORMS = ("standard", "minmax")
"""Transforms whose statistics are fitted on the training split."""
FileKind = Literal["auto", "csv", "tsv", "parquet", "libfm"]


@dataclass
class Field:
    """One feature column.

    Args:
        name: column name in the file (or the position's name for headerless files).
        kind: ``categorical`` (string or integer values, one embedding row each),
            ``numeric`` (a float) or ``multi`` (several categorical values in one cell:
            a delimited string in CSV/TSV, a list column in Parquet; pooled into one
            field's vector).
        min_count: categorical values seen fewer times than this in the training split
            share the field's out-of-vocabulary id.
        transform: for numeric fields: ``none``; ``log1p``, the signed
            ``sign(x)·ln(1 + |x|)`` (defined for negative counts too); or ``bucketize``,
            which makes the value categorical with the Criteo log² rule
            ``floor(ln(x)^2)`` for x > 2 and ``int(x)`` otherwise; ``standard``,
            ``(x - mean) / std``, or ``minmax``, ``(x - min) / (max - min)``, with the
            mean, population standard deviation, min and max of the field's present
            values in the training split (a constant field divides by 1). The statistics
            are part of the preprocessing: checkpoints and exports carry them and scoring
            applies them unchanged.
        fill_value: what the model sees for a missing numeric cell (bucketized fields
            get the field's missing id instead); for ``standard`` and ``minmax`` it is
            the scaled value (0.0: the training mean, or the training minimum).
        clip: numeric fields other than ``bucketize``: ``[low, high]``, bounds the model's
            value is clipped to after the transform (e.g. ``[-3, 3]`` standard
            deviations for outliers); ``None`` (the default) does not clip.
        separator: multi fields: what separates the values in a text cell (default ``|``).
        max_len: multi fields (required): values kept per row; longer lists are truncated
            (counted in the log), shorter ones padded.
        pooling: multi fields: ``sum``, ``mean`` (default) or ``max`` of the values' vectors.
        keep: multi fields: which values a truncated list keeps, the ``first`` (default)
            or the ``last`` ``max_len``.
        value_weights: multi fields: whether each value carries a weight, written after
            ``weight_separator`` (``sports:0.5|news:2``; a value without one weighs 1.0;
            the weight is a finite number >= 0). Pooling then weighs each value's vector:
            ``sum`` is ``Σ w_i e_i``, ``mean`` ``Σ w_i e_i / Σ w_i``, ``max`` the largest
            ``w_i e_i``. In libFM files a weighted field's weights are its tokens' ``val``.
        weight_separator: multi fields with ``value_weights``: what separates a value from
            its weight (default ``:``; the last one in a value counts).
        hash_buckets: categorical and multi fields: no vocabulary; a value's id is its
            stable hash modulo this many buckets (:mod:`lit_ctr.data.hashing`), so unseen
            values get ids too and no pass over the training data counts them.
    """

    name: str
    kind: FieldKind = "categorical"
    min_count: int = 1
    transform: NumericTransform = "none"
    fill_value: float = 0.0
    clip: list[float] | None = None
    separator: str = "|"
    max_len: int | None = None
    pooling: Pooling = "mean"
    keep: Keep = "first"
    value_weights: bool = False
    weight_separator: str = ":"
    hash_buckets: int | None = None

    @property
    def is_categorical(self) -> bool:
        """Whether the field ends up as ids in the shared embedding table."""
        return self.kind == "categorical" or self.transform == "bucketize"


@dataclass
class Schema:
    """The label and the ordered feature fields of a data set.

    Args:
        fields: the feature fields, in the order the model sees them. The ``lit-ctr``
            command infers them from the training file when left out
            (:mod:`lit_ctr.data.inference`); in Python they are required.
        label: name of the label column.
        label_mapping: raw label value → 0/1 (keys as written in the file, e.g.
            ``{"-1": 0, "1": 1}``). Without it the label must already be 0 or 1.
        exclude: when the fields are inferred: columns that are not features (ids, leaks).
        keep: when the fields are inferred: columns to keep although they are constant or
            unique per row (left out by default).
        weight: a column of per-row sample weights (finite numbers >= 0): the training loss
            weighs each row by it, and validation and test report weighted metrics
            (``val/weighted_auc``, ...) next to the unweighted ones. Needed in the training,
            validation and test files; ignored when scoring.
    """

    fields: list[Field] = None  # type: ignore[assignment]  # None: inferred by the lit-ctr command
    label: str = "label"
    label_mapping: dict[str, float] | None = None
    exclude: list[str] | None = None
    keep: list[str] | None = None
    weight: str | None = None

    def __post_init__(self) -> None:
        if self.fields is None:
            raise SchemaError(
                "schema.fields: expected a list of fields (the lit-ctr command infers them from the training "
                "file when left out; in Python: lit_ctr.data.inference.infer_schema)"
            )
        if not isinstance(self.fields, (list, tuple)):
            raise SchemaError(f"schema.fields: expected a list of fields, got {self.fields!r}")
        self.fields = [_as_field(i, f) for i, f in enumerate(self.fields)]
        if not self.fields:
            raise SchemaError("schema.fields: expected at least one feature field")
        problem = _name_problem(self.label)
        if problem:
            raise SchemaError(f"schema.label: {problem}")
        if self.weight is not None:
            problem = _name_problem(self.weight)
            if problem:
                raise SchemaError(f"schema.weight: {problem}")
            if self.weight == self.label:
                raise SchemaError("schema.weight: the weight column cannot be the label column")
        seen: dict[str, int] = {}
        for i, f in enumerate(self.fields):
            problem = _name_problem(f.name)
            if problem:
                raise SchemaError(f"schema.fields[{i}]: {problem}")
            where = f"schema.fields[{i}] ({f.name!r})"
            if f.name in seen:
                raise SchemaError(f"{where}: name collides with schema.fields[{seen[f.name]}]")
            if f.name == self.label:
                raise SchemaError(f"{where}: name collides with the label column")
            if f.name == self.weight:
                raise SchemaError(f"{where}: name collides with the weight column")
            seen[f.name] = i
            if f.kind not in ("categorical", "numeric", "multi"):
                raise SchemaError(f"{where}: kind must be 'categorical', 'numeric' or 'multi', got {f.kind!r}")
            _check_multi(where, f)
            if f.transform not in ("none", "log1p", "bucketize", *SCALED_TRANSFORMS):
                raise SchemaError(
                    f"{where}: transform must be 'none', 'log1p', 'bucketize', 'standard' or 'minmax', "
                    f"got {f.transform!r}"
                )
            if f.kind != "numeric" and f.transform != "none":
                raise SchemaError(f"{where}: transform applies to numeric fields only")
            if isinstance(f.min_count, bool) or not isinstance(f.min_count, int) or f.min_count < 1:
                raise SchemaError(f"{where}: min_count must be an integer >= 1, got {f.min_count!r}")
            if f.clip is not None:
                f.clip = _clip_bounds(where, f)
            if f.hash_buckets is not None:
                _check_hashed(where, f)
            if not _is_float32(f.fill_value):
                raise SchemaError(
                    f"{where}: fill_value must be a finite number within float32 range, got {f.fill_value!r}"
                )
        if self.label_mapping is not None:
            if not isinstance(self.label_mapping, dict) or not self.label_mapping:
                raise SchemaError(
                    f"schema.label_mapping: expected a mapping like {{'-1': 0, '1': 1}}, got {self.label_mapping!r}"
                )
            bad = {k: v for k, v in self.label_mapping.items() if _number(v) not in (0.0, 1.0)}
            if bad:
                raise SchemaError(f"schema.label_mapping: targets must be 0 or 1, got {bad}")
            self.label_mapping = {str(k): float(v) for k, v in self.label_mapping.items()}  # numbers: checked above

    @property
    def categorical(self) -> list[Field]:
        """Fields that become ids, in schema order (bucketized numerics included)."""
        return [f for f in self.fields if f.is_categorical]

    @property
    def multi(self) -> list[Field]:
        """Multi-valued fields, in schema order (their ids follow the categorical ones)."""
        return [f for f in self.fields if f.kind == "multi"]

    @property
    def id_fields(self) -> list[Field]:
        """Fields with a vocabulary, in id-space order: the categorical ones, then the multi ones."""
        return self.categorical + self.multi

    @property
    def id_columns(self) -> int:
        """Columns of the ``ids`` array: one per categorical field, ``max_len`` per multi field."""
        return len(self.categorical) + sum(int(f.max_len or 0) for f in self.multi)

    @property
    def weighted_multi(self) -> list[Field]:
        """Multi fields with ``value_weights``, in schema order (their weights follow the
        numeric values in the model's float input)."""
        return [f for f in self.multi if f.value_weights]

    @property
    def weight_columns(self) -> int:
        """Columns of value weights after the numeric ones: ``max_len`` per weighted multi field."""
        return sum(int(f.max_len or 0) for f in self.weighted_multi)

    def multi_layout(self) -> list[dict[str, Any]]:
        """The multi fields' ``{name, max_len, pooling}`` (and ``value_weights: true`` where
        set), in order: the model's ``multi_fields``."""
        return [
            {"name": f.name, "max_len": f.max_len, "pooling": f.pooling}
            | ({"value_weights": True} if f.value_weights else {})
            for f in self.multi
        ]

    @property
    def numeric(self) -> list[Field]:
        """Fields that stay floats, in schema order."""
        return [f for f in self.fields if f.kind == "numeric" and not f.is_categorical]

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (for hashing, JSON and checkpoints); ``exclude``/``keep`` only
        steer inference and are left out, so an inferred schema hashes like a written one."""
        data = dataclasses.asdict(self)
        del data["exclude"], data["keep"]
        if data["weight"] is None:  # absent when unset: schemas written before it keep their cache keys
            del data["weight"]
        for f in data["fields"]:  # absent when unset: schemas written before these keys keep their cache keys
            if f["clip"] is None:
                del f["clip"]
            if f["kind"] != "multi":
                for key in _MULTI_KEYS:
                    del f[key]
            if not f.get("value_weights"):
                for key in _WEIGHT_KEYS:
                    del f[key]
            if f["hash_buckets"] is None:
                del f["hash_buckets"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        return cls(
            fields=[Field(**f) for f in data["fields"]],
            label=data["label"],
            label_mapping=data.get("label_mapping"),
            weight=data.get("weight"),
        )


_FIELD_KEYS = tuple(f.name for f in dataclasses.fields(Field))
_FLOAT32_MAX = 3.4028234663852886e38


def _as_field(i: int, spec: Any) -> Field:
    if isinstance(spec, Field):
        return spec
    if not isinstance(spec, dict):
        raise SchemaError(
            f"schema.fields[{i}]: expected a mapping like {{name: user, kind: categorical}}, got {spec!r}"
        )
    unknown = [k for k in spec if k not in _FIELD_KEYS]
    if unknown:
        raise SchemaError(f"schema.fields[{i}]: unknown key(s) {unknown}; a field takes {', '.join(_FIELD_KEYS)}")
    if "name" not in spec:
        raise SchemaError(f"schema.fields[{i}]: expected a name")
    return Field(**spec)


_MULTI_KEYS = ("separator", "max_len", "pooling", "keep")
_MULTI_DEFAULTS = {"separator": "|", "max_len": None, "pooling": "mean", "keep": "first"}
_WEIGHT_KEYS = ("value_weights", "weight_separator")  # absent from to_dict() while value_weights is off


def _check_multi(where: str, f: Field) -> None:
    """The multi-field keys: only on multi fields, and valid there."""
    if f.kind != "multi":
        set_keys = [k for k in _MULTI_KEYS if getattr(f, k) != _MULTI_DEFAULTS[k]]
        set_keys += ["value_weights"] if f.value_weights is not False else []
        set_keys += ["weight_separator"] if f.weight_separator != ":" else []
        if set_keys:
            raise SchemaError(f"{where}: {', '.join(set_keys)} apply to multi fields (kind: multi) only")
        return
    if isinstance(f.max_len, bool) or not isinstance(f.max_len, int) or f.max_len < 1:
        raise SchemaError(f"{where}: a multi field needs max_len, an integer >= 1, got {f.max_len!r}")
    if not isinstance(f.separator, str) or not f.separator or f.separator in ('"', "\r", "\n"):
        raise SchemaError(
            f"{where}: separator must be a non-empty string other than a quote or a line break, got {f.separator!r}"
        )
    if f.pooling not in ("sum", "mean", "max"):
        raise SchemaError(f"{where}: pooling must be 'sum', 'mean' or 'max', got {f.pooling!r}")
    if f.keep not in ("first", "last"):
        raise SchemaError(f"{where}: keep must be 'first' or 'last', got {f.keep!r}")
    _check_weights(where, f)


def _check_weights(where: str, f: Field) -> None:
    """``value_weights`` and ``weight_separator`` of a multi field."""
    if not isinstance(f.value_weights, bool):
        raise SchemaError(f"{where}: value_weights must be true or false, got {f.value_weights!r}")
    sep = f.weight_separator
    if not isinstance(sep, str) or not sep or sep in ('"', "\r", "\n"):
        raise SchemaError(
            f"{where}: weight_separator must be a non-empty string other than a quote or a line break, got {sep!r}"
        )
    if not f.value_weights and sep != ":":
        raise SchemaError(f"{where}: weight_separator applies with value_weights: true only")
    if f.value_weights and (sep in f.separator or f.separator in sep):
        raise SchemaError(f"{where}: weight_separator {sep!r} must differ from the values' separator {f.separator!r}")


def _check_hashed(where: str, f: Field) -> None:
    """``hash_buckets``: a positive integer on a categorical or multi field."""
    from lit_ctr.data.hashing import MAX_BUCKETS

    if f.kind not in ("categorical", "multi"):
        raise SchemaError(f"{where}: hash_buckets applies to categorical and multi fields only")
    n = f.hash_buckets
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_BUCKETS:
        raise SchemaError(f"{where}: hash_buckets must be an integer in [1, {MAX_BUCKETS}], got {n!r}")
    if f.min_count != 1:
        raise SchemaError(f"{where}: min_count does not apply to a hashed field (no values are counted)")


def _clip_bounds(where: str, f: Field) -> list[float]:
    """``f.clip`` checked: two float32 numbers, low <= high, on a numeric field that stays numeric."""
    if f.kind != "numeric" or f.transform == "bucketize":
        raise SchemaError(f"{where}: clip applies to numeric fields that are not bucketized")
    bounds = f.clip
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2 or not all(_is_float32(b) for b in bounds):
        raise SchemaError(f"{where}: clip must be [low, high], two finite numbers, got {bounds!r}")
    low, high = (float(b) for b in bounds)
    if low > high:
        raise SchemaError(f"{where}: clip must be [low, high] with low <= high, got {bounds!r}")
    return [low, high]


def _name_problem(name: Any) -> str | None:
    """Why ``name`` cannot name a column, or None."""
    if not isinstance(name, str) or not name:
        return f"expected a non-empty name, got {name!r}"
    if name == "*" or (name.startswith("^") and name.endswith("$")):
        return f"{name!r} reads as a polars column pattern (* or ^...$); rename the column"
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)):  # bool included: true/false mean 1/0
        return float(value)
    return None


def _is_float32(value: Any) -> bool:
    number = _number(value)
    return number is not None and not isinstance(value, bool) and math.isfinite(number) and abs(number) <= _FLOAT32_MAX


_FILE_KINDS = ("auto", "csv", "tsv", "parquet", "libfm")


@dataclass
class FileFormat:
    """How the raw files are laid out.

    Args:
        kind: ``csv``, ``tsv``, ``parquet`` or ``libfm``; ``auto`` picks by extension
            (``.csv``, ``.tsv``/``.txt``, ``.parquet``, ``.libfm``/``.libsvm``).
        has_header: whether CSV/TSV files start with a header line. Default: yes for
            CSV, no for TSV (the Criteo layout). ``auto``: a file's first line is its
            header when one of its values is the label's or a schema field's name;
            otherwise the file has no header and its columns are ``columns``.
        separator: field separator; default ``,`` for CSV and a tab for TSV.
        columns: the file's column names in order, for files without a header.
            Default: the label, then the schema's fields (for a validation or test file,
            the training file's header when it has one).
        null_values: extra strings that mean "missing" (the empty string always does).
        field_starts: libFM only: the first global index of each schema field, in
            schema order (field i owns ``[field_starts[i], field_starts[i+1])``).
            Without it the i-th ``idx:val`` token of a line belongs to field i.
        num_features: libFM only: indices must be below this (the size of the global
            index space), when known.
    """

    kind: FileKind = "auto"
    has_header: bool | Literal["auto"] | None = None
    separator: str | None = None
    columns: list[str] | None = None
    null_values: list[str] = field(default_factory=list)
    field_starts: list[int] | None = None
    num_features: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in _FILE_KINDS:
            raise SchemaError(f"file_format.kind: expected one of {', '.join(_FILE_KINDS)}, got {self.kind!r}")
        if self.has_header not in (None, True, False, "auto"):
            raise SchemaError(f"file_format.has_header: expected true, false or auto, got {self.has_header!r}")
        sep = self.separator
        if sep is not None and (not isinstance(sep, str) or len(sep.encode()) != 1 or sep in '"\r\n'):
            raise SchemaError(
                f"file_format.separator: expected one single-byte character other than a quote or a line break, got {sep!r}"
            )
        if self.columns is not None:
            if not isinstance(self.columns, (list, tuple)) or any(_name_problem(c) for c in self.columns):
                raise SchemaError(f"file_format.columns: expected a list of non-empty names, got {self.columns!r}")
            repeated = sorted({c for c in self.columns if self.columns.count(c) > 1})
            if repeated:
                raise SchemaError(f"file_format.columns: names repeat: {repeated}")
        if not isinstance(self.null_values, (list, tuple)) or not all(isinstance(v, str) for v in self.null_values):
            raise SchemaError(f"file_format.null_values: expected a list of strings, got {self.null_values!r}")
        starts = self.field_starts
        if starts is not None and (not isinstance(starts, (list, tuple)) or not all(_is_index(x) for x in starts)):
            raise SchemaError(f"file_format.field_starts: expected a list of non-negative integers, got {starts!r}")
        if self.num_features is not None and not (_is_index(self.num_features) and self.num_features > 0):
            raise SchemaError(f"file_format.num_features: expected a positive integer, got {self.num_features!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
