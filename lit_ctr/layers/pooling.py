"""Pooling of multi-valued fields: a field with several ids per row is one field's vector.

A multi-valued field ``j`` occupies ``max_len_j`` columns of ``ids``, after the one column
of each single-valued field; a row's values come first and negative ids pad the rest
(the data's ``PAD_ID``, ``-1``). The lookup layers gather every column at once (padding
as row 0, masked out here) and :func:`pool_fields` reduces each multi field's columns to
one vector with a masked sum, mean or max — the gather + masked reduction of
``nn.EmbeddingBag``, in a form TorchScript and ONNX trace. A row without values (an empty
list) pools to the zero vector.
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


def multi_field_layout(key: str, fields: Sequence[Mapping[str, Any]] | None) -> list[MultiField]:
    """``[{max_len, pooling, ...}, ...]`` (the data's ``multi_fields``) checked, as :class:`MultiField`.

    Raises:
        ConfigError: ``model.<key>[i].max_len`` not an integer >= 1, or an unknown pooling.
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
        layout.append(MultiField(max_len, pooling))
    return layout


def pool_fields(rows: Tensor, ids: Tensor, num_single: int, multi: Sequence[MultiField]) -> Tensor:
    """Rows gathered for every column → one row per field.

    Args:
        rows: ``[batch, num_single + Σ max_len, dim]``, gathered for ``ids`` (padding
            columns gathered as any row: they are masked).
        ids: ``[batch, num_single + Σ max_len]``; negative ids are padding.
        num_single: the single-valued fields, first in ``ids``.
        multi: the multi-valued fields' layouts, in column order.

    Returns:
        ``[batch, num_single + len(multi), dim]``.
    """
    if not multi:
        return rows
    parts = [rows[:, :num_single]]
    start = num_single
    for field in multi:
        values = rows[:, start : start + field.max_len]
        present = (ids[:, start : start + field.max_len] >= 0).unsqueeze(-1)  # [B, L, 1]
        if field.pooling == "max":
            pooled = values.masked_fill(~present, float("-inf")).amax(dim=1)
            pooled = torch.where(present.any(dim=1), pooled, torch.zeros_like(pooled))  # no values: zero
        else:
            pooled = (values * present.to(values.dtype)).sum(dim=1)
            if field.pooling == "mean":
                pooled = pooled / present.sum(dim=1).clamp(min=1).to(values.dtype)
        parts.append(pooled.unsqueeze(1))
        start += field.max_len
    return torch.cat(parts, dim=1)


def real_rows_squared(rows: Tensor, ids: Tensor) -> Tensor:
    """Sum of squares of the gathered ``rows [B, W, dim]`` that are real ids (padding left out)."""
    return (rows.pow(2).sum(dim=-1) * (ids >= 0).to(rows.dtype)).sum()
