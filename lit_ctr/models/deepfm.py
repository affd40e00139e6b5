"""DeepFM (Guo et al. 2017): ``y = y_FM + y_DNN`` on one shared embedding, where
``y_FM = b + Σ_i w_i x_i + Σ_{i<j} <v_i, v_j>`` and ``y_DNN = MLP([v_1; …; v_m])``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from lit_ctr.layers import MLP, FMInteraction
from lit_ctr.models.base import CTRModule


class DeepFM(CTRModule):
    """An FM component and a deep component side by side, sharing the feature vectors.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``, shared by the FM and the MLP.
        hidden_units: widths of the MLP's hidden layers.
        dropout: dropout probability after each hidden layer.
        batch_norm: batch normalisation after each hidden Linear.
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
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.linear = self.features_linear()
        self.embedding = self.feature_embedding(embed_dim)
        self.fm = FMInteraction()
        self.mlp = MLP(self.embedding.num_fields * embed_dim, list(hidden_units), dropout, batch_norm)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        vectors = self.embedding(ids, numeric)
        return self.linear(ids, numeric) + self.fm(vectors) + self.mlp(vectors.flatten(1))
