"""Factorization machine (Rendle 2010): ``y = b + Σ_i w_i x_i + Σ_{i<j} <v_i, v_j> x_i x_j``."""

from __future__ import annotations

import torch
from lightning.pytorch.cli import OptimizerCallable
from torch import Tensor

from lit_ctr.layers import FeatureEmbedding, FeaturesLinear, FMInteraction
from lit_ctr.models.base import CTRModule


class FM(CTRModule):
    """First-order weights plus pairwise interactions of latent vectors, in O(k·n).

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: latent vector size ``k``.
        embedding_l2: L2 weight on the vectors and weights a batch looks up.
        optimizer: builds the optimizer (default Adam).
        sparse: sparse embedding tables with their own ``sparse_optimizer`` (see CTRModule).
        sparse_optimizer: builds the optimizer of the sparse tables (default SparseAdam).
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        embedding_l2: float = 0.0,
        optimizer: OptimizerCallable = torch.optim.Adam,
        sparse: bool = False,
        sparse_optimizer: OptimizerCallable = torch.optim.SparseAdam,
    ) -> None:
        super().__init__(
            field_dims, num_numeric, embed_dim, embedding_l2=embedding_l2,
            optimizer=optimizer, sparse=sparse, sparse_optimizer=sparse_optimizer,
        )  # fmt: skip
        self.linear = FeaturesLinear(self.field_dims, self.num_numeric)
        self.embedding = FeatureEmbedding(self.field_dims, self.num_numeric, embed_dim)
        self.interaction = FMInteraction()

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        return self.linear(ids, numeric) + self.interaction(self.embedding(ids, numeric))
