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
    fields = []
    for f in schema.categorical:
        counts = (
            pl.concat([frame.select(f.name) for frame in train])
            .lazy()
            .drop_nulls()
            .group_by(f.name)
            .agg(pl.len().alias("n"))
            .filter(pl.col("n") >= f.min_count)
            .sort(["n", f.name], descending=[True, False])
            .collect()
        )
        fields.append(FieldVocabulary(f.name, counts[f.name].to_list()))
    return Vocabulary(fields)
