"""Per-field vocabularies fitted on the training split, laid out in one id space.

Within a field, id 0 is the out-of-vocabulary id (values unseen in training, or seen
fewer than ``min_count`` times), id 1 is the missing-value id, and ids 2.. are the kept
values, most frequent first (ties by value, so fitting is deterministic). Fields are
laid end to end: field ``i`` owns global ids ``[offsets[i], offsets[i] + sizes[i])``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from lit_ctr.data.schema import Schema

OOV_ID = 0
MISSING_ID = 1
RESERVED_IDS = 2


@dataclass
class FieldVocabulary:
    """The kept values of one categorical field, in id order (value ``values[j]`` has id ``j + 2``)."""

    name: str
    values: list[str]

    @property
    def size(self) -> int:
        """Number of ids of the field, OOV and missing included."""
        return len(self.values) + RESERVED_IDS


@dataclass
class Vocabulary:
    """Vocabularies of every categorical field, in schema order."""

    fields: list[FieldVocabulary]

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

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and strings: safe for JSON and ``torch.load(weights_only=True)``."""
        return {"fields": [{"name": f.name, "values": list(f.values)} for f in self.fields]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        return cls([FieldVocabulary(f["name"], list(f["values"])) for f in data["fields"]])


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


# Pending per-chunk counts are merged once they outgrow the merged counts (and this
# floor): each count row takes part in O(1) merges on average, so counting stays linear
# in the rows however many chunks there are.
_MIN_MERGE_ROWS = 1_000_000


class VocabularyCounter:
    """Counts categorical values chunk by chunk, for training splits larger than memory.

    Memory grows with the number of distinct values per field, not with the rows.
    ``update`` every training frame, then ``vocabulary()`` gives what
    :func:`fit_vocabulary` gives on all the frames at once: the same values, the same ids.
    """

    def __init__(self, schema: Schema) -> None:
        self.fields = schema.categorical
        # Per field: value -> count frames ("value" String, "n" UInt64), merged and pending.
        self._merged: list[pl.DataFrame | None] = [None] * len(self.fields)
        self._pending: list[list[pl.DataFrame]] = [[] for _ in self.fields]

    def update(self, frame: pl.DataFrame) -> None:
        """Add the counts of one prepared frame (categorical columns as strings, null = missing)."""
        if not self.fields:
            return
        # Counted under our own column names: a field may be called "n" or "value".
        # UInt64 counts: a value may occur more than 2^32 times in a Criteo-1TB-sized split.
        queries = [
            frame.lazy()
            .select(pl.col(f.name).alias("value"))
            .drop_nulls()
            .group_by("value")
            .agg(pl.len().cast(pl.UInt64).alias("n"))
            for f in self.fields
        ]
        for i, counts in enumerate(pl.collect_all(queries)):  # fields counted in parallel
            self._pending[i].append(counts)
            merged = self._merged[i].height if self._merged[i] is not None else 0
            if sum(c.height for c in self._pending[i]) > max(merged, _MIN_MERGE_ROWS):
                self._merge(i)

    def _merge(self, i: int) -> None:
        parts = ([self._merged[i]] if self._merged[i] is not None else []) + self._pending[i]
        self._pending[i] = []
        if len(parts) <= 1:
            self._merged[i] = parts[0] if parts else None
            return
        self._merged[i] = pl.concat(parts).group_by("value").agg(pl.col("n").sum())

    def vocabulary(self) -> Vocabulary:
        """Keep each field's values seen at least ``min_count`` times, most frequent first
        (ties by value)."""
        fields = []
        for i, f in enumerate(self.fields):
            self._merge(i)
            counts = self._merged[i]
            values = (
                counts.lazy()
                .filter(pl.col("n") >= f.min_count)
                .sort(["n", "value"], descending=[True, False])
                .collect()["value"]
                .to_list()
                if counts is not None
                else []
            )
            fields.append(FieldVocabulary(f.name, values))
        return Vocabulary(fields)
