"""Per-field vocabularies fitted on the training split, laid out in one id space.

Within a field, id 0 is the out-of-vocabulary id (values unseen in training, or seen
fewer than ``min_count`` times), id 1 is the missing-value id, and ids 2.. are the kept
values, most frequent first (ties by value, so fitting is deterministic). Fields are
laid end to end: field ``i`` owns global ids ``[offsets[i], offsets[i] + sizes[i])``;
categorical fields first, then multi-valued ones (whose values are counted one by one).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import numpy as np
import polars as pl

from lit_ctr.data.categories import ValueCodes
from lit_ctr.data.errors import DataError
from lit_ctr.data.hashing import bucket, list_bucket
from lit_ctr.data.multi import pad_lists
from lit_ctr.data.scaling import NumericStats, NumericStatsCounter
from lit_ctr.data.schema import Field, Schema

OOV_ID = 0
MISSING_ID = 1
RESERVED_IDS = 2
PAD_ID = -1
"""Fills a multi field's columns after its values (global, never a table row: the layers mask it)."""


@dataclass
class FieldVocabulary:
    """The kept values of one categorical field, in id order (value ``values[j]`` has id ``j + 2``);
    for a hashed field, no values and its number of buckets (bucket ``b`` has id ``b + 2``)."""

    name: str
    values: list[str]
    hash_buckets: int | None = None

    @property
    def size(self) -> int:
        """Number of ids of the field, OOV and missing included."""
        return (self.hash_buckets if self.hash_buckets is not None else len(self.values)) + RESERVED_IDS


