"""AFM (Xiao et al. 2017, "Attentional Factorization Machines"):
``y = b + Σ_i w_i x_i + p^T Σ_{i<j} a_ij (v_i ⊙ v_j)`` with the attention score
``a_ij = softmax_{ij}(h^T ReLU(W (v_i ⊙ v_j) + b))``, trained with ``λ‖W‖²`` on the attention
network."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from lit_ctr.layers import AttentionalPooling, PairwiseProduct
from lit_ctr.layers.checks import check_non_negative
from lit_ctr.models.base import CTRModule


class AFM(CTRModule):
    """An FM whose pairwise interactions are weighted by an attention network.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``.
        attention_dim: hidden width ``t`` of the attention network.
        attention_dropout: dropout probability on the attention-pooled vector.
        attention_l2: weight (>= 0) of the L2 penalty ``‖W‖²`` on the attention network.
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.

    ``forward``: ``ids [batch, F_cat]``, ``numeric [batch, F_num]`` → logits ``[batch]``.
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        attention_dim: int = 16,
        attention_dropout: float = 0.0,
        attention_l2: float = 0.0,
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.attention_l2 = check_non_negative("attention_l2", attention_l2)
        self.linear = self.features_linear()
        self.embedding = self.feature_embedding(embed_dim)
        self.pairs = PairwiseProduct(self.num_fields)
        self.attention = AttentionalPooling(embed_dim, attention_dim, attention_dropout)
        self.projection = nn.Linear(embed_dim, 1, bias=False)  # p
        # p = (number of pairs)·1: while the attention is uniform (as it starts, the products of
        # small initial vectors scoring alike), AFM is exactly an FM, and learns from there.
        nn.init.constant_(self.projection.weight, float(self.pairs.num_pairs))

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        pooled = self.attention(self.pairs(self.embedding(ids, numeric)))
        return self.linear(ids, numeric) + self.projection(pooled).squeeze(-1)

    def regularization(self, ids: Tensor) -> Tensor:
        """CTRModule's penalties plus ``attention_l2 · ‖W‖²``."""
        penalty = super().regularization(ids)
        if self.attention_l2:
            penalty = penalty + self.attention_l2 * self.attention.attention_squared_norm()
        return penalty
