"""FwFM (Pan et al. 2018, "Field-weighted Factorization Machines for Click-Through Rate
Prediction in Display Advertising"): ``y = b + Σ_i w_i x_i + Σ_{i<j} r_{F_i,F_j} <v_i, v_j>``,
one learned weight ``r`` per pair of fields."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from lit_ctr.layers import InnerProduct
from lit_ctr.models.base import CTRModule


class FwFM(CTRModule):
    """An FM whose pairwise terms are weighted by one learned strength per pair of fields.

    The weights ``r`` are a Linear over the ``fields·(fields−1)/2`` inner products, starting
    at 1 (an FM), so ``net_l2`` regularises them.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``.
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.

    ``forward``: ``ids [batch, F_cat]``, ``numeric [batch, F_num]`` → logits ``[batch]``.
    """

    def __init__(self, field_dims: list[int], num_numeric: int = 0, embed_dim: int = 10, **training: Any) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.linear = self.features_linear()
        self.embedding = self.feature_embedding(embed_dim)
        self.inner = InnerProduct(self.num_fields)
        self.field_weights = nn.Linear(self.inner.num_pairs, 1, bias=False)  # r_{F_i,F_j}
        nn.init.ones_(self.field_weights.weight)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        pairs = self.inner(self.embedding(ids, numeric))
        return self.linear(ids, numeric) + self.field_weights(pairs).squeeze(-1)
