"""Wide & Deep (Cheng et al. 2016): ``y = (b + Σ_i w_i x_i) + MLP([v_1; …; v_m])``; the
wide part is the linear term on the same ids the deep part embeds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from lit_ctr.layers import MLP
from lit_ctr.models.base import CTRModule


class WideDeep(CTRModule):
    """A linear model (wide) and an MLP over the feature vectors (deep), logits summed.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k`` of the deep part.
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
        self.wide = self.features_linear()
        self.embedding = self.feature_embedding(embed_dim)
        self.deep = MLP(self.embedding.num_fields * embed_dim, list(hidden_units), dropout, batch_norm)

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        return self.wide(ids, numeric) + self.deep(self.embedding(ids, numeric).flatten(1))
