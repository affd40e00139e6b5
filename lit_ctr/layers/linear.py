"""The first-order term of every FM-family model."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_ctr.layers.penalised_rows import PenalisedRows
from lit_ctr.layers.table import EmbeddingTable


class FeaturesLinear(PenalisedRows):
    """``b + Σ_i w_i x_i`` over a row's features: ``[batch]``.

    A categorical feature has ``x_i = 1`` and its weight in a one-column table over the
    shared id space; a numeric field has one weight times its value.

    Args:
        field_dims: ids per categorical field.
        num_numeric: number of numeric fields.
    """

    def __init__(self, field_dims: list[int], num_numeric: int) -> None:
        super().__init__()
        self.table = EmbeddingTable(max(sum(field_dims), 1), 1)
        self.numeric_weights = nn.Parameter(torch.zeros(num_numeric))
        self.bias = nn.Parameter(torch.zeros(()))
        nn.init.zeros_(self.table.weight)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """``ids [B, F_cat]``, ``numeric [B, F_num]`` → ``[B]``."""
        out = self.kept(self.table(ids)).sum(dim=(1, 2)) + self.bias
        if self.numeric_weights.shape[0]:
            out = out + numeric @ self.numeric_weights
        return out

    def squared_norm(self, ids: Tensor) -> Tensor:
        """Sum of squared weights a batch looks up, over the batch size (for L2)."""
        return self.rows_for_penalty(ids).pow(2).sum() / ids.shape[0] + self.numeric_weights.pow(2).sum()
