"""One embedding table for all categorical fields, plus vectors for numeric fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from lit_ctr.layers.penalised_rows import PenalisedRows
from lit_ctr.layers.pooling import multi_field_layout, pool_fields, real_rows_squared, weight_columns
from lit_ctr.layers.table import EmbeddingTable


class FeatureEmbedding(PenalisedRows):
    """Dense vectors of every field of a row: ``[batch, fields, dim]``.

    Categorical fields share one :class:`EmbeddingTable` of ``sum(field_dims)`` rows; the data
    already gives ids in that shared space (field ``i`` owns rows
    ``[offsets[i], offsets[i] + field_dims[i])``), so the forward pass is one gather.
    A numeric field ``j`` contributes ``x_j · u_j`` with a learned vector ``u_j``, as an
    FM treats real-valued features. A multi-valued field (the last ``len(multi_fields)``
    of ``field_dims``) has ``max_len`` columns of ids, padded with negative ids, pooled
    into one vector (:func:`~lit_ctr.layers.pooling.pool_fields`); one with
    ``value_weights`` weighs its values by the weights that follow the numeric values in
    ``numeric``. Output fields are the categorical ones in order (single-valued, then
    multi-valued), then the numeric ones.

    Args:
        field_dims: ids per categorical field, the multi-valued ones last.
        num_numeric: number of numeric fields.
        dim: vector size ``k``.
        init_std: standard deviation of the normal initialisation.
        multi_fields: the multi-valued fields' ``{max_len, pooling, value_weights}``, in order.
    """

    offsets: Tensor

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int,
        dim: int,
        init_std: float = 0.01,
        multi_fields: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.dim = dim
        self.multi = multi_field_layout("multi_fields", multi_fields)
        self.num_single = len(field_dims) - len(self.multi)
        self.num_numeric = num_numeric
        self.weighted = weight_columns(self.multi) > 0
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
        """``ids [B, F_single + Σ max_len]`` (global, padding negative), ``numeric [B, F_num + W]``
        (the numeric values, then the ``W`` value weights of weighted multi fields)
        → ``[B, F_cat + F_num, dim]``."""
        if self.multi:
            weights = numeric[:, self.num_numeric :] if self.weighted else None
            numeric = numeric[:, : self.num_numeric] if self.weighted else numeric
            vectors = pool_fields(self.kept(self.table(ids.clamp(min=0))), ids, self.num_single, self.multi, weights)
        else:
            vectors = self.kept(self.table(ids))
        if self.numeric_vectors.shape[0]:
            scaled = numeric.unsqueeze(-1) * self.numeric_vectors
            vectors = torch.cat([vectors, scaled.to(vectors.dtype)], dim=1)
        return vectors

    def squared_norm(self, ids: Tensor) -> Tensor:
        """Sum of squared vectors a batch looks up (padding left out), over the batch size (for L2)."""
        if self.multi:
            rows = real_rows_squared(self.rows_for_penalty(ids.clamp(min=0)), ids) / ids.shape[0]
        else:
            rows = self.rows_for_penalty(ids).pow(2).sum() / ids.shape[0]
        return rows + self.numeric_vectors.pow(2).sum()
