"""Pooling of multi-valued fields: a field with several ids per row is one field's vector.

A multi-valued field ``j`` occupies ``max_len_j`` columns of ``ids``, after the one column
of each single-valued field; a row's values come first and negative ids pad the rest
(the data's ``PAD_ID``, ``-1``). The lookup layers gather every column at once (padding
as row 0, masked out here) and :func:`pool_fields` reduces each multi field's columns to
one vector with a masked sum, mean or max — the gather + masked reduction of
``nn.EmbeddingBag``, in a form TorchScript and ONNX trace. A row without values (an empty
list) pools to the zero vector.

A field with ``value_weights`` has a weight ``w_i`` per column (the value weights that
follow the numeric values in the model's float input, 0 on padding) and pools
``w_i e_i``: ``sum`` is ``Σ w_i e_i``, ``mean`` is ``Σ w_i e_i / Σ w_i`` (TensorFlow's
``embedding_lookup_sparse`` mean combiner; 0 when ``Σ w_i = 0``) and ``max`` is the
largest ``w_i e_i`` over the values. With every weight 1 this is the unweighted pooling,
bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from lit_ctr.errors import ConfigError

POOLINGS = ("sum", "mean", "max")


@dataclass(frozen=True)
class MultiField:
    """The layout of one multi-valued field in ``ids``: its columns and how they pool."""

    max_len: int
    pooling: str = "mean"
    weighted: bool = False


def multi_field_layout(key: str, fields: Sequence[Mapping[str, Any]] | None) -> list[MultiField]:
    """``[{max_len, pooling, value_weights, ...}, ...]`` (the data's ``multi_fields``;
    ``value_weights`` false when absent) checked, as :class:`MultiField`.

    Raises:
        ConfigError: ``model.<key>[i].max_len`` not an integer >= 1, an unknown pooling,
            or ``value_weights`` not a bool.
    """
    layout = []
    for i, spec in enumerate(fields or []):
        if not isinstance(spec, Mapping):
            raise ConfigError(f"model.{key}[{i}]: expected a mapping like {{max_len: 20, pooling: mean}}, got {spec!r}")
        max_len, pooling = spec.get("max_len"), spec.get("pooling", "mean")
        if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
            raise ConfigError(f"model.{key}[{i}].max_len: expected an integer >= 1, got {max_len!r}")
        if pooling not in POOLINGS:
            raise ConfigError(f"model.{key}[{i}].pooling: expected one of {', '.join(POOLINGS)}, got {pooling!r}")
        weighted = spec.get("value_weights", False)
        if not isinstance(weighted, bool):
            raise ConfigError(f"model.{key}[{i}].value_weights: expected true or false, got {weighted!r}")
        layout.append(MultiField(max_len, pooling, weighted))
    return layout


def weight_columns(multi: Sequence[MultiField]) -> int:
    """Value-weight columns the fields take in the float input: ``max_len`` per weighted field."""
    return sum(f.max_len for f in multi if f.weighted)


def layout_of(multi: Sequence[MultiField]) -> list[dict[str, Any]]:
    """:class:`MultiField` back as plain data (the model's ``multi_fields``); ``value_weights``
    only where set, so the layouts of unweighted fields read as before it existed."""
    return [
        {"max_len": f.max_len, "pooling": f.pooling} | ({"value_weights": True} if f.weighted else {}) for f in multi
    ]


def pool_fields(
    rows: Tensor, ids: Tensor, num_single: int, multi: Sequence[MultiField], weights: Tensor | None = None
) -> Tensor:
    """Rows gathered for every column → one row per field.

    Args:
        rows: ``[batch, num_single + Σ max_len, dim]``, gathered for ``ids`` (padding
            columns gathered as any row: they are masked).
        ids: ``[batch, num_single + Σ max_len]``; negative ids are padding.
        num_single: the single-valued fields, first in ``ids``.
        multi: the multi-valued fields' layouts, in column order.
        weights: ``[batch, Σ max_len of the weighted fields]``, the value weights of the
            fields with ``weighted`` set, in order (needed only when one is).

    Returns:
        ``[batch, num_single + len(multi), dim]``.
    """
    if not multi:
        return rows
    parts = [rows[:, :num_single]]
    start, weight_start = num_single, 0
    for field in multi:
        values = rows[:, start : start + field.max_len]
        present = (ids[:, start : start + field.max_len] >= 0).unsqueeze(-1)  # [B, L, 1]
        if field.weighted:
            assert weights is not None, "a weighted multi field needs its value weights"
            given = weights[:, weight_start : weight_start + field.max_len].unsqueeze(-1)
            pooled = _weighted_pool(values, present, given.to(values.dtype), field.pooling)
            weight_start += field.max_len
        elif field.pooling == "max":
            pooled = values.masked_fill(~present, float("-inf")).amax(dim=1)
            pooled = torch.where(present.any(dim=1), pooled, torch.zeros_like(pooled))  # no values: zero
        else:
            pooled = (values * present.to(values.dtype)).sum(dim=1)
            if field.pooling == "mean":
                pooled = pooled / present.sum(dim=1).clamp(min=1).to(values.dtype)
        parts.append(pooled.unsqueeze(1))
        start += field.max_len
    return torch.cat(parts, dim=1)


def _weighted_pool(values: Tensor, present: Tensor, weights: Tensor, pooling: str) -> Tensor:
    """One weighted field: ``values [B, L, dim]``, ``present``/``weights [B, L, 1]`` → ``[B, dim]``
    (padding weighs 0 whatever its given weight)."""
    weights = weights * present.to(values.dtype)
    scaled = values * weights
    if pooling == "max":
        pooled = scaled.masked_fill(~present, float("-inf")).amax(dim=1)
        return torch.where(present.any(dim=1), pooled, torch.zeros_like(pooled))  # no values: zero
    pooled = scaled.sum(dim=1)
    if pooling == "mean":
        total = weights.sum(dim=1)
        # Σ w = 0 (no values, or all weigh 0) pools to 0; dividing by 1 there keeps the gradient finite.
        pooled = pooled / torch.where(total == 0, torch.ones_like(total), total)
    return pooled


def real_rows_squared(rows: Tensor, ids: Tensor) -> Tensor:
    """Sum of squares of the gathered ``rows [B, W, dim]`` that are real ids (padding left out)."""
    return (rows.pow(2).sum(dim=-1) * (ids >= 0).to(rows.dtype)).sum()
