"""DCN (Wang et al. 2017): ``y = w^T [x_L; h_L] + b`` where ``x_0 = [v_1; …; v_m]``, the
cross network ``x_{l+1} = x_0 x_l^T w_l + b_l + x_l`` gives ``x_L`` and an MLP on
``x_0`` gives ``h_L``, in parallel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from lit_ctr.layers import MLP, CrossNetwork
from lit_ctr.models.base import CTRModule


class DCN(CTRModule):
    """A cross network and an MLP over the stacked feature vectors, combined by a Linear.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``.
        hidden_units: widths of the MLP's hidden layers.
        dropout: dropout probability after each hidden layer.
        batch_norm: batch normalisation after each hidden Linear.
        num_cross_layers: number of cross layers.
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
        num_cross_layers: int = 3,
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.embedding = self.feature_embedding(embed_dim)
        width = self.embedding.num_fields * embed_dim
        self.cross = CrossNetwork(width, num_cross_layers)
        self.mlp = MLP(width, list(hidden_units), dropout, batch_norm, output_layer=False)
        self.combine = nn.Linear(width + self.mlp.out_dim, 1)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        x0 = self.embedding(ids, numeric).flatten(1)
        return self.combine(torch.cat([self.cross(x0), self.mlp(x0)], dim=1)).squeeze(-1)
