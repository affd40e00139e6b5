"""Checked typing of raw string columns: the stage between the readers and the vocabulary.

:func:`prepare` checks every value of one :class:`~lit_ctr.data.readers.RawTable` against
the schema and types it, in polars: the label as 0/1, numeric fields as transformed
floats, categorical fields (bucketized numerics included) as strings with null for
missing, multi fields as lists of strings (null for a missing cell), with their value
weights beside them (:func:`~lit_ctr.data.multi.weights_column`) where the field has
``value_weights``. The first bad cell raises a :class:`~lit_ctr.data.errors.DataError`
naming its file, line and column.
"""

from __future__ import annotations

import math
import re

import polars as pl

from lit_ctr.data.errors import DataError
from lit_ctr.data.multi import weights_column
from lit_ctr.data.readers import RawTable
from lit_ctr.data.schema import SCALED_TRANSFORMS, Field, Schema


def prepare(table: RawTable, schema: Schema, *, require_label: bool = True) -> pl.DataFrame:
    """Check and type the rows of one file; raise :class:`DataError` at the first bad cell."""
    frame = table.frame
    columns = {}
    if schema.label in frame.columns:
        columns[schema.label] = _label(table, schema)
    elif require_label:
        raise DataError(f"expected a label column {schema.label!r}", file=table.file)
    if schema.weight is not None and require_label:  # scoring ignores weights
        if schema.weight not in frame.columns:
            raise DataError(f"expected a weight column {schema.weight!r} (schema.weight)", file=table.file)
        columns[schema.weight] = _weight(table, schema.weight)
    # Columns are typed all at once (polars runs them in parallel) and checked in bulk.
    # Numbers are parsed as read; a field that fails is stripped and checked again (" 12"
    # and blanks pass then), and only a field that still fails is looked at cell by cell,
    # to name the first bad cell.
    categorical = [f for f in schema.fields if f.kind == "categorical"]
    numeric = [f for f in schema.fields if f.kind == "numeric"]
    for f in categorical + numeric:
        if f.name in frame.columns and frame.schema[f.name].is_nested():
            raise DataError(
                f"holds lists; only a multi field (kind: multi) takes several values, got {frame.schema[f.name]}",
                column=f.name,
                file=table.file,
            )
    texts = frame.select(
        [pl.col(f.name).str.strip_chars() for f in categorical]
        + [pl.col(f.name) for f in numeric]
        + [_values(pl.col(f.name), f, frame.schema[f.name]).alias(f.name) for f in schema.multi]
    )
    parsed = texts.select(pl.col(f.name).cast(pl.Float64, strict=False) for f in numeric)
    failing = _failing(texts, parsed, numeric)
    if failing:
        names = [f.name for f in failing]
        texts = texts.with_columns(pl.col(names).str.strip_chars())
        parsed = parsed.with_columns(texts.select(pl.col(names).cast(pl.Float64, strict=False)))
        for f in _failing(texts, parsed, failing):
            _raise_bad_numeric(table, f)
    for f in schema.weighted_multi:
        values, weights = _weighted_values(table, texts[f.name], f)
        texts = texts.with_columns(values.alias(f.name), weights.alias(weights_column(f.name)))
    typed = texts.with_columns(parsed)
    for f in schema.fields:
        if f.kind == "categorical":
            columns[f.name] = pl.when(pl.col(f.name) != "").then(pl.col(f.name))
        elif f.kind == "multi":
            columns[f.name] = pl.col(f.name)
            if f.value_weights:
                columns[weights_column(f.name)] = pl.col(weights_column(f.name))
        else:
            columns[f.name] = _numeric_value(pl.col(f.name), f)
    return typed.select(value.alias(name) for name, value in columns.items())


def _values(raw: pl.Expr, f: Field, dtype: pl.DataType) -> pl.Expr:
    """A multi field's cell as a list of its values (stripped, empty ones dropped): a text
    cell split at ``f.separator``, a list cell as it is. A missing cell (null, or empty
    text) stays null: the model sees the field's missing id. An empty list stays empty:
    the field pools to nothing (the zero vector)."""
    if dtype.is_nested():
        values = raw
    else:
        text = raw.str.strip_chars()
        values = pl.when(text != "").then(text.str.split(f.separator, inclusive=False))
    element = pl.element().str.strip_chars()
    return values.list.eval(element.filter(element.is_not_null() & (element != "")))


