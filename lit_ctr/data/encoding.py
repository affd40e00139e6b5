"""Checked conversion of raw string columns into the model's arrays.

Two steps, both in polars:

1. :func:`prepare` checks every value of one :class:`RawTable` against the schema and
   types it: the label as 0/1, numeric fields as transformed floats, categorical fields
   (bucketized numerics included) as strings with null for missing.
2. :func:`encode` maps prepared frames through a fitted :class:`Vocabulary` into
   contiguous arrays: ids ``[N, F_cat]`` in the shared id space, numeric values
   ``[N, F_num]`` and labels ``[N]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from lit_ctr.data.errors import DataError
from lit_ctr.data.readers import RawTable
from lit_ctr.data.schema import Field, Schema
from lit_ctr.data.vocabulary import MISSING_ID, OOV_ID, RESERVED_IDS, Vocabulary


@dataclass
class EncodedArrays:
    """One split, encoded.

    Attributes:
        ids: ``[N, F_cat]`` int32 (int64 when the id space needs it), global ids.
        numeric: ``[N, F_num]`` float32.
        labels: ``[N]`` float32 0/1, or ``None`` for unlabelled rows.
    """

    ids: np.ndarray
    numeric: np.ndarray
    labels: np.ndarray | None

    def __len__(self) -> int:
        return self.ids.shape[0]


def prepare(table: RawTable, schema: Schema, *, require_label: bool = True) -> pl.DataFrame:
    """Check and type the rows of one file; raise :class:`DataError` at the first bad cell."""
    frame = table.frame
    columns = []
    if schema.label in frame.columns:
        columns.append(_label(table, schema))
    elif require_label:
        raise DataError(f"expected a label column {schema.label!r}", file=table.file)
    for f in schema.fields:
        if f.kind == "categorical":
            text = pl.col(f.name).str.strip_chars()
            columns.append(pl.when(text != "").then(text).alias(f.name))
        else:
            columns.append(_numeric(table, f))
    return frame.select(columns)


def _first_row(table: RawTable, mask: pl.Series) -> int | None:
    hits = mask.arg_true()
    return int(hits[0]) if len(hits) else None


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


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric(table: RawTable, f: Field) -> pl.Expr:
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
        raise DataError(
            f"expected a finite number, found {raw[row]!r}", column=f.name, **table.locate(row)
        )
    x = pl.lit(value)
    if f.transform == "bucketize":
        too_low = (present & (value < -(2.0**63))).fill_null(False)
        if too_low.any():  # int(x) would not fit the 64-bit bucket
            row = _first_row(table, too_low)
            raise DataError(
                f"expected a number >= -2^63 to bucketize, found {raw[row]!r}", column=f.name, **table.locate(row)
            )
        bucket = (
            pl.when(x > 2).then((x.log() ** 2).floor()).otherwise(x).cast(pl.Int64).cast(pl.String)
        )
        return bucket.alias(f.name)
    if f.transform == "log1p":
        x = x.sign() * x.abs().log1p()
    return x.fill_null(f.fill_value).cast(pl.Float32).alias(f.name)


def encode(frames: list[pl.DataFrame], schema: Schema, vocabulary: Vocabulary) -> EncodedArrays:
    """Map prepared frames (one split, in order) to contiguous arrays."""
    frame = pl.concat(frames) if len(frames) != 1 else frames[0]
    id_dtype = np.int32 if vocabulary.total_size < 2**31 else np.int64
    pl_id_dtype = pl.Int32 if id_dtype is np.int32 else pl.Int64
    id_columns = []
    for f, vocab, offset in zip(schema.categorical, vocabulary.fields, vocabulary.offsets):
        kept = pl.Series(vocab.values, dtype=pl.String)
        ids = pl.Series(range(RESERVED_IDS, vocab.size), dtype=pl.Int64)
        column = (
            pl.when(pl.col(f.name).is_null())
            .then(MISSING_ID)
            .otherwise(pl.col(f.name).replace_strict(kept, ids, default=OOV_ID, return_dtype=pl.Int64))
        )
        id_columns.append((column + offset).cast(pl_id_dtype).alias(f.name))
    n = frame.height
    ids = (
        frame.select(id_columns).to_numpy(order="c")
        if id_columns
        else np.zeros((n, 0), dtype=id_dtype)
    )
    numeric_names = [f.name for f in schema.numeric]
    numeric = (
        frame.select(numeric_names).to_numpy(order="c").astype(np.float32, copy=False)
        if numeric_names
        else np.zeros((n, 0), dtype=np.float32)
    )
    labels = frame[schema.label].to_numpy().astype(np.float32) if schema.label in frame.columns else None
    return EncodedArrays(np.ascontiguousarray(ids, dtype=id_dtype), np.ascontiguousarray(numeric), labels)


def bucket_of(x: float) -> str:
    """The Criteo log² bucket of one value, as :func:`prepare` computes it (for docs and tests)."""
    return str(int(math.floor(math.log(x) ** 2)) if x > 2 else int(x))
