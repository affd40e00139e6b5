"""Prepared rows → the model's arrays, through a fitted vocabulary.

:func:`encode` maps prepared frames (:func:`~lit_ctr.data.checks.prepare`) through a
fitted :class:`Vocabulary` into contiguous arrays: ids ``[N, F_cat]`` in the shared id
space, numeric values ``[N, F_num]`` (then the value weights of weighted multi fields,
``Σ max_len`` more columns) and labels ``[N]``. An :class:`Encoder` does the same
chunk after chunk for splits larger than memory, building its lookups once.
:func:`map_codes_to_ids` turns the training split's value codes, written while its values
were counted, into ids in place.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from lit_ctr.data.categories import ValueCodes
from lit_ctr.data.files import FdReader, read_exactly, write_all
from lit_ctr.data.hashing import bucket, list_bucket
from lit_ctr.data.multi import pad_lists, pad_weights
from lit_ctr.data.scaling import NumericStats, scaled
from lit_ctr.data.schema import SCALED_TRANSFORMS, Schema
from lit_ctr.data.vocabulary import MISSING_ID, OOV_ID, PAD_ID, RESERVED_IDS, Vocabulary


@dataclass
class EncodedArrays:
    """One split, encoded.

    Attributes:
        ids: ``[N, F_cat]`` int32 (int64 when the id space needs it), global ids.
        numeric: ``[N, F_num + W]`` float32: the numeric fields' values, then the ``W``
            value weights of the multi fields with ``value_weights`` (``max_len`` columns
            each, aligned with their ids; none without such fields).
        labels: ``[N]`` float32 0/1, or ``None`` for unlabelled rows.
        weights: ``[N]`` float32 sample weights (``schema.weight``), or ``None``.
    """

    ids: np.ndarray
    numeric: np.ndarray
    labels: np.ndarray | None
    weights: np.ndarray | None = None

    def __len__(self) -> int:
        return self.ids.shape[0]


def encode(frames: list[pl.DataFrame], schema: Schema, vocabulary: Vocabulary) -> EncodedArrays:
    """Map prepared frames (one split, in order) to contiguous arrays."""
    frame = pl.concat(frames) if len(frames) != 1 else frames[0]
    return Encoder(schema, vocabulary)(frame)


class Encoder:
    """Maps prepared frames to arrays with one vocabulary: built once, applied per chunk.

    ``Encoder(schema, vocabulary)(frame)`` is ``encode([frame], schema, vocabulary)``;
    encoding a split chunk by chunk and concatenating gives the same arrays as encoding
    it at once.
    """

    def __init__(self, schema: Schema, vocabulary: Vocabulary) -> None:
        self.schema = schema
        self.id_dtype = vocabulary.id_dtype
        self._pl_id_dtype = pl.Int32 if self.id_dtype == np.int32 else pl.Int64
        self._lookups: list[_Lookup | _HashedLookup] = [
            _HashedLookup(vocab.hash_buckets) if vocab.hash_buckets is not None else _Lookup(vocab.values)
            for vocab in vocabulary.fields
        ]
        self._offsets = vocabulary.offsets
        self._numeric_stats = vocabulary.numeric
        self.truncated: dict[str, int] = {}  # multi field → rows whose list was longer than max_len

    def __call__(self, frame: pl.DataFrame) -> EncodedArrays:
        n = frame.height
        single = self.schema.categorical
        parts = []
        if single:
            lookups = self._lookups[: len(single)]
            codes = frame.select(
                lookup.codes(pl.col(f.name)).alias(f"code{i}") for i, (f, lookup) in enumerate(zip(single, lookups))
            )
            parts.append(
                codes.select(
                    (lookup.ids(pl.col(f"code{i}")) + offset).cast(self._pl_id_dtype).alias(f"id{i}")
                    for i, (lookup, offset) in enumerate(zip(lookups, self._offsets))
                ).to_numpy(order="c")
            )
            for lookup, column in zip(lookups, codes.iter_columns()):
                lookup.seen(column)
        for f, lookup, offset in zip(
            self.schema.multi, self._lookups[len(single) :], self._offsets[len(single) :], strict=True
        ):
            codes_list = frame.select(lookup.list_codes(pl.col(f.name)).alias("codes")).to_series()
            ids_list = (
                codes_list.to_frame().select(pl.col("codes").list.eval(lookup.ids(pl.element()) + offset)).to_series()
            )
            padded, truncated = pad_lists(ids_list, f, pad=PAD_ID, missing=MISSING_ID + offset, dtype=self.id_dtype)
            self.truncated[f.name] = self.truncated.get(f.name, 0) + truncated
            parts.append(padded)
            lookup.seen(codes_list.explode().drop_nulls())
        ids = np.concatenate(parts, axis=1) if parts else np.zeros((n, 0), dtype=self.id_dtype)
        numeric, labels = numeric_and_labels(frame, self.schema, self._numeric_stats)
        return EncodedArrays(
            np.ascontiguousarray(ids, dtype=self.id_dtype), numeric, labels, weights_of(frame, self.schema)
        )


def weights_of(frame: pl.DataFrame, schema: Schema) -> np.ndarray | None:
    """A prepared frame's sample weights ``[N]`` float32, or ``None`` (no ``schema.weight``,
    or rows to score, which carry none)."""
    if schema.weight is None or schema.weight not in frame.columns:
        return None
    return frame[schema.weight].to_numpy().astype(np.float32)


def numeric_and_labels(
    frame: pl.DataFrame, schema: Schema, stats: Mapping[str, NumericStats] | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """A prepared frame's numeric values ``[N, F_num]`` float32 (C order), followed by the
    value weights of its weighted multi fields (:func:`~lit_ctr.data.multi.pad_weights`),
    and labels ``[N]`` float32, or ``None`` without a label column.

    ``standard`` and ``minmax`` fields are scaled with ``stats`` (field name → the
    training split's :class:`~lit_ctr.data.scaling.NumericStats`), which they require.
    """
    columns = []
    for f in schema.numeric:
        if f.transform in SCALED_TRANSFORMS:
            if stats is None or f.name not in stats:
                raise ValueError(f"numeric field {f.name!r} ({f.transform}) needs its training statistics")
            columns.append(scaled(pl.col(f.name), f, stats[f.name]).alias(f.name))
        else:
            columns.append(pl.col(f.name))
    numeric = (
        frame.select(columns).to_numpy(order="c").astype(np.float32, copy=False)
        if columns
        else np.zeros((frame.height, 0), dtype=np.float32)
    )
    if schema.weighted_multi:
        numeric = np.concatenate([numeric, pad_weights(frame, schema)], axis=1)
    labels = frame[schema.label].to_numpy().astype(np.float32) if schema.label in frame.columns else None
    return np.ascontiguousarray(numeric), labels


class _Lookup:
    """Value → position in one field's kept values, for chunk after chunk.

    The kept values are registered once, in id order, in a :class:`ValueCodes` mapping, so
    a value's code is its position. Values outside the vocabulary get codes past its end
    (the cast adds them to the mapping), which :meth:`ids` sends to the OOV id; :meth:`seen`
    starts a fresh mapping once those have grown large, so memory stays bounded.
    """

    def __init__(self, values: list[str]) -> None:
        self.values = pl.Series(values, dtype=pl.String)
        self.size = len(values)
        self._register()

    def _register(self) -> None:
        mapping = ValueCodes(self.values)
        # Should codes ever not follow insertion order, fall back to the (slower) exact mapping.
        self._mapping = mapping if mapping.in_order else None

    def codes(self, column: pl.Expr) -> pl.Expr:
        """UInt32 position of each value in the kept values, ``>= size`` when not kept, null when missing."""
        if self._mapping is None:
            positions = pl.int_range(0, self.size, eager=True, dtype=pl.UInt32)
            return column.replace_strict(self.values, positions, default=self.size, return_dtype=pl.UInt32)
        return self._mapping.codes(column)

    def list_codes(self, column: pl.Expr) -> pl.Expr:
        """:meth:`codes` of every value of a list column (a multi field)."""
        if self._mapping is None:
            return column.list.eval(self.codes(pl.element()))
        return self._mapping.list_codes(column)

    def ids(self, codes: pl.Expr) -> pl.Expr:
        """Field-local ids (Int64) of :meth:`codes`."""
        return (
            pl.when(codes.is_null())
            .then(MISSING_ID)
            .when(codes < self.size)
            .then(codes.cast(pl.Int64) + RESERVED_IDS)
            .otherwise(OOV_ID)
        )

    def seen(self, codes: pl.Series) -> None:
        """Start a fresh mapping once unseen values have taken more codes than the vocabulary."""
        top = codes.max()  # UInt32 codes: an int, or None for an empty chunk
        if self._mapping is not None and isinstance(top, int) and top >= self.size + max(self.size, _UNSEEN_CODES):
            self._register()


class _HashedLookup:
    """:class:`_Lookup`'s interface for a hashed field: a value's code is its bucket
    (:mod:`lit_ctr.data.hashing`), every value has one, nothing accumulates."""

    def __init__(self, buckets: int) -> None:
        self.size = buckets

    def codes(self, column: pl.Expr) -> pl.Expr:
        return bucket(column, self.size)

    def list_codes(self, column: pl.Expr) -> pl.Expr:
        return list_bucket(column, self.size)

    def ids(self, codes: pl.Expr) -> pl.Expr:
        return pl.when(codes.is_null()).then(MISSING_ID).otherwise(codes.cast(pl.Int64) + RESERVED_IDS)

    def seen(self, codes: pl.Series) -> None:
        """Nothing to bound: buckets are not remembered."""


# Codes of unseen values a lookup lets accumulate (beyond the vocabulary's size) before
# it starts a fresh mapping; re-registering a 10^6-value vocabulary takes about a second.
_UNSEEN_CODES = 1_000_000


def map_codes_to_ids(
    path: Path, code_ids: list[np.ndarray], column_fields: list[int] | None = None, block_rows: int = 1 << 16
) -> None:
    """Rewrite an ``ids.npy`` of per-field value codes (int32, ``-1`` = missing, ``-2`` =
    a multi field's padding) as ids.

    Column ``j`` of field ``k = column_fields[j]`` (default: column ``j`` is field ``j``;
    a multi field has ``max_len`` columns) becomes ``code_ids[k][code]``, padding ``PAD_ID``
    (:meth:`~lit_ctr.data.vocabulary.VocabularyCounter.code_ids`). The file is read and
    written back in blocks of ``block_rows`` rows with plain reads and writes, on all
    cores, so resident memory stays at a few blocks; in place when the ids are int32,
    else into a new file moved over it.
    """
    dtype = code_ids[0].dtype if code_ids else np.dtype(np.int32)
    # All fields' tables end to end, each with the padding id and its missing id first: a
    # block of codes becomes ids with one add and one gather in memory order (a gather per
    # column strides over the whole block once per field).
    pad = np.full(1, PAD_ID, dtype)
    lookup = (
        np.concatenate([np.concatenate([pad, t[-1:], t[:-1]]) for t in code_ids]) if code_ids else np.zeros(0, dtype)
    )
    index_dtype = np.int32 if len(lookup) < 2**31 else np.int64
    field_base = np.cumsum([0] + [len(t) + 1 for t in code_ids[:-1]]) + 2
    columns = column_fields if column_fields is not None else list(range(len(code_ids)))
    base = field_base[columns].astype(index_dtype) if code_ids else np.zeros(0, index_dtype)
    source = os.open(path, os.O_RDWR)
    target = None
    try:
        header = FdReader(source)
        version = np.lib.format.read_magic(header)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, stored = read_header(header)
        if stored != np.int32:
            raise ValueError(f"{path}: expected int32 codes, found {stored}")
        rows, width = shape
        out, out_start = source, header.offset
        if dtype != np.int32:
            out = target = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            new_header = io.BytesIO()
            descr = np.lib.format.dtype_to_descr(dtype)
            np.lib.format.write_array_header_1_0(new_header, {"descr": descr, "fortran_order": False, "shape": shape})
            write_all(target, new_header.getvalue(), 0)
            out_start = len(new_header.getvalue())

        def map_block(first: int) -> None:
            codes = np.empty((min(block_rows, rows - first), width), dtype=np.int32)
            read_exactly(source, codes, header.offset + first * width * 4, path)
            index = codes.astype(index_dtype, copy=False)
            index += base  # codes are at least -2: each field's missing id sits at its base - 1, padding at - 2
            ids = np.take(lookup, index)
            write_all(out, ids.data, out_start + first * width * dtype.itemsize)

        # numpy's gather and the file reads and writes release the GIL.
        with ThreadPoolExecutor(os.cpu_count()) as pool:
            list(pool.map(map_block, range(0, rows, block_rows)))
    finally:
        if target is not None:
            os.close(target)
        os.close(source)
    if target is not None:
        os.replace(path.with_suffix(".tmp"), path)
