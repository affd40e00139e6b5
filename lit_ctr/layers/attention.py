"""AFM's attention-based pooling of pairwise interactions (Xiao et al. 2017)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_ctr.layers.checks import check_int_at_least, check_probability
from lit_ctr.layers.dropout import Dropout


class AttentionalPooling(nn.Module):
    """``Σ_{i<j} a_ij (v_i ⊙ v_j)`` with ``a_ij = softmax_{ij}(h^T ReLU(W (v_i ⊙ v_j) + b))``:
    ``[batch, pairs, dim]`` → ``[batch, dim]``.

    Args:
        dim: size of each pair's interaction vector.
        attention_dim: width ``t`` of the attention network's hidden layer (``W`` is ``t × dim``).
        dropout: dropout probability on the pooled vector.
    """

    def __init__(self, dim: int, attention_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        attention_dim = check_int_at_least("attention_dim", attention_dim, 1)
        self.attention = nn.Sequential(
            nn.Linear(dim, attention_dim), nn.ReLU(), nn.Linear(attention_dim, 1, bias=False)
        )
        self.dropout = Dropout(check_probability("attention_dropout", dropout))

    def forward(self, interactions: Tensor) -> Tensor:
        weights = torch.softmax(self.attention(interactions), dim=1)  # [batch, pairs, 1]
        return self.dropout((weights * interactions).sum(dim=1))

    def attention_squared_norm(self) -> Tensor:
        """``‖W‖²`` of the attention network, the paper's L2 on it (not named ``squared_norm``: CTRModule
        gives embedding L2 to every module with that method)."""
        first = self.attention[0]
        assert isinstance(first, nn.Linear)
        return first.weight.pow(2).sum()