def _weighted_values(table: RawTable, tokens: pl.Series, f: Field) -> tuple[pl.Series, pl.Series]:
    """A weighted multi field's tokens (``value`` or ``value<weight_separator>weight``, as
    :func:`_values` gives them) as its values and their Float32 weights, aligned: 1.0 where a
    token has no weight; a token whose value is empty is dropped, as an empty value is.
    The first weight that is not a finite number >= 0 is a located :class:`DataError`."""
    pattern = f"(?s)^(.*){re.escape(f.weight_separator)}(.*)$"  # greedy: the last separator splits
    token = pl.element()
    value = pl.coalesce(token.str.extract(pattern, 1), token).str.strip_chars()
    text = token.str.extract(pattern, 2).str.strip_chars()  # null: no weight written
    weight = pl.when(text.is_null()).then(pl.lit(1.0)).otherwise(text.cast(pl.Float64, strict=False))
    pairs = tokens.list.eval(
        pl.struct(value.alias("value"), weight.alias("weight"), token.alias("token")).filter(value != "")
    )
    flat = pairs.to_frame("pair").with_row_index("row").explode("pair").drop_nulls("pair").unnest("pair")
    w = pl.col("weight")
    bad = flat.filter((~w.is_finite() | (w < 0) | w.cast(pl.Float32).is_infinite()).fill_null(True)).head(1)
    if bad.height:
        raise DataError(
            f"expected a value weight, a finite number >= 0, after {f.weight_separator!r} in {bad['token'][0]!r}",
            column=f.name,
            **table.locate(int(bad["row"][0])),
        )
    values = pairs.list.eval(pl.element().struct.field("value"))
    weights = pairs.list.eval(pl.element().struct.field("weight").cast(pl.Float32))
    return values, weights


def _failing(texts: pl.DataFrame, parsed: pl.DataFrame, fields: list[Field]) -> list[Field]:
    """The numeric fields with a cell :func:`_raise_bad_numeric` would reject, given their
    text and its parsed value: one parallel pass over all of them."""
    if not fields:
        return []
    checks = []
    for i, f in enumerate(fields):
        raw, value = pl.col(f"raw{i}"), pl.col(f"value{i}")
        bad = ((raw.str.len_bytes() > 0) & value.is_null()) | ~value.is_finite()
        if f.transform == "bucketize":
            bad = bad | (value < -(2.0**63))
        elif f.transform == "none":
            bad = bad | value.cast(pl.Float32).is_infinite()
        checks.append(bad.fill_null(False).any().alias(f"bad{i}"))
    both = pl.DataFrame(
        [texts[f.name].alias(f"raw{i}") for i, f in enumerate(fields)]
        + [parsed[f.name].alias(f"value{i}") for i, f in enumerate(fields)]
    )
    return [f for f, bad in zip(fields, both.select(checks).row(0)) if bad]


def _first_row(table: RawTable, mask: pl.Series) -> int:
    """The first row where ``mask`` holds (callers ask only when one does)."""
    return int(mask.arg_true()[0])


def _label(table: RawTable, schema: Schema) -> pl.Expr:
    raw = table.frame[schema.label].str.strip_chars()
    if raw.is_null().any() or (raw == "").any():
        row = _first_row(table, raw.is_null() | (raw == ""))
        raise DataError("the label is missing", column=schema.label, **table.locate(row))
    mapping = schema.label_mapping
    if mapping is None:
        mapping = {"0": 0.0, "1": 1.0}
        value = raw.cast(pl.Float64, strict=False)
        allowed = value.is_in([0.0, 1.0])
        target = value
    else:
        keys = {_number(k) for k in mapping}
        if None not in keys:  # numeric keys: "-1" and "-1.0" are the same label
            numeric_map = {_number(k): v for k, v in mapping.items()}
            value = raw.cast(pl.Float64, strict=False)
            allowed = value.is_in(list(numeric_map))
            target = value.replace_strict(numeric_map, default=None, return_dtype=pl.Float64)
        else:
            allowed = raw.is_in(list(mapping))
            target = raw.replace_strict(mapping, default=None, return_dtype=pl.Float64)
    allowed = allowed.fill_null(False)
    if not allowed.all():
        row = _first_row(table, ~allowed)
        raise DataError(
            f"label {raw[row]!r} is outside the allowed set {sorted(mapping)}",
            column=schema.label,
            **table.locate(row),
        )
    return pl.lit(target.cast(pl.Float32)).alias(schema.label)


