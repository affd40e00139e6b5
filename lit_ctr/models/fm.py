"""Factorization machine (Rendle 2010): ``y = b + Σ_i w_i x_i + Σ_{i<j} <v_i, v_j> x_i x_j``."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from lit_ctr.layers import FMInteraction
from lit_ctr.models.base import CTRModule


class FM(CTRModule):
    """First-order weights plus pairwise interactions of latent vectors, in O(k·n).

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: latent vector size ``k``.
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.linear = self.features_linear()
        self.embedding = self.feature_embedding(embed_dim)
        self.interaction = FMInteraction()

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        return self.linear(ids, numeric) + self.interaction(self.embedding(ids, numeric))