@dataclass
class Vocabulary:
    """Vocabularies of every categorical field, in schema order, and the training
    statistics of every ``standard``/``minmax`` numeric field (by name)."""

    fields: list[FieldVocabulary]
    numeric: dict[str, NumericStats] = dataclass_field(default_factory=dict)

    @property
    def sizes(self) -> list[int]:
        """Ids per field (the model's ``field_dims``)."""
        return [f.size for f in self.fields]

    @property
    def offsets(self) -> list[int]:
        """First global id of each field."""
        out, total = [], 0
        for size in self.sizes:
            out.append(total)
            total += size
        return out

    @property
    def total_size(self) -> int:
        """Size of the shared id space (rows of the embedding table)."""
        return sum(self.sizes)

    @property
    def id_dtype(self) -> np.dtype:
        """int32, or int64 when the id space does not fit int32."""
        return np.dtype(np.int32 if self.total_size < 2**31 else np.int64)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and strings: safe for JSON and ``torch.load(weights_only=True)``."""
        data: dict[str, Any] = {
            "fields": [
                {"name": f.name, "values": list(f.values)}
                | ({"hash_buckets": f.hash_buckets} if f.hash_buckets else {})
                for f in self.fields
            ]
        }
        if self.numeric:  # absent without scaled fields: earlier vocabularies keep their fingerprints
            data["numeric"] = {name: stats.to_dict() for name, stats in self.numeric.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        return cls(
            [FieldVocabulary(f["name"], list(f["values"]), f.get("hash_buckets")) for f in data["fields"]],
            {name: NumericStats.from_dict(stats) for name, stats in data.get("numeric", {}).items()},
        )


def fit_vocabulary(train: list[pl.DataFrame], schema: Schema) -> Vocabulary:
    """Count every categorical value over the training frames and keep the frequent ones.

    Args:
        train: prepared training frames (categorical columns as strings, null = missing).
        schema: gives each field's ``min_count``.
    """
    counter = VocabularyCounter(schema)
    for frame in train:
        counter.update(frame)
    return counter.vocabulary()


class VocabularyCounter:
    """Counts categorical values chunk by chunk, for training splits larger than memory.

    Each field's values get codes in a :class:`~lit_ctr.data.categories.ValueCodes`
    mapping (a value keeps its code for the counter's life) and are counted per code, so memory grows
    with the number of distinct values per field, not with the rows. ``update`` (or
    :meth:`codes`) every training frame, then :meth:`vocabulary` gives what
    :func:`fit_vocabulary` gives on all the frames at once: the same values, the same
    ids. :meth:`code_ids` then maps the codes :meth:`codes` returned to those ids, which
    lets the training split be written as codes in the counting pass and mapped in place
    afterwards, instead of being read a second time.
    """

    def __init__(self, schema: Schema) -> None:
        self.fields = schema.id_fields
        self._multi = {f.name for f in schema.multi}
        self._codes = [ValueCodes() for _ in self.fields]
        self._counts = [np.zeros(0, dtype=np.uint64) for _ in self.fields]
        self._kept_codes: list[np.ndarray] | None = None
        self._numeric = NumericStatsCounter(schema)
        self.truncated: dict[str, int] = {}  # multi field → rows of :meth:`codes` longer than max_len

    def update(self, frame: pl.DataFrame) -> None:
        """Add the counts of one prepared frame (categorical columns as strings, null = missing)
        and its values of the scaled numeric fields."""
        self._count(frame)
        self._numeric.update(frame)

    def update_numeric(self, frame: pl.DataFrame) -> None:
        """Add one prepared frame's values of the scaled numeric fields only (a pass before
        :meth:`codes`, which counts the categorical values)."""
        self._numeric.update(frame)

    def numeric_stats(self) -> dict[str, NumericStats]:
        """The scaled numeric fields' statistics so far (name → :class:`NumericStats`)."""
        return self._numeric.stats()

    def codes(self, frame: pl.DataFrame) -> np.ndarray:
        """Count one prepared frame's values and return their codes: ``[rows, id columns]``
        int32, ``-1`` for a missing value; a multi field's ``max_len`` columns padded with
        ``-2`` (:func:`~lit_ctr.data.multi.pad_lists`)."""
        codes = self._count(frame)
        if codes is None:
            return np.zeros((frame.height, 0), dtype=np.int32)
        single = [f"code{i}" for i, f in enumerate(self.fields) if f.name not in self._multi]
        parts = [codes.select(pl.col(single).cast(pl.Int32).fill_null(-1)).to_numpy(order="c")] if single else []
        for i, f in enumerate(self.fields):
            if f.name in self._multi:
                padded, truncated = pad_lists(codes[f"code{i}"], f, pad=-2, missing=-1, dtype=np.int32)
                self.truncated[f.name] = self.truncated.get(f.name, 0) + truncated
                parts.append(padded)
        return np.ascontiguousarray(np.concatenate(parts, axis=1))

    def _count(self, frame: pl.DataFrame) -> pl.DataFrame | None:
        """Add one frame's counts; its UInt32 codes per field (null = missing; a list per
        row for a multi field), or None without categorical fields."""
        if not self.fields:
            return None
        codes = frame.select(  # fields in parallel
            self._codes_of(f, codes).alias(f"code{i}") for i, (f, codes) in enumerate(zip(self.fields, self._codes))
        )
        for i, (f, column) in enumerate(zip(self.fields, codes.iter_columns())):
            if f.hash_buckets is not None:  # its codes are its buckets: nothing to count
                continue
            values = column.explode() if f.name in self._multi else column
            present = values.drop_nulls().to_numpy()
            counts = np.bincount(present, minlength=len(self._counts[i])).astype(np.uint64)
            counts[: len(self._counts[i])] += self._counts[i]
            self._counts[i] = counts
        if any(len(c) > _MAX_CODES for c in self._counts):
            name = next(f.name for f, c in zip(self.fields, self._counts) if len(c) > _MAX_CODES)
            raise DataError(f"field {name!r} has more than 2^31 distinct values in the train split")
        return codes

    def _codes_of(self, f: Field, codes: ValueCodes) -> pl.Expr:
        """The UInt32 codes of field ``f``'s values: value codes, or a hashed field's buckets."""
        column = pl.col(f.name)
        if f.hash_buckets is not None:
            return (list_bucket if f.name in self._multi else bucket)(column, f.hash_buckets)
        return (codes.list_codes if f.name in self._multi else codes.codes)(column)

    def vocabulary(self) -> Vocabulary:
        """Keep each field's values seen at least ``min_count`` times, most frequent first
        (ties by value)."""
        queries = [
            pl.DataFrame(
                {
                    "value": codes.values(len(counts)),
                    "n": counts,
                    "code": np.arange(len(counts), dtype=np.int64),
                }
            )
            .lazy()
            .filter(pl.col("value").is_not_null() & (pl.col("n") >= f.min_count))
            .sort(["n", "value"], descending=[True, False])
            for f, codes, counts in zip(self.fields, self._codes, self._counts)
        ]
        kept = pl.collect_all(queries)  # fields in parallel
        fields = [
            FieldVocabulary(f.name, [] if f.hash_buckets is not None else k["value"].to_list(), f.hash_buckets)
            for f, k in zip(self.fields, kept)
        ]
        self._kept_codes = [k["code"].to_numpy() for k in kept]
        return Vocabulary(fields, self._numeric.stats())

    def code_ids(self, offsets: list[int], dtype: np.dtype) -> list[np.ndarray]:
        """Per field (categorical, then multi), the global id of every code (:meth:`vocabulary`
        first): an array indexed by code whose last entry, index ``-1``, is the missing id."""
        if self._kept_codes is None:
            raise RuntimeError("code_ids needs vocabulary() first")
        tables = []
        for f, counts, kept, offset in zip(self.fields, self._counts, self._kept_codes, offsets):
            if f.hash_buckets is not None:  # bucket b has id b + 2
                tables.append(np.append(np.arange(f.hash_buckets) + RESERVED_IDS + offset, MISSING_ID + offset))
                tables[-1] = tables[-1].astype(dtype)
                continue
            table = np.full(len(counts) + 1, OOV_ID + offset, dtype=dtype)
            table[kept] = np.arange(RESERVED_IDS, RESERVED_IDS + len(kept)) + offset
            table[-1] = MISSING_ID + offset
            tables.append(table)
        return tables


# Codes are written as int32 with -1 for missing.
_MAX_CODES = 2**31 - 1
