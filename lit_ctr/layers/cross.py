"""DCN's cross network (Wang et al. 2017)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CrossNetwork(nn.Module):
    """``x_{l+1} = x_0 x_l^T w_l + b_l + x_l`` for ``num_layers`` layers:
    ``[batch, in_dim]`` → ``[batch, in_dim]``.

    ``x_0 x_l^T w_l`` is computed as ``x_0 · (x_l^T w_l)``, a scalar per row, so a layer
    costs O(in_dim) instead of forming the ``in_dim × in_dim`` matrix. ``w_l`` is an
    ``nn.Linear`` so network L2 covers it.

    Args:
        in_dim: input width.
        num_layers: number of cross layers.
    """

    def __init__(self, in_dim: int, num_layers: int) -> None:
        super().__init__()
        self.weights = nn.ModuleList(nn.Linear(in_dim, 1, bias=False) for _ in range(num_layers))
        self.biases = nn.Parameter(torch.zeros(num_layers, in_dim))

    def forward(self, x0: Tensor) -> Tensor:
        x = x0
        for weight, bias in zip(self.weights, self.biases):
            x = x0 * weight(x) + bias + x
        return x
