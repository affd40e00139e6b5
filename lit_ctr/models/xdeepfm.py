"""xDeepFM (Lian et al. 2018, "xDeepFM: Combining Explicit and Implicit Feature Interactions
for Recommender Systems"): ``y = b + Σ_i w_i x_i + w_cin^T p^+ + MLP([v_1; …; v_m])``, where
the Compressed Interaction Network builds ``X^k_{h,*} = Σ_{i,j} W^{k,h}_{ij} (X^{k−1}_{i,*} ⊙ X^0_{j,*})``
and ``p^+`` holds every feature map sum-pooled over the embedding dimension."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from lit_ctr.layers import MLP, CompressedInteraction
from lit_ctr.models.base import CTRModule


class xDeepFM(CTRModule):  # noqa: N801 - the paper's name, typed in configs
    """A linear term, a CIN (explicit, vector-wise interactions) and an MLP (implicit ones)
    on one shared embedding.

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``.
        hidden_units: widths of the MLP's hidden layers (empty: no MLP, a linear term + CIN).
        dropout: dropout probability after each hidden layer.
        batch_norm: batch normalisation after each hidden Linear.
        cin_layer_sizes: feature maps ``H_1, …, H_K`` of the CIN's layers.
        split_half: each CIN layer but the last passes half of its maps on and pools the other
            half (sizes before the last must be even).
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.

    ``forward``: ``ids [batch, F_cat]``, ``numeric [batch, F_num]`` → logits ``[batch]``.
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 10,
        hidden_units: Sequence[int] = (400, 400, 400),
        dropout: float = 0.0,
        batch_norm: bool = False,
        cin_layer_sizes: Sequence[int] = (128, 128),
        split_half: bool = True,
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.linear = self.features_linear()
        self.embedding = self.feature_embedding(embed_dim)
        self.cin = CompressedInteraction(self.num_fields, cin_layer_sizes, split_half)
        self.cin_output = nn.Linear(self.cin.out_dim, 1, bias=False)
        hidden = list(hidden_units)
        self.mlp = MLP(self.num_fields * embed_dim, hidden, dropout, batch_norm) if hidden else None

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        vectors = self.embedding(ids, numeric)
        logits = self.linear(ids, numeric) + self.cin_output(self.cin(vectors)).squeeze(-1)
        if self.mlp is not None:
            logits = logits + self.mlp(vectors.flatten(1))
        return logits
