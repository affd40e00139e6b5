"""Numeric scaling fitted on the training split: ``transform: standard`` and ``minmax``.

:class:`NumericStatsCounter` accumulates, chunk by chunk, the count, mean, population
variance, min and max of each scaled field's present values in the training split (chunks
merge exactly, by Chan's parallel update, so a split larger than memory gives the
statistics of all its rows). The fitted :class:`NumericStats` travel with the vocabulary
(:class:`~lit_ctr.data.vocabulary.Vocabulary`), hence into the cache entry, checkpoints
and exports, and :func:`scaled` applies them as one polars expression on every path
(training, evaluation, ``predict``, exported artifacts), so a row is scaled identically
everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from lit_ctr.data.schema import SCALED_TRANSFORMS, Field, Schema


@dataclass
class NumericStats:
    """Statistics of one numeric field's present values in the training split.

    A field with no present value in the training split has ``count == 0``, mean and
    min 0, std and max - min 1: scaling leaves its values as they are.
    """

    count: int
    mean: float
    std: float
    min: float
    max: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericStats:
        return cls(int(data["count"]), *(float(data[k]) for k in ("mean", "std", "min", "max")))


def scaled_fields(schema: Schema) -> list[Field]:
    """The numeric fields whose transform needs training statistics, in schema order."""
    return [f for f in schema.numeric if f.transform in SCALED_TRANSFORMS]


def scaled(x: pl.Expr, f: Field, stats: NumericStats) -> pl.Expr:
    """The model's Float32 value of scaled field ``f`` from its Float64 value ``x`` (null =
    missing): standardised or min-max scaled, clipped to ``f.clip``, missing as ``f.fill_value``."""
    if f.transform == "standard":
        shift, scale = stats.mean, stats.std
    else:
        shift, scale = stats.min, stats.max - stats.min
    value = (x - shift) / (scale if scale > 0 else 1.0)  # a constant field: shifted only
    if f.clip is not None:
        value = value.clip(f.clip[0], f.clip[1])
    return value.fill_null(f.fill_value).cast(pl.Float32)


class NumericStatsCounter:
    """Accumulates :class:`NumericStats` of the scaled fields over training chunks."""

    def __init__(self, schema: Schema) -> None:
        self.fields = scaled_fields(schema)
        self._parts = [(0, 0.0, 0.0, float("inf"), float("-inf")) for _ in self.fields]  # n, mean, M2, min, max

    def update(self, frame: pl.DataFrame) -> None:
        """Add one prepared frame's present values (scaled fields as Float64, null = missing)."""
        if not self.fields or frame.height == 0:
            return
        row = frame.select(
            expr
            for i, f in enumerate(self.fields)
            for expr in (
                pl.col(f.name).count().alias(f"n{i}"),
                pl.col(f.name).mean().alias(f"mean{i}"),
                pl.col(f.name).var(ddof=0).alias(f"var{i}"),
                pl.col(f.name).min().alias(f"min{i}"),
                pl.col(f.name).max().alias(f"max{i}"),
            )
        ).row(0, named=True)
        for i, (n, mean, m2, low, high) in enumerate(self._parts):
            k = int(row[f"n{i}"])
            if k == 0:
                continue
            k_mean, k_m2 = float(row[f"mean{i}"]), float(row[f"var{i}"]) * k
            total = n + k
            delta = k_mean - mean
            self._parts[i] = (
                total,
                mean + delta * k / total,
                m2 + k_m2 + delta * delta * n * k / total,
                min(low, float(row[f"min{i}"])),
                max(high, float(row[f"max{i}"])),
            )

    def stats(self) -> dict[str, NumericStats]:
        """Field name → its statistics so far."""
        out = {}
        for f, (n, mean, m2, low, high) in zip(self.fields, self._parts):
            if n == 0:
                out[f.name] = NumericStats(0, 0.0, 1.0, 0.0, 1.0)
            else:
                out[f.name] = NumericStats(n, mean, (m2 / n) ** 0.5, low, high)
        return out
