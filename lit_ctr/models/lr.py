"""Logistic regression: ``y = b + Σ_i w_i x_i``."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from lit_ctr.models.base import CTRModule


class LR(CTRModule):
    """Logistic regression over one-hot categorical and raw numeric features.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, **training)
        self.linear = self.features_linear()

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        return self.linear(ids, numeric)
