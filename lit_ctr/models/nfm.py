"""NFM (He & Chua 2017): ``y = b + Σ_i w_i x_i + MLP(BI({v_i}))`` with Bi-Interaction
pooling ``BI = Σ_{i<j} v_i ⊙ v_j = 0.5·((Σ_i v_i)² − Σ_i v_i²)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from lit_ctr.layers import MLP, BiInteraction
from lit_ctr.layers.dropout import Dropout
from lit_ctr.models.base import CTRModule


class NFM(CTRModule):
    """First-order term plus an MLP over the Bi-Interaction pooled vector.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k`` (the pooled vector's width).
        hidden_units: widths of the MLP's hidden layers (empty: NFM-0, a linear read-out).
        dropout: dropout probability after each hidden layer.
        batch_norm: batch normalisation after each hidden Linear.
        pooling_dropout: dropout probability on the pooled vector (the paper's
            dropout on the Bi-Interaction layer).
        pooling_batch_norm: batch normalisation of the pooled vector.
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
        pooling_dropout: float = 0.0,
        pooling_batch_norm: bool = False,
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.linear = self.features_linear()
        self.embedding = self.feature_embedding(embed_dim)
        self.pooling = nn.Sequential(
            BiInteraction(),
            nn.BatchNorm1d(embed_dim) if pooling_batch_norm else nn.Identity(),
            Dropout(pooling_dropout),
        )
        self.mlp = MLP(embed_dim, list(hidden_units), dropout, batch_norm)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        return self.linear(ids, numeric) + self.mlp(self.pooling(self.embedding(ids, numeric)))