def _weight(table: RawTable, name: str) -> pl.Expr:
    """The weight column as Float32, or a located DataError at its first cell that is not a
    finite number >= 0 (missing included)."""
    raw = table.frame[name].str.strip_chars()
    value = raw.cast(pl.Float64, strict=False)
    bad = (value.is_null() | ~value.is_finite() | (value < 0) | value.cast(pl.Float32).is_infinite()).fill_null(True)
    if bad.any():
        row = _first_row(table, bad)
        found = "nothing" if raw[row] in (None, "") else repr(raw[row])
        raise DataError(
            f"expected a sample weight, a finite number >= 0, found {found}", column=name, **table.locate(row)
        )
    return pl.lit(value.cast(pl.Float32)).alias(name)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _raise_bad_numeric(table: RawTable, f: Field) -> None:
    """Raise the :class:`DataError` naming the first cell of numeric field ``f`` that is not
    a usable number (called for the fields :func:`_failing` flags after stripping)."""
    raw = table.frame[f.name].str.strip_chars()
    present = raw.is_not_null() & (raw != "")
    value = raw.cast(pl.Float64, strict=False)
    unparsed = present & value.is_null()
    if unparsed.any():
        row = _first_row(table, unparsed)
        raise DataError(f"expected a number, found {raw[row]!r}", column=f.name, **table.locate(row))
    non_finite = present & (value.is_nan() | value.is_infinite())
    if non_finite.fill_null(False).any():
        row = _first_row(table, non_finite.fill_null(False))
        raise DataError(f"expected a finite number, found {raw[row]!r}", column=f.name, **table.locate(row))
    if f.transform == "bucketize":
        too_low = (present & (value < -(2.0**63))).fill_null(False)
        if too_low.any():  # int(x) would not fit the 64-bit bucket
            row = _first_row(table, too_low)
            raise DataError(
                f"expected a number >= -2^63 to bucketize, found {raw[row]!r}", column=f.name, **table.locate(row)
            )
    elif f.transform == "none":
        too_big = (present & value.cast(pl.Float32).is_infinite()).fill_null(False)
        if too_big.any():  # the model would see inf
            row = _first_row(table, too_big)
            raise DataError(
                f"expected a number within float32 range (±3.4e38), found {raw[row]!r}; "
                "use transform: log1p for huge values",
                column=f.name,
                **table.locate(row),
            )


def _numeric_value(x: pl.Expr, f: Field) -> pl.Expr:
    """The model's value of numeric field ``f`` from its parsed Float64 ``x`` (null = missing):
    a bucket string for ``bucketize``; the Float64 value, null kept, for ``standard`` and
    ``minmax`` (:func:`lit_ctr.data.scaling.scaled` finishes it when encoding); else a
    Float32, clipped to ``clip``, with missing as ``fill_value``."""
    if f.transform == "bucketize":
        return pl.when(x > 2).then((x.log() ** 2).floor()).otherwise(x).cast(pl.Int64).cast(pl.String)
    if f.transform in SCALED_TRANSFORMS:  # scaled when encoded, with the training split's statistics
        return x
    if f.transform == "log1p":
        x = x.sign() * x.abs().log1p()
    if f.clip is not None:
        x = x.clip(f.clip[0], f.clip[1])
    return x.fill_null(f.fill_value).cast(pl.Float32)


def bucket_of(x: float) -> str:
    """The Criteo log² bucket of one value, as :func:`prepare` computes it (for docs and tests)."""
    return str(int(math.floor(math.log(x) ** 2)) if x > 2 else int(x))
