"""The first-order term of every FM-family model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from lit_ctr.layers.penalised_rows import PenalisedRows
from lit_ctr.layers.pooling import multi_field_layout, pool_fields, real_rows_squared
from lit_ctr.layers.table import EmbeddingTable


class FeaturesLinear(PenalisedRows):
    """``b + Σ_i w_i x_i`` over a row's features: ``[batch]``.

    A categorical feature has ``x_i = 1`` and its weight in a one-column table over the
    shared id space; a numeric field has one weight times its value. A multi-valued field's
    weights pool as its vectors do in :class:`~lit_ctr.layers.FeatureEmbedding` (sum, mean
    or max over its ids), so it is one term of the sum.

    Args:
        field_dims: ids per categorical field, the multi-valued ones last.
        num_numeric: number of numeric fields.
        multi_fields: the multi-valued fields' ``{max_len, pooling}``, in order.
    """

    def __init__(
        self, field_dims: list[int], num_numeric: int, multi_fields: Sequence[Mapping[str, Any]] | None = None
    ) -> None:
        super().__init__()
        self.multi = multi_field_layout("multi_fields", multi_fields)
        self.num_single = len(field_dims) - len(self.multi)
        self.table = EmbeddingTable(max(sum(field_dims), 1), 1)
        self.numeric_weights = nn.Parameter(torch.zeros(num_numeric))
        self.bias = nn.Parameter(torch.zeros(()))
        nn.init.zeros_(self.table.weight)

    def categorical_weights(self, ids: Tensor) -> Tensor:
        """Each categorical field's weight ``w_i`` (multi-valued fields pooled): ``[B, F_cat, 1]``."""
        if self.multi:
            return pool_fields(self.kept(self.table(ids.clamp(min=0))), ids, self.num_single, self.multi)
        return self.kept(self.table(ids))

    def field_terms(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """Each field's term ``w_i x_i``: ``[B, F_cat + F_num, 1]`` (categorical fields, then numeric)."""
        weights = self.categorical_weights(ids)
        if self.numeric_weights.shape[0]:
            numeric_terms = (numeric * self.numeric_weights).unsqueeze(-1)
            weights = torch.cat([weights, numeric_terms.to(weights.dtype)], dim=1)
        return weights

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """``ids [B, F_single + Σ max_len]``, ``numeric [B, F_num]`` → ``[B]``."""
        out = self.categorical_weights(ids).sum(dim=(1, 2)) + self.bias
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
