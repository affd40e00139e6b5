"""Multi-valued fields as fixed-width id columns: the one padding rule of the cache and scoring.

A multi field's cell is a list of values (:func:`~lit_ctr.data.checks.prepare`); encoded,
it takes ``max_len`` columns of ``ids``: the row's values, then padding. The training
split's value codes and every other split's ids go through :func:`pad_lists`, so they
share one layout, which the model's layers pool (:mod:`lit_ctr.layers.pooling`).

A multi field with ``value_weights`` also has a list of weights per cell, aligned with its
values (a prepared frame's :func:`weights_column`); :func:`pad_weights` lays them out as
``max_len`` float columns that line up with the ids: the same values kept on truncation,
weight 0 on padding, 1 on a missing cell's missing id. They follow the numeric values in
the model's float input (``numeric [N, F_num + Σ max_len of weighted fields]``).
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl

from lit_ctr.data.schema import Field, Schema

log = logging.getLogger("lit_ctr")


def column_fields(schema: Schema) -> list[int]:
    """For each column of ``ids``, the index of its field among ``schema.id_fields``."""
    single = len(schema.categorical)
    columns = list(range(single))
    for j, f in enumerate(schema.multi):
        columns += [single + j] * int(f.max_len or 0)
    return columns


def log_truncated(split: str, schema: Schema, truncated: dict[str, int]) -> None:
    """One line per multi field whose lists were cut to ``max_len`` in ``split``."""
    for f in schema.multi:
        if truncated.get(f.name):
            log.info(
                "lit-ctr: %s split: %d rows of field %r had more than max_len=%d values; kept the %s %d",
                split,
                truncated[f.name],
                f.name,
                f.max_len,
                f.keep,
                f.max_len,
            )
    truncated.clear()


def weights_column(name: str) -> str:
    """The prepared frame's column of field ``name``'s value weights (a name no file column has)."""
    return f"\x00value weights\x00{name}"


def pad_weights(frame: pl.DataFrame, schema: Schema) -> np.ndarray:
    """The value weights of a prepared frame's weighted multi fields: ``[N, Σ max_len]``
    float32, each field's ``max_len`` columns aligned with its ids (:func:`pad_lists`:
    the same values kept when a list is truncated), 0 on padding, 1 on a missing cell."""
    parts = [
        pad_lists(frame[weights_column(f.name)], f, pad=0.0, missing=1.0, dtype=np.float32)[0]
        for f in schema.weighted_multi
    ]
    return np.concatenate(parts, axis=1) if parts else np.zeros((frame.height, 0), dtype=np.float32)


def pad_lists(
    values: pl.Series, f: Field, *, pad: float, missing: float, dtype: np.dtype | type
) -> tuple[np.ndarray, int]:
    """A multi field's list column (ids, codes or weights, no nulls inside) as ``[N, f.max_len]``:
    each row's values first (the first or last ``max_len`` of a longer list, as ``f.keep``
    says), then ``pad``; a missing cell (null) is ``missing`` then padding, an empty list is
    all padding. Returns the array and the number of rows that were truncated."""
    width = int(f.max_len or 0)
    truncated = int((values.list.len() > width).sum())
    kept = values.list.head(width) if f.keep == "first" else values.list.tail(width)
    lengths = kept.list.len().fill_null(0).to_numpy().astype(np.int64)
    out = np.full((len(values), width), pad, dtype=dtype)
    flat = kept.explode().drop_nulls().to_numpy()  # an empty or null list explodes to one null
    if len(flat):
        rows = np.repeat(np.arange(len(values)), lengths)
        starts = np.cumsum(lengths) - lengths
        out[rows, np.arange(len(flat)) - np.repeat(starts, lengths)] = flat
    out[values.is_null().to_numpy(), 0] = missing
    return out, truncated
