"""DCN-V2's cross network (Wang et al. 2021): full-rank and low-rank mixture-of-experts layers."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_ctr.layers.checks import check_int_at_least
from lit_ctr.layers.dense import Linear


class CrossLayerV2(nn.Module):
    """Full-rank cross layer ``x_{l+1} = x_0 ⊙ (W_l x_l + b_l) + x_l``: ``[batch, d]`` → ``[batch, d]``.

    Args:
        in_dim: ``d``, the width of ``x_0``.
    """

    def __init__(self, in_dim: int) -> None:
        super().__init__()
        self.weight = Linear(in_dim, in_dim)

    def forward(self, x0: Tensor, x: Tensor) -> Tensor:
        return x0 * self.weight(x) + x


class CrossLayerMix(nn.Module):
    """Low-rank mixture-of-experts cross layer:
    ``x_{l+1} = Σ_i G_i(x_l) · x_0 ⊙ (U_i g(C_i g(V_i^T x_l)) + b_l) + x_l``,
    ``g = tanh``, ``G = softmax`` over the experts of one gate logit each:
    ``[batch, d]`` → ``[batch, d]``.

    Each expert costs ``2·d·r + r²`` weights instead of the full-rank ``d²``.

    Args:
        in_dim: ``d``, the width of ``x_0``.
        rank: ``r``, the rank of each expert's weight ``U_i C_i V_i^T``.
        num_experts: number of experts.
    """

    def __init__(self, in_dim: int, rank: int, num_experts: int) -> None:
        super().__init__()
        self.v = nn.Parameter(torch.empty(num_experts, in_dim, rank))
        self.c = nn.Parameter(torch.empty(num_experts, rank, rank))
        self.u = nn.Parameter(torch.empty(num_experts, rank, in_dim))
        self.bias = nn.Parameter(torch.zeros(in_dim))
        self.gate = nn.Linear(in_dim, num_experts, bias=False)
        for weight in (self.v, self.c, self.u):
            nn.init.xavier_normal_(weight)

    def forward(self, x0: Tensor, x: Tensor) -> Tensor:
        hidden = torch.tanh(torch.einsum("bd,edr->ber", x, self.v))
        hidden = torch.tanh(torch.einsum("ber,ers->bes", hidden, self.c))
        experts = x0.unsqueeze(1) * (torch.einsum("bes,esd->bed", hidden, self.u) + self.bias)  # [B, E, d]
        gates = torch.softmax(self.gate(x), dim=1).unsqueeze(-1)  # [B, E, 1]
        return (gates * experts).sum(dim=1) + x


class CrossNetworkV2(nn.Module):
    """``num_layers`` cross layers over ``x_0``: ``[batch, d]`` → ``[batch, d]``; full-rank
    (:class:`CrossLayerV2`) when ``low_rank`` is ``None``, else low-rank experts
    (:class:`CrossLayerMix`).

    Args:
        in_dim: ``d``, the width of ``x_0``.
        num_layers: number of cross layers.
        low_rank: rank of each expert, or ``None`` for full-rank layers.
        num_experts: experts per low-rank layer.
    """

    def __init__(self, in_dim: int, num_layers: int, low_rank: int | None = None, num_experts: int = 1) -> None:
        super().__init__()
        num_layers = check_int_at_least("num_cross_layers", num_layers, 1)
        num_experts = check_int_at_least("num_experts", num_experts, 1)
        layers: list[nn.Module] = []
        for _ in range(num_layers):
            if low_rank is None:
                layers.append(CrossLayerV2(in_dim))
            else:
                layers.append(CrossLayerMix(in_dim, check_int_at_least("low_rank", low_rank, 1), num_experts))
        self.layers = nn.ModuleList(layers)

    def forward(self, x0: Tensor) -> Tensor:
        x = x0
        for layer in self.layers:
            x = layer(x0, x)
        return x
