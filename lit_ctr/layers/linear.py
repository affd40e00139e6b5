"""The first-order term of every FM-family model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from lit_ctr.layers.penalised_rows import PenalisedRows
from lit_ctr.layers.pooling import multi_field_layout, pool_fields, real_rows_squared, weight_columns
from lit_ctr.layers.table import EmbeddingTable


class FeaturesLinear(PenalisedRows):
    """``b + Σ_i w_i x_i`` over a row's features: ``[batch]``.

    A categorical feature has ``x_i = 1`` and its weight in a one-column table over the
    shared id space; a numeric field has one weight times its value. A multi-valued field's
    weights pool as its vectors do in :class:`~lit_ctr.layers.FeatureEmbedding` (sum, mean
    or max over its ids, weighted by its value weights where it has them), so it is one
    term of the sum.

    Args:
        field_dims: ids per categorical field, the multi-valued ones last.
        num_numeric: number of numeric fields.
        multi_fields: the multi-valued fields' ``{max_len, pooling, value_weights}``, in order.
    """

    def __init__(
        self, field_dims: list[int], num_numeric: int, multi_fields: Sequence[Mapping[str, Any]] | None = None
    ) -> None:
        super().__init__()
        self.multi = multi_field_layout("multi_fields", multi_fields)
        self.num_single = len(field_dims) - len(self.multi)
        self.num_numeric = num_numeric
        self.weighted = weight_columns(self.multi) > 0
        self.table = EmbeddingTable(max(sum(field_dims), 1), 1)
        self.numeric_weights = nn.Parameter(torch.zeros(num_numeric))
        self.bias = nn.Parameter(torch.zeros(()))
        nn.init.zeros_(self.table.weight)

    def categorical_weights(self, ids: Tensor, value_weights: Tensor | None = None) -> Tensor:
        """Each categorical field's weight ``w_i`` (multi-valued fields pooled, by their
        ``value_weights [B, W]`` where weighted): ``[B, F_cat, 1]``."""
        if self.multi:
            rows = self.kept(self.table(ids.clamp(min=0)))
            return pool_fields(rows, ids, self.num_single, self.multi, value_weights)
        return self.kept(self.table(ids))

    def _split(self, numeric: Tensor) -> tuple[Tensor, Tensor | None]:
        """``numeric [B, F_num + W]`` → the numeric values and the value weights (None without weighted fields)."""
        if not self.weighted:
            return numeric, None
        return numeric[:, : self.num_numeric], numeric[:, self.num_numeric :]

    def field_terms(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """Each field's term ``w_i x_i``: ``[B, F_cat + F_num, 1]`` (categorical fields, then numeric)."""
        numeric, value_weights = self._split(numeric)
        weights = self.categorical_weights(ids, value_weights)
        if self.numeric_weights.shape[0]:
            numeric_terms = (numeric * self.numeric_weights).unsqueeze(-1)
            weights = torch.cat([weights, numeric_terms.to(weights.dtype)], dim=1)
        return weights

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """``ids [B, F_single + Σ max_len]``, ``numeric [B, F_num + W]`` (the numeric values,
        then the value weights of weighted multi fields) → ``[B]``."""
        numeric, value_weights = self._split(numeric)
        out = self.categorical_weights(ids, value_weights).sum(dim=(1, 2)) + self.bias
        if self.numeric_weights.shape[0]:
            out = out + numeric @ self.numeric_weights
        return out

    def squared_norm(self, ids: Tensor) -> Tensor:
        """Sum of squared weights a batch looks up (padding left out), over the batch size (for L2)."""
        if self.multi:
            rows = real_rows_squared(self.rows_for_penalty(ids.clamp(min=0)), ids)
        else:
            rows = self.rows_for_penalty(ids).pow(2).sum()
        return rows / ids.shape[0] + self.numeric_weights.pow(2).sum()
