"""Logistic regression: ``y = b + Σ_i w_i x_i``."""

from __future__ import annotations

import torch
from lightning.pytorch.cli import OptimizerCallable
from torch import Tensor

from lit_ctr.layers import FeaturesLinear
from lit_ctr.models.base import CTRModule


class LR(CTRModule):
    """Logistic regression over one-hot categorical and raw numeric features.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embedding_l2: L2 weight on the first-order weights a batch looks up.
        optimizer: builds the optimizer (default Adam).
        sparse: sparse embedding tables with their own ``sparse_optimizer`` (see CTRModule).
        sparse_optimizer: builds the optimizer of the sparse tables (default SparseAdam).
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embedding_l2: float = 0.0,
        optimizer: OptimizerCallable = torch.optim.Adam,
        sparse: bool = False,
        sparse_optimizer: OptimizerCallable = torch.optim.SparseAdam,
    ) -> None:
        super().__init__(
            field_dims, num_numeric, embedding_l2=embedding_l2,
            optimizer=optimizer, sparse=sparse, sparse_optimizer=sparse_optimizer,
        )  # fmt: skip
        self.linear = FeaturesLinear(self.field_dims, self.num_numeric)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        return self.linear(ids, numeric)
