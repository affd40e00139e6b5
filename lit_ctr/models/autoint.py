"""AutoInt (Song et al. 2019, "AutoInt: Automatic Feature Interaction Learning via
Self-Attentive Neural Networks"): field vectors pass through interacting layers
``ẽ_m = ReLU(‖_h Σ_k α^{(h)}_{m,k} W_V^{(h)} e_k + W_Res e_m)``,
``α^{(h)}_{m,k} = softmax_k(<W_Q^{(h)} e_m, W_K^{(h)} e_k>)``, and ``y = w^T [ẽ_1; …; ẽ_M] + b``.
AutoInt+ adds an MLP on ``[e_1; …; e_M]`` to the logit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from lit_ctr.layers import MLP, InteractingLayer
from lit_ctr.layers.checks import check_int_at_least
from lit_ctr.models.base import CTRModule


class AutoInt(CTRModule):
    """Multi-head self-attention over the field vectors, layer on layer, read out by a Linear;
    with ``hidden_units`` an MLP beside it (AutoInt+).

    Args:
        field_dims: ids per categorical field (linked from the data).
        num_numeric: number of numeric fields (linked from the data).
        embed_dim: feature vector size ``k``.
        attention_layers: number of interacting layers.
        num_heads: attention heads per layer.
        attention_dim: ``d'``, the width of each head (a layer outputs ``num_heads·d'`` per field).
        residual: the residual connection ``W_Res e_m`` in every layer.
        scaling: divide the attention logits by ``√d'``.
        hidden_units: widths of the MLP's hidden layers (empty: AutoInt, no MLP).
        dropout: dropout probability after each hidden layer.
        batch_norm: batch normalisation after each hidden Linear.
        **training: CTRModule's training options: ``embedding_l2``, ``net_l2``,
            ``optimizer``, ``sparse``, ``sparse_optimizer``.

    ``forward``: ``ids [batch, F_cat]``, ``numeric [batch, F_num]`` → logits ``[batch]``.
    """

    def __init__(
        self,
        field_dims: list[int],
        num_numeric: int = 0,
        embed_dim: int = 16,
        attention_layers: int = 3,
        num_heads: int = 2,
        attention_dim: int = 32,
        residual: bool = True,
        scaling: bool = False,
        hidden_units: Sequence[int] = (),
        dropout: float = 0.0,
        batch_norm: bool = False,
        **training: Any,
    ) -> None:
        super().__init__(field_dims, num_numeric, embed_dim, **training)
        self.embedding = self.feature_embedding(embed_dim)
        layers: list[InteractingLayer] = []
        width = embed_dim
        for _ in range(check_int_at_least("attention_layers", attention_layers, 1)):
            layers.append(InteractingLayer(width, attention_dim, num_heads, residual, scaling))
            width = layers[-1].out_dim
        self.attention = nn.Sequential(*layers)
        self.attention_output = nn.Linear(self.num_fields * width, 1)
        hidden = list(hidden_units)
        self.mlp = MLP(self.num_fields * embed_dim, hidden, dropout, batch_norm) if hidden else None

    def forward(self, ids: Tensor, numeric: Tensor) -> Tensor:
        vectors = self.embedding(ids, numeric)
        logits = self.attention_output(self.attention(vectors).flatten(1)).squeeze(-1)
        if self.mlp is not None:
            logits = logits + self.mlp(vectors.flatten(1))
        return logits
