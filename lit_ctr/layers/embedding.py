"""One embedding table for all categorical fields, plus vectors for numeric fields."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_ctr.layers.penalised_rows import PenalisedRows
from lit_ctr.layers.table import EmbeddingTable


class FeatureEmbedding(PenalisedRows):
    """Dense vectors of every field of a row: ``[batch, fields, dim]``.

    Categorical fields share one :class:`EmbeddingTable` of ``sum(field_dims)`` rows; the data
    already gives ids in that shared space (field ``i`` owns rows
    ``[offsets[i], offsets[i] + field_dims[i])``), so the forward pass is one gather.
    A numeric field ``j`` contributes ``x_j · u_j`` with a learned vector ``u_j``, as an
    FM treats real-valued features. Output fields are the categorical ones in order,
    then the numeric ones.

    Args:
        field_dims: ids per categorical field.
        num_numeric: number of numeric fields.
        dim: vector size ``k``.
        init_std: standard deviation of the normal initialisation.
    """

    offsets: Tensor

    def __init__(self, field_dims: list[int], num_numeric: int, dim: int, init_std: float = 0.01) -> None:
        super().__init__()
        self.dim = dim
        self.table = EmbeddingTable(max(sum(field_dims), 1), dim)
        self.numeric_vectors = nn.Parameter(torch.empty(num_numeric, dim))
        offsets = torch.tensor([0, *field_dims[:-1]], dtype=torch.long).cumsum(0) if field_dims else torch.zeros(0)
        self.register_buffer("offsets", offsets, persistent=False)
        nn.init.normal_(self.table.weight, std=init_std)
        nn.init.normal_(self.numeric_vectors, std=init_std)

    @property
    def num_fields(self) -> int:
        return len(self.offsets) + self.numeric_vectors.shape[0]

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        """``ids [B, F_cat]`` (global), ``numeric [B, F_num]`` → ``[B, F_cat + F_num, dim]``."""
        vectors = self.kept(self.table(ids))
        if self.numeric_vectors.shape[0]:
            scaled = numeric.unsqueeze(-1) * self.numeric_vectors
            vectors = torch.cat([vectors, scaled.to(vectors.dtype)], dim=1)
        return vectors

    def squared_norm(self, ids: Tensor) -> Tensor:
        """Sum of squared vectors a batch looks up, over the batch size (for L2)."""
        rows = self.rows_for_penalty(ids).pow(2).sum() / ids.shape[0]
        return rows + self.numeric_vectors.pow(2).sum()
