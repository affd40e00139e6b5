"""AutoInt's interacting layer: multi-head self-attention over field vectors (Song et al. 2019)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from lit_ctr.layers.checks import check_int_at_least


class InteractingLayer(nn.Module):
    """``ẽ_m = ReLU(‖_{h=1..H} Σ_k α^{(h)}_{m,k} W_V^{(h)} e_k + W_Res e_m)`` with
    ``α^{(h)}_{m,k} = softmax_k(<W_Q^{(h)} e_m, W_K^{(h)} e_k> / √d')``:
    ``[batch, fields, in_dim]`` → ``[batch, fields, num_heads·head_dim]``.

    The paper's attention has no ``1/√d'`` scaling; ``scaling`` adds it (as in Transformers).

    Args:
        in_dim: width of each field's input vector.
        head_dim: ``d'``, the width of each head's queries, keys and values.
        num_heads: ``H``, the number of heads.
        residual: add ``W_Res e_m`` (the paper's residual connection).
        scaling: divide the attention logits by ``√d'``.
    """

    def __init__(
        self, in_dim: int, head_dim: int, num_heads: int, residual: bool = True, scaling: bool = False
    ) -> None:
        super().__init__()
        self.head_dim = check_int_at_least("attention_dim", head_dim, 1)
        self.num_heads = check_int_at_least("num_heads", num_heads, 1)
        self.out_dim = self.head_dim * self.num_heads
        self.query = nn.Linear(in_dim, self.out_dim, bias=False)
        self.key = nn.Linear(in_dim, self.out_dim, bias=False)
        self.value = nn.Linear(in_dim, self.out_dim, bias=False)
        self.residual = nn.Linear(in_dim, self.out_dim, bias=False) if residual else None
        self.scale = 1 / math.sqrt(self.head_dim) if scaling else 1.0

    def _heads(self, x: Tensor) -> Tensor:
        """``[B, F, H·d']`` → ``[B, H, F, d']``."""
        return x.unflatten(2, (self.num_heads, self.head_dim)).transpose(1, 2)

    def forward(self, vectors: Tensor) -> Tensor:
        query, key, value = (
            self._heads(self.query(vectors)),
            self._heads(self.key(vectors)),
            self._heads(self.value(vectors)),
        )
        weights = torch.softmax(query @ key.transpose(2, 3) * self.scale, dim=-1)  # [B, H, F, F]
        out = (weights @ value).transpose(1, 2).flatten(2)  # [B, F, H·d']
        if self.residual is not None:
            out = out + self.residual(vectors)
        return torch.relu(out)
