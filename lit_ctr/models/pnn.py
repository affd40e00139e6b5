"""PNN (Qu et al. 2016): ``y = MLP([v_1; …; v_m; p])`` with the product layer ``p`` holding
``<v_i, v_j>`` (IPNN), ``v_i^T K_ij v_j`` (OPNN, kernel form) or both, for every ``i < j``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from lit_ctr.layers import MLP, InnerProduct, OuterProduct
from lit_ctr.models.base import CTRModule


class PNN(CTRModule):
    """An MLP over the feature vectors and their pairwise products.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``.
        hidden_units: widths of the MLP's hidden layers.
        dropout: dropout probability after each hidden layer.
        batch_norm: batch normalisation after each hidden Linear.
        product_type: ``inner`` (IPNN), ``outer`` (OPNN, one learned ``k × k`` kernel
            per pair of fields) or ``both`` (PNN*).
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        hidden_units: Sequence[int] = (400, 400, 400),
        dropout: float = 0.0,
        batch_norm: bool = False,
        product_type: Literal["inner", "outer", "both"] = "inner",
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.embedding = self.feature_embedding(embed_dim)
        fields = self.embedding.num_fields
        products: list[InnerProduct | OuterProduct] = []
        if product_type in ("inner", "both"):
            products.append(InnerProduct(fields))
        if product_type in ("outer", "both"):
            products.append(OuterProduct(fields, embed_dim))
        self.products = nn.ModuleList(products)
        width = fields * embed_dim + sum(p.num_pairs for p in products)
        self.mlp = MLP(width, list(hidden_units), dropout, batch_norm)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        vectors = self.embedding(ids, numeric)
        return self.mlp(torch.cat([vectors.flatten(1), *(product(vectors) for product in self.products)], dim=1))
